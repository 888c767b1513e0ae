/// Why a grid cannot be split as asked.
public struct DecompositionError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// A global grid split into blocks over a Cartesian process grid.
///
/// Ranks are numbered row-major over the process grid (the last axis varies fastest), as
/// `MPI_Cart_create` numbers them. Along each axis the cells are split into contiguous runs
/// whose lengths differ by at most one, the longer runs first, so any shape divides over any
/// process grid that has no more ranks on an axis than cells.
public struct Decomposition: Sendable, Equatable {
    /// Cells per axis of the whole grid.
    public let shape: [Int]
    /// Ranks per axis.
    public let dims: [Int]
    /// Whether each axis wraps around.
    public let periodic: [Bool]

    public init(shape: [Int], dims: [Int], periodic: [Bool]) throws(DecompositionError) {
        guard (1...3).contains(shape.count), dims.count == shape.count, periodic.count == shape.count else {
            throw DecompositionError("grid shape, process grid and periodic flags need 1 to 3 entries each, alike")
        }
        guard shape.allSatisfy({ $0 > 0 }), dims.allSatisfy({ $0 > 0 }) else {
            throw DecompositionError("grid shape \(shape) and process grid \(dims) must be positive")
        }
        for axis in shape.indices where dims[axis] > shape[axis] {
            throw DecompositionError(
                "process grid \(dims) puts \(dims[axis]) ranks on axis \(axis), which has only \(shape[axis]) cells")
        }
        self.shape = shape
        self.dims = dims
        self.periodic = periodic
    }

    /// The number of ranks.
    public var rankCount: Int { dims.reduce(1, *) }

    /// The process-grid coordinates of `rank`.
    public func coordinates(of rank: Int) -> [Int] {
        var rest = rank
        var coords = [Int](repeating: 0, count: dims.count)
        for axis in dims.indices.reversed() {
            coords[axis] = rest % dims[axis]
            rest /= dims[axis]
        }
        return coords
    }

    /// The rank at process-grid coordinates `coords`, wrapped on periodic axes; nil beyond the
    /// edge of a bounded axis.
    public func rank(at coords: [Int]) -> Int? {
        var rank = 0
        for axis in dims.indices {
            var c = coords[axis]
            if c < 0 || c >= dims[axis] {
                guard periodic[axis] else { return nil }
                c = ((c % dims[axis]) + dims[axis]) % dims[axis]
            }
            rank = rank * dims[axis] + c
        }
        return rank
    }

    /// The cells along `axis` owned by the ranks at process-grid index `index` on that axis.
    public func cells(axis: Int, index: Int) -> Range<Int> {
        let base = shape[axis] / dims[axis]
        let extra = shape[axis] % dims[axis]
        let start = index * base + Swift.min(index, extra)
        return start..<(start + base + (index < extra ? 1 : 0))
    }

    /// The cells `rank` owns, in global indices.
    public func ownedBox(of rank: Int) -> Box {
        let coords = coordinates(of: rank)
        let ranges = dims.indices.map { cells(axis: $0, index: coords[$0]) }
        return Box(lower: ranges.map(\.lowerBound), upper: ranges.map(\.upperBound))
    }

    /// A process grid for `ranks` ranks over `shape` that keeps the halo surface smallest,
    /// with every block at least `minimumBlock` cells wide on each axis and the non-zero
    /// entries of `fixed` kept as given. Among equally good grids it puts more ranks on
    /// earlier axes, keeping the contiguous last axis long.
    public static func balancedDims(
        ranks: Int, shape: [Int], minimumBlock: Int = 1, fixed: [Int]? = nil
    ) throws(DecompositionError) -> [Int] {
        guard ranks > 0 else { throw DecompositionError("the rank count must be positive") }
        let fixed = fixed ?? shape.map { _ in 0 }
        let cells = Double(shape.reduce(1, *))
        var best: (cost: Double, dims: [Int])?
        func consider(_ dims: [Int]) {
            guard zip(dims, shape).allSatisfy({ $1 / $0 >= minimumBlock }) else { return }
            // Cells on the cut planes: (ranks on the axis - 1) planes of cells/extent each.
            let cost = zip(dims, shape).reduce(0.0) { $0 + Double($1.0 - 1) * cells / Double($1.1) }
            if let current = best {
                let better = cost < current.cost - 1e-9
                let tieButEarlier = abs(cost - current.cost) <= 1e-9 && current.dims.lexicographicallyPrecedes(dims)
                guard better || tieButEarlier else { return }
            }
            best = (cost, dims)
        }
        func search(_ prefix: [Int], _ remaining: Int) {
            let axis = prefix.count
            if axis == shape.count - 1 {
                if fixed[axis] == 0 || fixed[axis] == remaining { consider(prefix + [remaining]) }
                return
            }
            for factor in 1...remaining where remaining % factor == 0 && (fixed[axis] == 0 || fixed[axis] == factor) {
                search(prefix + [factor], remaining / factor)
            }
        }
        search([], ranks)
        guard let best else {
            let grid = shape.map(String.init).joined(separator: "×")
            if fixed.contains(where: { $0 != 0 }) {
                throw DecompositionError(
                    "no process grid for \(ranks) ranks keeps the fixed entries of \(fixed) with blocks at least \(minimumBlock) cells wide on a \(grid) grid"
                )
            }
            throw DecompositionError(
                "a grid of \(grid) cells cannot be split over \(ranks) ranks with blocks at least \(minimumBlock) \(minimumBlock == 1 ? "cell" : "cells") wide on each axis; use fewer ranks or a larger grid"
            )
        }
        return best.dims
    }
}
