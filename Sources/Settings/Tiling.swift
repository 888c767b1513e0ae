/// How a tiled sweep (`Simulation.advance(steps:dt:after:)`) cuts a block: a wavefront that
/// moves `slab` cells along the first axis at a time, in 3-D within tiles `width` cells wide
/// along the second (the last axis, contiguous in memory, is never cut). A step's piece is
/// read by the next step's while both are in cache. In 2-D only the slab counts.
public struct Tiling: Sendable, Equatable, CustomStringConvertible {
    /// Cells along the first axis that the wavefront moves at a time.
    public var slab: Int
    /// Cells along the second axis a tile spans (3-D).
    public var width: Int

    public init(slab: Int, width: Int) {
        precondition(slab >= 1 && width >= 1)
        self.slab = slab
        self.width = width
    }

    public var description: String { "slabs of \(slab), tiles \(width) wide" }
}
