import Foundation
import Numerics
import Settings
import TestSupport
import Testing

@testable import Engine
@testable import GrayScott
@testable import Grid

@Suite struct GrayScottTests {
    @Test func patternsSetFeedAndKillAndTheConfigOverridesThem() throws {
        let maze = try periodicSimulation(GrayScott.self, shape: [8, 8], table: ["pattern": .string("maze")])
        let model = try #require(maze.model as? GrayScott)
        #expect(model.feed == 0.029 && model.kill == 0.057)
        let custom = try periodicSimulation(
            GrayScott.self, shape: [8, 8], table: ["pattern": .string("maze"), "kill": .double(0.06)])
        #expect((custom.model as? GrayScott)?.kill == 0.06 && (custom.model as? GrayScott)?.feed == 0.029)
    }

    @Test func theTrivialStateIsAFixedPointAndOneCellReactsAsTheEquationsSay() throws {
        let sim = try periodicSimulation(
            GrayScott.self, shape: [6, 5],
            table: ["initial": .string("spots"), "seeds": .int(1), "width": .double(1e-9)])
        let (a, b) = (sim.state[0], sim.state[1])
        Box(extent: [6, 5]).forEachPoint {
            a[$0] = 1
            b[$0] = 0
        }
        b[[3, 2]] = 0.5
        let model = try #require(sim.model as? GrayScott)
        let dt = 0.1
        try sim.step(dt: dt)
        // Far from the B cell nothing changes: A = 1, B = 0 is a fixed point.
        #expect(sim.state[0][[0, 0]] == 1 && sim.state[1][[0, 0]] == 0)
        // At the B cell: reaction and decay by hand, plus diffusion towards four empty neighbours.
        let h = 1.0 / 6
        let k = 1.0 / 5
        let diffusion = 0.5 * (-2 / (h * h) - 2 / (k * k)) * model.diffusivity.b
        let expected = 0.5 + dt * (diffusion + 1 * 0.25 - (model.feed + model.kill) * 0.5)
        #expect(abs(sim.state[1][[3, 2]] - expected) < 1e-14)
        #expect(abs(sim.state[0][[3, 2]] - (1 - dt * 0.25)) < 1e-14)
    }
}
