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
    /// The ghost slabs, in the order they are filled (``slabs(_:)``).
    private let slabs: [(axis: Int, ghost: Box, shift: Int)]

    public init(plan: HaloPlan, conditions: [BoundaryCondition], normal: [Set<Int>] = []) {
        self.plan = plan
        self.conditions = conditions
        self.normal = normal.isEmpty ? conditions.map { _ in [] } : normal
        self.slabs = Self.slabs(plan)
    }

    /// Whether any face of the block is a physical boundary, whose ghosts this fills.
    public var isEmpty: Bool { slabs.isEmpty }

    /// Fills the ghosts of `fields`. `homogeneous` drops the Dirichlet value (the map becomes
    /// linear), as tangent-linear fields need.
    ///
    /// With `region`, only the ghosts in it, in the same order: each takes the value the whole
    /// fill gives it when the cells it copies (and, at edges and corners, the ghosts filled
    /// before it) already hold theirs.
    public func apply(to fields: [Field], homogeneous: Bool = false, within region: Box? = nil) {
        // The part of a slab in the region, cut in place in one box.
        var cut = Box(extent: plan.layout.extent)
        for slab in slabs {
            var ghost = slab.ghost
            if let region {
                guard slab.ghost.meets(region) else { continue }
                for axis in 0..<region.dimensions {
                    cut.lower[axis] = Swift.max(slab.ghost.lower[axis], region.lower[axis])
                    cut.upper[axis] = Swift.min(slab.ghost.upper[axis], region.upper[axis])
                }
                ghost = cut
            }
            for (position, field) in fields.enumerated() {
                let base = field.base
                let shift = slab.shift
                switch conditions[slab.axis] {
                case .periodic:
                    break
                case .reflecting where normal[slab.axis].contains(position):
                    plan.layout.forEachRun(in: ghost) { offset, length in
                        for i in offset..<(offset + length) { base[i] = -base[i + shift] }
                    }
                case .neumann, .reflecting:
                    plan.layout.forEachRun(in: ghost) { offset, length in
                        (base + offset).update(from: base + offset + shift, count: length)
                    }
                case .dirichlet(let value):
                    let twice = homogeneous ? 0 : 2 * value
                    plan.layout.forEachRun(in: ghost) { offset, length in
                        for i in offset..<(offset + length) { base[i] = twice - base[i + shift] }
                    }
                }
            }
        }
    }

    /// The adjoint of ``apply(to:homogeneous:within:)`` (of its linear part): adds what each ghost
    /// beyond a physical boundary holds to the cell it was filled from, with the same sign,
    /// and zeroes the ghost. Slabs go in the reverse order of `apply`, so that corner ghosts
    /// pass their share on through the ghosts they were filled from.
    public func applyAdjoint(to fields: [Field]) {
        for slab in slabs.reversed() {
            for (position, field) in fields.enumerated() {
                let base = field.base
                let shift = slab.shift
                let sign: Double
                switch conditions[slab.axis] {
                case .periodic: continue
                case .reflecting where normal[slab.axis].contains(position): sign = -1
                case .neumann, .reflecting: sign = 1
                case .dirichlet: sign = -1
                }
                plan.layout.forEachRun(in: slab.ghost) { offset, length in
                    for i in offset..<(offset + length) {
                        base[i + shift] += sign * base[i]
                        base[i] = 0
                    }
                }
            }
        }
    }

    /// The ghost slabs beyond `plan`'s physical boundaries in the order
    /// ``apply(to:homogeneous:within:)`` fills them: boundary by boundary, nearest layer first,
    /// each spanning the whole allocated extent of the other axes; `shift` is the offset from a
    /// ghost to the cell it copies.
    private static func slabs(_ plan: HaloPlan) -> [(axis: Int, ghost: Box, shift: Int)] {
        let layout = plan.layout
        var slabs: [(axis: Int, ghost: Box, shift: Int)] = []
        for (axis, side) in plan.physicalBoundaries {
            let n = layout.extent[axis]
            for depth in stride(from: 1, through: layout.ghost[axis], by: 1) {
                var ghostSlab = layout.whole
                let ghostIndex = side < 0 ? -depth : n - 1 + depth
                let insideIndex = side < 0 ? depth - 1 : n - depth
                ghostSlab.lower[axis] = ghostIndex
                ghostSlab.upper[axis] = ghostIndex + 1
                slabs.append((axis, ghostSlab, (insideIndex - ghostIndex) * layout.strides[axis]))
            }
        }
        return slabs
    }
}
