/// One rank's block of the grid in memory: its owned cells surrounded by ghost cells,
/// stored in C order (last axis contiguous).
///
/// Local coordinates run from `-ghost[a]` to `extent[a] + ghost[a]` on axis `a`; the owned
/// cells are `0..<extent[a]`.
public struct LocalLayout: Sendable, Equatable {
    /// The owned cells, in global indices.
    public let owned: Box
    /// Ghost cells on each side, per axis.
    public let ghost: [Int]
    /// Owned cells per axis.
    public let extent: [Int]
    /// Allocated cells per axis: extent plus ghosts on both sides.
    public let allocated: [Int]
    /// Distance in elements between neighbours along each axis.
    public let strides: [Int]

    public init(owned: Box, ghost: [Int]) {
        self.owned = owned
        self.ghost = ghost
        self.extent = owned.extent
        self.allocated = zip(extent, ghost).map { $0 + 2 * $1 }
        var strides = [Int](repeating: 1, count: extent.count)
        for axis in stride(from: extent.count - 2, through: 0, by: -1) {
            strides[axis] = strides[axis + 1] * allocated[axis + 1]
        }
        self.strides = strides
    }

    /// The number of axes (not an MPI rank).
    public var dimensions: Int { extent.count }
    /// Allocated elements.
    public var count: Int { allocated.reduce(1, *) }
    /// The owned cells in local coordinates.
    public var interior: Box { Box(extent: extent) }
    /// Owned and ghost cells in local coordinates.
    public var whole: Box { interior.grown(by: ghost) }

    /// The element offset of local coordinates `point`.
    @inlinable
    public func offset(_ point: [Int]) -> Int {
        var offset = 0
        for axis in point.indices { offset += (point[axis] + ghost[axis]) * strides[axis] }
        return offset
    }

    /// Calls `body` with the offset and length of every contiguous run of `box` (local
    /// coordinates) along the last axis, in C order.
    @inlinable
    public func forEachRun(in box: Box, _ body: (_ offset: Int, _ length: Int) -> Void) {
        guard !box.isEmpty else { return }
        // Up to three axes, the offsets step by the strides: no per-run arithmetic on arrays,
        // which would cost more than the run when a box is one cell thick across the last axis.
        if dimensions <= 3 {
            let extent = box.extent
            let start = offset(box.lower)
            switch dimensions {
            case 1:
                body(start, extent[0])
            case 2:
                let s0 = strides[0]
                for i in 0..<extent[0] { body(start &+ i &* s0, extent[1]) }
            default:
                let (s0, s1, length) = (strides[0], strides[1], extent[2])
                for i in 0..<extent[0] {
                    for j in 0..<extent[1] { body(start &+ i &* s0 &+ j &* s1, length) }
                }
            }
            return
        }
        let last = dimensions - 1
        let length = box.upper[last] - box.lower[last]
        var point = box.lower
        while true {
            body(offset(point), length)
            var axis = last - 1
            while axis >= 0 {
                point[axis] += 1
                if point[axis] < box.upper[axis] { break }
                point[axis] = box.lower[axis]
                axis -= 1
            }
            if axis < 0 { return }
        }
    }
}
