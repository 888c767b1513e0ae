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

    /// Cell-centre coordinates of the whole grid along `axis`.
    public func centres(axis: Int) -> [Double] { (0..<shape[axis]).map { centre(axis: axis, index: $0) } }
}

/// What happens at a physical (non-periodic) boundary.
public enum BoundaryCondition: Sendable, Equatable {
    /// The axis wraps around; handled by the halo exchange, not here.
    case periodic
    /// The value on the boundary face is fixed.
    case dirichlet(Double)
    /// The normal derivative on the boundary face is zero.
    case neumann
    /// A wall that reflects: scalars and tangential vector components mirror (as Neumann),
    /// the vector component normal to the wall mirrors with its sign flipped, so the normal
    /// velocity on the face is zero.
    case reflecting

    /// The name used in input files.
    public var name: String {
        switch self {
        case .periodic: "periodic"
        case .dirichlet: "dirichlet"
        case .neumann: "neumann"
        case .reflecting: "reflecting"
        }
    }
}
