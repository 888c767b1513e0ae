import Engine
import Grid
import Numerics

/// Five values of one face or cell, in the rotated order of a sweep: density, energy, normal
/// momentum, the two tangential momenta.
typealias Five<L> = (L, L, L, L, L)

/// One sweep of LeVeque's wave-propagation scheme (*Finite Volume Methods for Hyperbolic
/// Problems*, §6.13 and §15.3), as Clawpack's and PyClaw's classic solvers take it with
/// dimensional splitting: a step of `dt` along one axis alone.
///
/// At each face Roe's solver splits the jump between the two cells into waves along the
/// eigenvectors of Roe's average state (``face(gamma:left:right:leftState:rightState:)``): two
/// acoustic waves at u ∓ a, the entropy wave and one shear wave per tangential axis, all three
/// at u. Harten and Hyman's entropy fix splits an acoustic wave that is a transonic rarefaction
/// between the two cells, as Clawpack's `rpn2_euler_4wave` does. Each wave is then limited
/// against the same family's wave at the face upwind of it, θ = W_upwind·W / W·W, with the
/// model's limiter as φ(θ) (minmod: max(0, min(1, θ))), and adds its second-order correction
/// ½ |s| (1 − |s| dt/Δx) φ W (``corrected(_:low:face:high:courant:shears:)``). No
/// transverse terms: the sweeps split the axes.
///
/// The scheme is written in flux form, F = f(Q_left) + A⁻ΔQ + the corrections, each face's
/// flux computed once and used by both cells beside it, so the sweep conserves to round-off.
/// It is stable to a Courant number of 1 along the axis, as the MUSCL-Hancock sweep is.
struct EulerWaveSweep: LimitedKernel {
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

    /// Values stored per face between the solver and the limiter: five waves of five
    /// components, three speeds (u − a, u, u + a) and the first-order flux.
    static let rowsPerFace = 33

    /// The most cells in the cross-section of the piece a sweep takes at once (see
    /// ``FaceSweep/pieces(of:axis:cells:)``): 1024 keep a piece's raw faces near 1 MB, the L2
    /// of this machine. Where cutting matters, 256 and 1024 timed the same (a 1-D row of
    /// 160 000 cells, twice as fast as uncut; 128³, a fifth faster); at 400², which 256 cut
    /// and 1024 does not, 256 made a whole run of the example 14 % slower.
    static let pieceCells = 1024

    func run<Slope: SlopeLimiter>(_: Slope.Type) {
        let layout = state[0].layout
        let strides = layout.strides
        let d = strides.count
        let s = strides[axis]
        let sweeps = FaceSweep.pieces(of: box, axis: axis, cells: Self.pieceCells).map {
            FaceSweep(layout: layout, box: $0)
        }
        guard let widest = sweeps.map(\.rowLength).max() else { return }
        let along = axis == d - 1
        let buffers = RowBuffers()
        let tangential = (0..<3).filter { $0 != axis }
        let velocity = (0..<3).map { primitives[1 + $0] }
        let cells = [primitives[0], velocity[axis], velocity[tangential[0]], velocity[tangential[1]], primitives[4]]
        // Momenta beyond the block's axes are zero, as the velocities that stand for them.
        let conserved = state.map(\.cells)
        let momentum = (0..<3).map { $0 < d ? conserved[2 + $0] : velocity[$0] }
        let rotated = [conserved[0], conserved[1], momentum[axis], momentum[tangential[0]], momentum[tangential[1]]]
        // Where each rotated component goes: density, energy, normal and tangential momenta.
        let order = [0, 1, 2 + axis, 2 + tangential[0], 2 + tangential[1]]
        let rows = Self.rowsPerFace
        // Along the rows: the raw faces of a row, from the face below its first cell's lower
        // neighbour to the one above its last's upper neighbour; across, per carry slot, four
        // rows of raw faces in turn and the flux of the faces below the row.
        // Sized for the largest piece, and used by each in turn.
        let slots = along ? 0 : sweeps.map { $0.slots(axis: axis) }.max()!
        let raw = buffers.make(along ? rows * (widest + 3) : slots * 4 * rows * widest)
        let faces = buffers.make(5 * (widest + 1))
        let carriedFlux = buffers.make(slots * 5 * widest)
        var visited = [Int](repeating: 0, count: slots)
        let update = SplitRowUpdate(
            state: state, next: next, dt: dt, spacing: spacing, gravity: gravity, axis: axis)
        let factor = update.factor
        let gamma = gamma

        /// Roe's waves of `count` faces, the first between cells `first` and `first + s`,
        /// into `block` (`pitch` faces a row).
        func solve(first: Int, count: Int, into block: UnsafeMutablePointer<Double>, pitch: Int) {
            let w = FiveRows(cells, first: first)
            let q = FiveRows(rotated, first: first)
            let target = FaceBlock(block, pitch: pitch)
            @inline(__always)
            func face<L: Lanes>(_: L.Type, _ m: Int) {
                let right = m &+ s
                target.store(
                    Self.face(
                        gamma: L(gamma), left: w.load(m), right: w.load(right), leftState: q.load(m),
                        rightState: q.load(right)), m)
            }
            forEachLanes(count: count, wide: { face(SIMD4<Double>.self, $0) }, narrow: { face(Double.self, $0) })
        }
        /// The fluxes of `count` faces from their raw faces (`face`) and the raw faces below
        /// and above them (`low`, `high`), `pitch` faces a row, unrotated, into `target`.
        func finish(
            low: UnsafeMutablePointer<Double>, face: UnsafeMutablePointer<Double>, high: UnsafeMutablePointer<Double>,
            pitch: Int, count: Int, into target: UnsafeMutablePointer<Double>, targetPitch: Int
        ) {
            let (below, own, above) = (
                FaceBlock(low, pitch: pitch), FaceBlock(face, pitch: pitch), FaceBlock(high, pitch: pitch)
            )
            let flux = (
                target + order[0] * targetPitch, target + order[1] * targetPitch, target + order[2] * targetPitch,
                target + order[3] * targetPitch, target + order[4] * targetPitch
            )
            @inline(__always)
            func one<L: Lanes>(_: L.Type, _ m: Int) {
                let f = Self.corrected(
                    Slope.self, low: below.waves(m), face: own.load(m), high: above.waves(m), courant: L(factor),
                    shears: d - 1)
                f.0.store(flux.0, m)
                f.1.store(flux.1, m)
                f.2.store(flux.2, m)
                f.3.store(flux.3, m)
                f.4.store(flux.4, m)
            }
            forEachLanes(count: count, wide: { one(SIMD4<Double>.self, $0) }, narrow: { one(Double.self, $0) })
        }

        for sweep in sweeps {
            let n = sweep.rowLength
            sweep.forEachRow { row in
                let first = row.offset
                let low: UnsafeMutablePointer<Double>
                let high: UnsafeMutablePointer<Double>
                let pitch: Int
                if along {
                    // Raw face f lies between cells first + f − 2 and first + f − 1; the row's faces
                    // are raw faces 1 to n + 1.
                    solve(first: first &- 2, count: n + 3, into: raw, pitch: n + 3)
                    finish(
                        low: raw, face: raw + 1, high: raw + 2, pitch: n + 3, count: n + 1, into: faces,
                        targetPitch: n + 1)
                    (low, high, pitch) = (faces, faces + 1, n + 1)
                } else {
                    let slot = row.slot(axis)
                    let ring = raw + slot * 4 * rows * n
                    let below = carriedFlux + slot * 5 * n
                    // Face j of the box lies below its row j along the axis; raw face j is kept in
                    // ring entry (j + 1) mod 4.
                    func entry(_ j: Int) -> UnsafeMutablePointer<Double> { ring + ((j + 1) & 3) * rows * n }
                    if !row.carried(axis) { visited[slot] = 0 }
                    let i = visited[slot]
                    if i == 0 {
                        for j in -1...1 { solve(first: first &+ (j - 1) &* s, count: n, into: entry(j), pitch: n) }
                        finish(
                            low: entry(-1), face: entry(0), high: entry(1), pitch: n, count: n, into: below,
                            targetPitch: n)
                    }
                    solve(first: first &+ s, count: n, into: entry(i + 2), pitch: n)
                    finish(
                        low: entry(i), face: entry(i + 1), high: entry(i + 2), pitch: n, count: n, into: faces,
                        targetPitch: n)
                    visited[slot] = i + 1
                    (low, high, pitch) = (below, faces, n)
                }
                update(first: first, count: n, low: low, high: high, pitch: pitch)
                if !along {
                    // The faces above are the next row's faces below.
                    (carriedFlux + row.slot(axis) * 5 * n).update(from: faces, count: 5 * n)
                }
            }
        }
    }

    /// The operations of ``face(gamma:left:right:leftState:rightState:)``, counted by the unit
    /// tests through a type that counts them.
    static let faceWork = FloatingPointWork(
        additions: 91, multiplications: 92, selects: 15, divisions: 8, squareRoots: 7)

    /// The operations of ``corrected(_:low:face:high:courant:shears:)``: per wave it corrects,
    /// the three dot products, θ, the limiter's `slope` and the coefficient; then the sums of
    /// the five waves into the flux. Counted likewise.
    static func correctionWork(shears: Int, slope: FloatingPointWork) -> FloatingPointWork {
        let wave = FloatingPointWork(additions: 14, multiplications: 19, selects: 6, divisions: 1)
        return Double(3 + shears) * (wave + slope) + FloatingPointWork(additions: 25, multiplications: 25)
    }

    /// The operations of one cell update: the cell's primitives, one face's waves and
    /// corrected flux (each face serves two cells and each cell has two), the flux
    /// differences, and gravity's sources along the axis.
    static func work(dimensions d: Int, limiter: Limiter, gravity: Bool) -> FloatingPointWork {
        let components = Double(2 + d)
        let primitives = FloatingPointWork(additions: 3, multiplications: 6, divisions: Double(d))
        let update = components * FloatingPointWork(additions: 2, multiplications: 1)
        let sources = gravity ? FloatingPointWork(additions: 2, multiplications: 4) : .none
        return primitives + faceWork + correctionWork(shears: d - 1, slope: limiter.slopeWork) + update + sources
    }

    /// One face's Roe solution: its five waves (rotated components), the speeds u − a, u and
    /// u + a of Roe's average state, and the first-order flux f(Q_left) + A⁻ΔQ.
    struct Face<L: Lanes> {
        /// Acoustic at u − a, shear along the first and second tangential axes, entropy,
        /// acoustic at u + a.
        var waves: (Five<L>, Five<L>, Five<L>, Five<L>, Five<L>)
        var speeds: (L, L, L)
        var flux: Five<L>
    }

    /// Roe's solution at a face between cells with primitives `left` and `right` (density,
    /// normal velocity, tangential velocities, pressure) and conserved states `leftState` and
    /// `rightState` (``Five``), with Harten and Hyman's entropy fix in A⁻ΔQ.
    @inline(__always)
    static func face<L: Lanes>(gamma: L, left: Five<L>, right: Five<L>, leftState: Five<L>, rightState: Five<L>)
        -> Face<L>
    {
        let one = L(1)
        let gammaMinusOne = gamma - one
        let (rootL, rootR) = (left.0.root(), right.0.root())
        // One division for Roe's weights and enthalpy, H = (√ρl Hl + √ρr Hr) / (√ρl + √ρr).
        let product = rootL * rootR
        let inverse = one / (product * (rootL + rootR))
        let weight = product * inverse
        let u = (rootL * left.1 + rootR * right.1) * weight
        let v = (rootL * left.2 + rootR * right.2) * weight
        let w = (rootL * left.3 + rootR * right.3) * weight
        let enthalpy = ((leftState.1 + left.4) * rootR + (rightState.1 + right.4) * rootL) * inverse
        let q2 = u * u + v * v + w * w
        let a2 = gammaMinusOne * (enthalpy - 0.5 * q2)
        let a = a2.root()
        let inverseA = one / a
        let delta = (
            rightState.0 - leftState.0, rightState.1 - leftState.1, rightState.2 - leftState.2,
            rightState.3 - leftState.3, rightState.4 - leftState.4
        )
        // The jump's coefficients on Roe's eigenvectors.
        let projected: L = (enthalpy - q2) * delta.0 + u * delta.2 + v * delta.3 + w * delta.4 - delta.1
        let entropy: L = gammaMinusOne * inverseA * inverseA * projected
        let shear = (delta.3 - v * delta.0, delta.4 - w * delta.0)
        let acoustic: L = delta.2 + (a - u) * delta.0 - a * entropy
        let fast: L = acoustic * (0.5 * inverseA)
        let slow = delta.0 - entropy - fast
        let ua = u * a
        let zero = L(0)
        let waves = (
            (slow, slow * (enthalpy - ua), slow * (u - a), slow * v, slow * w),
            (zero, shear.0 * v, zero, shear.0, zero),
            (zero, shear.1 * w, zero, zero, shear.1),
            (entropy, entropy * (0.5 * q2), entropy * u, entropy * v, entropy * w),
            (fast, fast * (enthalpy + ua), fast * (u + a), fast * v, fast * w)
        )
        let speeds = (u - a, u, u + a)
        // A⁻ΔQ, the left-going waves' flux difference, with the entropy fix (Harten & Hyman
        // 1983) where an acoustic wave is a transonic rarefaction: the 1-wave if u − c rises
        // through zero across it, from the left cell to the state beyond it; the 4-wave likewise
        // for u + c, from the state before it to the right cell.
        let s0 = left.1 - (gamma * left.4 / left.0).root()
        let s1 = sonic(gamma, gammaMinusOne, leftState, plus: waves.0, sign: zero - one)
        let fraction1 = L.select(
            s0.less(zero).and(s1.greater(zero)), s0 * (s1 - speeds.0) / (s1 - s0),
            L.select(speeds.0.less(zero), speeds.0, zero))
        let s3 = right.1 + (gamma * right.4 / right.0).root()
        let s2 = sonic(gamma, gammaMinusOne, rightState, plus: negated(waves.4), sign: one)
        let fraction4 = L.select(
            s2.less(zero).and(s3.greater(zero)), s2 * (s3 - speeds.2) / (s3 - s2),
            L.select(speeds.2.less(zero), speeds.2, zero))
        // Clawpack counts the middle waves and the 4-wave only where the middle waves go left.
        let leftward = speeds.1.less(zero)
        let middle = L.select(leftward, speeds.1, zero)
        let fourth = L.select(leftward, fraction4, zero)
        @inline(__always)
        func fluctuation(_ c: Int) -> L {
            let slower: L = component(waves.1, c) + component(waves.2, c) + component(waves.3, c)
            let sides: L = fraction1 * component(waves.0, c) + middle * slower
            return sides + fourth * component(waves.4, c)
        }
        let mass = leftState.2
        let physical = (
            mass, left.1 * (leftState.1 + left.4), left.1 * mass + left.4, left.1 * leftState.3, left.1 * leftState.4
        )
        let flux = (
            physical.0 + fluctuation(0), physical.1 + fluctuation(1), physical.2 + fluctuation(2),
            physical.3 + fluctuation(3), physical.4 + fluctuation(4)
        )
        return Face(waves: waves, speeds: speeds, flux: flux)
    }

    /// u + `sign` c of the conserved state `state` + `wave`.
    @inline(__always)
    static func sonic<L: Lanes>(_ gamma: L, _ gammaMinusOne: L, _ state: Five<L>, plus wave: Five<L>, sign: L) -> L {
        let rho = state.0 + wave.0
        let (energy, normal) = (state.1 + wave.1, state.2 + wave.2)
        let (t1, t2) = (state.3 + wave.3, state.4 + wave.4)
        let inverse = L(1) / rho
        let p = gammaMinusOne * (energy - 0.5 * (normal * normal + t1 * t1 + t2 * t2) * inverse)
        return normal * inverse + sign * (gamma * p * inverse).root()
    }

    @inline(__always)
    static func negated<L: Lanes>(_ x: Five<L>) -> Five<L> {
        let zero = L(0)
        return (zero - x.0, zero - x.1, zero - x.2, zero - x.3, zero - x.4)
    }

    @inline(__always)
    static func component<L>(_ x: Five<L>, _ c: Int) -> L {
        switch c {
        case 0: x.0
        case 1: x.1
        case 2: x.2
        case 3: x.3
        default: x.4
        }
    }

    /// The flux of `face`: its first-order flux and each wave's correction
    /// ½ |s| (1 − |s| `courant`) φ(θ) W, `courant` = dt/Δx, θ the wave's projection on the same
    /// family's wave at the face upwind of it (`low` for s > 0, `high` otherwise), φ the
    /// limiter's `slope(θ, 1)`. A wave of no strength gets no correction, nor do the shear
    /// waves beyond the first `shears`, which a grid of fewer than three axes cannot have.
    @inline(__always)
    static func corrected<Slope: SlopeLimiter, L: Lanes>(
        _: Slope.Type, low: (Five<L>, Five<L>, Five<L>, Five<L>, Five<L>), face: Face<L>,
        high: (Five<L>, Five<L>, Five<L>, Five<L>, Five<L>), courant: L, shears: Int = 2
    ) -> Five<L> {
        let zero = L(0)
        @inline(__always)
        func dot(_ a: Five<L>, _ b: Five<L>) -> L { a.0 * b.0 + a.1 * b.1 + a.2 * b.2 + a.3 * b.3 + a.4 * b.4 }
        @inline(__always)
        func coefficient(_ below: Five<L>, _ wave: Five<L>, _ above: Five<L>, _ speed: L) -> L {
            let norm = dot(wave, wave)
            let upwind = L.select(speed.greater(zero), dot(below, wave), dot(above, wave))
            let phi = Slope.slope(upwind / norm, L(1))
            let magnitude = L.select(speed.less(zero), zero - speed, speed)
            return L.select(norm.greater(zero), 0.5 * magnitude * (L(1) - magnitude * courant) * phi, zero)
        }
        let c = (
            coefficient(low.0, face.waves.0, high.0, face.speeds.0),
            shears > 0 ? coefficient(low.1, face.waves.1, high.1, face.speeds.1) : zero,
            shears > 1 ? coefficient(low.2, face.waves.2, high.2, face.speeds.1) : zero,
            coefficient(low.3, face.waves.3, high.3, face.speeds.1),
            coefficient(low.4, face.waves.4, high.4, face.speeds.2)
        )
        let w = face.waves
        @inline(__always)
        func sum(_ f: L, _ k: Int) -> L {
            let first: L = f + c.0 * component(w.0, k) + c.1 * component(w.1, k)
            let second: L = c.2 * component(w.2, k) + c.3 * component(w.3, k)
            return first + second + c.4 * component(w.4, k)
        }
        return (sum(face.flux.0, 0), sum(face.flux.1, 1), sum(face.flux.2, 2), sum(face.flux.3, 3), sum(face.flux.4, 4))
    }
}

/// The ``EulerWaveSweep/Face``s of a row, ``EulerWaveSweep/rowsPerFace`` rows of `pitch`
/// values: the waves' components, the speeds, the first-order flux.
struct FaceBlock {
    let base: UnsafeMutablePointer<Double>
    let pitch: Int

    init(_ base: UnsafeMutablePointer<Double>, pitch: Int) {
        self.base = base
        self.pitch = pitch
    }

    @inline(__always)
    func five<L: Lanes>(_ row: Int, _ m: Int) -> Five<L> {
        let p = base + row * pitch
        return (
            L.load(p, m), L.load(p + pitch, m), L.load(p + 2 * pitch, m), L.load(p + 3 * pitch, m),
            L.load(p + 4 * pitch, m)
        )
    }

    @inline(__always)
    func store<L: Lanes>(_ x: Five<L>, row: Int, _ m: Int) {
        let p = base + row * pitch
        x.0.store(p, m)
        x.1.store(p + pitch, m)
        x.2.store(p + 2 * pitch, m)
        x.3.store(p + 3 * pitch, m)
        x.4.store(p + 4 * pitch, m)
    }

    @inline(__always)
    func waves<L: Lanes>(_ m: Int) -> (Five<L>, Five<L>, Five<L>, Five<L>, Five<L>) {
        (five(0, m), five(5, m), five(10, m), five(15, m), five(20, m))
    }

    @inline(__always)
    func load<L: Lanes>(_ m: Int) -> EulerWaveSweep.Face<L> {
        let speeds = base + 25 * pitch
        return EulerWaveSweep.Face(
            waves: waves(m), speeds: (L.load(speeds, m), L.load(speeds + pitch, m), L.load(speeds + 2 * pitch, m)),
            flux: five(28, m))
    }

    @inline(__always)
    func store<L: Lanes>(_ face: EulerWaveSweep.Face<L>, _ m: Int) {
        store(face.waves.0, row: 0, m)
        store(face.waves.1, row: 5, m)
        store(face.waves.2, row: 10, m)
        store(face.waves.3, row: 15, m)
        store(face.waves.4, row: 20, m)
        let speeds = base + 25 * pitch
        face.speeds.0.store(speeds, m)
        face.speeds.1.store(speeds + pitch, m)
        face.speeds.2.store(speeds + 2 * pitch, m)
        store(face.flux, row: 28, m)
    }
}
