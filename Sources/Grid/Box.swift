/// A rectangular block of cells: `lower` inclusive, `upper` exclusive, one entry per axis.
public struct Box: Hashable, Sendable, CustomStringConvertible {
    public var lower: [Int]
    public var upper: [Int]

    public init(lower: [Int], upper: [Int]) {
        precondition(lower.count == upper.count, "box bounds of different dimensions")
        self.lower = lower
        self.upper = upper
    }

    /// The box `[0, extent)` on every axis.
    public init(extent: [Int]) {
        self.init(lower: extent.map { _ in 0 }, upper: extent)
    }

    /// The number of axes.
    public var dimensions: Int { lower.count }
    /// Cells per axis (zero for an empty axis).
    public var extent: [Int] { zip(lower, upper).map { Swift.max($1 - $0, 0) } }
    /// The number of cells.
    public var count: Int { extent.reduce(1, *) }
    public var isEmpty: Bool { count == 0 }

    /// This box grown by `width[a]` cells on both sides of axis `a` (shrunk for negative widths).
    public func grown(by width: [Int]) -> Box {
        Box(lower: zip(lower, width).map(-), upper: zip(upper, width).map(+))
    }

    /// Whether the boxes share a cell.
    public func meets(_ other: Box) -> Bool {
        for axis in lower.indices
        where Swift.max(lower[axis], other.lower[axis]) >= Swift.min(upper[axis], other.upper[axis]) {
            return false
        }
        return true
    }

    /// Whether `point` lies in the box.
    public func contains(_ point: [Int]) -> Bool {
        zip(point, zip(lower, upper)).allSatisfy { $0 >= $1.0 && $0 < $1.1 }
    }

    /// Calls `body` with every point of the box, in C order (last axis fastest). For set-up
    /// and checks; kernels walk memory with ``LocalLayout/forEachRun(in:_:)`` instead.
    public func forEachPoint(_ body: (_ point: [Int]) -> Void) {
        guard !isEmpty else { return }
        var point = lower
        while true {
            body(point)
            var axis = dimensions - 1
            while axis >= 0 {
                point[axis] += 1
                if point[axis] < upper[axis] { break }
                point[axis] = lower[axis]
                axis -= 1
            }
            if axis < 0 { return }
        }
    }

    public var description: String {
        zip(lower, upper).map { "\($0)..<\($1)" }.joined(separator: " × ")
    }
}
