import Grid

/// The physical grid: how many cells, how long each axis is, and the part one rank holds.
/// Cells are uniform and cell-centred: cell `i` on axis `a` is centred at `(i + 0.5) * spacing[a]`.
public struct Geometry: Sendable {
    /// Cells per axis of the whole grid.
    public let shape: [Int]
    /// Physical length of each axis.
    public let extent: [Double]
    /// Cell width per axis.
    public let spacing: [Double]
    /// Whether each axis wraps around.
    public let periodic: [Bool]
    /// This rank's block.
    public let layout: LocalLayout

    public init(shape: [Int], extent: [Double], periodic: [Bool], layout: LocalLayout) {
        self.shape = shape
        self.extent = extent
        self.periodic = periodic
        self.spacing = zip(extent, shape).map { $0 / Double($1) }
        self.layout = layout
    }

    /// The number of spatial dimensions.
    public var dimensions: Int { shape.count }

    /// The centre of global cell `index` along `axis`.
    public func centre(axis: Int, index: Int) -> Double { (Double(index) + 0.5) * spacing[axis] }

    /// The global cell whose volume holds `point` (physical coordinates), clamped to the grid.
    public func cell(containing point: [Double]) -> [Int] {
        point.indices.map { a in
            Swift.min(Swift.max(Int((point[a] / spacing[a]).rounded(.down)), 0), shape[a] - 1)
        }
    }

    /// The offset in this rank's block of global cell `cell`, or nil when another rank owns it.
    public func offset(ofCell cell: [Int]) -> Int? { offset(ofCell: cell, within: layout.interior) }

    /// The offset in this rank's block of global cell `cell`, or nil when it lies outside
    /// `box` (local coordinates; it may reach into the ghost cells).
    public func offset(ofCell cell: [Int], within box: Box) -> Int? {
        let local = cell.indices.map { cell[$0] - layout.owned.lower[$0] }
        guard box.contains(local) else { return nil }
        return layout.offset(local)
    }

    /// Cell-centre coordinates of the whole grid along `axis`.
    public func centres(axis: Int) -> [Double] { (0..<shape[axis]).map { centre(axis: axis, index: $0) } }
}
