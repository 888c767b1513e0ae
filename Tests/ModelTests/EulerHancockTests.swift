import Foundation
import Numerics
import Settings
import TestSupport
import Testing

@testable import Engine
@testable import Euler
@testable import Grid

@Suite struct EulerHancockTests: SplitSweepReference {
    /// A split sweep along `axis` as each cell computes it alone, one value at a time: the
    /// face states of its neighbours and itself, the fluxes of its two faces, the update.
    static func reference<Slope: SlopeLimiter>(_: Slope.Type) -> SplitSweepCheck.Reference {
        { state, box, axis, dt, spacing, gravity in
            let d = state[0].layout.strides.count
            let s = state[0].layout.strides[axis]
            let gamma = 1.4
            let tangential = (0..<3).filter { $0 != axis }
            /// Cell `k`'s primitives with the velocity rotated so that `axis` comes first.
            func primitives(_ k: Int) -> Five<Double> {
                let r = state[0].base[k]
                let u = (0..<3).map { a in a < d ? state[2 + a].base[k] / r : 0 }
                let p = (gamma - 1) * (state[1].base[k] - 0.5 * r * (u[0] * u[0] + u[1] * u[1] + u[2] * u[2]))
                return (r, u[axis], u[tangential[0]], u[tangential[1]], p)
            }
            func faces(_ k: Int) -> (lower: Five<Double>, upper: Five<Double>) {
                let slope = EulerHancockSweep.characteristicSlope(
                    Slope.self, gamma: gamma, primitives(k), below: primitives(k - s), above: primitives(k + s))
                return Predictor.predict(gamma: gamma, half: 0.5 * dt / spacing[axis], primitives(k), slope)
            }
            return SplitSweepCheck.update(state, box: box, axis: axis, dt: dt, spacing: spacing, gravity: gravity) {
                k in
                let f = EulerSweep.hllc(
                    gamma, gamma - 1, einfeldt: true, EulerSweep.valid(faces(k).upper, or: primitives(k)),
                    EulerSweep.valid(faces(k + s).lower, or: primitives(k + s)))
                return SplitSweepCheck.unrotated(f, axis: axis)
            }
        }
    }

    @Test(arguments: Limiter.allCases)
    func eachFaceOnceFourAtATimeGivesTheSameBitsAsEachCellAlone(limiter: Limiter) {
        // Beyond the kernel tests' cases: boxes the sweep cuts into pieces
        // (``EulerHancockSweep/pieceCells``), along a row in 1-D and 2-D, across in 2-D, across
        // the first axis's cross-section in 3-D.
        let long: [(extent: [Int], box: Box, gravity: [Double])] = [
            ([2100], Box(lower: [1], upper: [2099]), [0]),
            ([3, 1100], Box(lower: [0, 2], upper: [3, 1099]), [0.5, 0]),
            ([2, 40, 30], Box(lower: [0, 0, 1], upper: [2, 40, 30]), [0, 0, -1]),
        ]
        SplitSweepCheck.expectSameBits(
            Self.self, limiter: limiter, waves: false, cut: long, pieceCells: EulerHancockSweep.pieceCells)
    }

    @Test(arguments: ["split", "wave_propagation"])
    func aSmoothWaveConvergesAtSecondOrderWithTheSplitSteps(integrator: String) throws {
        // An entropy wave carried diagonally through a periodic box, ρ = 1 + ½ sin 2π(x + y) with
        // u = (1, ½) and p = 1, is the initial state moved by u t: the sweeps commute, so the
        // split step keeps second order: MUSCL-Hancock's, and wave propagation's with the
        // unlimited waves (Fromm's method).
        var errors: [Double] = []
        for n in [16, 32, 64] {
            let sim = try periodicSimulation(
                Euler.self, shape: [n, n],
                table: ["initial": .string("uniform"), "limiter": .string("none"), "integrator": .string(integrator)])
            #expect(sim.model.stages.count == 2)
            let velocity = (1.0, 0.5)
            func density(_ x: Double, _ y: Double) -> Double { 1 + 0.5 * sin(2 * Double.pi * (x + y)) }
            let box = Box(extent: [n, n])
            let centre = { (i: Int) in (Double(i) + 0.5) / Double(n) }
            box.forEachPoint { p in
                let rho = density(centre(p[0]), centre(p[1]))
                sim.state[0][p] = rho
                sim.state[2][p] = rho * velocity.0
                sim.state[3][p] = rho * velocity.1
                sim.state[1][p] = 1 / 0.4 + 0.5 * rho * (velocity.0 * velocity.0 + velocity.1 * velocity.1)
            }
            let time = 0.25
            let schedule = try Schedule(
                steps: nil, endTime: time, stableDt: try sim.stableTimeStep(cfl: 0.9), outputEvery: 1)
            _ = try sim.run(schedule, output: sim.nullOutput) { _ in }
            var error = 0.0
            box.forEachPoint { p in
                let exact = density(centre(p[0]) - velocity.0 * time, centre(p[1]) - velocity.1 * time)
                error += abs(sim.state[0][p] - exact)
            }
            errors.append(error / Double(box.count))
        }
        let orders = zip(errors, errors.dropFirst()).map { log2($0 / $1) }
        for order in orders { #expect(abs(order - 2) < 0.2, "\(integrator): orders \(orders), errors \(errors)") }
    }

    @Test func theSplitStableStepIsTheFastestAxisAtACourantNumberOfOne() throws {
        let sim = try periodicSimulation(Euler.self, shape: [10, 20], table: ["initial": .string("uniform")])
        // At rest with ρ = p = 1 the sound speed is √1.4 on both axes; the y spacing is half.
        // (A fixed step leaves room for waves `speedup` = 2 times faster.)
        let split = try sim.stableTimeStep(cfl: 1)
        #expect(abs(split - (1.0 / 20) / 1.4.squareRoot() / 2) < 1e-15)
        let unsplit = try periodicSimulation(
            Euler.self, shape: [10, 20], table: ["initial": .string("uniform"), "integrator": .string("ssprk2")])
        #expect(abs(try unsplit.stableTimeStep(cfl: 1) - 0.5 / (1.4.squareRoot() * 30) / 2) < 1e-15)
    }
}
