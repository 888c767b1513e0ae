import Foundation
import Numerics
import Settings
import TestSupport
import Testing

@testable import Engine
@testable import Euler
@testable import Grid

@Suite struct EulerHancockTests {
    /// A split sweep along `axis` as each cell computes it alone, one value at a time: the
    /// face states of its neighbours and itself, the fluxes of its two faces, the update.
    static func reference<Slope: SlopeLimiter>(
        _: Slope.Type, _ state: [Field], box: Box, axis: Int, dt: Double, spacing: [Double], gravity: [Double]
    ) -> [[Int: Double]] {
        let layout = state[0].layout
        let d = layout.strides.count
        let s = layout.strides[axis]
        let gamma = 1.4
        let tangential = (0..<3).filter { $0 != axis }
        /// Cell `k`'s primitives with the velocity rotated so that `axis` comes first.
        func primitives(_ k: Int) -> (Double, Double, Double, Double, Double) {
            let r = state[0].base[k]
            let u = (0..<3).map { a in a < d ? state[2 + a].base[k] / r : 0 }
            let p = (gamma - 1) * (state[1].base[k] - 0.5 * r * (u[0] * u[0] + u[1] * u[1] + u[2] * u[2]))
            return (r, u[axis], u[tangential[0]], u[tangential[1]], p)
        }
        func faces(_ k: Int) -> (
            lower: (Double, Double, Double, Double, Double), upper: (Double, Double, Double, Double, Double)
        ) {
            let slope = EulerHancockSweep.characteristicSlope(
                Slope.self, gamma: gamma, primitives(k), below: primitives(k - s), above: primitives(k + s))
            return Predictor.predict(gamma: gamma, half: 0.5 * dt / spacing[axis], primitives(k), slope)
        }
        /// The flux of the face between cells `k` and `k + s`, unrotated: density, energy, momenta.
        func flux(_ k: Int) -> [Double] {
            let f = EulerSweep.hllc(
                gamma, gamma - 1, einfeldt: true, EulerSweep.valid(faces(k).upper, or: primitives(k)),
                EulerSweep.valid(faces(k + s).lower, or: primitives(k + s)))
            var unrotated = [Double](repeating: 0, count: 5)
            for (value, q) in zip([f.0, f.1, f.2, f.3, f.4], [0, 1, 2 + axis, 2 + tangential[0], 2 + tangential[1]]) {
                unrotated[q] = value
            }
            return unrotated
        }
        let factor = dt / spacing[axis]
        return (0..<(2 + d)).map { q in
            var result: [Int: Double] = [:]
            layout.forEachRun(in: box) { offset, length in
                for k in offset..<(offset + length) {
                    var value = state[q].base[k] - factor * (flux(k)[q] - flux(k - s)[q])
                    if axis < gravity.count && gravity[axis] != 0 {
                        if q == 2 + axis { value += dt * state[0].base[k] * gravity[axis] }
                        if q == 1 { value += dt * state[2 + axis].base[k] * gravity[axis] }
                    }
                    result[k] = value
                }
            }
            return result
        }
    }

    @Test(arguments: Limiter.allCases)
    func eachFaceOnceFourAtATimeGivesTheSameBitsAsEachCellAlone(limiter: Limiter) {
        switch limiter {
        case .vanleer: check(limiter, VanLeerSlope.self)
        case .minmod: check(limiter, MinmodSlope.self)
        case .mc: check(limiter, MCSlope.self)
        case .none: check(limiter, CentralSlope.self)
        }
    }

    private func check<Slope: SlopeLimiter>(_ limiter: Limiter, _: Slope.Type) {
        for (extent, box, gravity) in EulerKernelTests.cases {
            let d = extent.count
            let (layout, state) = EulerKernelTests.randomState(extent: extent)
            let spacing = [0.1, 0.2, 0.05].prefix(d).map { $0 }
            for axis in 0..<d {
                let next = state.map { Field(name: $0.name, layout: layout) }
                let primitives = (0..<5).map { Field(name: "primitive\($0)", layout: layout) }
                EulerKernel(gamma: 1.4, limiter: limiter, gravity: gravity).sweep(
                    axis: axis, from: state, into: next, box: box, dt: 0.01, spacing: spacing, primitives: primitives)
                let expected = Self.reference(
                    Slope.self, state, box: box, axis: axis, dt: 0.01, spacing: spacing, gravity: gravity)
                for q in state.indices {
                    let mismatched = expected[q].filter { next[q].base[$0.key].bitPattern != $0.value.bitPattern }
                    #expect(
                        mismatched.isEmpty,
                        "\(limiter) \(extent) \(box) axis \(axis) component \(q): \(mismatched.count) cells differ")
                }
            }
        }
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
