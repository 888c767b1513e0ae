import Engine
import Grid
import Numerics
import Settings

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
/// limiter and the HLLC approximate Riemann solver (Toro) at every face. In time, by default
/// (`integrator = "split"`), dimensionally split MUSCL-Hancock: one sweep per axis, each a
/// predictor-corrector step of the whole dt along that axis (``EulerHancockSweep``), stable to
/// a Courant number of 1 per axis; or unsplit with SSP-RK2 or SSP-RK3 (`"ssprk2"`, `"ssprk3"`),
/// stable to a Courant number of ½ summed over the axes. Where a face state would have a
/// non-positive density or pressure, that face falls back to the cell values (first order),
/// which keeps both positive. Or, with `integrator = "wave_propagation"`, dimensionally split
/// wave propagation as PyClaw's classic solver does it (``EulerWaveSweep``): Roe's waves with
/// an entropy fix, each limited against its upwind neighbour, also stable to a Courant number
/// of 1 per axis; Roe's solver has no positivity fallback. Every face's flux is computed once
/// and used by the two cells beside it, so mass, momentum and energy are conserved to
/// round-off in periodic domains without gravity.
public struct Euler: Model {
    public static let description = ModelDescription(
        name: "euler",
        summary:
            "compressible Euler, ideal gas; MUSCL on primitives, HLLC flux, split MUSCL-Hancock or SSP Runge-Kutta; "
            + "or split wave propagation with Roe's waves; gravity",
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
                "integrator", .choice(["split", "wave_propagation", "ssprk2", "ssprk3"]), default: .string("split"),
                help:
                    "split: one MUSCL-Hancock sweep per axis (Godunov splitting, Courant number up to 1 per axis); "
                    + "wave_propagation: one sweep per axis of LeVeque's scheme, PyClaw's classic one (Roe's waves with "
                    + "an entropy fix, each limited against its upwind neighbour; Courant number up to 1 per axis); "
                    + "ssprk2, ssprk3: unsplit MUSCL with SSP Runge-Kutta (Courant number up to 1/2 summed over the axes)"
            ),
            ParameterSpec(
                "perturbation", .number(0...1e300), default: .double(0.01),
                help: "kelvin_helmholtz, rayleigh_taylor: the amplitude of the seed velocity"),
            ParameterSpec(
                "speedup", .number(1...1e300), default: .double(2),
                help: "fixed steps only: how much faster than at the start waves may become"),
        ],
        boundaries: BoundaryRules(
            accepted: ["reflecting", "neumann"], defaultCondition: "reflecting",
            refusal:
                "one Dirichlet value would fix density, momentum and energy alike on the walls (zero density by "
                + "default), which no gas can hold; \"reflecting\" makes walls, \"neumann\" outflow",
            open: ["neumann"]),
        instabilities: [
            "zero or negative density or pressure: an initial state or a gravity (model.gravity) the gas cannot hold",
            "with fixed steps, waves faster than the step allows as shocks strengthen: use adaptive steps "
                + "(output.every_time), raise model.speedup or lower [time] cfl",
            "an outflow (neumann) boundary that a strong wave reflects from at an angle: try reflecting walls",
            "with integrator = \"wave_propagation\", a rarefaction towards vacuum: Roe's solver has no positivity "
                + "fallback; integrator = \"split\" has one",
        ], recordedAs: ModelDescription.axisEntries("gravity"), adaptive: true)

    public let gamma: Double
    public let gravity: [Double]
    let limiter: Limiter
    public let integrator: TimeIntegrator
    /// Dimensionally split: one stage per axis, of MUSCL-Hancock (``EulerHancockSweep``) or of
    /// wave propagation (``EulerWaveSweep``).
    public let split: Bool
    /// The split sweeps are wave propagation's (``EulerWaveSweep``).
    public let waves: Bool
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
        waves = parameters.string("integrator") == "wave_propagation"
        split = waves || parameters.string("integrator") == "split"
        // Each sweep of a split step is one update of the whole dt: the engine's stages do the rest.
        integrator = split ? .euler : TimeIntegrator(rawValue: parameters.string("integrator"))!
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
    /// One sweep per axis when split, in axis order.
    public var stages: [(old: Double, euler: Double)] {
        split ? Array(repeating: (0, 1), count: extent.count) : integrator.stages
    }
    /// Counted in ``EulerKernel/work(dimensions:limiter:gravity:)``, or for one sweep of a split
    /// step in ``EulerHancockSweep/work(dimensions:limiter:gravity:)``.
    public var floatingPointWork: FloatingPointWork {
        let gravity = gravity.contains { $0 != 0 }
        if waves { return EulerWaveSweep.work(dimensions: extent.count, limiter: limiter, gravity: gravity) }
        return split
            ? EulerHancockSweep.work(dimensions: extent.count, limiter: limiter, gravity: gravity)
            : EulerKernel.work(dimensions: extent.count, limiter: limiter, gravity: gravity)
    }
    public var constants: [(name: String, value: Double)] {
        [("gamma", gamma)] + gravity.enumerated().map { ("gravity_\(["x", "y", "z"][$0.offset])", $0.element) }
    }
    /// Without gravity the scheme conserves every component.
    public var fixedStepMargin: Double { speedup }
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
            // Liska & Wendroff (2003), case 3, split at 0.8 of the first two axes. The paper
            // prints the states to four digits; these are the values those digits round (as
            // PyClaw's quadrants example has them), for which each interface is one shock.
            let right = x[0] >= 0.8 * extent[0]
            let top = x[1] >= 0.8 * extent[1]
            let (side, speed) = (0.532258064516129, 1.206045378311055)
            switch (right, top) {
            case (true, true): return (1.5, u, 1.5)
            case (false, true):
                u[0] = speed
                return (side, u, 0.3)
            case (false, false):
                u[0] = speed
                u[1] = speed
                return (0.137992831541219, u, 0.029032258064516)
            case (true, false):
                u[1] = speed
                return (side, u, 0.3)
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

    public func initialize(_ state: [Field], work: [Field], geometry: Geometry) {
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
        // An Euler stage of unsplit MUSCL is stable to a Courant number of 1/2 summed over the
        // axes; a split sweep to 1 along its axis, the fastest of the axes.
        let d = geometry.dimensions
        let layout = state[0].layout
        let u = state.map(\.cells)
        let (spacing, split, gamma) = (geometry.spacing, split, gamma)
        // Four cells at a time, each with the operations of one alone: the same bits. A NaN
        // cell is passed over, as `Swift.max` passes it over.
        @inline(__always)
        func cellRate<L: Lanes>(_: L.Type, _ k: Int) -> L {
            let rho = L.load(u[0], k)
            var kinetic = L(0)
            for a in 0..<d {
                let m = L.load(u[2 + a], k)
                kinetic = kinetic + 0.5 * m * m / rho
            }
            let thermal = L.maximum(L.load(u[1], k) - kinetic, L(0))
            let c = (L(gamma * (gamma - 1)) * thermal / rho).root()
            var cell = L(0)
            for a in 0..<d {
                let v = L.load(u[2 + a], k) / rho
                let axis = (L.select(v.less(L(0)), L(0) - v, v) + c) / L(spacing[a])
                cell = split ? L.maximum(cell, axis) : cell + axis
            }
            return cell
        }
        var wide = SIMD4<Double>(repeating: 0)
        var rate = 0.0
        layout.forEachRun(in: layout.interior) { offset, length in
            forEachLanes(
                count: length, wide: { wide = SIMD4.maximum(wide, cellRate(SIMD4<Double>.self, offset &+ $0)) },
                narrow: { rate = Swift.max(rate, cellRate(Double.self, offset &+ $0)) })
        }
        for lane in 0..<4 { rate = Swift.max(rate, wide[lane]) }
        return (split ? 1 : 0.5) / Swift.max(rate, .leastNormalMagnitude)
    }

    /// Density, velocity and pressure per cell (ghosts included): the update converts each
    /// cell once, then reconstructs faces from these. The velocity has three components
    /// whatever the axes; those beyond them hold zeros.
    public var workArrays: [String] {
        [
            "primitive_density", "primitive_velocity_x", "primitive_velocity_y", "primitive_velocity_z",
            "primitive_pressure",
        ]
    }
    /// Scratch: every update converts the cells it reads.
    public var sharedWorkArrays: [Int] { [] }

    /// The first stage: for a split model, the sweep along the first axis.
    public func update(from state: [Field], into next: [Field], box: Box, dt: Double, work: [Field], geometry: Geometry)
    {
        update(stage: 0, from: state, into: next, box: box, dt: dt, work: work, geometry: geometry)
    }

    /// Split: stage k sweeps along axis k (``EulerHancockSweep``); unsplit, every stage is the
    /// same Euler update.
    public func update(
        stage: Int, from state: [Field], into next: [Field], box: Box, dt: Double, work: [Field], geometry: Geometry
    ) {
        let kernel = EulerKernel(gamma: gamma, limiter: limiter, gravity: gravity, waves: waves)
        if split {
            kernel.sweep(
                axis: stage, from: state, into: next, box: box, dt: dt, spacing: geometry.spacing, primitives: work)
        } else {
            kernel.update(from: state, into: next, box: box, dt: dt, spacing: geometry.spacing, primitives: work)
        }
    }
}

/// The Euler update on raw memory.
///
/// Each cell is converted to primitives once; then the box is swept row by row (see
/// ``FaceSweep``) and the HLLC flux of each face is computed once, for a whole row of faces
/// at a time, in loops with no branches: every choice (the positivity fallback, the HLLC
/// region) is a select, so the loops vectorise.
struct EulerKernel {
    let gamma: Double
    let limiter: Limiter
    let gravity: [Double]
    /// Split sweeps of wave propagation (``EulerWaveSweep``) instead of MUSCL-Hancock's.
    var waves = false

    /// The operations of one cell update in `d` dimensions: the cell's primitives (a division
    /// per velocity component, the kinetic energy and the pressure); per axis, its five
    /// primitives reconstructed on both its faces, the HLLC flux of its face above
    /// (``EulerSweep/faceWork``) and the flux differences summed per component; gravity's
    /// sources; the sum into the new state.
    static func work(dimensions d: Int, limiter: Limiter, gravity: Bool) -> FloatingPointWork {
        let components = Double(2 + d)
        let primitives = FloatingPointWork(additions: 3, multiplications: 6, divisions: Double(d))
        let perAxis =
            5 * limiter.bothFacesWork + EulerSweep.faceWork
            + components * FloatingPointWork(additions: 2, multiplications: 1)
        let sources = gravity ? Double(d) * FloatingPointWork(additions: 2, multiplications: 4) : .none
        return primitives + Double(d) * perAxis + sources + FloatingPointWork(additions: components)
    }

    func update(from state: [Field], into next: [Field], box: Box, dt: Double, spacing: [Double], primitives: [Field]) {
        let a = convert(state, into: primitives, reaching: box, along: Array(0..<box.lower.count))
        // Rows of at most ``EulerSweep/rowCells`` cells, whose buffers stay in cache.
        for piece in FaceSweep.pieces(of: box, axis: box.dimensions - 1, cells: EulerSweep.rowCells) {
            limiter.run(
                EulerSweep(
                    gamma: gamma, gravity: gravity, state: state, next: next, box: piece, dt: dt, spacing: spacing,
                    primitives: a))
        }
    }

    /// One sweep of a split step along `axis` (``EulerHancockSweep``, or ``EulerWaveSweep``).
    func sweep(
        axis: Int, from state: [Field], into next: [Field], box: Box, dt: Double, spacing: [Double],
        primitives: [Field]
    ) {
        let a = convert(state, into: primitives, reaching: box, along: [axis])
        if waves {
            limiter.run(
                EulerWaveSweep(
                    gamma: gamma, gravity: gravity, state: state, next: next, box: box, dt: dt, spacing: spacing,
                    primitives: a, axis: axis))
            return
        }
        limiter.run(
            EulerHancockSweep(
                gamma: gamma, gravity: gravity, state: state, next: next, box: box, dt: dt, spacing: spacing,
                primitives: a, axis: axis))
    }

    /// Converts the cells of `box`, grown by two along `axes` (within the block's ghosts), to
    /// primitives: the cells its faces along those axes reconstruct from.
    private func convert(_ state: [Field], into primitives: [Field], reaching box: Box, along axes: [Int]) -> [Cells] {
        let layout = state[0].layout
        let strides = layout.strides
        let d = strides.count
        let a = primitives.map(\.cells)
        var reach = box
        for axis in axes {
            reach.lower[axis] -= 2
            reach.upper[axis] += 2
        }
        for axis in 0..<d {
            reach.lower[axis] = Swift.max(reach.lower[axis], -layout.ghost[axis])
            reach.upper[axis] = Swift.min(reach.upper[axis], layout.extent[axis] + layout.ghost[axis])
        }
        let (rho, energy) = (state[0].cells, state[1].cells)
        let (m0, m1, m2) = (state[2].cells, state[d > 1 ? 3 : 2].cells, state[d > 2 ? 4 : 2].cells)
        let (cr, c0, c1, c2, cp) = (a[0], a[1], a[2], a[3], a[4])
        let gamma = gamma
        layout.forEachRun(in: reach) { offset, length in
            for k in offset..<(offset &+ length) {
                let r = rho[k]
                let u0 = m0[k] / r
                let u1 = d > 1 ? m1[k] / r : 0
                let u2 = d > 2 ? m2[k] / r : 0
                cr[k] = r
                c0[k] = u0
                c1[k] = u1
                c2[k] = u2
                cp[k] = (gamma - 1) * (energy[k] - 0.5 * r * (u0 * u0 + u1 * u1 + u2 * u2))
            }
        }
        return a
    }
}

/// The flux sweep of ``EulerKernel``, compiled for one limiter.
struct EulerSweep: LimitedKernel {
    /// The longest row a sweep takes at once: ``EulerKernel`` cuts a box along its last axis
    /// alone (``FaceSweep/pieces(of:axis:cells:)``), so that a row's buffers (about 20 values a
    /// cell) stay in cache; across the other axes the faces are carried as before. A 1-D row of
    /// 10⁶ cells went from 3.4e6–4.3e6 cell updates per second to 1.8e7–1.9e7 (ssprk2); 4096
    /// gave the same within the noise.
    static let rowCells = 1024
    let gamma: Double
    let gravity: [Double]
    let state: [Field]
    let next: [Field]
    let box: Box
    let dt: Double
    let spacing: [Double]
    /// Density, velocity x, y, z and pressure of every cell the faces reach.
    let primitives: [Cells]

    func run<Slope: SlopeLimiter>(_: Slope.Type) {
        let layout = state[0].layout
        let strides = layout.strides
        let d = strides.count
        let sweep = FaceSweep(layout: layout, box: box)
        let n = sweep.rowLength
        let buffers = RowBuffers()
        // Fluxes in the unrotated components: density, energy, momentum x, y, z; the five
        // primitives reconstructed on a row of faces from below and from above: density,
        // normal velocity, the two tangential velocities, pressure.
        let faceRows = FaceRows(sweep: sweep, components: 5, buffers: buffers, reconstructing: true)
        let change = buffers.make(5 * n)
        // Velocity components beyond the block's axes hold zeros (see EulerKernel.update).
        let velocity = (0..<3).map { primitives[1 + $0] }
        let factors = spacing.map { dt / $0 }
        let hasGravity = gravity.contains { $0 != 0 }
        let out = next.map(\.cells)
        let conserved = state.map(\.cells)

        // Per axis, the primitives with the velocity rotated so that the normal component
        // comes first, and where each flux component goes (unrotated).
        let rotated = (0..<d).map { axis in
            let tangential = (0..<3).filter { $0 != axis }
            return (
                cells: [
                    primitives[0], velocity[axis], velocity[tangential[0]], velocity[tangential[1]], primitives[4],
                ],
                order: [0, 1, 2 + axis, 2 + tangential[0], 2 + tangential[1]]
            )
        }

        sweep.forEachRow { row in
            let first = row.offset
            change.update(repeating: 0, count: 5 * n)
            for axis in 0..<d {
                let (cells, order) = rotated[axis]
                let s = strides[axis]
                let (low, high, pitch) = faceRows.reconstructedFaces(
                    Slope.self, of: row, axis: axis, stride: s, cells: cells
                ) { first, count, left, right, statePitch, flux, pitch in
                    Self.hllc(
                        gamma: gamma, count: count, first: first, stride: s, cells: cells, left: left, right: right,
                        pitch: statePitch,
                        flux: (
                            flux + order[0] * pitch, flux + order[1] * pitch, flux + order[2] * pitch,
                            flux + order[3] * pitch, flux + order[4] * pitch
                        ))
                }
                let factor = factors[axis]
                for q in 0..<(2 + d) {
                    let (c, l, h) = (change + q * n, low + q * pitch, high + q * pitch)
                    for m in 0..<n { c[m] -= factor * (h[m] - l[m]) }
                }
                faceRows.carry(row, axis: axis)
            }
            if hasGravity {
                let rho = conserved[0]
                for axis in 0..<d {
                    let (g, momentum) = (gravity[axis], conserved[2 + axis])
                    let (cm, ce) = (change + (2 + axis) * n, change + n)
                    for m in 0..<n {
                        let k = first &+ m
                        cm[m] += dt * rho[k] * g
                        ce[m] += dt * momentum[k] * g
                    }
                }
            }
            for q in 0..<(2 + d) {
                let (target, source, c) = (out[q], conserved[q], change + q * n)
                for m in 0..<n {
                    let k = first &+ m
                    target[k] = source[k] + c[m]
                }
            }
        }
    }

    /// The operations of one face: both face states checked (``valid(_:or:)``) and the HLLC
    /// flux (``hllc(_:_:einfeldt:_:_:)``), counted by the unit tests through a type that counts
    /// them.
    static let faceWork = FloatingPointWork(
        additions: 34, multiplications: 39, selects: 46, divisions: 8, squareRoots: 2)

    /// ``faceWork`` with Einfeldt's wave speeds: Roe's average state besides.
    static let einfeldtFaceWork =
        faceWork + FloatingPointWork(additions: 10, multiplications: 15, divisions: 3, squareRoots: 3)

    /// Toro's HLLC flux for `count` faces, the first between
    /// cells `first` and `first + stride`: the face states are rows of `left` and `right`
    /// (q at `q * pitch`, as `cells`: density, normal velocity, tangential velocities,
    /// pressure). A face state with no density or pressure falls back to its cell
    /// (positivity). Four faces at a time, every branch a select. The wave speeds are Davis's
    /// estimates, or Einfeldt's (see ``hllc(_:_:einfeldt:_:_:)``).
    @inline(__always)
    static func hllc(
        gamma: Double, einfeldt: Bool = false, count: Int, first: Int, stride s: Int, cells: [Cells],
        left: UnsafeMutablePointer<Double>, right: UnsafeMutablePointer<Double>, pitch: Int,
        flux: (
            UnsafeMutablePointer<Double>, UnsafeMutablePointer<Double>, UnsafeMutablePointer<Double>,
            UnsafeMutablePointer<Double>, UnsafeMutablePointer<Double>
        )
    ) {
        let q = (cells[0], cells[1], cells[2], cells[3], cells[4])
        let l = (left, left + pitch, left + 2 * pitch, left + 3 * pitch, left + 4 * pitch)
        let r = (right, right + pitch, right + 2 * pitch, right + 3 * pitch, right + 4 * pitch)
        @inline(__always)
        func face<L: Lanes>(_: L.Type, _ m: Int) {
            let i = first &+ m
            let j = i &+ s
            let lState = (
                L.load(l.0, m), L.load(l.1, m), L.load(l.2, m), L.load(l.3, m), L.load(l.4, m)
            )
            let rState = (
                L.load(r.0, m), L.load(r.1, m), L.load(r.2, m), L.load(r.3, m), L.load(r.4, m)
            )
            let f = hllc(
                L(gamma), L(gamma - 1), einfeldt: einfeldt,
                valid(lState, or: (L.load(q.0, i), L.load(q.1, i), L.load(q.2, i), L.load(q.3, i), L.load(q.4, i))),
                valid(rState, or: (L.load(q.0, j), L.load(q.1, j), L.load(q.2, j), L.load(q.3, j), L.load(q.4, j))))
            f.0.store(flux.0, m)
            f.1.store(flux.1, m)
            f.2.store(flux.2, m)
            f.3.store(flux.3, m)
            f.4.store(flux.4, m)
        }
        forEachLanes(count: count, wide: { face(SIMD4<Double>.self, $0) }, narrow: { face(Double.self, $0) })
    }

    /// `state`, or `cell` where the state has no density or pressure (positivity).
    @inline(__always)
    static func valid<L: Lanes>(_ state: (L, L, L, L, L), or cell: (L, L, L, L, L)) -> (L, L, L, L, L) {
        let zero = L(0)
        let ok = state.0.greater(zero).and(state.4.greater(zero))
        return (
            L.select(ok, state.0, cell.0), L.select(ok, state.1, cell.1), L.select(ok, state.2, cell.2),
            L.select(ok, state.3, cell.3), L.select(ok, state.4, cell.4)
        )
    }

    /// The HLLC flux between face states `l` and `r` (density, normal velocity, tangential
    /// velocities, pressure), as (density, energy, normal momentum, tangential momenta).
    ///
    /// The outer wave speeds are Davis's estimates, the fastest signals of either state, or
    /// with `einfeldt` Einfeldt's, as Batten et al. (1997) recommend for HLLC: the slower
    /// leftwards of the left state's and Roe's average state's, and the faster rightwards of
    /// the right state's and the average's. Against PyClaw on the 2-D Riemann problem they
    /// sharpened the split scheme's shocks (docs/benchmarks.md).
    ///
    /// Transparent, not `@inline(__always)`: with the latter the compiler kept the flux as a
    /// function of its own, and every call for four faces passed its ten states and five
    /// fluxes through the stack and ended the chain of divisions and square roots that the
    /// next four faces could have overlapped with. Inlined, the kernel is 1.4 times faster
    /// (docs/benchmarks.md), with the same bits.
    @_transparent
    static func hllc<L: Lanes>(
        _ gamma: L, _ gammaMinusOne: L, einfeldt: Bool = false, _ l: (L, L, L, L, L), _ r: (L, L, L, L, L)
    ) -> (L, L, L, L, L) {
        let cl = (gamma * l.4 / l.0).root()
        let cr = (gamma * r.4 / r.0).root()
        let el = l.4 / gammaMinusOne + 0.5 * l.0 * (l.1 * l.1 + l.2 * l.2 + l.3 * l.3)
        let er = r.4 / gammaMinusOne + 0.5 * r.0 * (r.1 * r.1 + r.2 * r.2 + r.3 * r.3)
        let sl: L
        let sr: L
        if !einfeldt {
            sl = L.minimum(l.1 - cl, r.1 - cr)
            sr = L.maximum(l.1 + cl, r.1 + cr)
        } else {
            // Einfeldt's estimates: the outer face speeds and those of Roe's average state.
            let (rootL, rootR) = (l.0.root(), r.0.root())
            let weight = L(1) / (rootL + rootR)
            let u = (rootL * l.1 + rootR * r.1) * weight
            let v = (rootL * l.2 + rootR * r.2) * weight
            let w = (rootL * l.3 + rootR * r.3) * weight
            let enthalpy = ((el + l.4) / rootL + (er + r.4) / rootR) * weight
            let c = (gammaMinusOne * (enthalpy - 0.5 * (u * u + v * v + w * w))).root()
            sl = L.minimum(l.1 - cl, u - c)
            sr = L.maximum(r.1 + cr, u + c)
        }
        let physicalLeft = physical(l, el)
        let physicalRight = physical(r, er)
        let ml = l.0 * (sl - l.1)
        let mr = r.0 * (sr - r.1)
        let star = (r.4 - l.4 + l.1 * ml - r.1 * mr) / (ml - mr)
        // F* = F + S (U* − U), U* = ρ (S − u)/(S − S*) · (1, S*, v, w, E/ρ + (S* − u)(S* + p/(ρ(S − u)))),
        // on the side of the contact the face is on.
        let onLeft = star.greaterOrEqual(L(0))
        let w = (
            L.select(onLeft, l.0, r.0), L.select(onLeft, l.1, r.1), L.select(onLeft, l.2, r.2),
            L.select(onLeft, l.3, r.3), L.select(onLeft, l.4, r.4)
        )
        let energy = L.select(onLeft, el, er)
        let speed = L.select(onLeft, sl, sr)
        let mass = L.select(onLeft, ml, mr)
        let f = (
            L.select(onLeft, physicalLeft.0, physicalRight.0), L.select(onLeft, physicalLeft.1, physicalRight.1),
            L.select(onLeft, physicalLeft.2, physicalRight.2), L.select(onLeft, physicalLeft.3, physicalRight.3),
            L.select(onLeft, physicalLeft.4, physicalRight.4)
        )
        let factor = mass / (speed - star)
        let starEnergy = factor * (energy / w.0 + (star - w.1) * (star + w.4 / mass))
        let starFlux = (
            f.0 + speed * (factor - w.0), f.1 + speed * (starEnergy - energy),
            f.2 + speed * (factor * star - w.0 * w.1), f.3 + speed * (factor * w.2 - w.0 * w.2),
            f.4 + speed * (factor * w.3 - w.0 * w.3)
        )
        // sl >= 0: the left state's flux; sr <= 0: the right's; otherwise the star flux.
        let leftward = sl.greaterOrEqual(L(0))
        let rightward = sr.lessOrEqual(L(0))
        func pick(_ a: L, _ b: L, _ c: L) -> L { L.select(leftward, a, L.select(rightward, b, c)) }
        return (
            pick(physicalLeft.0, physicalRight.0, starFlux.0), pick(physicalLeft.1, physicalRight.1, starFlux.1),
            pick(physicalLeft.2, physicalRight.2, starFlux.2), pick(physicalLeft.3, physicalRight.3, starFlux.3),
            pick(physicalLeft.4, physicalRight.4, starFlux.4)
        )
    }

    /// The flux of face state `w` with total energy `energy`: (density, energy, normal
    /// momentum, tangential momenta).
    @inline(__always)
    static func physical<L: Lanes>(_ w: (L, L, L, L, L), _ energy: L) -> (L, L, L, L, L) {
        let mass = w.0 * w.1
        return (mass, (energy + w.4) * w.1, mass * w.1 + w.4, mass * w.2, mass * w.3)
    }
}
