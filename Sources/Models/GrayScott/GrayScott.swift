import Engine
import Grid
import Numerics
import Settings

#if canImport(Glibc)
    import Glibc
#endif

/// Gray-Scott reaction-diffusion: two species `A` (fed) and `B` (autocatalytic),
///
///     ∂A/∂t = δ_A ∇²A − A B² + F (1 − A)
///     ∂B/∂t = δ_B ∇²B + A B² − (F + k) B
///
/// Second-order central differences in space, forward Euler or SSP Runge-Kutta in time. The
/// `pattern` parameter picks The Well's (F, k) pairs for its six regimes; `feed` and `kill`
/// override them.
public struct GrayScott: Model {
    /// The (F, k) pairs of The Well's `gray_scott_reaction_diffusion` dataset.
    public static let patterns: [String: (feed: Double, kill: Double)] = [
        "gliders": (0.014, 0.054), "bubbles": (0.098, 0.057), "maze": (0.029, 0.057),
        "worms": (0.058, 0.065), "spirals": (0.018, 0.051), "spots": (0.03, 0.062),
    ]

    public static let description = ModelDescription(
        name: "gray_scott",
        summary: "Gray-Scott reaction-diffusion A + 2B → 3B; central differences, Euler or SSP Runge-Kutta",
        parameters: [
            ParameterSpec(
                "pattern", .choice(patterns.keys.sorted()), default: .string("gliders"),
                help: "the regime: sets F and k as The Well does"),
            ParameterSpec("feed", .number(0...1), default: nil, optional: true, help: "F (overrides the pattern's)"),
            ParameterSpec("kill", .number(0...1), default: nil, optional: true, help: "k (overrides the pattern's)"),
            ParameterSpec("diffusivity_a", .number(0...1e300), default: .double(2e-5), help: "δ_A"),
            ParameterSpec("diffusivity_b", .number(0...1e300), default: .double(1e-5), help: "δ_B"),
            ParameterSpec(
                "integrator", .choice(TimeIntegrator.allCases.map(\.rawValue)), default: .string("euler"),
                help: "time integrator"),
            ParameterSpec(
                "initial", .choice(["spots", "square"]), default: .string("spots"),
                help: "spots: random gaussian seeds of B; square: Pearson's perturbed square in the centre"),
            ParameterSpec("seeds", .integer(1...100_000), default: .int(20), help: "spots: how many"),
            ParameterSpec(
                "width", .number(1e-300...1e300), default: .double(0.05), help: "spots: standard deviation"),
            ParameterSpec("seed", .integer(0...Int.max), default: .int(0), help: "the random seed"),
        ],
        boundaries: BoundaryRules(
            accepted: ["neumann", "reflecting"], defaultCondition: "neumann",
            refusal:
                "one Dirichlet value would hold both species on the walls (A's background is 1, B's 0), draining or "
                + "flooding the pattern; \"neumann\" is a wall with no flux"),
        instabilities: [
            "the time step: the reaction is stiff for large feed or kill; lower [time] cfl or use integrator = "
                + "\"ssprk3\"",
            "feed or kill far from the pattern regimes, or diffusivities much larger than the grid spacing allows",
        ],
        recordedAs: ["feed": "F", "kill": "k"])

    public let feed: Double
    public let kill: Double
    public let diffusivity: (a: Double, b: Double)
    public let integrator: TimeIntegrator
    let initial: String
    let width: Double
    let seed: UInt64
    let extent: [Double]
    let periodic: [Bool]
    /// spots: the centres of the seeds.
    let centres: [[Double]]

    public init(parameters: Parameters, geometry: Geometry) throws(ConfigError) {
        let pattern = Self.patterns[parameters.string("pattern")]!
        feed = parameters.values["feed"] == nil ? pattern.feed : parameters.number("feed")
        kill = parameters.values["kill"] == nil ? pattern.kill : parameters.number("kill")
        diffusivity = (parameters.number("diffusivity_a"), parameters.number("diffusivity_b"))
        integrator = TimeIntegrator(rawValue: parameters.string("integrator"))!
        initial = parameters.string("initial")
        width = parameters.number("width")
        seed = UInt64(parameters.integer("seed"))
        extent = geometry.extent
        periodic = geometry.periodic
        var random = SeededGenerator(seed: seed)
        let extent = geometry.extent
        centres = (0..<parameters.integer("seeds")).map { _ in extent.map { random.uniform(in: 0...$0) } }
    }

    public var fields: [FieldSpec] { [FieldSpec(name: "A"), FieldSpec(name: "B")] }
    public var stencilWidth: Int { 1 }
    public var constants: [(name: String, value: Double)] {
        [("F", feed), ("k", kill), ("diffusivity_a", diffusivity.a), ("diffusivity_b", diffusivity.b)]
    }

    /// The initial (A, B) at a cell centre with global index `index`.
    func value(at point: [Double], index: [Int]) -> (Double, Double) {
        switch initial {
        case "square":
            // Pearson (1993): A = 1, B = 0, with a square of side L/5 in the centre at
            // (1/2, 1/4), perturbed by ±1 %; the noise is a hash of the cell, not of the rank.
            let inside = point.indices.allSatisfy { abs(point[$0] - extent[$0] / 2) < extent[$0] / 10 }
            var flat: UInt64 = seed
            for i in index { flat = flat &* 0x1_0000_01B3 &+ UInt64(i) }
            var noise = SeededGenerator(seed: flat)
            let a = inside ? 0.5 : 1.0
            let b = inside ? 0.25 : 0.0
            return (a * (1 + 0.02 * (noise.uniform() - 0.5)), b * (1 + 0.02 * (noise.uniform() - 0.5)))
        default:
            var b = 0.0
            for centre in centres {
                b += InitialCondition.gaussian(
                    at: point, centre: centre, width: width, extent: extent, periodic: periodic)
            }
            b = Swift.min(b, 1)
            return (1 - b, b)
        }
    }

    public func initialize(_ state: [Field], work: [Field], geometry: Geometry) {
        let owned = geometry.layout.owned
        state[0].layout.interior.forEachPoint { local in
            let index = local.indices.map { owned.lower[$0] + local[$0] }
            let (a, b) = value(at: index.indices.map { geometry.centre(axis: $0, index: index[$0]) }, index: index)
            state[0][local] = a
            state[1][local] = b
        }
    }

    public func stableTimeStep(_ state: [Field], geometry: Geometry) -> Double {
        // Euler on the diffusion: δ dt Σ 2/h² ≤ 1. On the reaction, a bound on its Jacobian
        // for concentrations in [0, 1]: |∂/∂A| ≤ B² + F, |∂/∂B| ≤ 2AB + F + k.
        let diffusion = 2 * Swift.max(diffusivity.a, diffusivity.b) * geometry.spacing.reduce(0) { $0 + 1 / ($1 * $1) }
        return 1 / (diffusion + 3 + 2 * feed + kill)
    }

    public func update(from state: [Field], into next: [Field], box: Box, dt: Double, work: [Field], geometry: Geometry)
    {
        GrayScottKernel.update(
            from: state, into: next, box: box, dt: dt, spacing: geometry.spacing, feed: feed, kill: kill,
            diffusivity: diffusivity)
    }
}

/// The Gray-Scott update on raw memory: both species in one pass.
public enum GrayScottKernel {
    public static func update(
        from state: [Field], into next: [Field], box: Box, dt: Double, spacing: [Double], feed: Double,
        kill: Double, diffusivity: (a: Double, b: Double)
    ) {
        let layout = state[0].layout
        let strides = layout.strides
        let (a, b) = (state[0].cells, state[1].cells)
        let (nextA, nextB) = (next[0].cells, next[1].cells)
        // dt δ / h² per axis, for each species.
        let ca = spacing.map { dt * diffusivity.a / ($0 * $0) }
        let cb = spacing.map { dt * diffusivity.b / ($0 * $0) }
        let dtFeed = dt * feed
        let dtLoss = dt * (feed + kill)
        let d = strides.count
        // Per axis: stride and dt δ/h² for each species (zero past the grid's axes, so one
        // loop serves 1, 2 and 3 dimensions without a loop over the axes per cell).
        let s = strides + [0, 0]
        let (s0, s1, s2) = (s[0], s[1], s[2])
        let (a0, a1, a2) = (ca[0], d > 1 ? ca[1] : 0, d > 2 ? ca[2] : 0)
        let (b0, b1, b2) = (cb[0], d > 1 ? cb[1] : 0, d > 2 ? cb[2] : 0)
        layout.forEachRun(in: box) { offset, length in
            for k in offset..<(offset &+ length) {
                let ak = a[k]
                let bk = b[k]
                var diffusionA = a0 * (a[k &- s0] - 2 * ak + a[k &+ s0])
                var diffusionB = b0 * (b[k &- s0] - 2 * bk + b[k &+ s0])
                if d > 1 {
                    diffusionA += a1 * (a[k &- s1] - 2 * ak + a[k &+ s1])
                    diffusionB += b1 * (b[k &- s1] - 2 * bk + b[k &+ s1])
                }
                if d > 2 {
                    diffusionA += a2 * (a[k &- s2] - 2 * ak + a[k &+ s2])
                    diffusionB += b2 * (b[k &- s2] - 2 * bk + b[k &+ s2])
                }
                let reaction = dt * ak * bk * bk
                nextA[k] = ak + diffusionA - reaction + dtFeed * (1 - ak)
                nextB[k] = bk + diffusionB + reaction - dtLoss * bk
            }
        }
    }
}
