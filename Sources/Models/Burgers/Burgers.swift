import Engine
import Grid
import Numerics
import Settings

#if canImport(Glibc)
    import Glibc
#endif

/// Viscous Burgers' equation for a velocity vector, `∂u/∂t + (u · ∇)u = ν ∇²u`; in 1-D the
/// PDEBench form `∂u/∂t + ∂(u²/2)/∂x = ν ∂²u/∂x²`.
///
/// Finite volume with MUSCL reconstruction (van Leer, minmod, MC or unlimited slopes) and
/// SSP-RK2 or SSP-RK3 in time. Along each axis, the component in that direction moves by its
/// own flux `u²/2` through a Rusanov (local Lax-Friedrichs) flux, so the 1-D model is
/// conservative and its shocks move at the right speed; the other components are carried by it
/// with upwinded face values. The viscous term is the central second difference.
public struct Burgers: Model {
    public static let description = ModelDescription(
        name: "burgers",
        summary: "viscous Burgers ∂u/∂t + (u·∇)u = ν∇²u; MUSCL, Rusanov flux, SSP Runge-Kutta",
        parameters: [
            ParameterSpec("viscosity", .number(0...1e300), default: .double(0.01), help: "ν"),
            ParameterSpec(
                "limiter", .choice(Limiter.allCases.map(\.rawValue)), default: .string("vanleer"),
                help: "slope limiter (none: central slopes, not limited)"),
            ParameterSpec(
                "integrator", .choice(["ssprk2", "ssprk3"]), default: .string("ssprk2"), help: "time integrator"),
            ParameterSpec(
                "initial", .choice(["sine", "gaussian", "random"]), default: .string("sine"),
                help:
                    "sine: u_c = A sin(k_c x_c) Π cos(k_a x_a); gaussian: a bump in every component; random: PDEBench's sum of sine waves"
            ),
            ParameterSpec("amplitude", .number(-1e300...1e300), default: .double(1), help: "A, the peak velocity"),
            ParameterSpec(
                "modes", .integers, default: .array([.int(1), .int(1), .int(1)]),
                help: "sine: mode number per axis (wave number 2πm/L)"),
            ParameterSpec(
                "width", .number(1e-300...1e300), default: .double(0.1), help: "gaussian: standard deviation"),
            ParameterSpec("waves", .integer(1...64), default: .int(2), help: "random: sine waves per component"),
            ParameterSpec(
                "max_mode", .integer(1...1024), default: .int(4), help: "random: largest mode number per axis"),
            ParameterSpec("seed", .integer(0...Int.max), default: .int(0), help: "random: the seed"),
        ],
        boundaries: .anyWithOutflow,
        instabilities: [
            "the time step: with fixed steps it is set by the initial velocity, and a dirichlet boundary value "
                + "faster than that drives shocks faster than it allows; use adaptive steps (output.every_time), or "
                + "lower [time] cfl or the boundary value",
            "a viscosity so large that the viscous limit is hard to meet: lower [time] cfl",
        ],
        adaptive: true)

    public let viscosity: Double
    let limiter: Limiter
    public let integrator: TimeIntegrator
    let initial: String
    let amplitude: Double
    let waveNumbers: [Double]
    let width: Double
    let extent: [Double]
    let periodic: [Bool]
    /// random: per component, the waves' amplitudes, wave vectors and phases.
    let waves: [[(amplitude: Double, k: [Double], phase: Double)]]

    public init(parameters: Parameters, geometry: Geometry) throws(ConfigError) {
        let d = geometry.dimensions
        viscosity = parameters.number("viscosity")
        limiter = Limiter(rawValue: parameters.string("limiter"))!
        integrator = TimeIntegrator(rawValue: parameters.string("integrator"))!
        initial = parameters.string("initial")
        amplitude = parameters.number("amplitude")
        width = parameters.number("width")
        extent = geometry.extent
        periodic = geometry.periodic
        waveNumbers = try InitialCondition.waveNumbers(parameters, geometry: geometry)
        // The waves depend on the seed alone, drawn in a fixed order, never on the ranks.
        var random = SeededGenerator(seed: UInt64(parameters.integer("seed")))
        let count = parameters.integer("waves")
        let maxMode = parameters.integer("max_mode")
        let extent = geometry.extent
        let amplitude = self.amplitude
        waves = (0..<d).map { _ in
            (0..<count).map { _ in
                (
                    random.uniform(in: 0...amplitude),
                    extent.map { 2 * Double.pi * Double(random.integer(in: 1...maxMode)) / $0 },
                    random.uniform(in: 0...(2 * Double.pi))
                )
            }
        }
    }

    public var fields: [FieldSpec] { [FieldSpec(name: "velocity", tensorOrder: 1)] }
    public var stencilWidth: Int { 2 }
    /// Per axis: each cell's every component reconstructed on both its faces; on its face above,
    /// the Rusanov flux of the component along the axis and the upwinded values of the others
    /// (``BurgersKernel/rusanov(_:_:)``, ``BurgersKernel/carried(_:_:by:)``); per component,
    /// the flux difference (times the carrying velocity across the axis) and the second
    /// difference, summed over the axes. Per component, the new value.
    public var floatingPointWork: FloatingPointWork {
        let d = Double(extent.count)
        let rusanov = FloatingPointWork(additions: 3, multiplications: 5, selects: 4)
        let carried = FloatingPointWork(additions: 2, multiplications: 1, selects: 4)
        let perAxis =
            d * limiter.bothFacesWork + rusanov + (d - 1) * carried
            + FloatingPointWork(additions: 3 * d, multiplications: 4 * d - 1)
        let sums = FloatingPointWork(additions: 2 * d * (d - 1))
        return d * perAxis + sums + d * FloatingPointWork(additions: 2, multiplications: 2)
    }
    public var constants: [(name: String, value: Double)] { [("viscosity", viscosity)] }
    /// In 1-D the scheme is conservative: Σu changes only by what crosses the boundaries.
    public var conserved: [String] { extent.count == 1 ? ["velocity_x"] : [] }

    /// The initial velocity component `c` at `point`.
    func value(component c: Int, at point: [Double]) -> Double {
        switch initial {
        case "gaussian":
            return amplitude
                * InitialCondition.gaussian(
                    at: point, centre: extent.map { $0 / 2 }, width: width, extent: extent, periodic: periodic)
        case "random":
            var sum = 0.0
            for wave in waves[c] {
                var phase = wave.phase
                for a in point.indices { phase += wave.k[a] * point[a] }
                sum += wave.amplitude * sin(phase)
            }
            return sum
        default:
            var product = amplitude
            for a in point.indices {
                product *= a == c ? sin(waveNumbers[a] * point[a]) : cos(waveNumbers[a] * point[a])
            }
            return product
        }
    }

    public func initialize(_ state: [Field], work: [Field], geometry: Geometry) {
        let owned = geometry.layout.owned
        for (c, field) in state.enumerated() {
            field.layout.interior.forEachPoint { local in
                field[local] = value(
                    component: c,
                    at: local.indices.map { geometry.centre(axis: $0, index: owned.lower[$0] + local[$0]) })
            }
        }
    }

    public func stableTimeStep(_ state: [Field], geometry: Geometry) -> Double {
        // An Euler stage of MUSCL with the Rusanov flux is stable to a Courant number of 1/2
        // summed over the axes; the viscous term to ν dt Σ 2/h² ≤ 1. Their rates add.
        var rate = 0.0
        for (a, field) in state.enumerated() {
            let u = field.cells
            var peak = 0.0
            field.layout.forEachRun(in: field.layout.interior) { offset, length in
                for k in offset..<(offset &+ length) { peak = Swift.max(peak, abs(u[k])) }
            }
            let h = geometry.spacing[a]
            rate += 2 * peak / h + 2 * viscosity / (h * h)
        }
        return 1 / Swift.max(rate, .leastNormalMagnitude)
    }

    public func update(from state: [Field], into next: [Field], box: Box, dt: Double, work: [Field], geometry: Geometry)
    {
        BurgersKernel.update(
            from: state, into: next, box: box, dt: dt, spacing: geometry.spacing, viscosity: viscosity,
            limiter: limiter)
    }
}

/// The Burgers update on raw memory.
public enum BurgersKernel {
    public static func update(
        from state: [Field], into next: [Field], box: Box, dt: Double, spacing: [Double], viscosity: Double,
        limiter: Limiter
    ) {
        limiter.run(
            BurgersFaceKernel(state: state, next: next, box: box, dt: dt, spacing: spacing, viscosity: viscosity))
    }

    /// The Rusanov flux of `u²/2` through a face between the reconstructed values `left`
    /// and `right`.
    @inline(__always)
    static func rusanov(_ left: Double, _ right: Double) -> Double {
        0.25 * (left * left + right * right) - 0.5 * Swift.max(abs(left), abs(right)) * (right - left)
    }

    /// The value on a face taken from the side the face velocity `velocity` comes from.
    @inline(__always)
    static func carried(_ left: Double, _ right: Double, by velocity: Double) -> Double {
        velocity > 0 ? left : velocity < 0 ? right : 0.5 * (left + right)
    }
}

/// The Burgers update over a box with each face computed once (see ``FaceSweep``): every
/// component reconstructed on both sides of the face, then the Rusanov flux of the component
/// along the face's axis and the upwinded values of the others.
struct BurgersFaceKernel: LimitedKernel {
    let state: [Field]
    let next: [Field]
    let box: Box
    let dt: Double
    let spacing: [Double]
    let viscosity: Double

    func run<Slope: SlopeLimiter>(_: Slope.Type) {
        let layout = state[0].layout
        let strides = layout.strides
        let d = state.count
        let u = state.map(\.cells)
        let out = next.map(\.cells)
        let inverse = spacing.map { 1 / $0 }
        let inverseSquare = spacing.map { 1 / ($0 * $0) }
        let diffusion = dt * viscosity
        let sweep = FaceSweep(layout: layout, box: box)
        let n = sweep.rowLength
        let buffers = RowBuffers()
        // Per face of a row: every component reconstructed from below and from above, and
        // the face value each component moves by.
        let faceRows = FaceRows(sweep: sweep, components: d, buffers: buffers, reconstructing: true)
        let transport = buffers.make(d * n)
        let laplacian = buffers.make(d * n)

        /// The face values of `count` faces along `axis` from the states below (`left`) and
        /// above (`right`) them, into `target` (component `c` at `c * pitch`).
        func faceValues(
            axis: Int, count: Int, left: UnsafeMutablePointer<Double>, right: UnsafeMutablePointer<Double>,
            width: Int, into target: UnsafeMutablePointer<Double>, pitch: Int
        ) {
            let (l, r) = (left + axis * width, right + axis * width)
            for c in 0..<d {
                let (lc, rc, g) = (left + c * width, right + c * width, target + c * pitch)
                if c == axis {
                    for m in 0..<count { g[m] = BurgersKernel.rusanov(l[m], r[m]) }
                } else {
                    for m in 0..<count { g[m] = BurgersKernel.carried(lc[m], rc[m], by: l[m] + r[m]) }
                }
            }
        }

        sweep.forEachRow { row in
            let first = row.offset
            for axis in 0..<d {
                let s = strides[axis]
                let (low, high, pitch) = faceRows.reconstructedFaces(
                    Slope.self, of: row, axis: axis, stride: s, cells: u
                ) {
                    _, count, left, right, width, target, pitch in
                    faceValues(
                        axis: axis, count: count, left: left, right: right, width: width, into: target, pitch: pitch)
                }
                let factor = inverse[axis]
                let curvature = inverseSquare[axis]
                let ua = u[axis]
                for c in 0..<d {
                    let (uc, lc, hc) = (u[c], low + c * pitch, high + c * pitch)
                    let (t, lap) = (transport + c * n, laplacian + c * n)
                    // The first axis starts the sums; every choice is made outside the loops.
                    let carrier = c == axis ? nil : ua
                    switch (axis == 0, carrier) {
                    case (true, nil):
                        for m in 0..<n {
                            let k = first &+ m
                            t[m] = (hc[m] - lc[m]) * factor
                            lap[m] = (uc[k &+ s] - 2 * uc[k] + uc[k &- s]) * curvature
                        }
                    case (true, let v?):
                        for m in 0..<n {
                            let k = first &+ m
                            t[m] = v[k] * (hc[m] - lc[m]) * factor
                            lap[m] = (uc[k &+ s] - 2 * uc[k] + uc[k &- s]) * curvature
                        }
                    case (false, nil):
                        for m in 0..<n {
                            let k = first &+ m
                            t[m] += (hc[m] - lc[m]) * factor
                            lap[m] += (uc[k &+ s] - 2 * uc[k] + uc[k &- s]) * curvature
                        }
                    case (false, let v?):
                        for m in 0..<n {
                            let k = first &+ m
                            t[m] += v[k] * (hc[m] - lc[m]) * factor
                            lap[m] += (uc[k &+ s] - 2 * uc[k] + uc[k &- s]) * curvature
                        }
                    }
                }
                faceRows.carry(row, axis: axis)
            }
            for c in 0..<d {
                let (uc, target, t, lap) = (u[c], out[c], transport + c * n, laplacian + c * n)
                for m in 0..<n {
                    let k = first &+ m
                    target[k] = uc[k] - dt * t[m] + diffusion * lap[m]
                }
            }
        }
    }
}
