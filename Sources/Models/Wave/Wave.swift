import Engine
import Grid
import Numerics
import Settings

#if canImport(Glibc)
    import Glibc
#endif

/// The acoustic wave equation in the form seismic imaging uses (and Devito writes):
///
///     m ∂²p/∂t² + η ∂p/∂t − ∇²p = q δ(x − x_s)
///
/// with `m = 1/c²` the squared slowness of a spatially varying velocity `c`, `η` the damping
/// of an absorbing sponge layer (zero inside the domain), and `q` a Ricker wavelet at a point
/// source. Second-order central differences in space and time (leapfrog): the state holds
/// `p` at the current and the previous time level.
///
/// The velocity is a background `c₀` plus a gaussian anomaly. Boundaries reflect (the
/// `[boundary]` conditions apply to `p`), wrap (periodic), or absorb when `sponge` cells of
/// damping line every non-periodic face.
public struct Wave: Model {
    public static let description = ModelDescription(
        name: "wave",
        summary: "acoustic wave m ∂²p/∂t² + η ∂p/∂t = ∇²p + q; leapfrog, Ricker source, receivers, sponge",
        parameters: [
            ParameterSpec(
                "velocity", .number(1e-300...1e300), default: .double(1), help: "c₀, the background velocity"),
            ParameterSpec(
                "anomaly", .number(-1e300...1e300), default: .double(0),
                help: "the velocity change at the centre of a gaussian anomaly"),
            ParameterSpec(
                "velocity_max", .number(1e-300...1e300), default: nil, optional: true,
                help:
                    "the fastest velocity the time step is chosen for (default: the model's fastest); an inversion keeps below it"
            ),
            ParameterSpec(
                "anomaly_centre", .numbers, default: nil, optional: true, help: "where (default: the domain's centre)"),
            ParameterSpec(
                "anomaly_width", .number(1e-300...1e300), default: .double(0.1), help: "its standard deviation"),
            ParameterSpec("source", .numbers, default: nil, optional: true, help: "the point source's position"),
            ParameterSpec(
                "frequency", .number(1e-300...1e300), default: .double(10), help: "the Ricker wavelet's peak frequency"),
            ParameterSpec(
                "delay", .number(0...1e300), default: nil, optional: true,
                help: "when the wavelet peaks (default: 1/frequency)"),
            ParameterSpec(
                "source_amplitude", .number(-1e300...1e300), default: .double(1), help: "the wavelet's peak"),
            ParameterSpec(
                "sponge", .integer(0...100_000), default: .int(0),
                help: "cells of absorbing layer inside each non-periodic face (0: the boundary reflects)"),
            ParameterSpec(
                "sponge_strength", .number(0...1e300), default: nil, optional: true,
                help: "the damping η at the outer face (default: absorbs to about 10⁻³)"),
        ] + Receiver.lineParameters + [
            ParameterSpec(
                "initial", .choice(["quiet", "gaussian", "standing"]), default: .string("quiet"),
                help: "quiet: p = 0; gaussian: a pressure bump at rest; standing: Π sin(k x), a standing wave"),
            ParameterSpec("amplitude", .number(-1e300...1e300), default: .double(1), help: "the initial peak"),
            ParameterSpec(
                "modes", .integers, default: .array([.int(1), .int(1), .int(1)]),
                help: "standing: mode number per axis (wave number 2πm/L)"),
            ParameterSpec(
                "width", .number(1e-300...1e300), default: .double(0.05), help: "gaussian: standard deviation"),
        ],
        instabilities: [
            "a velocity above the one the time step is chosen for: raise model.velocity_max, or lower an anomaly that "
                + "exceeds it",
            "the time step: lower [time] cfl",
            "a source amplitude so large that values overflow",
        ])

    public let background: Double
    public let anomaly: (change: Double, centre: [Double], width: Double)
    public let source: (position: [Double], frequency: Double, delay: Double, amplitude: Double)?
    public let receivers: [Receiver]
    public let sponge: (cells: Int, strength: Double)
    /// The fastest velocity the time step allows for.
    public let fastest: Double
    let initial: String
    let amplitude: Double
    let waveNumbers: [Double]
    let width: Double
    let shape: [Int]
    let extent: [Double]
    let periodic: [Bool]

    public init(parameters: Parameters, geometry: Geometry) throws(ConfigError) {
        let d = geometry.dimensions
        func point(_ name: String) throws(ConfigError) -> [Double]? { try parameters.point(name, geometry: geometry) }
        background = parameters.number("velocity")
        let change = parameters.number("anomaly")
        guard background + Swift.min(change, 0) > 0 else {
            throw ConfigError("model.anomaly", "makes the velocity negative: velocity + anomaly must stay above 0")
        }
        let fastestInModel = background + Swift.max(change, 0)
        fastest = parameters.values["velocity_max"] == nil ? fastestInModel : parameters.number("velocity_max")
        guard fastest >= fastestInModel else {
            throw ConfigError(
                "model.velocity_max", "is \(fastest), below the model's fastest velocity \(fastestInModel)")
        }
        anomaly = (
            change, try point("anomaly_centre") ?? geometry.extent.map { $0 / 2 }, parameters.number("anomaly_width")
        )
        let frequency = parameters.number("frequency")
        source = try point("source").map {
            (
                $0, frequency, parameters.values["delay"] == nil ? 1 / frequency : parameters.number("delay"),
                parameters.number("source_amplitude")
            )
        }
        receivers = try Receiver.line(parameters, geometry: geometry, component: "pressure")
        let cells = parameters.integer("sponge")
        let thinnest = (0..<d).filter { !geometry.periodic[$0] }.map { geometry.shape[$0] }.min() ?? Int.max
        guard cells == 0 || 2 * cells < thinnest else {
            throw ConfigError(
                "model.sponge", "\(cells) cells on each side leave no interior on a \(thinnest)-cell axis")
        }
        // Damping η makes amplitudes decay at the rate η c²/2, so η = η₀ (d/W)² over a layer
        // of width W takes a wave that crosses it and back down by exp(−η₀ c W / 3); aim for
        // 10⁻³ at the background velocity. (The layer must also be a wavelength or more
        // thick, or its own gradient reflects.)
        let layer = Double(cells) * (geometry.spacing.min() ?? 1)
        let strength =
            parameters.values["sponge_strength"] == nil
            ? (cells == 0 ? 0 : 3 * log(1000) / (background * layer)) : parameters.number("sponge_strength")
        sponge = (cells, strength)
        initial = parameters.string("initial")
        amplitude = parameters.number("amplitude")
        width = parameters.number("width")
        waveNumbers = try InitialCondition.waveNumbers(parameters, geometry: geometry)
        shape = geometry.shape
        extent = geometry.extent
        periodic = geometry.periodic
    }

    public var fields: [FieldSpec] {
        [FieldSpec(name: "pressure"), FieldSpec(name: "pressure_previous", isOutput: false)]
    }
    public var stencilWidth: Int { 1 }
    /// The medium on the block, and the update's two coefficients per cell for the current
    /// time step: `scale = dt² / (m (1 + σ))`, how much ∇²p moves p, and `carry = (1 − σ) /
    /// (1 + σ)`, how much of the last change carries on, with `σ = η dt / 2m`.
    public var workArrays: [String] { ["squared_slowness", "damping", "update_scale", "update_carry"] }
    /// The update reads `update_scale` and `update_carry`.
    public var auxiliaryArrays: Int { 2 }
    /// p⁺ overwrites p⁻, which the update reads only at the cell it writes.
    public var updatesInPlace: Bool { true }
    /// Only p's neighbours: p⁻'s ghosts need no exchange at depth 1.
    public var stencilComponents: [Int]? { [0] }
    public var absorbsAtBoundaries: Bool { sponge.cells > 0 }
    public var constants: [(name: String, value: Double)] {
        var list = [("velocity", background), ("anomaly", anomaly.change)]
        if let source { list += [("frequency", source.frequency), ("source_amplitude", source.amplitude)] }
        return list
    }

    /// The velocity at `point`.
    public func velocity(at point: [Double]) -> Double {
        guard anomaly.change != 0 else { return background }
        return background
            + anomaly.change
            * InitialCondition.gaussian(
                at: point, centre: anomaly.centre, width: anomaly.width, extent: extent, periodic: periodic)
    }

    /// The damping η of global cell `index`: η₀ (d/W)² with d how deep the cell lies in the
    /// sponge along each non-periodic axis, summed over the axes.
    func damping(at index: [Int]) -> Double {
        guard sponge.cells > 0 else { return 0 }
        var eta = 0.0
        for a in index.indices where !periodic[a] {
            let depth = Swift.max(sponge.cells - index[a], index[a] - (shape[a] - 1 - sponge.cells), 0)
            let fraction = (Double(depth) - 0.5) / Double(sponge.cells)
            if depth > 0 { eta += sponge.strength * fraction * fraction }
        }
        return eta
    }

    /// The Ricker wavelet `(1 − 2π²f²τ²) exp(−π²f²τ²)`, `τ = t − delay`, times the amplitude.
    public func wavelet(at time: Double) -> Double {
        guard let source else { return 0 }
        let a = Double.pi * source.frequency * (time - source.delay)
        let a2 = a * a
        return source.amplitude * (1 - 2 * a2) * exp(-a2)
    }

    /// The exact standing wave `A cos(c|k|t) Π sin(kₐ xₐ)` (constant velocity, periodic axes).
    public func exact(at point: [Double], time: Double) -> Double {
        let omega = background * sqrt(waveNumbers.reduce(0) { $0 + $1 * $1 })
        return amplitude * cos(omega * time) * InitialCondition.sines(at: point, waveNumbers: waveNumbers)
    }

    public func initialize(_ state: [Field], work: [Field], geometry: Geometry) {
        let layout = geometry.layout
        let owned = layout.owned
        let (slowness, damping) = (work[0].cells, work[1].cells)
        layout.interior.forEachPoint { local in
            let index = local.indices.map { owned.lower[$0] + local[$0] }
            let point = index.indices.map { geometry.centre(axis: $0, index: index[$0]) }
            let offset = layout.offset(local)
            let c = velocity(at: point)
            slowness[offset] = 1 / (c * c)
            damping[offset] = self.damping(at: index)
        }
        initialState(state, work: work, geometry: geometry)
    }

    /// The update's coefficients for `dt`, from the medium (owned cells).
    public func prepare(dt: Double, work: [Field], geometry: Geometry) {
        let (slowness, damping, scale, carry) = (work[0].cells, work[1].cells, work[2].cells, work[3].cells)
        let layout = geometry.layout
        layout.forEachRun(in: layout.interior) { offset, length in
            for k in offset..<(offset &+ length) {
                let sigma = damping[k] * dt / (2 * slowness[k])
                scale[k] = dt * dt / (slowness[k] * (1 + sigma))
                carry[k] = (1 - sigma) / (1 + sigma)
            }
        }
    }

    public func initialState(_ state: [Field], work: [Field], geometry: Geometry) {
        let layout = geometry.layout
        let owned = layout.owned
        layout.interior.forEachPoint { local in
            let point = local.indices.map { geometry.centre(axis: $0, index: owned.lower[$0] + local[$0]) }
            state[0].cells[layout.offset(local)] =
                switch initial {
                case "gaussian":
                    amplitude
                        * InitialCondition.gaussian(
                            at: point, centre: extent.map { $0 / 2 }, width: width, extent: extent, periodic: periodic)
                case "standing": exact(at: point, time: 0)
                default: 0
                }
        }
    }

    public func start(_ state: [Field], work: [Field], dt: Double, geometry: Geometry) {
        // The field at rest: p(−dt) = p(0) + dt²/2 · c² ∇²p(0), second-order accurate.
        let layout = geometry.layout
        let (p, previous, slowness) = (state[0].cells, state[1].cells, work[0].cells)
        let inverseSquare = geometry.spacing.map { 1 / ($0 * $0) }
        layout.forEachRun(in: layout.interior) { offset, length in
            for k in offset..<(offset &+ length) {
                previous[k] = p[k] + 0.5 * dt * dt * Laplacian.value(p, k, inverseSquare) / slowness[k]
            }
        }
    }

    public func stableTimeStep(_ state: [Field], geometry: Geometry) -> Double {
        // Leapfrog: c dt √(Σ 1/h²) ≤ 1.
        return 1 / (fastest * sqrt(geometry.spacing.reduce(0) { $0 + 1 / ($1 * $1) }))
    }

    public func update(from state: [Field], into next: [Field], box: Box, dt: Double, work: [Field], geometry: Geometry)
    {
        WaveKernel.update(from: state, into: next, box: box, spacing: geometry.spacing, scale: work[2], carry: work[3])
    }

    public func addSources(to state: [Field], work: [Field], time: Double, dt: Double, box: Box, geometry: Geometry) {
        guard let offset = sourceOffset(geometry, within: box) else { return }
        state[0].cells[offset] += work[2].cells[offset] * injection(at: time, geometry: geometry)
    }

    /// The offset of the source's cell in this rank's block, if the rank holds it.
    /// With `box` (local coordinates), the offset if the source's cell lies in it, ghosts
    /// included.
    func sourceOffset(_ geometry: Geometry, within box: Box? = nil) -> Int? {
        source.flatMap {
            geometry.offset(ofCell: geometry.cell(containing: $0.position), within: box ?? geometry.layout.interior)
        }
    }

    /// What the source adds to ∇²p in its cell at `time`: q δ(x − x_s) on one cell is q / h^d
    /// there (the update scales it as it scales ∇²p).
    func injection(at time: Double, geometry: Geometry) -> Double {
        wavelet(at: time) / geometry.spacing.reduce(1, *)
    }
}

/// The leapfrog update on raw memory: `p⁺ = p + r (p − p⁻) + s ∇²p`, and `p⁻` takes `p`.
///
/// In place (``Wave/updatesInPlace``: `next` is `state` rotated), p⁺ overwrites p⁻ and `p⁻`
/// already holds p: one array written instead of two, with the same arithmetic.
public enum WaveKernel {
    static func update(from state: [Field], into next: [Field], box: Box, spacing: [Double], scale: Field, carry: Field)
    {
        let layout = state[0].layout
        let (p, previous, out, outPrevious) = (state[0].cells, state[1].cells, next[0].cells, next[1].cells)
        let inPlace = next[0].base == state[1].base
        precondition(inPlace == (next[1].base == state[0].base), "an update in place rotates both levels")
        if inPlace {
            update(p, previous, box: box, layout: layout, spacing: spacing, scale: scale, carry: carry) { k, value in
                previous[k] = value
            }
        } else {
            update(p, previous, box: box, layout: layout, spacing: spacing, scale: scale, carry: carry) { k, value in
                out[k] = value
                outPrevious[k] = p[k]
            }
        }
    }

    /// Runs `store(k, p⁺)` for every cell `k` of `box`, in order along each run.
    @inline(__always)
    private static func update(
        _ p: Cells, _ previous: Cells, box: Box, layout: LocalLayout, spacing: [Double], scale: Field, carry: Field,
        store: (_ k: Int, _ value: Double) -> Void
    ) {
        let (s, r) = (scale.cells, carry.cells)
        let inverseSquare = spacing.map { 1 / ($0 * $0) } + [0, 0]
        let (h0, h1, h2) = (inverseSquare[0], inverseSquare[1], inverseSquare[2])
        let d = layout.dimensions
        // One loop per dimension, so that no loop over the axes is left inside the loop over
        // cells and the compiler vectorises it; the sum keeps the same order for every d.
        layout.forEachRun(in: box) { offset, length in
            @inline(__always)
            func finish(_ k: Int, _ laplacian: Double) {
                store(k, p[k] + r[k] * (p[k] - previous[k]) + s[k] * laplacian)
            }
            switch d {
            case 1:
                for k in offset..<(offset &+ length) {
                    finish(k, 0.0 + (p[k, -1] - 2 * p[k] + p[k, 1]) * h0)
                }
            case 2:
                for k in offset..<(offset &+ length) {
                    var laplacian = 0.0 + (p[k, -1] - 2 * p[k] + p[k, 1]) * h0
                    laplacian += (p[k, 0, -1] - 2 * p[k] + p[k, 0, 1]) * h1
                    finish(k, laplacian)
                }
            default:
                for k in offset..<(offset &+ length) {
                    var laplacian = 0.0 + (p[k, -1] - 2 * p[k] + p[k, 1]) * h0
                    laplacian += (p[k, 0, -1] - 2 * p[k] + p[k, 0, 1]) * h1
                    laplacian += (p[k, 0, 0, -1] - 2 * p[k] + p[k, 0, 0, 1]) * h2
                    finish(k, laplacian)
                }
            }
        }
    }
}
