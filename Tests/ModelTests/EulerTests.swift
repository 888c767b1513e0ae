import Foundation
import Numerics
import Synchronization
import Testing

@testable import Engine
@testable import Euler
@testable import Grid

@Suite struct EulerKernelTests {
    /// Blocks and the boxes of them the kernel tests update, with a gravity each: whole blocks
    /// and boxes away from every side, in 1, 2 and 3 dimensions.
    static let cases: [(extent: [Int], box: Box, gravity: [Double])] = [
        ([9], Box(lower: [2], upper: [7]), [0]),
        ([11, 9], Box(lower: [0, 0], upper: [11, 9]), [0, -1]),
        ([11, 9], Box(lower: [2, 7], upper: [5, 9]), [0.5, 0]),
        ([6, 5, 7], Box(lower: [0, 0, 0], upper: [6, 5, 7]), [0, 0, 0]),
        ([6, 5, 7], Box(lower: [1, 2, 0], upper: [5, 3, 7]), [0, -1, 0.25]),
    ]

    /// A random gas on a block of `extent` cells with two ghosts per side (γ = 1.4): mostly
    /// valid states, with some whose face states lose positivity.
    static func randomState(extent: [Int]) -> (LocalLayout, [Field]) {
        var generator = SystemRandomNumberGenerator()
        let d = extent.count
        let layout = LocalLayout(owned: Box(extent: extent), ghost: extent.map { _ in 2 })
        let state = (0..<(2 + d)).map { Field(name: "q\($0)", layout: layout) }
        for i in 0..<layout.count {
            let rho = Double.random(in: 0.05...2, using: &generator)
            let velocity = (0..<d).map { _ in Double.random(in: -2...2, using: &generator) }
            let pressure = Double.random(in: 0.01...3, using: &generator)
            state[0].base[i] = rho
            for a in 0..<d { state[2 + a].base[i] = rho * velocity[a] }
            state[1].base[i] = pressure / 0.4 + 0.5 * rho * velocity.reduce(0) { $0 + $1 * $1 }
        }
        return (layout, state)
    }

    @Test(arguments: Limiter.allCases)
    func eachFaceOnceFourAtATimeGivesTheSameBitsAsEachCellAlone(limiter: Limiter) {
        // Beyond the cases: boxes whose rows the kernel cuts (``EulerSweep/rowCells``).
        let cut: [(extent: [Int], box: Box, gravity: [Double])] = [
            ([2100], Box(lower: [1], upper: [2099]), [0]),
            ([3, 1100], Box(lower: [0, 2], upper: [3, 1099]), [0.5, -1]),
        ]
        #expect(cut.allSatisfy { $0.box.extent.last! > EulerSweep.rowCells })
        for (extent, box, gravity) in Self.cases + cut {
            let d = extent.count
            let (layout, state) = Self.randomState(extent: extent)
            let spacing = [0.1, 0.2, 0.05].prefix(d).map { $0 }
            let next = state.map { Field(name: $0.name, layout: layout) }
            let primitives = { (0..<5).map { Field(name: "primitive\($0)", layout: layout) } }
            EulerKernel(gamma: 1.4, limiter: limiter, gravity: gravity).update(
                from: state, into: next, box: box, dt: 0.01, spacing: spacing, primitives: primitives())
            let expected = state.map { Field(name: $0.name, layout: layout) }
            ReferenceEulerKernel(gamma: 1.4, limiter: limiter, gravity: gravity).update(
                from: state, into: expected, box: box, dt: 0.01, spacing: spacing, primitives: primitives())
            for q in state.indices {
                var mismatched = 0
                layout.forEachRun(in: box) { offset, length in
                    for k in offset..<(offset + length)
                    where next[q].base[k].bitPattern != expected[q].base[k].bitPattern {
                        mismatched += 1
                    }
                }
                #expect(mismatched == 0, "\(extent) \(box) component \(q): \(mismatched) of \(box.count) cells differ")
            }
        }
    }
}

/// The Euler update as it was before each face was computed once, four at a time: each
/// cell computes the HLLC flux of its faces itself, one value at a time. The reference for
/// `EulerKernel`, which must give the same bits.
struct ReferenceEulerKernel {
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

    func update(from state: [Field], into next: [Field], box: Box, dt: Double, spacing: [Double], primitives: [Field]) {
        let layout = state[0].layout
        let strides = layout.strides
        let d = strides.count
        let out = next.map(\.base)
        let hasGravity = gravity.contains { $0 != 0 }
        // The cells the faces of `box` reconstruct from: two more on each side, within the block.
        let a = primitives.map(\.base)
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

/// The operations on ``Counted`` values so far, by kind.
private let operations = Mutex(FloatingPointWork())

/// A number that counts the operations made on it, so that a kernel's stated
/// ``FloatingPointWork`` can be checked against its code.
private struct Counted: Lanes {
    struct Mask: LaneMask {
        let value: Bool
        func and(_ other: Mask) -> Mask {
            operations.withLock { $0.selects += 1 }
            return Mask(value: value && other.value)
        }
    }

    let value: Double
    static var width: Int { 1 }
    init(_ value: Double) { self.value = value }
    static func load(_ pointer: UnsafePointer<Double>, _ index: Int) -> Counted { Counted(pointer[index]) }
    func store(_ pointer: UnsafeMutablePointer<Double>, _ index: Int) { pointer[index] = value }

    private static func counting(_ kind: WritableKeyPath<FloatingPointWork, Double>, _ value: Double) -> Counted {
        operations.withLock { $0[keyPath: kind] += 1 }
        return Counted(value)
    }

    static func + (lhs: Counted, rhs: Counted) -> Counted { counting(\.additions, lhs.value + rhs.value) }
    static func - (lhs: Counted, rhs: Counted) -> Counted { counting(\.additions, lhs.value - rhs.value) }
    static func * (lhs: Counted, rhs: Counted) -> Counted { counting(\.multiplications, lhs.value * rhs.value) }
    static func / (lhs: Counted, rhs: Counted) -> Counted { counting(\.divisions, lhs.value / rhs.value) }
    static func * (lhs: Double, rhs: Counted) -> Counted { counting(\.multiplications, lhs * rhs.value) }
    func root() -> Counted { Self.counting(\.squareRoots, value.squareRoot()) }
    func greater(_ other: Counted) -> Mask {
        operations.withLock { $0.selects += 1 }
        return Mask(value: value > other.value)
    }
    func greaterOrEqual(_ other: Counted) -> Mask {
        operations.withLock { $0.selects += 1 }
        return Mask(value: value >= other.value)
    }
    func replacing(with other: Counted, where mask: Mask) -> Counted {
        Self.counting(\.selects, mask.value ? other.value : value)
    }
}

/// Serialized: the tests share the one count of operations.
@Suite(.serialized) struct EulerWorkTests {
    @Test func theStatedWorkOfAFaceIsWhatTheFluxCodeDoes() {
        let state = { (rho: Double, u: Double, p: Double) in
            (Counted(rho), Counted(u), Counted(0.1), Counted(-0.2), Counted(p))
        }
        let cell = state(1, 0, 1)
        operations.withLock { $0 = FloatingPointWork() }
        let flux = EulerSweep.hllc(
            Counted(1.4), Counted(0.4), EulerSweep.valid(state(1, 0.3, 1), or: cell),
            EulerSweep.valid(state(0.125, -0.1, 0.1), or: cell))
        let counted = operations.withLock { $0 }
        #expect(flux.0.value.isFinite)
        #expect(counted == EulerSweep.faceWork, "\(counted)")
    }

    @Test func theStatedWorkOfAFaceWithEinfeldtsSpeedsIsWhatTheFluxCodeDoes() {
        let state = { (rho: Double, u: Double, p: Double) in
            (Counted(rho), Counted(u), Counted(0.1), Counted(-0.2), Counted(p))
        }
        let cell = state(1, 0, 1)
        operations.withLock { $0 = FloatingPointWork() }
        let flux = EulerSweep.hllc(
            Counted(1.4), Counted(0.4), einfeldt: true, EulerSweep.valid(state(1, 0.3, 1), or: cell),
            EulerSweep.valid(state(0.125, -0.1, 0.1), or: cell))
        let counted = operations.withLock { $0 }
        #expect(flux.0.value.isFinite)
        #expect(counted == EulerSweep.einfeldtFaceWork, "\(counted)")
    }

    @Test func theStatedWorkOfTheSplitSweepsSlopesAndPredictorIsWhatTheirCodeDoes() {
        let w = (Counted(1), Counted(0.3), Counted(0.1), Counted(-0.2), Counted(1))
        let below = (Counted(1.2), Counted(0.2), Counted(0), Counted(-0.1), Counted(1.1))
        let above = (Counted(0.9), Counted(0.5), Counted(0.3), Counted(-0.4), Counted(0.8))
        operations.withLock { $0 = FloatingPointWork() }
        let slope = EulerHancockSweep.characteristicSlope(
            VanLeerSlope.self, gamma: Counted(1.4), w, below: below, above: above)
        let slopes = operations.withLock { $0 }
        #expect(slopes == EulerHancockSweep.characteristicWork + 5 * VanLeerSlope.work, "\(slopes)")
        operations.withLock { $0 = FloatingPointWork() }
        let faces = Predictor.predict(gamma: Counted(1.4), half: Counted(0.05), w, slope)
        let predictor = operations.withLock { $0 }
        #expect(faces.0.0.value.isFinite && faces.1.4.value.isFinite)
        #expect(predictor == Predictor.work, "\(predictor)")
    }

    @Test func theStatedWorkOfAWavePropagationFaceIsWhatItsCodeDoes() {
        let left = (Counted(1), Counted(0.3), Counted(0.1), Counted(-0.2), Counted(1))
        let right = (Counted(0.125), Counted(-0.1), Counted(0.2), Counted(0.1), Counted(0.1))
        func conserved(_ w: (Counted, Counted, Counted, Counted, Counted)) -> Five<Counted> {
            let (r, u, v, z, p) = (w.0.value, w.1.value, w.2.value, w.3.value, w.4.value)
            let energy = p / 0.4 + 0.5 * r * (u * u + v * v + z * z)
            return (Counted(r), Counted(energy), Counted(r * u), Counted(r * v), Counted(r * z))
        }
        let (leftState, rightState) = (conserved(left), conserved(right))
        operations.withLock { $0 = FloatingPointWork() }
        let face = EulerWaveSweep.face(
            gamma: Counted(1.4), left: left, right: right, leftState: leftState, rightState: rightState)
        let solved = operations.withLock { $0 }
        #expect(face.flux.0.value.isFinite && face.flux.4.value.isFinite)
        #expect(solved == EulerWaveSweep.faceWork, "\(solved)")
        operations.withLock { $0 = FloatingPointWork() }
        let flux = EulerWaveSweep.corrected(
            MinmodSlope.self, low: face.waves, face: face, high: face.waves, courant: Counted(0.5))
        let corrected = operations.withLock { $0 }
        #expect(flux.0.value.isFinite)
        #expect(corrected == EulerWaveSweep.correctionWork(shears: 2, slope: MinmodSlope.work), "\(corrected)")
        // In 2-D one shear wave: its coefficient alone is left out.
        operations.withLock { $0 = FloatingPointWork() }
        _ = EulerWaveSweep.corrected(
            VanLeerSlope.self, low: face.waves, face: face, high: face.waves, courant: Counted(0.5), shears: 1)
        let planar = operations.withLock { $0 }
        #expect(planar == EulerWaveSweep.correctionWork(shears: 1, slope: VanLeerSlope.work), "\(planar)")
    }

    @Test func aCellUpdateCountsItsPrimitivesFacesAndSums() {
        // 2-D, van Leer: the figures docs/benchmarks.md quotes.
        let work = EulerKernel.work(dimensions: 2, limiter: .vanleer, gravity: false)
        #expect(work.divisions == 2 + 2 * (5 + 8))
        #expect(work.squareRoots == 4)
    }
}
