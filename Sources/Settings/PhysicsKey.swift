/// What a restart must share with the run that wrote its checkpoint, and a finished ensemble
/// member with the config that would run it again: the model and its parameters, the grid and
/// the boundary conditions. (Output and checkpoint settings may change.)
///
/// Files keep it as JSON (``encoded``), read back into this value and compared as one:
/// equal down to every bit of every number.
public struct PhysicsKey: Sendable, Equatable, Codable, CustomStringConvertible {
    public let model: String
    /// Every parameter of the model, defaults included, as validated.
    public let parameters: [String: ConfigValue]
    public let shape: [Int]
    public let extent: [Double]
    public let periodic: [Bool]
    /// One per axis (periodic on periodic axes).
    public let boundaries: [BoundaryCondition]

    public init(
        model: String, parameters: [String: ConfigValue], shape: [Int], extent: [Double], periodic: [Bool],
        boundaries: [BoundaryCondition]
    ) {
        self.model = model
        self.parameters = parameters
        self.shape = shape
        self.extent = extent
        self.periodic = periodic
        self.boundaries = boundaries
    }

    /// One line per part, for messages.
    public var description: String {
        let values = parameters.keys.sorted().map { "\($0)=\(parameters[$0]!)" }.joined(separator: " ")
        return "model \(model) \(values); shape \(shape) extent \(extent) periodic \(periodic) "
            + "boundaries \(boundaries.map(\.name))"
    }

    /// What differs from `other`, part by part, for a message that says what to change.
    public func differences(from other: PhysicsKey) -> [String] {
        var found: [String] = []
        if model != other.model { found.append("model \(other.model) ≠ \(model)") }
        for name in Set(parameters.keys).union(other.parameters.keys).sorted()
        where parameters[name] != other.parameters[name] {
            let mine = parameters[name].map(\.description) ?? "unset"
            let theirs = other.parameters[name].map(\.description) ?? "unset"
            found.append("model.\(name) \(theirs) ≠ \(mine)")
        }
        if shape != other.shape { found.append("grid.shape \(other.shape) ≠ \(shape)") }
        if extent != other.extent { found.append("grid.extent \(other.extent) ≠ \(extent)") }
        if periodic != other.periodic { found.append("grid.periodic \(other.periodic) ≠ \(periodic)") }
        if boundaries != other.boundaries {
            found.append("boundaries \(other.boundaries.map(\.name)) ≠ \(boundaries.map(\.name))")
        }
        return found
    }
}
