import Grid

/// A field a model evolves, as it appears in output.
public struct FieldSpec: Sendable, Equatable {
    /// The name in output files, for example `temperature`.
    public let name: String
    /// The Well's tensor order: 0 scalar, 1 vector, 2 tensor.
    public let tensorOrder: Int

    public init(name: String, tensorOrder: Int = 0) {
        self.name = name
        self.tensorOrder = tensorOrder
    }

    /// The scalar components the engine stores for this field on a grid of `dimensions` axes, in
    /// The Well's order and naming: `name` for a scalar; `name_x`, `name_y`, ... for a vector;
    /// `name_xx`, `name_xy`, ... (row-major) for a tensor.
    public func components(dimensions: Int) -> [String] {
        let axes = ["x", "y", "z"].prefix(dimensions)
        var suffixes = [""]
        for _ in 0..<tensorOrder { suffixes = suffixes.flatMap { prefix in axes.map { prefix + $0 } } }
        return tensorOrder == 0 ? [name] : suffixes.map { "\(name)_\($0)" }
    }
}

extension [FieldSpec] {
    /// Every scalar component of these fields, in order: the engine's state, one ``Field`` each.
    public func components(dimensions: Int) -> [String] { flatMap { $0.components(dimensions: dimensions) } }
}

/// What `tessera models` lists about a model, known before any instance exists.
public struct ModelDescription: Sendable {
    /// The name used in `[model] name`.
    public let name: String
    /// One line about the physics and the scheme.
    public let summary: String
    /// The parameters `[model]` may set.
    public let parameters: [ParameterSpec]

    public init(name: String, summary: String, parameters: [ParameterSpec]) {
        self.name = name
        self.summary = summary
        self.parameters = parameters
    }
}

/// A physical model on a structured grid. A model only sees fields and geometry: it never
/// touches MPI or HDF5. The driver exchanges halos and applies boundary conditions between
/// the calls; the model computes.
public protocol Model: Sendable {
    /// The model's name, summary and parameters.
    static var description: ModelDescription { get }

    /// Builds the model from validated parameters; throws when the parameters do not fit
    /// the grid (for example a list with the wrong number of axes).
    init(parameters: Parameters, geometry: Geometry) throws(ConfigError)

    /// The fields the model evolves. The state passed to the other methods holds one ``Field``
    /// per scalar component, in the order of ``FieldSpec/components(dimensions:)``.
    var fields: [FieldSpec] { get }

    /// Ghost cells the update needs on each side of each axis.
    var stencilWidth: Int { get }

    /// How the Euler ``update(from:into:box:dt:geometry:)`` makes a time step (by default,
    /// once: forward Euler).
    var integrator: TimeIntegrator { get }

    /// Values of parameters that are fixed for the whole run, for the results file.
    var constants: [(name: String, value: Double)] { get }

    /// The state components whose integrals over the domain the run records at every frame
    /// (`scalars/total_<name>`): the quantities the scheme conserves. None by default.
    var conserved: [String] { get }

    /// Sets the initial state (owned cells only).
    func initialize(_ state: [Field], geometry: Geometry)

    /// The largest stable time step on this rank's block, before the CFL factor; the driver
    /// takes the minimum over ranks.
    func stableTimeStep(_ state: [Field], geometry: Geometry) -> Double

    /// Writes one Euler step of `dt` from `state` into `next` for the cells of `box` (local
    /// coordinates), reading `state` within `stencilWidth` of them. Called on disjoint boxes
    /// that together cover the owned cells; each cell's result must not depend on how they
    /// are split. Multi-stage integrators call it once per stage.
    func update(from state: [Field], into next: [Field], box: Box, dt: Double, geometry: Geometry)
}

extension Model {
    public var integrator: TimeIntegrator { .euler }
    public var conserved: [String] { [] }
}
