/// A field pattern for checking halo exchanges: every owned cell holds a value made from its
/// global index and the field's number, so any ghost cell can be checked against the value
/// its owner holds.
public struct GhostPattern: Sendable {
    public let decomposition: Decomposition

    public init(decomposition: Decomposition) { self.decomposition = decomposition }

    /// The value global cell `point` of field `fieldIndex` holds. Exact in a Double for grids
    /// of fewer than 2^40 cells.
    public func value(at point: [Int], field fieldIndex: Int) -> Double {
        var flat = 0
        for axis in point.indices { flat = flat * decomposition.shape[axis] + point[axis] }
        return Double(flat) + Double(fieldIndex) * 1_099_511_627_776
    }

    /// Fills the owned cells of `field` (ghosts set to NaN so unfilled ones show).
    public func fill(_ field: Field, field fieldIndex: Int) {
        let layout = field.layout
        field.storage.update(repeating: .nan)
        forEach(in: layout.interior, layout) { local, global in
            field[local] = value(at: global, field: fieldIndex)
        }
    }

    /// The ghost cells of `field` that do not hold their owner's value, described one per
    /// line; ghosts beyond a bounded axis's edge (filled by boundary conditions) are skipped.
    public func mismatches(in field: Field, field fieldIndex: Int, limit: Int = 10) -> [String] {
        let layout = field.layout
        var problems: [String] = []
        forEach(in: layout.whole, layout) { local, global in
            guard !layout.interior.contains(local), problems.count < limit else { return }
            var wrapped = global
            for axis in global.indices {
                let n = decomposition.shape[axis]
                if global[axis] < 0 || global[axis] >= n {
                    guard decomposition.periodic[axis] else { return }
                    wrapped[axis] = ((global[axis] % n) + n) % n
                }
            }
            let expected = value(at: wrapped, field: fieldIndex)
            let actual = field[local]
            if actual != expected {
                problems.append(
                    "field \(fieldIndex) ghost at local \(local) (global \(wrapped)): expected \(expected), found \(actual)"
                )
            }
        }
        return problems
    }

    /// Calls `body` with the local and global coordinates of every point of `box` (local).
    private func forEach(in box: Box, _ layout: LocalLayout, _ body: (_ local: [Int], _ global: [Int]) -> Void) {
        box.forEachPoint { local in body(local, zip(local, layout.owned.lower).map(+)) }
    }
}
