import Foundation
import Numerics
import Settings
import TestSupport
import Testing

@testable import Engine
@testable import Grid
@testable import Heat

@Suite struct HeatTests {
    @Test func heatMatchesTheSineSolutionAndConvergesAtSecondOrder() throws {
        var errors: [Double] = []
        for n in [16, 32, 64] {
            let (model, geometry, plan) = try heat(
                shape: [n, n], periodic: [true, false], table: ["modes": .array([.int(1), .int(1)])])
            let sim = Simulation(
                model: model, geometry: geometry, plan: plan, conditions: [.periodic, .dirichlet(0)],
                communication: SelfExchange(plan: plan))
            let schedule = try Schedule(
                steps: nil, endTime: 0.02, stableDt: try sim.stableTimeStep(cfl: 0.5), outputEvery: 1)
            _ = try sim.run(schedule, output: sim.nullOutput) { _ in }
            var sum = 0.0
            for i in 0..<n {
                for j in 0..<n {
                    let exact = model.exact(
                        at: [geometry.centre(axis: 0, index: i), geometry.centre(axis: 1, index: j)], time: 0.02)
                    sum += pow(sim.state[0][[i, j]] - exact, 2)
                }
            }
            errors.append((sum / Double(n * n)).squareRoot())
        }
        let orders = zip(errors, errors.dropFirst()).map { log2($0 / $1) }
        #expect(errors[0] < 1e-2)
        for order in orders { #expect(abs(order - 2) < 0.1, "observed orders \(orders), errors \(errors)") }
    }
}
