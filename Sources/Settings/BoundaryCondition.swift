/// What happens at a physical (non-periodic) boundary.
public enum BoundaryCondition: Sendable, Equatable, Codable {
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
