import Engine
import Grid
import Numerics

/// One sweep of the dimensionally split MUSCL-Hancock scheme (Toro, *Riemann Solvers and
/// Numerical Methods for Fluid Dynamics*, §14.4 and §16.4, in primitive variables): a step of
/// `dt` along one axis alone, with the fluxes of that axis only.
///
/// Each cell's primitives get their slopes along the axis, limited wave by wave in the
/// characteristic variables of the cell (``characteristicSlopes(_:gamma:cells:first:stride:count:into:)``);
/// the cell's values on its two faces are then moved half a step forward in time with the
/// quasi-linear equations, `W ← W − ½ (dt/Δx) A(W) ΔW` (``Predictor``), which makes the scheme
/// second order in time with one Riemann problem per face and stable to a Courant number of 1
/// along the axis. The HLLC flux of each face (``EulerSweep/hllc(_:_:einfeldt:_:_:)``, with
/// Einfeldt's wave speeds and the same positivity fallback) is computed once and used by both
/// cells beside it, so the sweep conserves to round-off.
///
/// A step is one sweep per axis in axis order (Godunov splitting, as PyClaw's default
/// `dimensional_split`), each after its own halo exchange: the engine's stages.
struct EulerHancockSweep: LimitedKernel {
    let gamma: Double
    let gravity: [Double]
    let state: [Field]
    let next: [Field]
    let box: Box
    let dt: Double
    let spacing: [Double]
    /// Density, velocity x, y, z and pressure of every cell the faces reach.
    let primitives: [Cells]
    /// The axis this sweep moves along.
    let axis: Int

    /// The most cells in the cross-section of the piece a sweep takes at once (see
    /// ``FaceSweep/pieces(of:axis:cells:)``): 1024 keep a piece's buffers (about 20 values a
    /// cell along a row, 10 per carried cell across) within 200 kB.
    static let pieceCells = 1024

    func run<Slope: SlopeLimiter>(_: Slope.Type) {
        let layout = state[0].layout
        let strides = layout.strides
        let d = strides.count
        let s = strides[axis]
        let sweeps = FaceSweep.pieces(of: box, axis: axis, cells: Self.pieceCells).map {
            FaceSweep(layout: layout, box: $0)
        }
        // The buffers are sized for the largest piece, and used by each in turn.
        guard let widest = sweeps.map(\.rowLength).max() else { return }
        let along = axis == d - 1
        let buffers = RowBuffers()
        let widestCall = along ? widest + 2 : widest
        let tangential = (0..<3).filter { $0 != axis }
        let velocity = (0..<3).map { primitives[1 + $0] }
        let cells = [primitives[0], velocity[axis], velocity[tangential[0]], velocity[tangential[1]], primitives[4]]
        // Where each flux component (density, energy, normal and tangential momenta) goes.
        let order = [0, 1, 2 + axis, 2 + tangential[0], 2 + tangential[1]]
        let slopes = buffers.make(5 * widestCall)
        let lower = buffers.make(5 * widestCall)
        let upper = buffers.make(5 * widestCall)
        let nextLower = buffers.make(5 * widest)
        let nextUpper = buffers.make(5 * widest)
        let faces = buffers.make(5 * (widest + 1))
        // Across the rows, per carry slot: the row's own upper face states and the fluxes of
        // the faces below it, both left by the row before along the axis.
        let slots = along ? 0 : sweeps.map { $0.slots(axis: axis) }.max()!
        let carriedUpper = buffers.make(slots * 5 * widest)
        let carriedFlux = buffers.make(slots * 5 * widest)
        let predictor = Predictor(gamma: gamma, half: 0.5 * dt / spacing[axis], cells: cells, slopes: slopes)
        let update = SplitRowUpdate(
            state: state, next: next, dt: dt, spacing: spacing, gravity: gravity, axis: axis)
        let gamma = gamma

        /// The face states of cells `first + m` (m < `count`, along the row).
        func states(first: Int, count: Int, lower: UnsafeMutablePointer<Double>, upper: UnsafeMutablePointer<Double>) {
            Self.characteristicSlopes(
                Slope.self, gamma: gamma, cells: cells, first: first, stride: s, count: count, into: slopes)
            predictor.faces(first: first, count: count, lower: lower, upper: upper)
        }
        /// The fluxes of `count` faces, the first between cells `first` and `first + s`, from
        /// the states of the cells below (`left`) and above (`right`), rows `pitch` apart.
        func fluxes(
            first: Int, count: Int, left: UnsafeMutablePointer<Double>, right: UnsafeMutablePointer<Double>,
            pitch: Int, into target: UnsafeMutablePointer<Double>, targetPitch: Int
        ) {
            EulerSweep.hllc(
                gamma: gamma, einfeldt: true, count: count, first: first, stride: s, cells: cells, left: left,
                right: right,
                pitch: pitch,
                flux: (
                    target + order[0] * targetPitch, target + order[1] * targetPitch,
                    target + order[2] * targetPitch, target + order[3] * targetPitch,
                    target + order[4] * targetPitch
                ))
        }

        for sweep in sweeps {
            let n = sweep.rowLength
            // Along the rows a call covers a row's cells and one beyond each end; across, a row.
            let width = along ? n + 2 : n
            sweep.forEachRow { row in
                let low: UnsafeMutablePointer<Double>
                let high: UnsafeMutablePointer<Double>
                let pitch: Int
                if along {
                    states(first: row.offset &- 1, count: width, lower: lower, upper: upper)
                    // Face f lies between cells f − 1 and f of the row: cell f − 1's upper state is
                    // entry f of the rows, cell f's lower state entry f + 1.
                    fluxes(
                        first: row.offset &- 1, count: n + 1, left: upper, right: lower + 1, pitch: width, into: faces,
                        targetPitch: n + 1)
                    (low, high, pitch) = (faces, faces + 1, n + 1)
                } else {
                    let own = carriedUpper + row.slot(axis) * 5 * n
                    let below = carriedFlux + row.slot(axis) * 5 * n
                    if !row.carried(axis) {
                        states(first: row.offset &- s, count: n, lower: lower, upper: upper)
                        states(first: row.offset, count: n, lower: nextLower, upper: own)
                        fluxes(
                            first: row.offset &- s, count: n, left: upper, right: nextLower, pitch: n, into: below,
                            targetPitch: n)
                    }
                    states(first: row.offset &+ s, count: n, lower: nextLower, upper: nextUpper)
                    fluxes(
                        first: row.offset, count: n, left: own, right: nextLower, pitch: n, into: faces, targetPitch: n)
                    (low, high, pitch) = (below, faces, n)
                }
                update(first: row.offset, count: n, low: low, high: high, pitch: pitch)
                if !along {
                    // The faces above are the next row's faces below, its upper states computed.
                    (carriedFlux + row.slot(axis) * 5 * n).update(from: faces, count: 5 * n)
                    (carriedUpper + row.slot(axis) * 5 * n).update(from: nextUpper, count: 5 * n)
                }
            }
        }
    }

    /// The limited slopes of cells `first + m` (m < `count`), primitive `c` at
    /// `slopes[c * count + m]`, limited in the characteristic variables of the cell's own state
    /// along the axis: the differences to each neighbour projected on the left eigenvectors of
    /// the primitive equations' matrix A(W), each wave's two differences limited with `Slope`,
    /// and the limited waves summed along the right eigenvectors. Across a shock or contact
    /// each wave family is limited on its own, as the wave-propagation schemes do.
    @inline(__always)
    static func characteristicSlopes<Slope: SlopeLimiter>(
        _: Slope.Type, gamma: Double, cells: [Cells], first: Int, stride s: Int, count: Int,
        into slopes: UnsafeMutablePointer<Double>
    ) {
        let w = FiveRows(cells, first: first)
        let out = FiveRows(slopes, pitch: count)
        @inline(__always)
        func cell<L: Lanes>(_: L.Type, _ m: Int) {
            out.store(
                characteristicSlope(
                    Slope.self, gamma: L(gamma), w.load(m), below: w.load(m &- s), above: w.load(m &+ s)),
                m)
        }
        forEachLanes(count: count, wide: { cell(SIMD4<Double>.self, $0) }, narrow: { cell(Double.self, $0) })
    }

    /// The slopes of one cell with primitives `w` (density, normal velocity, tangential
    /// velocities, pressure) between its neighbours' `below` and `above` (see
    /// ``characteristicSlopes(_:gamma:cells:first:stride:count:into:)``).
    @inline(__always)
    static func characteristicSlope<Slope: SlopeLimiter, L: Lanes>(
        _: Slope.Type, gamma: L, _ w: (L, L, L, L, L), below: (L, L, L, L, L), above: (L, L, L, L, L)
    ) -> (L, L, L, L, L) {
        let (rho, u, p) = (w.0, w.1, w.4)
        let inverseRho = L(1) / rho
        let c2 = gamma * p * inverseRho
        let c = c2.root()
        let inverseC = L(1) / c
        // Wave strengths: u − c, the entropy wave, u + c (the shear waves are Δv and Δw).
        let (acoustic, entropy) = (0.5 * rho * inverseC, inverseC * inverseC)
        @inline(__always)
        func waves(_ r: L, _ u: L, _ p: L) -> (L, L, L) {
            let sound = 0.5 * entropy * p
            return (sound - acoustic * u, r - entropy * p, sound + acoustic * u)
        }
        let backward = waves(rho - below.0, u - below.1, p - below.4)
        let forward = waves(above.0 - rho, above.1 - u, above.4 - p)
        let left = Slope.slope(backward.0, forward.0)
        let middle = Slope.slope(backward.1, forward.1)
        let right = Slope.slope(backward.2, forward.2)
        return (
            left + middle + right, c * inverseRho * (right - left), Slope.slope(w.2 - below.2, above.2 - w.2),
            Slope.slope(w.3 - below.3, above.3 - w.3), c2 * (left + right)
        )
    }

    /// The operations of ``characteristicSlopes(_:gamma:cells:first:stride:count:into:)`` for
    /// one cell but its five limited slopes, counted by the unit tests through a type that
    /// counts them: the sound speed and the projections' factors; the six differences and
    /// their projections on three waves; the sums back along the right eigenvectors and the
    /// shear waves' differences.
    static let characteristicWork = FloatingPointWork(
        additions: 20, multiplications: 18, divisions: 2, squareRoots: 1)

    /// The operations of one cell update: the cell's primitives, the slopes of its five
    /// primitives limited in characteristic variables, the half-step predictor
    /// (``Predictor/work``), the HLLC flux of one face (``EulerSweep/einfeldtFaceWork``), the
    /// flux differences, and gravity's sources along the axis.
    static func work(dimensions d: Int, limiter: Limiter, gravity: Bool) -> FloatingPointWork {
        let components = Double(2 + d)
        let primitives = FloatingPointWork(additions: 3, multiplications: 6, divisions: Double(d))
        let slopes = 5 * limiter.slopeWork + characteristicWork
        let update = components * FloatingPointWork(additions: 2, multiplications: 1)
        let sources = gravity ? FloatingPointWork(additions: 2, multiplications: 4) : .none
        return primitives + slopes + Predictor.work + EulerSweep.einfeldtFaceWork + update + sources
    }
}

/// The half-step predictor of MUSCL-Hancock for a row of cells: from each cell's primitives
/// `W` = (ρ, u, v, w, p), u normal to the faces, and their limited slopes ΔW, the face states
/// `W − ½ΔW` (below) and `W + ½ΔW` (above), both moved by `−½ (dt/Δx) A(W) ΔW`, where
///
///     A(W) ΔW = (u Δρ + ρ Δu,  u Δu + Δp/ρ,  u Δv,  u Δw,  γ p Δu + u Δp).
struct Predictor {
    let gamma: Double
    /// ½ dt/Δx.
    let half: Double
    /// The rotated primitives: density, normal velocity, tangential velocities, pressure.
    let cells: [Cells]
    /// The slopes, row `c` of a call's `count` entries for primitive `c`.
    let slopes: UnsafeMutablePointer<Double>

    /// Writes the face states of cells `first + m` (m < `count`): primitive `c` of cell `m`
    /// at `lower[c * count + m]` and `upper[c * count + m]`.
    @inline(__always)
    func faces(first: Int, count: Int, lower: UnsafeMutablePointer<Double>, upper: UnsafeMutablePointer<Double>) {
        let w = FiveRows(cells, first: first)
        let slope = FiveRows(slopes, pitch: count)
        let (below, above) = (FiveRows(lower, pitch: count), FiveRows(upper, pitch: count))
        @inline(__always)
        func cell<L: Lanes>(_: L.Type, _ m: Int) {
            let faces = Self.predict(gamma: L(gamma), half: L(half), w.load(m), slope.load(m))
            below.store(faces.0, m)
            above.store(faces.1, m)
        }
        forEachLanes(count: count, wide: { cell(SIMD4<Double>.self, $0) }, narrow: { cell(Double.self, $0) })
    }

    /// The operations of ``predict(gamma:half:_:_:)``, counted by the unit tests through a
    /// type that counts them.
    static let work = FloatingPointWork(additions: 18, multiplications: 18, divisions: 1)

    /// One cell's face states below and above from its primitives `w` and slopes `dw`.
    @inline(__always)
    static func predict<L: Lanes>(gamma: L, half: L, _ w: (L, L, L, L, L), _ dw: (L, L, L, L, L)) -> (
        (L, L, L, L, L), (L, L, L, L, L)
    ) {
        let u = w.1
        let moved = (
            w.0 - half * (u * dw.0 + w.0 * dw.1),
            w.1 - half * (u * dw.1 + dw.4 / w.0),
            w.2 - half * (u * dw.2),
            w.3 - half * (u * dw.3),
            w.4 - half * (gamma * w.4 * dw.1 + u * dw.4)
        )
        let h = (0.5 * dw.0, 0.5 * dw.1, 0.5 * dw.2, 0.5 * dw.3, 0.5 * dw.4)
        return (
            (moved.0 - h.0, moved.1 - h.1, moved.2 - h.2, moved.3 - h.3, moved.4 - h.4),
            (moved.0 + h.0, moved.1 + h.1, moved.2 + h.2, moved.3 + h.3, moved.4 + h.4)
        )
    }
}

/// Five rows of values that a cell's five primitives (or slopes, or face states) are loaded
/// from and stored to together, `lanes` cells at a time.
struct FiveRows {
    let rows:
        (
            UnsafeMutablePointer<Double>, UnsafeMutablePointer<Double>, UnsafeMutablePointer<Double>,
            UnsafeMutablePointer<Double>, UnsafeMutablePointer<Double>
        )

    /// Five arrays of cells, from the cell at `first`.
    init(_ cells: [Cells], first: Int) {
        rows = (
            cells[0].base + first, cells[1].base + first, cells[2].base + first, cells[3].base + first,
            cells[4].base + first
        )
    }

    /// Five rows of one buffer, `pitch` values apart.
    init(_ base: UnsafeMutablePointer<Double>, pitch: Int) {
        rows = (base, base + pitch, base + 2 * pitch, base + 3 * pitch, base + 4 * pitch)
    }

    @inline(__always)
    func load<L: Lanes>(_ m: Int) -> (L, L, L, L, L) {
        (L.load(rows.0, m), L.load(rows.1, m), L.load(rows.2, m), L.load(rows.3, m), L.load(rows.4, m))
    }

    @inline(__always)
    func store<L: Lanes>(_ values: (L, L, L, L, L), _ m: Int) {
        values.0.store(rows.0, m)
        values.1.store(rows.1, m)
        values.2.store(rows.2, m)
        values.3.store(rows.3, m)
        values.4.store(rows.4, m)
    }
}
