import Grid
import Settings

/// Fills the ghost cells beyond the physical boundary from the cells inside it.
///
/// Applied after the halo exchange, axis by axis over the whole allocated extent of the other
/// axes, so that edge and corner ghosts beyond two boundaries get consistent values. Ghost
/// layer `d` (1 is nearest the face) mirrors owned layer `d - 1` across the face: a Dirichlet
/// value `v` makes the ghost `2v - inside`, which puts `v` on the face to second order; Neumann
/// copies `inside`, which makes the face gradient zero. A reflecting wall copies too, except
/// for the fields listed as normal to that axis (a vector's component along it), whose ghosts
/// take `-inside`.
public struct BoundaryFiller: Sendable {
    let plan: HaloPlan
    let conditions: [BoundaryCondition]
    /// For each axis, the positions of the fields that are normal to it.
    let normal: [Set<Int>]
    /// A physical boundary's ghosts: every layer beyond the face, over the whole allocated
    /// extent of the other axes.
    struct Face {
        let axis: Int
        let side: Int
        let ghost: Box
    }
    /// The faces in the order they are filled: the physical boundaries' order, axis by axis.
    private let faces: [Face]

    public init(plan: HaloPlan, conditions: [BoundaryCondition], normal: [Set<Int>] = []) {
        self.plan = plan
        self.conditions = conditions
        self.normal = normal.isEmpty ? conditions.map { _ in [] } : normal
        self.faces = plan.physicalBoundaries.map { axis, side in
            let layout = plan.layout
            var ghost = layout.whole
            let (n, depth) = (layout.extent[axis], layout.ghost[axis])
            ghost.lower[axis] = side < 0 ? -depth : n
            ghost.upper[axis] = side < 0 ? 0 : n + depth
            return Face(axis: axis, side: side, ghost: ghost)
        }
        // Stored: a tiled sweep asks after every piece.
        self.isEmpty = faces.allSatisfy(\.ghost.isEmpty)
    }

    /// Whether the block has no physical-boundary ghosts for this to fill.
    public let isEmpty: Bool

    /// Fills the ghosts of `fields` (of those at `components` alone, when given: positions in
    /// `fields`, which a reflecting wall's normal components are named by). `homogeneous`
    /// drops the Dirichlet value (the map becomes linear), as tangent-linear fields need.
    ///
    /// With `region`, only the ghosts in it, in the same order: each takes the value the whole
    /// fill gives it when the cells it copies (and, at edges and corners, the ghosts filled
    /// before it) already hold theirs.
    public func apply(
        to fields: [Field], components: [Int]? = nil, homogeneous: Bool = false, within region: Box? = nil
    ) {
        // The part of a face in the region, cut in place in one box.
        var cut = Box(extent: plan.layout.extent)
        for face in faces {
            var ghost = face.ghost
            if let region {
                guard face.ghost.meets(region) else { continue }
                for axis in 0..<region.dimensions {
                    cut.lower[axis] = Swift.max(face.ghost.lower[axis], region.lower[axis])
                    cut.upper[axis] = Swift.min(face.ghost.upper[axis], region.upper[axis])
                }
                ghost = cut
            }
            for (position, field) in fields.enumerated() where components?.contains(position) ?? true {
                let base = field.base
                switch conditions[face.axis] {
                case .periodic:
                    break
                case .reflecting where normal[face.axis].contains(position):
                    fill(face, ghost) { i, inside in base[i] = -base[inside] }
                case .neumann, .reflecting:
                    fill(face, ghost) { i, inside in base[i] = base[inside] }
                case .dirichlet(let value):
                    let twice = homogeneous ? 0 : 2 * value
                    fill(face, ghost) { i, inside in base[i] = twice - base[inside] }
                }
            }
        }
    }

    /// Runs `set(ghost, inside)` for each ghost of `face` in `ghost` (part of the face's slab)
    /// with the offset of the cell it takes its value from: ghost layer `g` mirrors layer
    /// `mirror - g`, `-1 - g` below the face and `2n - 1 - g` above it. The layers take their
    /// values from owned cells, not from each other, so their order does not matter. Across the
    /// last axis, whose layers are single cells of each row, a face goes row by row with all
    /// its layers at once, since a run per layer would be one cell long.
    @inline(__always)
    private func fill(_ face: Face, _ ghost: Box, _ set: (_ ghost: Int, _ inside: Int) -> Void) {
        let layout = plan.layout
        let axis = face.axis
        let mirror = face.side < 0 ? -1 : 2 * layout.extent[axis] - 1
        let (lower, upper) = (ghost.lower[axis], ghost.upper[axis])
        if axis == layout.dimensions - 1 {
            layout.forEachRun(in: ghost) { offset, length in
                for k in 0..<length { set(offset + k, offset + k + mirror - 2 * (lower + k)) }
            }
            return
        }
        // Layer by layer, each over the whole extent of the other axes.
        var layer = ghost
        for g in lower..<upper {
            layer.lower[axis] = g
            layer.upper[axis] = g + 1
            let shift = (mirror - 2 * g) * layout.strides[axis]
            layout.forEachRun(in: layer) { offset, length in
                for i in offset..<(offset + length) { set(i, i + shift) }
            }
        }
    }

    /// The adjoint of ``apply(to:components:homogeneous:within:)`` (of its linear part): adds
    /// what each ghost beyond a physical boundary holds to the cell it was filled from, with
    /// the same sign, and zeroes the ghost. Faces go in the reverse order of `apply`, so that corner ghosts
    /// pass their share on through the ghosts they were filled from; within a face each ghost
    /// has its own cell, so the order there does not matter.
    public func applyAdjoint(to fields: [Field]) {
        for face in faces.reversed() {
            for (position, field) in fields.enumerated() {
                let base = field.base
                let sign: Double
                switch conditions[face.axis] {
                case .periodic: continue
                case .reflecting where normal[face.axis].contains(position): sign = -1
                case .neumann, .reflecting: sign = 1
                case .dirichlet: sign = -1
                }
                fill(face, face.ghost) { i, inside in
                    base[inside] += sign * base[i]
                    base[i] = 0
                }
            }
        }
    }
}
