import Engine
import Grid

#if canImport(Glibc)
    import Glibc
#endif

/// The compressible Euler equations for an ideal gas, with optional uniform gravity `g`:
///
///     ∂ρ/∂t + ∇·(ρu) = 0
///     ∂(ρu)/∂t + ∇·(ρu⊗u + p I) = ρ g
///     ∂E/∂t + ∇·((E + p) u) = ρ u·g,        p = (γ − 1)(E − ρ|u|²/2)
///
/// Finite volume: MUSCL reconstruction of the primitive variables (ρ, u, p) with a slope
/// limiter, the HLLC approximate Riemann solver (Toro) at every face, SSP-RK2 or SSP-RK3 in
/// time. Where a reconstructed face state would have a non-positive density or pressure, that
/// face falls back to the cell values (first order), which keeps both positive. Every face's
/// flux is computed the same way by the two cells beside it, so mass, momentum and energy are
/// conserved to round-off in periodic domains without gravity.
public struct Euler: Model {
    public static let description = ModelDescription(
        name: "euler",
        summary: "compressible Euler, ideal gas; MUSCL on primitives, HLLC flux, SSP Runge-Kutta, gravity",
        parameters: [
            ParameterSpec(
                "gamma", .number(1.0000001...10), default: .double(1.4), help: "γ, the ratio of specific heats"),
            ParameterSpec(
                "initial", .choice(["sod", "quadrants", "kelvin_helmholtz", "rayleigh_taylor", "uniform"]),
                default: .string("sod"),
                help:
                    "sod: the shock tube along x; quadrants: Liska & Wendroff's 2-D Riemann problem 3; kelvin_helmholtz: a shear layer; rayleigh_taylor: heavy over light under gravity"
            ),
            ParameterSpec(
                "gravity", .numbers, default: .array([.double(0), .double(0), .double(0)]),
                help: "g, one component per axis (rayleigh_taylor needs one along its last axis)"),
            ParameterSpec(
                "limiter", .choice(Limiter.allCases.map(\.rawValue)), default: .string("vanleer"),
                help: "slope limiter on the primitive variables"),
            ParameterSpec(
                "integrator", .choice(["ssprk2", "ssprk3"]), default: .string("ssprk2"), help: "time integrator"),
            ParameterSpec(
                "perturbation", .number(0...1e300), default: .double(0.01),
                help: "kelvin_helmholtz, rayleigh_taylor: the amplitude of the seed velocity"),
            ParameterSpec(
                "speedup", .number(1...1e300), default: .double(2),
                help: "how much faster than at the start waves may become (dt is fixed from the initial state)"),
        ])

    public let gamma: Double
    public let gravity: [Double]
    let limiter: Limiter
    public let integrator: TimeIntegrator
    let initial: String
    let perturbation: Double
    let speedup: Double
    let extent: [Double]

    public init(parameters: Parameters, geometry: Geometry) throws(ConfigError) {
        let d = geometry.dimensions
        gamma = parameters.number("gamma")
        let g = parameters.numbers("gravity")
        guard g.count >= d else {
            throw ConfigError("model.gravity", "needs one component per axis (\(d)), got \(g)")
        }
        gravity = Array(g.prefix(d))
        limiter = Limiter(rawValue: parameters.string("limiter"))!
        integrator = TimeIntegrator(rawValue: parameters.string("integrator"))!
        initial = parameters.string("initial")
        perturbation = parameters.number("perturbation")
        speedup = parameters.number("speedup")
        extent = geometry.extent
        if ["quadrants", "kelvin_helmholtz", "rayleigh_taylor"].contains(initial) && d < 2 {
            throw ConfigError("model.initial", "\(initial) needs 2 or 3 axes, the grid has \(d)")
        }
        if initial == "rayleigh_taylor" && gravity[d - 1] >= 0 {
            throw ConfigError(
                "model.gravity", "rayleigh_taylor needs gravity pointing down its last axis (a negative last component)"
            )
        }
    }

    public var fields: [FieldSpec] {
        [FieldSpec(name: "density"), FieldSpec(name: "energy"), FieldSpec(name: "momentum", tensorOrder: 1)]
    }
    public var stencilWidth: Int { 2 }
    public var constants: [(name: String, value: Double)] {
        [("gamma", gamma)] + gravity.enumerated().map { ("gravity_\(["x", "y", "z"][$0.offset])", $0.element) }
    }
    /// Without gravity the scheme conserves every component.
    public var conserved: [String] {
        let components = fields.components(dimensions: extent.count)
        return gravity.allSatisfy { $0 == 0 } ? components : ["density"]
    }

    /// The primitive state (density, velocity, pressure) at `point`.
    func primitive(at x: [Double]) -> (rho: Double, u: [Double], p: Double) {
        let d = x.count
        var u = [Double](repeating: 0, count: d)
        switch initial {
        case "sod":
            return x[0] < extent[0] / 2 ? (1, u, 1) : (0.125, u, 0.1)
        case "quadrants":
            // Liska & Wendroff (2003), case 3, split at 0.8 of the first two axes.
            let right = x[0] >= 0.8 * extent[0]
            let top = x[1] >= 0.8 * extent[1]
            switch (right, top) {
            case (true, true): return (1.5, u, 1.5)
            case (false, true):
                u[0] = 1.206
                return (0.5323, u, 0.3)
            case (false, false):
                u[0] = 1.206
                u[1] = 1.206
                return (0.138, u, 0.029)
            case (true, false):
                u[1] = 1.206
                return (0.5323, u, 0.3)
            }
        case "kelvin_helmholtz":
            // A dense band moving one way between light fluid moving the other, its edges
            // seeded with a vertical velocity of wave number 2 along x.
            let y = x[1] / extent[1]
            let inside = abs(y - 0.5) < 0.25
            u[0] = inside ? -0.5 : 0.5
            let sigma = 0.05 / sqrt(2.0)
            u[1] =
                perturbation * sin(4 * Double.pi * x[0] / extent[0])
                * (exp(-pow(y - 0.25, 2) / (2 * sigma * sigma)) + exp(-pow(y - 0.75, 2) / (2 * sigma * sigma)))
            return (inside ? 2 : 1, u, 2.5)
        case "rayleigh_taylor":
            // Heavy (2) over light (1) in hydrostatic balance, seeded as Liska & Wendroff do.
            let last = d - 1
            let height = x[last] - extent[last] / 2
            let rho = height >= 0 ? 2.0 : 1.0
            let p = 2.5 + rho * gravity[last] * height
            u[last] =
                perturbation * (1 + cos(4 * Double.pi * (x[0] / extent[0] - 0.5)))
                * (1 + cos(3 * Double.pi * height / extent[last] * 2)) / 4
            return (rho, u, p)
        default:
            return (1, u, 1)
        }
    }

    public func initialize(_ state: [Field], geometry: Geometry) {
        let owned = geometry.layout.owned
        let d = geometry.dimensions
        state[0].layout.interior.forEachPoint { local in
            let x = local.indices.map { geometry.centre(axis: $0, index: owned.lower[$0] + local[$0]) }
            let (rho, u, p) = primitive(at: x)
            var kinetic = 0.0
            for a in 0..<d { kinetic += 0.5 * rho * u[a] * u[a] }
            state[0][local] = rho
            state[1][local] = p / (gamma - 1) + kinetic
            for a in 0..<d { state[2 + a][local] = rho * u[a] }
        }
    }

    public func stableTimeStep(_ state: [Field], geometry: Geometry) -> Double {
        // An Euler stage of MUSCL is stable to a Courant number of 1/2 summed over the axes;
        // dt is fixed for the run, so leave room for waves `speedup` times faster than now.
        let d = geometry.dimensions
        var rate = 0.0
        let layout = state[0].layout
        layout.forEachRun(in: layout.interior) { offset, length in
            for k in offset..<(offset &+ length) {
                let rho = state[0].base[k]
                var kinetic = 0.0
                for a in 0..<d { kinetic += 0.5 * state[2 + a].base[k] * state[2 + a].base[k] / rho }
                let c = sqrt(gamma * (gamma - 1) * Swift.max(state[1].base[k] - kinetic, 0) / rho)
                var cell = 0.0
                for a in 0..<d { cell += (abs(state[2 + a].base[k] / rho) + c) / geometry.spacing[a] }
                rate = Swift.max(rate, cell)
            }
        }
        return 0.5 / (speedup * Swift.max(rate, .leastNormalMagnitude))
    }

    public func update(from state: [Field], into next: [Field], box: Box, dt: Double, geometry: Geometry) {
        let kernel = EulerKernel(gamma: gamma, limiter: limiter, gravity: gravity)
        kernel.update(from: state, into: next, box: box, dt: dt, spacing: geometry.spacing, scratch: scratch)
    }

    /// The primitive variables of this rank's block, reused by every update.
    let scratch = Primitives()
}

/// Density, velocity and pressure per cell (ghosts included): the update converts each cell
/// once, then reconstructs faces from these.
final class Primitives: @unchecked Sendable {
    private(set) var arrays: [UnsafeMutablePointer<Double>] = []
    private var count = 0

    /// Five arrays of `count` values: density, velocity x, y, z, pressure.
    func reserve(_ count: Int) {
        guard count > self.count else { return }
        for array in arrays { array.deallocate() }
        arrays = (0..<5).map { _ in .allocate(capacity: count) }
        for array in arrays { array.initialize(repeating: 0, count: count) }
        self.count = count
    }

    deinit { for array in arrays { array.deallocate() } }
}

/// The Euler update on raw memory.
struct EulerKernel {
    let gamma: Double
    let limiter: Limiter
    let gravity: [Double]

    /// A face state: density, velocity (normal first, then the others), pressure.
    struct State {
        var rho: Double
        var u: (Double, Double, Double)
        var p: Double
    }

    /// Pointers to the primitive arrays: density, velocity x, y, z, pressure.
    struct Cells {
        let rho: UnsafeMutablePointer<Double>
        let u: (UnsafeMutablePointer<Double>, UnsafeMutablePointer<Double>, UnsafeMutablePointer<Double>)
        let p: UnsafeMutablePointer<Double>

        /// Cell `k`'s primitive state with the velocity rotated so that `axis` comes first.
        @inline(__always)
        func state(_ k: Int, axis: Int) -> State {
            switch axis {
            case 0: State(rho: rho[k], u: (u.0[k], u.1[k], u.2[k]), p: p[k])
            case 1: State(rho: rho[k], u: (u.1[k], u.0[k], u.2[k]), p: p[k])
            default: State(rho: rho[k], u: (u.2[k], u.0[k], u.1[k]), p: p[k])
            }
        }
    }

    func update(from state: [Field], into next: [Field], box: Box, dt: Double, spacing: [Double], scratch: Primitives) {
        let layout = state[0].layout
        let strides = layout.strides
        let d = strides.count
        let out = next.map(\.base)
        let hasGravity = gravity.contains { $0 != 0 }
        // The cells the faces of `box` reconstruct from: two more on each side, within the block.
        scratch.reserve(layout.count)
        let a = scratch.arrays
        let cells = Cells(rho: a[0], u: (a[1], a[2], a[3]), p: a[4])
        var reach = box.grown(by: strides.map { _ in 2 })
        for axis in 0..<d {
            reach.lower[axis] = Swift.max(reach.lower[axis], -layout.ghost[axis])
            reach.upper[axis] = Swift.min(reach.upper[axis], layout.extent[axis] + layout.ghost[axis])
        }
        let rho = UnsafePointer(state[0].base)
        let energy = UnsafePointer(state[1].base)
        let m0 = UnsafePointer(state[2].base)
        let m1 = UnsafePointer(state[d > 1 ? 3 : 2].base)
        let m2 = UnsafePointer(state[d > 2 ? 4 : 2].base)
        layout.forEachRun(in: reach) { offset, length in
            for k in offset..<(offset &+ length) {
                let r = rho[k]
                let u0 = m0[k] / r
                let u1 = d > 1 ? m1[k] / r : 0
                let u2 = d > 2 ? m2[k] / r : 0
                cells.rho[k] = r
                cells.u.0[k] = u0
                cells.u.1[k] = u1
                cells.u.2[k] = u2
                cells.p[k] = (gamma - 1) * (energy[k] - 0.5 * r * (u0 * u0 + u1 * u1 + u2 * u2))
            }
        }
        let factors = spacing.map { dt / $0 }
        let last = d - 1
        layout.forEachRun(in: box) { offset, length in
            // Along a run (the last axis) each face is shared with the next cell: carry it.
            var carried = flux(cells, axis: last, left: offset &- strides[last], s: strides[last])
            for k in offset..<(offset &+ length) {
                var change = (rho: 0.0, energy: 0.0, m: (0.0, 0.0, 0.0))
                for axis in 0..<d {
                    let s = strides[axis]
                    let high = flux(cells, axis: axis, left: k, s: s)
                    let low = axis == last ? carried : flux(cells, axis: axis, left: k &- s, s: s)
                    if axis == last { carried = high }
                    let factor = factors[axis]
                    change.rho -= factor * (high.rho - low.rho)
                    change.energy -= factor * (high.energy - low.energy)
                    change.m.0 -= factor * (high.m.0 - low.m.0)
                    change.m.1 -= factor * (high.m.1 - low.m.1)
                    change.m.2 -= factor * (high.m.2 - low.m.2)
                }
                if hasGravity {
                    let r = rho[k]
                    for axis in 0..<d {
                        let source = dt * r * gravity[axis]
                        switch axis {
                        case 0: change.m.0 += source
                        case 1: change.m.1 += source
                        default: change.m.2 += source
                        }
                        change.energy += dt * state[2 + axis].base[k] * gravity[axis]
                    }
                }
                out[0][k] = rho[k] + change.rho
                out[1][k] = energy[k] + change.energy
                out[2][k] = m0[k] + change.m.0
                if d > 1 { out[3][k] = m1[k] + change.m.1 }
                if d > 2 { out[4][k] = m2[k] + change.m.2 }
            }
        }
    }

    /// The HLLC flux through the face between cells `left` and `left + s` along `axis`, in
    /// the unrotated components (density, energy, momentum x, y, z).
    @inline(__always)
    func flux(_ cells: Cells, axis: Int, left i: Int, s: Int)
        -> (rho: Double, energy: Double, m: (Double, Double, Double))
    {
        let a = cells.state(i &- s, axis: axis)
        let b = cells.state(i, axis: axis)
        let c = cells.state(i &+ s, axis: axis)
        let e = cells.state(i &+ 2 &* s, axis: axis)
        var l = reconstruct(a, b, c, towards: 0.5)
        var r = reconstruct(b, c, e, towards: -0.5)
        // Positivity: a face state with no density or pressure falls back to its cell.
        if !(l.rho > 0 && l.p > 0) { l = b }
        if !(r.rho > 0 && r.p > 0) { r = c }
        let f = hllc(l, r)
        let m: (Double, Double, Double) =
            switch axis {
            case 0: (f.m.0, f.m.1, f.m.2)
            case 1: (f.m.1, f.m.0, f.m.2)
            default: (f.m.1, f.m.2, f.m.0)
            }
        return (f.rho, f.energy, m)
    }

    /// Cell `centre`'s primitive state moved half a cell `towards` ±0.5 with limited slopes.
    @inline(__always)
    func reconstruct(_ low: State, _ centre: State, _ high: State, towards: Double) -> State {
        func limited(_ l: Double, _ c: Double, _ h: Double) -> Double {
            c + towards * limiter.slope(c - l, h - c)
        }
        return State(
            rho: limited(low.rho, centre.rho, high.rho),
            u: (
                limited(low.u.0, centre.u.0, high.u.0), limited(low.u.1, centre.u.1, high.u.1),
                limited(low.u.2, centre.u.2, high.u.2)
            ),
            p: limited(low.p, centre.p, high.p))
    }

    /// Toro's HLLC flux between face states `l` and `r` (normal velocity first), with
    /// Davis's wave-speed estimates.
    @inline(__always)
    func hllc(_ l: State, _ r: State) -> (rho: Double, energy: Double, m: (Double, Double, Double)) {
        let cl = sqrt(gamma * l.p / l.rho)
        let cr = sqrt(gamma * r.p / r.rho)
        let sl = Swift.min(l.u.0 - cl, r.u.0 - cr)
        let sr = Swift.max(l.u.0 + cl, r.u.0 + cr)
        let el = l.p / (gamma - 1) + 0.5 * l.rho * (l.u.0 * l.u.0 + l.u.1 * l.u.1 + l.u.2 * l.u.2)
        let er = r.p / (gamma - 1) + 0.5 * r.rho * (r.u.0 * r.u.0 + r.u.1 * r.u.1 + r.u.2 * r.u.2)
        func physical(_ w: State, _ energy: Double) -> (rho: Double, energy: Double, m: (Double, Double, Double)) {
            let mass = w.rho * w.u.0
            return (mass, (energy + w.p) * w.u.0, (mass * w.u.0 + w.p, mass * w.u.1, mass * w.u.2))
        }
        if sl >= 0 { return physical(l, el) }
        if sr <= 0 { return physical(r, er) }
        let ml = l.rho * (sl - l.u.0)
        let mr = r.rho * (sr - r.u.0)
        let star = (r.p - l.p + l.u.0 * ml - r.u.0 * mr) / (ml - mr)
        func starFlux(_ w: State, _ energy: Double, _ speed: Double, _ mass: Double)
            -> (rho: Double, energy: Double, m: (Double, Double, Double))
        {
            // F* = F + S (U* − U), U* = ρ (S − u)/(S − S*) · (1, S*, v, w, E/ρ + (S* − u)(S* + p/(ρ(S − u)))).
            let f = physical(w, energy)
            let factor = mass / (speed - star)
            let starEnergy = factor * (energy / w.rho + (star - w.u.0) * (star + w.p / mass))
            return (
                f.rho + speed * (factor - w.rho), f.energy + speed * (starEnergy - energy),
                (
                    f.m.0 + speed * (factor * star - w.rho * w.u.0), f.m.1 + speed * (factor * w.u.1 - w.rho * w.u.1),
                    f.m.2 + speed * (factor * w.u.2 - w.rho * w.u.2)
                )
            )
        }
        return star >= 0 ? starFlux(l, el, sl, ml) : starFlux(r, er, sr, mr)
    }
}
