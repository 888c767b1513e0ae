import Engine
import Grid
import Numerics
import Settings

#if canImport(Glibc)
    import Glibc
#endif

/// Heat (diffusion) equation `∂u/∂t = κ ∇²u`, explicit Euler in time, second-order central
/// differences in space (the 3-, 5- or 7-point stencil).
///
/// Stable for `dt ≤ 1 / (2κ Σ 1/h²)`. With `initial = "sine"` the exact solution is known:
/// `u = A Π sin(k_a x_a) exp(-κ Σ k_a² t)`, where `k_a = 2π m_a / L_a` on periodic axes and
/// `π m_a / L_a` on bounded ones (which then need Dirichlet 0 boundaries).
public struct Heat: Model {
    public static let description = ModelDescription(
        name: "heat",
        summary: "diffusion ∂u/∂t = κ∇²u; explicit Euler, second-order central differences",
        parameters: [
            ParameterSpec("diffusivity", .number(1e-300...1e300), default: .double(1), help: "κ, the diffusivity"),
            ParameterSpec(
                "initial", .choice(["sine", "gaussian"]), default: .string("sine"), help: "initial condition"),
            ParameterSpec(
                "amplitude", .number(-1e300...1e300), default: .double(1), help: "peak value of the initial condition"),
            ParameterSpec(
                "modes", .integers, default: .array([.int(1), .int(1), .int(1)]),
                help: "sine: mode number per axis (wave number 2πm/L periodic, πm/L bounded)"),
            ParameterSpec(
                "width", .number(1e-300...1e300), default: .double(0.1), help: "gaussian: standard deviation"),
            ParameterSpec(
                "centre", .numbers, default: nil, optional: true, help: "gaussian: centre per axis (default: middle)"),
            ParameterSpec(
                "diffusivity_max", .number(1e-300...1e300), default: nil, optional: true,
                help:
                    "the largest diffusivity the time step is chosen for (default: diffusivity); an inversion keeps below it"
            ),
        ] + Receiver.lineParameters)

    public let diffusivity: Double
    /// The largest diffusivity the time step allows for.
    public let largest: Double
    public let receivers: [Receiver]
    let initial: String
    let amplitude: Double
    /// Angular wave number per axis for the sine initial condition.
    public let waveNumbers: [Double]
    let width: Double
    let centre: [Double]

    public init(parameters: Parameters, geometry: Geometry) throws(ConfigError) {
        let d = geometry.dimensions
        diffusivity = parameters.number("diffusivity")
        largest = parameters.values["diffusivity_max"] == nil ? diffusivity : parameters.number("diffusivity_max")
        guard largest >= diffusivity else {
            throw ConfigError("model.diffusivity_max", "is \(largest), below the diffusivity \(diffusivity)")
        }
        receivers = try Receiver.line(parameters, geometry: geometry, component: "temperature")
        initial = parameters.string("initial")
        amplitude = parameters.number("amplitude")
        width = parameters.number("width")
        waveNumbers = try InitialCondition.waveNumbers(parameters, geometry: geometry, halfOnWalls: true)
        let given = parameters.numbers("centre")
        if given.isEmpty {
            centre = geometry.extent.map { $0 / 2 }
        } else {
            guard given.count == d else {
                throw ConfigError("model.centre", "needs \(d) coordinates, got \(given.count)")
            }
            centre = given
        }
    }

    public var fields: [FieldSpec] { [FieldSpec(name: "temperature")] }
    public var stencilWidth: Int { 1 }
    public var constants: [(name: String, value: Double)] { [("diffusivity", diffusivity)] }
    /// Heat is conserved when every boundary is periodic or insulated (Neumann); with Dirichlet
    /// walls the total shows what flows through them.
    public var conserved: [String] { ["temperature"] }

    /// The exact solution for the sine initial condition at `point` (physical coordinates).
    public func exact(at point: [Double], time: Double) -> Double {
        var value = amplitude
        var decay = 0.0
        for a in point.indices {
            value *= sin(waveNumbers[a] * point[a])
            decay += waveNumbers[a] * waveNumbers[a]
        }
        return value * exp(-diffusivity * decay * time)
    }

    public func initialize(_ state: [Field], work: [Field], geometry: Geometry) {
        let field = state[0]
        let owned = field.layout.owned
        field.layout.interior.forEachPoint { local in
            let point = local.indices.map { geometry.centre(axis: $0, index: owned.lower[$0] + local[$0]) }
            field[local] = value(at: point)
        }
    }

    private func value(at point: [Double]) -> Double {
        switch initial {
        case "gaussian":
            var r2 = 0.0
            for a in point.indices { r2 += (point[a] - centre[a]) * (point[a] - centre[a]) }
            return amplitude * exp(-r2 / (2 * width * width))
        default:
            return exact(at: point, time: 0)
        }
    }

    public func stableTimeStep(_ state: [Field], geometry: Geometry) -> Double {
        1 / (2 * largest * geometry.spacing.reduce(0) { $0 + 1 / ($1 * $1) })
    }

    /// With the gradient run's work arrays (``Differentiable/gradientWorkArrays``), the
    /// diffusivity per cell in `work[0]`; otherwise the uniform one.
    public func update(from state: [Field], into next: [Field], box: Box, dt: Double, work: [Field], geometry: Geometry)
    {
        if let kappa = work.first {
            HeatKernel.apply(
                from: state[0], into: next[0], box: box, diffusivity: kappa, dt: dt, spacing: geometry.spacing)
        } else {
            let c = geometry.spacing.map { dt * diffusivity / ($0 * $0) }
            HeatKernel.apply(from: state[0], into: next[0], box: box, coefficients: c)
        }
    }
}

/// The heat update on raw memory, one loop nest per dimensionality, written as plainly as the
/// C version in bench/ so that the compiler vectorises it the same way.
public enum HeatKernel {
    /// The update with a diffusivity per cell: `next = u + Σ_a (dt κ / h_a²) (u[-a] - 2u + u[+a])`,
    /// term by term as ``apply(from:into:box:coefficients:)`` (the same bits for a uniform κ).
    static func apply(
        from source: Field, into target: Field, box: Box, diffusivity: Field, dt: Double, spacing: [Double]
    ) {
        let (u, out, kappa) = (source.cells, target.cells, diffusivity.cells)
        let squares = spacing.map { $0 * $0 }
        let d = squares.count
        source.layout.forEachRun(in: box) { offset, length in
            for k in offset..<(offset &+ length) {
                let center = u[k]
                var sum = center
                for a in 0..<d {
                    sum += dt * kappa[k] / squares[a] * (u[k, along: a, -1] - 2 * center + u[k, along: a, 1])
                }
                out[k] = sum
            }
        }
    }

    /// `next = u + Σ_a c_a (u[-a] - 2u + u[+a])` over `box`; `c_a = dt κ / h_a²`.
    public static func apply(from source: Field, into target: Field, box: Box, coefficients c: [Double]) {
        let layout = source.layout
        let (u, out) = (source.cells, target.cells)
        let corner = layout.offset(box.lower)
        switch layout.dimensions {
        case 1:
            run1(u, out, start: corner, count: box.extent[0], c[0])
        case 2:
            for i in 0..<box.extent[0] {
                run2(u, out, start: corner &+ i &* u.s0, count: box.extent[1], c[0], c[1])
            }
        default:
            let (c0, c1, c2) = (c[0], c[1], c[2])
            let count = box.extent[2]
            for i in 0..<box.extent[0] {
                for j in 0..<box.extent[1] {
                    run3(u, out, start: corner &+ i &* u.s0 &+ j &* u.s1, count: count, c0, c1, c2)
                }
            }
        }
    }

    @inline(__always)
    static func run1(_ u: Cells, _ out: Cells, start: Int, count: Int, _ c0: Double) {
        for k in start..<(start &+ count) {
            let center = u[k]
            out[k] = center + c0 * (u[k, -1] - 2 * center + u[k, 1])
        }
    }

    @inline(__always)
    static func run2(_ u: Cells, _ out: Cells, start: Int, count: Int, _ c0: Double, _ c1: Double) {
        for k in start..<(start &+ count) {
            let center = u[k]
            out[k] = center + c0 * (u[k, -1] - 2 * center + u[k, 1]) + c1 * (u[k, 0, -1] - 2 * center + u[k, 0, 1])
        }
    }

    @inline(__always)
    static func run3(
        _ u: Cells, _ out: Cells, start: Int, count: Int, _ c0: Double, _ c1: Double, _ c2: Double
    ) {
        for k in start..<(start &+ count) {
            let center = u[k]
            out[k] =
                center + c0 * (u[k, -1] - 2 * center + u[k, 1]) + c1 * (u[k, 0, -1] - 2 * center + u[k, 0, 1])
                + c2 * (u[k, 0, 0, -1] - 2 * center + u[k, 0, 0, 1])
        }
    }
}
