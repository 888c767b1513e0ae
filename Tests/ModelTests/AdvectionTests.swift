import Foundation
import Numerics
import Settings
import TestSupport
import Testing

@testable import Advection
@testable import Engine
@testable import Grid

@Suite struct AdvectionTests {
    /// The L1 error against the exact solution (the sine carried along) after `time`, on
    /// periodic grids of `sizes` cells per axis, and the observed orders between them.
    func convergence(_ table: [String: ConfigValue], dimensions: Int, sizes: [Int], time: Double) throws
        -> (errors: [Double], orders: [Double])
    {
        var errors: [Double] = []
        for n in sizes {
            let shape = [Int](repeating: n, count: dimensions)
            let sim = try periodicSimulation(Advection.self, shape: shape, table: table)
            let (model, geometry) = (sim.model as! Advection, sim.geometry)
            let schedule = try Schedule(
                steps: nil, endTime: time, stableDt: try sim.stableTimeStep(cfl: 0.8), outputEvery: 1)
            _ = try sim.run(schedule, output: sim.nullOutput) { _ in }
            var sum = 0.0
            Box(extent: shape).forEachPoint { p in
                let x = p.indices.map { geometry.centre(axis: $0, index: p[$0]) }
                sum += abs(sim.state[0][p] - model.exact(at: x, time: time))
            }
            errors.append(sum / Double(shape.reduce(1, *)))
        }
        return (errors, zip(errors, errors.dropFirst()).map { log2($0 / $1) })
    }

    /// The MUSCL update as a cell computes it alone: both faces across every axis, each
    /// reconstructed where it is needed. The kernel computes each face once.
    static func musclReference(_ u: Field, box: Box, courant c: [Double], limiter: Limiter) -> [Int: Double] {
        var result: [Int: Double] = [:]
        let p = UnsafePointer(u.base)
        u.layout.forEachRun(in: box) { offset, length in
            for k in offset..<(offset + length) {
                var change = 0.0
                for a in c.indices {
                    let s = u.layout.strides[a]
                    let (low, high) =
                        c[a] > 0
                        ? (limiter.face(p, k - s, s, towards: 1), limiter.face(p, k, s, towards: 1))
                        : (limiter.face(p, k, s, towards: -1), limiter.face(p, k + s, s, towards: -1))
                    let term = c[a] * (high - low)
                    change = a == 0 ? term : change + term
                }
                result[k] = p[k] - change
            }
        }
        return result
    }

    @Test(arguments: Limiter.allCases)
    func musclComputesEachFaceOnceWithTheSameBitsAsEachCellAlone(limiter: Limiter) {
        var generator = SystemRandomNumberGenerator()
        let cases: [(extent: [Int], box: Box, courant: [Double])] = [
            ([9], Box(lower: [2], upper: [7]), [0.3]),
            ([7, 6], Box(lower: [0, 0], upper: [7, 6]), [0.3, -0.2]),
            ([7, 6], Box(lower: [2, 5], upper: [5, 6]), [-0.1, 0.25]),
            ([6, 5, 7], Box(lower: [0, 0, 0], upper: [6, 5, 7]), [0.2, -0.15, 0.1]),
            ([6, 5, 7], Box(lower: [1, 2, 0], upper: [5, 3, 7]), [-0.2, 0.15, -0.1]),
            ([6, 5, 7], Box(lower: [0, 0, 6], upper: [6, 5, 7]), [0.2, 0.15, 0.1]),
        ]
        for (extent, box, courant) in cases {
            let layout = LocalLayout(owned: Box(extent: extent), ghost: extent.map { _ in 2 })
            let u = Field(name: "u", layout: layout)
            for i in 0..<layout.count { u.base[i] = Double.random(in: -1...1, using: &generator) }
            let out = Field(name: "out", layout: layout)
            AdvectionKernel.muscl(from: u, into: out, box: box, courant: courant, limiter: limiter)
            let expected = Self.musclReference(u, box: box, courant: courant, limiter: limiter)
            let mismatched = expected.filter { out.base[$0.key].bitPattern != $0.value.bitPattern }.count
            #expect(mismatched == 0, "\(extent) \(box): \(mismatched) of \(expected.count) cells differ")
        }
    }

    @Test func upwindConvergesAtFirstOrder() throws {
        let velocity: ConfigValue = .array([.double(1), .double(-0.5)])
        let result = try convergence(
            ["scheme": .string("upwind"), "velocity": velocity], dimensions: 2, sizes: [64, 128, 256], time: 0.25)
        for order in result.orders {
            #expect(abs(order - 1) < 0.15, "orders \(result.orders), errors \(result.errors)")
        }
    }

    @Test(arguments: ["ssprk2", "ssprk3"])
    func musclConvergesAtSecondOrder(integrator: String) throws {
        let table: [String: ConfigValue] = [
            "scheme": .string("muscl"), "limiter": .string("none"), "integrator": .string(integrator),
            "velocity": .array([.double(1)]),
        ]
        let result = try convergence(table, dimensions: 1, sizes: [32, 64, 128, 256], time: 0.5)
        for order in result.orders {
            #expect(abs(order - 2) < 0.15, "orders \(result.orders), errors \(result.errors)")
        }
    }

    @Test(arguments: ["vanleer", "minmod", "mc"])
    func limitedMusclBeatsUpwindAndConservesMass(limiter: String) throws {
        let table: [String: ConfigValue] = [
            "limiter": .string(limiter), "initial": .string("gaussian"),
            "velocity": .array([.double(0.7), .double(0.3)]),
        ]
        let sim = try periodicSimulation(Advection.self, shape: [48, 40], table: table)
        func total() -> Double {
            var sum = 0.0
            Box(extent: [48, 40]).forEachPoint { sum += sim.state[0][$0] }
            return sum
        }
        let (before, maximum) = (total(), 1.0)
        _ = try sim.run(
            try Schedule(steps: 200, endTime: nil, stableDt: try sim.stableTimeStep(cfl: 0.9), outputEvery: 200),
            output: sim.nullOutput
        ) { _ in }
        #expect(abs(total() - before) / abs(before) < 1e-12)
        // Limited slopes make no new extrema: the peak never grows, nothing goes negative.
        var (low, high) = (Double.infinity, -Double.infinity)
        Box(extent: [48, 40]).forEachPoint {
            low = min(low, sim.state[0][$0])
            high = max(high, sim.state[0][$0])
        }
        #expect(high <= maximum && low >= 0, "range \(low)...\(high)")
    }

    @Test func musclWithEulerIsRefusedWithTheReason() throws {
        #expect {
            _ = try periodicSimulation(Advection.self, shape: [8], table: ["integrator": .string("euler")])
        } throws: { error in
            "\(error)".contains("muscl with euler is unstable")
        }
    }
}
