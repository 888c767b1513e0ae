import Grid

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

    public init(plan: HaloPlan, conditions: [BoundaryCondition], normal: [Set<Int>] = []) {
        self.plan = plan
        self.conditions = conditions
        self.normal = normal.isEmpty ? conditions.map { _ in [] } : normal
    }

    public func apply(to fields: [Field]) {
        let layout = plan.layout
        for (axis, side) in plan.physicalBoundaries {
            let n = layout.extent[axis]
            for depth in stride(from: 1, through: layout.ghost[axis], by: 1) {
                var ghostSlab = layout.whole
                var insideSlab = layout.whole
                let ghostIndex = side < 0 ? -depth : n - 1 + depth
                let insideIndex = side < 0 ? depth - 1 : n - depth
                ghostSlab.lower[axis] = ghostIndex
                ghostSlab.upper[axis] = ghostIndex + 1
                insideSlab.lower[axis] = insideIndex
                insideSlab.upper[axis] = insideIndex + 1
                let shift = (insideIndex - ghostIndex) * layout.strides[axis]
                for (position, field) in fields.enumerated() {
                    let base = field.base
                    switch conditions[axis] {
                    case .periodic:
                        break
                    case .reflecting where normal[axis].contains(position):
                        layout.forEachRun(in: ghostSlab) { offset, length in
                            for i in offset..<(offset + length) { base[i] = -base[i + shift] }
                        }
                    case .neumann, .reflecting:
                        layout.forEachRun(in: ghostSlab) { offset, length in
                            (base + offset).update(from: base + offset + shift, count: length)
                        }
                    case .dirichlet(let value):
                        let twice = 2 * value
                        layout.forEachRun(in: ghostSlab) { offset, length in
                            for i in offset..<(offset + length) { base[i] = twice - base[i + shift] }
                        }
                    }
                }
            }
        }
    }
}
