import Engine
import Grid
import Numerics
import Settings

/// Linear advection `∂u/∂t + v · ∇u = 0` with a constant velocity, finite volume in flux form.
///
/// Two schemes: first-order upwind with forward Euler, and MUSCL, a second-order
/// reconstruction with a slope limiter (van Leer, minmod or MC; "none" keeps the central
/// slope, unlimited), with SSP-RK2 or SSP-RK3 in time. Each face's flux is computed once and
/// used by both cells beside it, so periodic domains conserve `Σu` to round-off. With
/// `initial = "sine"` on periodic axes the exact solution is the initial state carried along:
/// `u(x, t) = u₀(x − v t)`.
public struct Advection: Model {
    public static let description = ModelDescription(
        name: "advection",
        summary: "linear advection ∂u/∂t + v·∇u = 0; upwind or limited MUSCL, finite volume",
        parameters: [
            ParameterSpec(
                "velocity", .numbers, default: .array([.double(1), .double(0.5), .double(0.25)]),
                help: "v, one component per axis"),
            ParameterSpec(
                "scheme", .choice(["muscl", "upwind"]), default: .string("muscl"),
                help: "muscl: second order, limited; upwind: first order"),
            ParameterSpec(
                "limiter", .choice(["vanleer", "minmod", "mc", "none"]), default: .string("vanleer"),
                help: "muscl: the slope limiter (none: central slopes, not limited)"),
            ParameterSpec(
                "integrator", .choice(["euler", "ssprk2", "ssprk3"]), default: nil, optional: true,
                help: "time integrator (default: euler for upwind, ssprk2 for muscl)"),
            ParameterSpec(
                "initial", .choice(["sine", "gaussian"]), default: .string("sine"), help: "initial condition"),
            ParameterSpec(
                "amplitude", .number(-1e300...1e300), default: .double(1), help: "peak value of the initial condition"),
            ParameterSpec(
                "modes", .integers, default: .array([.int(1), .int(1), .int(1)]),
                help: "sine: mode number per axis (wave number 2πm/L)"),
            ParameterSpec(
                "width", .number(1e-300...1e300), default: .double(0.1), help: "gaussian: standard deviation"),
        ],
        boundaries: .anyWithOutflow, recordedAs: ModelDescription.axisEntries("velocity"))

    public let velocity: [Double]
    public let scheme: String
    let limiter: Limiter
    public let integrator: TimeIntegrator
    let initial: String
    let amplitude: Double
    let waveNumbers: [Double]
    let width: Double
    let extent: [Double]

    public init(parameters: Parameters, geometry: Geometry) throws(ConfigError) {
        let d = geometry.dimensions
        let velocity = parameters.numbers("velocity")
        guard velocity.count >= d else {
            throw ConfigError("model.velocity", "needs one component per axis (\(d)), got \(velocity)")
        }
        self.velocity = Array(velocity.prefix(d))
        scheme = parameters.string("scheme")
        limiter = Limiter(rawValue: parameters.string("limiter"))!
        let chosen = parameters.string("integrator")
        integrator = TimeIntegrator(rawValue: chosen.isEmpty ? (scheme == "upwind" ? "euler" : "ssprk2") : chosen)!
        if scheme == "muscl" && integrator == .euler {
            throw ConfigError(
                "model.integrator", "muscl with euler is unstable; use ssprk2 or ssprk3 (or scheme = \"upwind\")")
        }
        initial = parameters.string("initial")
        amplitude = parameters.number("amplitude")
        width = parameters.number("width")
        waveNumbers = try InitialCondition.waveNumbers(parameters, geometry: geometry)
        extent = geometry.extent
    }

    public var fields: [FieldSpec] { [FieldSpec(name: "concentration")] }
    public var stencilWidth: Int { scheme == "upwind" ? 1 : 2 }
    /// MUSCL (the upwind scheme is bound by memory): per axis, each cell's one face of its own
    /// reconstructed from the upwind cell, the difference across the cell scaled by the Courant
    /// number and summed; the new value.
    public var floatingPointWork: FloatingPointWork {
        guard scheme == "muscl" else { return .none }
        let d = Double(velocity.count)
        return d * limiter.faceWork + FloatingPointWork(additions: 2 * d, multiplications: d)
    }
    public var conserved: [String] { ["concentration"] }
    public var constants: [(name: String, value: Double)] {
        velocity.enumerated().map { ("velocity_\(["x", "y", "z"][$0.offset])", $0.element) }
    }

    /// The exact solution at `point` (periodic axes): the initial state moved by `v t`.
    public func exact(at point: [Double], time: Double) -> Double {
        value(at: point.indices.map { point[$0] - velocity[$0] * time })
    }

    private func value(at point: [Double]) -> Double {
        switch initial {
        case "gaussian":
            amplitude
                * InitialCondition.gaussian(
                    at: point, centre: extent.map { $0 / 2 }, width: width, extent: extent,
                    periodic: extent.map { _ in true })
        default:
            amplitude * InitialCondition.sines(at: point, waveNumbers: waveNumbers)
        }
    }

    public func initialize(_ state: [Field], work: [Field], geometry: Geometry) {
        let field = state[0]
        let owned = field.layout.owned
        field.layout.interior.forEachPoint { local in
            field[local] = value(
                at: local.indices.map { geometry.centre(axis: $0, index: owned.lower[$0] + local[$0]) })
        }
    }

    public func stableTimeStep(_ state: [Field], geometry: Geometry) -> Double {
        let rate = zip(velocity, geometry.spacing).reduce(0) { $0 + abs($1.0) / $1.1 }
        // Upwind with Euler is stable to a Courant number of 1; MUSCL's Euler stages to 1/2.
        return (scheme == "upwind" ? 1 : 0.5) / Swift.max(rate, .leastNormalMagnitude)
    }

    public func update(from state: [Field], into next: [Field], box: Box, dt: Double, work: [Field], geometry: Geometry)
    {
        let courant = zip(velocity, geometry.spacing).map { dt * $0 / $1 }
        if scheme == "upwind" {
            AdvectionKernel.upwind(from: state[0], into: next[0], box: box, courant: courant)
        } else {
            AdvectionKernel.muscl(from: state[0], into: next[0], box: box, courant: courant, limiter: limiter)
        }
    }
}

/// The advection updates on raw memory: `next = u − Σₐ cₐ (faceₐ₊ − faceₐ₋)`, where `cₐ` is the
/// Courant number `dt vₐ / hₐ` and the face values are taken from the upwind side.
public enum AdvectionKernel {
    public static func upwind(from source: Field, into target: Field, box: Box, courant c: [Double]) {
        let layout = source.layout
        let (u, out) = (source.cells, target.cells)
        // The upwind difference without a branch per cell: one of the two Courant numbers of
        // each axis is zero, and adding its (zero) term leaves the other's bits unchanged.
        let forward = (0..<3).map { $0 < c.count ? Swift.max(c[$0], 0) : 0 }
        let backward = (0..<3).map { $0 < c.count ? Swift.min(c[$0], 0) : 0 }
        let (p0, p1, p2) = (forward[0], forward[1], forward[2])
        let (m0, m1, m2) = (backward[0], backward[1], backward[2])
        let d = c.count
        layout.forEachRun(in: box) { offset, length in
            switch d {
            case 1:
                for k in offset..<(offset &+ length) {
                    let change = p0 * (u[k] - u[k, -1]) + m0 * (u[k, 1] - u[k])
                    out[k] = u[k] - change
                }
            case 2:
                for k in offset..<(offset &+ length) {
                    var change = p0 * (u[k] - u[k, -1]) + m0 * (u[k, 1] - u[k])
                    change += p1 * (u[k] - u[k, 0, -1]) + m1 * (u[k, 0, 1] - u[k])
                    out[k] = u[k] - change
                }
            default:
                for k in offset..<(offset &+ length) {
                    var change = p0 * (u[k] - u[k, -1]) + m0 * (u[k, 1] - u[k])
                    change += p1 * (u[k] - u[k, 0, -1]) + m1 * (u[k, 0, 1] - u[k])
                    change += p2 * (u[k] - u[k, 0, 0, -1]) + m2 * (u[k, 0, 0, 1] - u[k])
                    out[k] = u[k] - change
                }
            }
        }
    }

    public static func muscl(from source: Field, into target: Field, box: Box, courant c: [Double], limiter: Limiter) {
        limiter.run(MUSCLKernel(source: source, target: target, box: box, courant: c))
    }
}

/// MUSCL advection over a box, each face reconstructed once: a row at a time (see
/// ``FaceSweep``), the faces across the row's axis carried from the row before, in one loop
/// over the row for every axis.
struct MUSCLKernel: LimitedKernel {
    let source: Field
    let target: Field
    let box: Box
    let courant: [Double]

    func run<Slope: SlopeLimiter>(_: Slope.Type) {
        let layout = source.layout
        let (u, out) = (source.cells, target.cells)
        let last = layout.dimensions - 1
        let sweep = FaceSweep(layout: layout, box: box)
        let n = sweep.rowLength
        let buffers = RowBuffers()
        // Per axis across the rows: the upwind cell of each face above a cell (the cell itself
        // or the one above it), the reconstruction's half step towards the face, the carried
        // faces below, and the Courant number. Axes a run does not have get unused values.
        let strides = layout.strides + [0, 0]
        let c = courant + [0, 0]
        let shift = (0..<3).map { c[$0] > 0 ? 0 : strides[$0] }
        let half = (0..<3).map { c[$0] > 0 ? 0.5 : -0.5 }
        let below = (0..<2).map { buffers.make($0 < last ? sweep.slots(axis: $0) * n : 0) }
        let faces = buffers.make(n + 1)
        let (s0, s1, c0, c1, cl) = (strides[0], strides[1], c[0], c[1], c[last])
        let (shift0, shift1, half0, half1) = (shift[0], shift[1], half[0], half[1])
        sweep.forEachRow { row in
            let first = row.offset
            // The faces below the row across each axis, unless the row before left them.
            for axis in 0..<last where !row.carried(axis) {
                Slope.upwindFaces(
                    u, first: first &- strides[axis], stride: strides[axis], count: n, speed: c[axis],
                    into: below[axis] + row.slot(axis) * n)
            }
            // Along the row: its n + 1 faces, from the one below its first cell.
            Slope.upwindFaces(u, first: first &- 1, stride: 1, count: n + 1, speed: cl, into: faces)
            let low0 = below[0] + row.slot(0) * n
            let low1 = below[1] + row.slot(1) * n
            switch last {
            case 0:
                for m in 0..<n {
                    let k = first &+ m
                    out[k] = u[k] - cl * (faces[m &+ 1] - faces[m])
                }
            case 1:
                for m in 0..<n {
                    let k = first &+ m
                    let high0 = Slope.face(u, k &+ shift0, s0, half: half0)
                    var change = c0 * (high0 - low0[m])
                    low0[m] = high0
                    change += cl * (faces[m &+ 1] - faces[m])
                    out[k] = u[k] - change
                }
            default:
                for m in 0..<n {
                    let k = first &+ m
                    let high0 = Slope.face(u, k &+ shift0, s0, half: half0)
                    let high1 = Slope.face(u, k &+ shift1, s1, half: half1)
                    var change = c0 * (high0 - low0[m])
                    low0[m] = high0
                    change += c1 * (high1 - low1[m])
                    low1[m] = high1
                    change += cl * (faces[m &+ 1] - faces[m])
                    out[k] = u[k] - change
                }
            }
        }
    }
}
