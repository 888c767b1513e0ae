import Foundation
import Numerics
import Settings
import TestSupport
import Testing

@testable import Burgers
@testable import Engine
@testable import Grid

@Suite struct BurgersTests {
    /// The Burgers update as a cell computes it alone: both faces of every axis for every
    /// component, each reconstructed where it is needed. The kernel computes each face once.
    static func reference(_ state: [Field], box: Box, dt: Double, spacing: [Double], limiter: Limiter)
        -> [[Int: Double]]
    {
        let layout = state[0].layout
        let u = state.map { UnsafePointer($0.base) }
        let d = state.count
        func face(_ f: UnsafePointer<Double>, _ i: Int, _ s: Int) -> (Double, Double) {
            (limiter.face(f, i, s, towards: 1), limiter.face(f, i + s, s, towards: -1))
        }
        func value(_ c: Int, _ a: Int, _ i: Int) -> Double {
            let s = layout.strides[a]
            let (l, r) = face(u[c], i, s)
            if c == a { return 0.25 * (l * l + r * r) - 0.5 * max(abs(l), abs(r)) * (r - l) }
            let (vl, vr) = face(u[a], i, s)
            let v = vl + vr
            return v > 0 ? l : v < 0 ? r : 0.5 * (l + r)
        }
        return (0..<d).map { c in
            var result: [Int: Double] = [:]
            layout.forEachRun(in: box) { offset, length in
                for k in offset..<(offset + length) {
                    var transport = 0.0
                    var laplacian = 0.0
                    for a in 0..<d {
                        let s = layout.strides[a]
                        let difference = value(c, a, k) - value(c, a, k - s)
                        let term = (c == a ? difference : u[a][k] * difference) * (1 / spacing[a])
                        let second = (u[c][k + s] - 2 * u[c][k] + u[c][k - s]) * (1 / (spacing[a] * spacing[a]))
                        (transport, laplacian) = a == 0 ? (term, second) : (transport + term, laplacian + second)
                    }
                    result[k] = u[c][k] - dt * transport + dt * 0.01 * laplacian
                }
            }
            return result
        }
    }

    @Test(arguments: Limiter.allCases)
    func eachFaceOnceGivesTheSameBitsAsEachCellAlone(limiter: Limiter) {
        var generator = SystemRandomNumberGenerator()
        let cases: [(extent: [Int], box: Box)] = [
            ([9], Box(lower: [2], upper: [7])),
            ([7, 6], Box(lower: [0, 0], upper: [7, 6])),
            ([7, 6], Box(lower: [2, 5], upper: [5, 6])),
            ([6, 5, 7], Box(lower: [0, 0, 0], upper: [6, 5, 7])),
            ([6, 5, 7], Box(lower: [1, 2, 0], upper: [5, 3, 7])),
        ]
        for (extent, box) in cases {
            let layout = LocalLayout(owned: Box(extent: extent), ghost: extent.map { _ in 2 })
            let state = extent.indices.map { Field(name: "u\($0)", layout: layout) }
            for field in state {
                for i in 0..<layout.count { field.base[i] = Double.random(in: -1...1, using: &generator) }
            }
            let next = extent.indices.map { Field(name: "v\($0)", layout: layout) }
            let spacing = [0.1, 0.2, 0.05].prefix(extent.count).map { $0 }
            BurgersKernel.update(
                from: state, into: next, box: box, dt: 0.01, spacing: spacing, viscosity: 0.01, limiter: limiter)
            let expected = Self.reference(state, box: box, dt: 0.01, spacing: spacing, limiter: limiter)
            for c in state.indices {
                let mismatched = expected[c].filter { next[c].base[$0.key].bitPattern != $0.value.bitPattern }.count
                #expect(mismatched == 0, "\(extent) \(box) component \(c): \(mismatched) cells differ")
            }
        }
    }

    @Test(arguments: ["ssprk2", "ssprk3"])
    func converges1DAtSecondOrderBeforeTheShock(integrator: String) throws {
        // sin(2πx) steepens into a shock at t = 1/2π ≈ 0.16 without viscosity; stop well before.
        let table: [String: ConfigValue] = [
            "limiter": .string("none"), "integrator": .string(integrator), "viscosity": .double(0.01),
        ]
        let result = try selfConvergence(Burgers.self, table, dimensions: 1, sizes: [128, 256, 512, 1024], time: 0.1)
        for order in result.orders {
            #expect(abs(order - 2) < 0.15, "orders \(result.orders), differences \(result.differences)")
        }
    }

    @Test func converges2DAtSecondOrderBeforeTheShock() throws {
        let table: [String: ConfigValue] = ["limiter": .string("none"), "viscosity": .double(0.01)]
        let result = try selfConvergence(Burgers.self, table, dimensions: 2, sizes: [32, 64, 128], time: 0.05)
        for order in result.orders {
            #expect(abs(order - 2) < 0.15, "orders \(result.orders), differences \(result.differences)")
        }
    }

    @Test(arguments: ["vanleer", "minmod", "mc"])
    func aShockConservesMomentumAndMakesNoNewExtrema(limiter: String) throws {
        let sim = try periodicSimulation(
            Burgers.self, shape: [200], table: ["limiter": .string(limiter), "viscosity": .double(1e-4)])
        let totalBefore = try sim.totals()[0]
        // The sine has zero mean: offset it so the total is not zero, and run past the shock.
        let u = sim.state[0]
        Box(extent: [200]).forEachPoint { u[$0] += 0.5 }
        let before = try sim.totals()[0]
        #expect(abs(totalBefore) < 1e-15 && abs(before - 0.5) < 1e-15)
        // 1000 steps to t = 0.4, well inside the stable step (about 0.0013 at cfl 0.8).
        #expect(try sim.stableTimeStep(cfl: 0.8) > 0.4 / 1000)
        _ = try sim.run(
            try Schedule(steps: 1000, endTime: nil, stableDt: 0.4 / 1000, outputEvery: 1000), output: sim.nullOutput
        ) { _ in }
        #expect(abs(try sim.totals()[0] - before) / before < 1e-12)
        var (low, high) = (Double.infinity, -Double.infinity)
        Box(extent: [200]).forEachPoint {
            low = min(low, u[$0])
            high = max(high, u[$0])
        }
        #expect(low >= -0.5 - 1e-12 && high <= 1.5 + 1e-12, "range \(low)...\(high)")
        // A shock formed: some neighbouring cells differ by far more than the smooth slope 2π h.
        var steepest = 0.0
        for i in 1..<200 { steepest = max(steepest, abs(u[[i]] - u[[i - 1]])) }
        #expect(steepest > 0.3, "steepest jump \(steepest)")
    }

    @Test func theRandomInitialStateDependsOnTheSeedAlone() throws {
        func initial(seed: Int, shape: [Int]) throws -> [Double] {
            let sim = try periodicSimulation(
                Burgers.self, shape: shape, table: ["initial": .string("random"), "seed": .int(seed)])
            var values: [Double] = []
            Box(extent: shape).forEachPoint { values.append(sim.state[1][$0]) }
            return values
        }
        #expect(try initial(seed: 5, shape: [16, 8]) == initial(seed: 5, shape: [16, 8]))
        #expect(try initial(seed: 5, shape: [16, 8]) != initial(seed: 6, shape: [16, 8]))
    }
}
