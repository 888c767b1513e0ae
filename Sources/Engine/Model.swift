import Grid
import Settings

/// A field a model evolves, as it appears in output.
public struct FieldSpec: Sendable, Equatable {
    /// The name in output files, for example `temperature`.
    public let name: String
    /// The Well's tensor order: 0 scalar, 1 vector, 2 tensor.
    public let tensorOrder: Int
    /// Whether the results hold it. A field that only the time stepping needs (the previous
    /// time level of a second-order scheme) is checkpointed but not written as a result.
    public let isOutput: Bool

    public init(name: String, tensorOrder: Int = 0, isOutput: Bool = true) {
        self.name = name
        self.tensorOrder = tensorOrder
        self.isOutput = isOutput
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

/// A point where the run records one state component at every step (a seismic receiver):
/// the cell whose centre is nearest `position`.
public struct Receiver: Sendable, Equatable {
    /// Physical coordinates, one per axis.
    public let position: [Double]
    /// The state component recorded, for example `pressure`.
    public let component: String

    public init(position: [Double], component: String) {
        self.position = position
        self.component = component
    }
}

extension Receiver {
    /// The parameters of ``line(_:geometry:component:)``.
    public static let lineParameters = [
        ParameterSpec(
            "receivers", .integer(0...1_000_000), default: .int(0),
            help: "how many receivers, evenly spaced from receiver_start to receiver_end"),
        ParameterSpec("receiver_start", .numbers, default: nil, optional: true, help: "the first receiver"),
        ParameterSpec("receiver_end", .numbers, default: nil, optional: true, help: "the last receiver"),
    ]

    /// `receivers` receivers of `component` evenly spaced from `receiver_start` to
    /// `receiver_end` (none when `receivers` is 0).
    public static func line(_ parameters: Parameters, geometry: Geometry, component: String) throws(ConfigError)
        -> [Receiver]
    {
        let count = parameters.integer("receivers")
        guard count > 0 else { return [] }
        guard let start = try parameters.point("receiver_start", geometry: geometry),
            let end = try parameters.point("receiver_end", geometry: geometry)
        else {
            throw ConfigError("model.receivers", "needs receiver_start and receiver_end")
        }
        return (0..<count).map { i in
            let s = count == 1 ? 0 : Double(i) / Double(count - 1)
            return Receiver(position: start.indices.map { start[$0] + s * (end[$0] - start[$0]) }, component: component)
        }
    }
}

extension Parameters {
    /// The point parameter `name` (one coordinate per axis, inside the domain), or nil if unset.
    public func point(_ name: String, geometry: Geometry) throws(ConfigError) -> [Double]? {
        guard values[name] != nil else { return nil }
        let coordinates = numbers(name)
        let d = geometry.dimensions
        guard coordinates.count == d else {
            throw ConfigError("model.\(name)", "needs one coordinate per axis (\(d)), got \(coordinates)")
        }
        for a in 0..<d where !(0...geometry.extent[a]).contains(coordinates[a]) {
            throw ConfigError(
                "model.\(name)", "lies outside the domain: coordinate \(a) must be in 0...\(geometry.extent[a])")
        }
        return coordinates
    }
}

/// What `tessera models` lists about a model, known before any instance exists.
public struct ModelDescription: Sendable {
    /// The name used in `[model] name`.
    public let name: String
    /// One line about the physics and the scheme.
    public let summary: String
    /// The parameters `[model]` may set.
    public let parameters: [ParameterSpec]
    /// The boundary conditions the model takes on axes that are not periodic.
    public let boundaries: BoundaryRules
    /// What most often makes this model's state stop being finite, most likely first: the
    /// error of a run that produced NaN lists them.
    public let instabilities: [String]
    /// The name of the constant (``Model/constants``) a `[model]` parameter, or a list
    /// parameter's entry (`name_0`, `name_1`, ...), is recorded as in results, where it is not
    /// that name (Gray-Scott's `feed` is The Well's `F`, advection's `velocity_0` is
    /// `velocity_x`): an ensemble that draws the parameter then lists it once.
    public let recordedAs: [String: String]
    /// Whether the model's stable step follows its state (the fastest wave of a gas, the
    /// largest velocity of Burgers): its runs with `output.every_time` then take adaptive
    /// steps by default, each as long as the state allows.
    public let adaptive: Bool

    public init(
        name: String, summary: String, parameters: [ParameterSpec], boundaries: BoundaryRules = .any,
        instabilities: [String] = ModelDescription.usualInstabilities, recordedAs: [String: String] = [:],
        adaptive: Bool = false
    ) {
        self.name = name
        self.summary = summary
        self.parameters = parameters
        self.boundaries = boundaries
        self.instabilities = instabilities
        self.recordedAs = recordedAs
        self.adaptive = adaptive
    }

    /// The causes of a non-finite state for a model that declares none of its own.
    /// `name_0`, `name_1`, `name_2` recorded as `name_x`, `name_y`, `name_z`.
    public static func axisEntries(_ name: String) -> [String: String] {
        ["\(name)_0": "\(name)_x", "\(name)_1": "\(name)_y", "\(name)_2": "\(name)_z"]
    }

    public static let usualInstabilities = [
        "the time step: lower [time] cfl",
        "a parameter outside the model's range, or an initial state or boundary value so large that it overflows",
    ]
}

/// The boundary conditions (by their `[boundary] condition` names) a model accepts on axes
/// that are not periodic, the one it gets when the config names none, and why it refuses the
/// others.
public struct BoundaryRules: Sendable {
    public let accepted: [String]
    public let defaultCondition: String
    /// Why the conditions not accepted do not suit the model (empty when it accepts every one).
    public let refusal: String
    /// The conditions that are open boundaries for this model (zero-gradient outflow, which
    /// lets waves and matter leave); the others are walls. The same condition can be either:
    /// zero gradient is an outflow for Euler's gas but an insulated wall for heat.
    public let open: [String]

    public init(accepted: [String], defaultCondition: String, refusal: String, open: [String] = []) {
        precondition(accepted.contains(defaultCondition))
        self.accepted = accepted
        self.defaultCondition = defaultCondition
        self.refusal = refusal
        self.open = open
    }

    /// Every condition, Dirichlet by default; all of them walls.
    public static let any = BoundaryRules(
        accepted: ["dirichlet", "neumann", "reflecting"], defaultCondition: "dirichlet", refusal: "")

    /// Every condition, Dirichlet by default; zero gradient is an outflow.
    public static let anyWithOutflow = BoundaryRules(
        accepted: ["dirichlet", "neumann", "reflecting"], defaultCondition: "dirichlet", refusal: "",
        open: ["neumann"])

    /// The Well's `bc_type` of `condition`: `PERIODIC`, `OPEN` for this model's open
    /// boundaries and wherever a sponge layer absorbs (`absorbing`), `WALL` for the rest
    /// (reflecting, no-flux and Dirichlet walls).
    public func wellLabel(_ condition: BoundaryCondition, absorbing: Bool = false) -> String {
        condition == .periodic ? "PERIODIC" : absorbing || open.contains(condition.name) ? "OPEN" : "WALL"
    }
}

/// A physical model on a structured grid. A model only sees fields and geometry: it never
/// touches MPI or HDF5. The driver exchanges halos and applies boundary conditions between
/// the calls; the model computes.
///
/// A model is a value: it holds its parameters and nothing it writes to. The arrays it keeps
/// per cell besides its state (a medium's coefficients, primitive variables) it declares in
/// ``workArrays``; the engine allocates them for each rank's block and hands them to every
/// call as `work`.
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

    /// How the Euler ``update(from:into:box:dt:work:geometry:)`` makes a time step (by
    /// default, once: forward Euler).
    var integrator: TimeIntegrator { get }

    /// The stages of one step, each after its own halo exchange: stage k gives
    /// `old · uⁿ + euler · U_k(u⁽ᵏ⁻¹⁾)`, where U_k is ``update(stage:from:into:box:dt:work:geometry:)``
    /// (by default the integrator's stages). A dimensionally split model has one stage per axis,
    /// each (0, 1): a step of dt along that axis from the stage before.
    var stages: [(old: Double, euler: Double)] { get }

    /// Values of parameters that are fixed for the whole run, for the results file.
    var constants: [(name: String, value: Double)] { get }

    /// The state components whose integrals over the domain the run records at every frame
    /// (`scalars/total_<name>`): the quantities the scheme conserves. None by default.
    var conserved: [String] { get }

    /// Points recorded at every step into the results' `receivers` group. None by default.
    var receivers: [Receiver] { get }

    /// Whether waves leave through the non-periodic faces, absorbed by a layer inside them
    /// (a sponge), whatever their boundary condition: results label those faces OPEN.
    var absorbsAtBoundaries: Bool { get }

    /// The arrays of one value per cell the model keeps besides its state, by name. The engine
    /// allocates them in the state's layout (ghosts included, zeroed) and hands them, in this
    /// order, to every call as `work`. None by default.
    var workArrays: [String] { get }

    /// The work arrays (by position in ``workArrays``) that hold the model's data, which an
    /// update reads where it did not compute them itself: with deep halos the engine exchanges
    /// these into the ghosts each time ``prepare(dt:work:geometry:)`` has set them. All of them
    /// by default; none for a model whose work arrays are scratch each update fills (Euler's
    /// primitives).
    var sharedWorkArrays: [Int] { get }

    /// Arrays of one value per cell, besides the state, that each update reads (a medium's
    /// coefficients): for the memory-bandwidth bound `tessera bench` states. None by default.
    var auxiliaryArrays: Int { get }

    /// Whether the state the update writes may be the one it reads, rotated: `next[i]` names
    /// the memory of `state[(i + 1) % n]`. For a single-stage leapfrog whose fields are its
    /// time levels, newest first (the wave's p and p⁻): the new level overwrites the oldest,
    /// which the update reads only at the cell it writes, and the update leaves `next[i]` for
    /// `i > 0` alone, since that memory already holds `state[i - 1]`. The engine then holds the
    /// state once, not twice. False by default.
    var updatesInPlace: Bool { get }

    /// Positions in the state of the components whose ghost cells the update reads (those its
    /// stencil spans); it reads the others only at the cells it writes. With ghost zones one
    /// stencil deep, a step exchanges and fills the ghosts of these alone (deeper ones are
    /// updated redundantly and need every component). Nil by default: all of them.
    var stencilComponents: [Int]? { get }

    /// The floating-point operations one cell update of ``update(from:into:box:dt:work:geometry:)``
    /// makes, counted from its code: with the rates `tessera bench-model` measures for this core
    /// in the same process, the kernel's compute bound (a roofline). None by default: kernels
    /// that make a few operations per cell are bound by memory.
    var floatingPointWork: FloatingPointWork { get }

    /// Sets the initial state (owned cells only) and the work arrays that do not depend on the
    /// time step.
    func initialize(_ state: [Field], work: [Field], geometry: Geometry)

    /// The largest stable time step on this rank's block, before the CFL factor; the driver
    /// takes the minimum over ranks.
    func stableTimeStep(_ state: [Field], geometry: Geometry) -> Double

    /// How much shorter than the initial state's stable step a fixed step must be, to stay
    /// stable as the state changes (1 by default; Euler's `speedup`). Adaptive steps need no
    /// margin.
    var fixedStepMargin: Double { get }

    /// Sets the work arrays that depend on the time step: the engine calls it before the first
    /// step with `dt`, and again whenever the step changes (or the work arrays it derives them
    /// from do). Does nothing by default.
    func prepare(dt: Double, work: [Field], geometry: Geometry)

    /// Completes the initial state once the time step is known, before the first step of a
    /// run that does not restart (ghosts filled): for example the previous time level of a
    /// second-order scheme. Does nothing by default.
    func start(_ state: [Field], work: [Field], dt: Double, geometry: Geometry)

    /// Adds what point sources inject during the step from `time` to `time + dt` to `state`,
    /// the state just computed, in the cells of `box` (local coordinates): the owned cells and,
    /// with deep halos, the ghost cells the step updated too, which must get the same. Does
    /// nothing by default.
    func addSources(to state: [Field], work: [Field], time: Double, dt: Double, box: Box, geometry: Geometry)

    /// Writes one Euler step of `dt` from `state` into `next` for the cells of `box` (local
    /// coordinates), reading `state` within `stencilWidth` of them. Called on disjoint boxes
    /// that together cover the owned cells; each cell's result must not depend on how they
    /// are split. Multi-stage integrators call it once per stage.
    func update(from state: [Field], into next: [Field], box: Box, dt: Double, work: [Field], geometry: Geometry)

    /// Stage `stage` of a step (see ``stages``) for the cells of `box`, with the same contract
    /// as ``update(from:into:box:dt:work:geometry:)``, which it calls by default: every stage of
    /// a Runge-Kutta integrator is the same Euler update.
    func update(
        stage: Int, from state: [Field], into next: [Field], box: Box, dt: Double, work: [Field], geometry: Geometry)
}

extension Model {
    public var integrator: TimeIntegrator { .euler }
    public var stages: [(old: Double, euler: Double)] { integrator.stages }
    public func update(
        stage: Int, from state: [Field], into next: [Field], box: Box, dt: Double, work: [Field], geometry: Geometry
    ) {
        update(from: state, into: next, box: box, dt: dt, work: work, geometry: geometry)
    }
    public var conserved: [String] { [] }
    public var receivers: [Receiver] { [] }
    public var absorbsAtBoundaries: Bool { false }
    public var fixedStepMargin: Double { 1 }
    public var workArrays: [String] { [] }
    public var sharedWorkArrays: [Int] { Array(workArrays.indices) }
    public var auxiliaryArrays: Int { 0 }
    public var updatesInPlace: Bool { false }
    public var stencilComponents: [Int]? { nil }
    public var floatingPointWork: FloatingPointWork { .none }
    public func prepare(dt: Double, work: [Field], geometry: Geometry) {}
    public func start(_ state: [Field], work: [Field], dt: Double, geometry: Geometry) {}
    public func addSources(to state: [Field], work: [Field], time: Double, dt: Double, box: Box, geometry: Geometry) {}
}

/// Floating-point operations, per cell update (see ``Model/floatingPointWork``), grouped by
/// the part of a core that executes them: the vector units add, multiply, compare and select;
/// the divider divides and takes square roots, beside them.
public struct FloatingPointWork: Sendable, Equatable {
    /// Additions and subtractions.
    public var additions: Double
    public var multiplications: Double
    /// Comparisons, selects, the and of two masks, absolute values and negations; a minimum
    /// or maximum is a comparison and a select.
    public var selects: Double
    public var divisions: Double
    public var squareRoots: Double

    public init(
        additions: Double = 0, multiplications: Double = 0, selects: Double = 0, divisions: Double = 0,
        squareRoots: Double = 0
    ) {
        self.additions = additions
        self.multiplications = multiplications
        self.selects = selects
        self.divisions = divisions
        self.squareRoots = squareRoots
    }

    public static let none = FloatingPointWork()

    /// Every operation, of any kind.
    public var total: Double { additions + multiplications + selects + divisions + squareRoots }

    public static func + (a: FloatingPointWork, b: FloatingPointWork) -> FloatingPointWork {
        FloatingPointWork(
            additions: a.additions + b.additions, multiplications: a.multiplications + b.multiplications,
            selects: a.selects + b.selects, divisions: a.divisions + b.divisions,
            squareRoots: a.squareRoots + b.squareRoots)
    }

    public static func * (count: Double, work: FloatingPointWork) -> FloatingPointWork {
        FloatingPointWork(
            additions: count * work.additions, multiplications: count * work.multiplications,
            selects: count * work.selects, divisions: count * work.divisions, squareRoots: count * work.squareRoots)
    }

    /// The least time the vector units take for this work at `rates` (operations of each kind
    /// per second): its additions, multiplications and selects, each kind at its own full
    /// rate, one after another (they share the same ports). The divider works beside them, so
    /// the work takes at least the longer of this and ``dividerSeconds(at:)``.
    public func vectorSeconds(at rates: FloatingPointWork) -> Double {
        additions / rates.additions + multiplications / rates.multiplications + selects / rates.selects
    }

    /// The least time the divider takes for this work's divisions and square roots at `rates`.
    public func dividerSeconds(at rates: FloatingPointWork) -> Double {
        divisions / rates.divisions + squareRoots / rates.squareRoots
    }
}
