import Foundation
import Numerics
import Settings
import TestSupport
import Testing

@testable import Adjoint
@testable import Engine
@testable import Grid
@testable import Wave

@Suite struct WaveTests {
    /// The L1 error of a standing wave against the exact `cos(c|k|t) Π sin(k x)`.
    @Test func aStandingWaveConvergesAtSecondOrder() throws {
        var errors: [Double] = []
        for n in [32, 64, 128, 256] {
            let shape = [n, n]
            let sim = try periodicSimulation(
                Wave.self, shape: shape,
                table: ["initial": .string("standing"), "velocity": .double(1.3), "modes": .array([.int(1), .int(2)])])
            let model = try #require(sim.model as? Wave)
            let schedule = try Schedule(
                steps: nil, endTime: 0.7, stableDt: try sim.stableTimeStep(cfl: 0.5), outputEvery: 1)
            _ = try sim.run(schedule, output: sim.nullOutput) { _ in }
            var sum = 0.0
            Box(extent: shape).forEachPoint { p in
                let x = p.indices.map { sim.geometry.centre(axis: $0, index: p[$0]) }
                sum += abs(sim.state[0][p] - model.exact(at: x, time: 0.7))
            }
            errors.append(sum / Double(n * n))
        }
        let orders = zip(errors, errors.dropFirst()).map { log2($0 / $1) }
        for order in orders { #expect(abs(order - 2) < 0.15, "orders \(orders), errors \(errors)") }
    }

    @Test func theRickerWaveletPeaksAtItsDelay() throws {
        let sim = try periodicSimulation(
            Wave.self, shape: [20], table: ["source": .array([.double(0.5)]), "frequency": .double(4)])
        let model = try #require(sim.model as? Wave)
        #expect(model.wavelet(at: 0.25) == 1)
        // Its zeros lie at τ = ±1/(√2 π f).
        #expect(abs(model.wavelet(at: 0.25 + 1 / (2.0.squareRoot() * .pi * 4))) < 1e-15)
    }

    @Test func badPositionsAndVelocitiesAreRefusedWithTheReason() throws {
        func refuses(_ table: [String: ConfigValue], _ message: String) {
            #expect {
                _ = try periodicSimulation(Wave.self, shape: [10, 10], table: table)
            } throws: { "\($0)".contains(message) }
        }
        refuses(["source": .array([.double(0.5), .double(1.5)])], "lies outside the domain")
        refuses(["source": .array([.double(0.5)])], "needs one coordinate per axis (2)")
        refuses(["anomaly": .double(-2)], "makes the velocity negative")
        refuses(["receivers": .int(3)], "needs receiver_start and receiver_end")
    }
}

@Suite struct WaveAdjointTests {
    /// A small shot between absorbing and reflecting walls, one axis periodic.
    static func run(slots: Int = 1000, steps: Int = 60) throws -> AdjointRun {
        let simulation = try singleBlockSimulation(
            Wave.self, shape: [24, 20], conditions: [.dirichlet(0), .periodic],
            table: [
                "velocity": .double(1.5), "anomaly": .double(0.4), "anomaly_width": .double(0.15),
                "source": .array([.double(0.3), .double(0.5)]), "frequency": .double(8), "receivers": .int(7),
                "receiver_start": .array([.double(0.8), .double(0.1)]),
                "receiver_end": .array([.double(0.8), .double(0.9)]), "sponge": .int(4),
                "initial": .string("gaussian"), "amplitude": .double(0.3),
            ])
        let dt = try simulation.stableTimeStep(cfl: 0.9)
        return AdjointRun(simulation: simulation, steps: steps, dt: dt, slots: slots)
    }

    @Test func theExchangeStepAndWholeRunMatchTheirAdjoints() throws {
        let run = try Self.run()
        for check in [
            try run.exchangeDotProduct(seed: 1), try run.stepDotProduct(seed: 2), try run.linearisedDotProduct(seed: 3),
        ] {
            #expect(check.mismatch < 1e-12, "⟨Ax, y⟩ = \(check.forward), ⟨x, Aᵀy⟩ = \(check.adjoint)")
            #expect(check.forward != 0)
        }
    }

    @Test func theGradientPassesTheTaylorTest() throws {
        let run = try Self.run()
        let observed = run.receivers.map { _ in [Double](repeating: 0, count: run.steps + 1) }
        let taylor = try run.taylor(observed: observed, seed: 7)
        #expect(abs(taylor.firstSlope - 1) < 0.1, "\(taylor.first)")
        #expect(abs(taylor.secondSlope - 2) < 0.1, "\(taylor.second)")
    }

    @Test func theGradientIsTheSameBitsWhateverTheMemory() throws {
        let reference = try Self.run(slots: 1000)
        let observed = reference.receivers.map { _ in [Double](repeating: 0.01, count: reference.steps + 1) }
        let all = try reference.misfitGradient(observed: observed)
        for slots in [1, 2, 5] {
            let run = try Self.run(slots: slots)
            let few = try run.misfitGradient(observed: observed)
            #expect(few.misfit.bitPattern == all.misfit.bitPattern)
            let layout = run.geometry.layout
            var same = true
            layout.forEachRun(in: layout.interior) { offset, length in
                for k in offset..<(offset + length)
                where few.gradient[0].base[k].bitPattern != all.gradient[0].base[k].bitPattern {
                    same = false
                }
            }
            #expect(same, "slots \(slots)")
            #expect(run.counts.forward > reference.counts.forward)
        }
    }

    /// Temporal blocking for the wave (``Simulation/advance(steps:dt:after:)``) gives the bits of
    /// steps one by one: two components, coefficient arrays, a point source beside a
    /// reflecting wall, and receivers recorded inside the sweep.
    @Test(arguments: [[3, 1, 1], [4, 2, 1], [6, 5, 1]])
    func tiledWaveSweepsGiveTheBitsOfStepsOneByOne(setting: [Int]) throws {
        let (depth, tiling) = (setting[0], Tiling(slab: setting[1], width: setting[2]))
        let conditions: [BoundaryCondition] = [.reflecting, .dirichlet(0)]
        let table: [String: ConfigValue] = [
            "source": .array([.double(0.05), .double(0.5)]), "frequency": .double(6), "anomaly": .double(0.4),
            "receivers": .int(4), "receiver_start": .array([.double(0.0), .double(0.1)]),
            "receiver_end": .array([.double(0.95), .double(0.9)]), "sponge": .int(3),
        ]
        let shape = [17, 13]
        let plain = try singleBlockSimulation(Wave.self, shape: shape, conditions: conditions, table: table)
        let tiled = try singleBlockSimulation(
            Wave.self, shape: shape, conditions: conditions, table: table, haloDepth: depth, tiling: tiling)
        let schedule = try Schedule(steps: 30, endTime: nil, stableDt: plain.stableTimeStep(cfl: 0.9), outputEvery: 7)
        let (first, second) = (RecordingWriter(), RecordingWriter())
        _ = try plain.run(schedule, output: plain.output(to: first)) { _ in }
        _ = try tiled.run(schedule, output: tiled.output(to: second)) { _ in }
        #expect(tiled.exchanges < plain.exchanges)
        #expect(first.frames.count == 5 && first.frames == second.frames)
        #expect(first.traces.count == 31 * 4 && first.traces == second.traces)
        #expect(Set(first.traces).count > 40)
    }

    /// With ghost zones one cell deep a step exchanges and fills p's ghosts alone: p⁻'s are
    /// never read, so ghosts of p⁻ set to NaN before every step (exchanged ghosts, and the
    /// walls') change no bit. Deeper halos update ghost cells too, from p⁻ there, and exchange
    /// both levels.
    @Test func aStepExchangesAndFillsTheGhostsOfPAlone() throws {
        let table: [String: ConfigValue] = [
            "source": .array([.double(0.3), .double(0.4)]), "frequency": .double(6), "sponge": .int(2),
        ]
        let conditions: [BoundaryCondition] = [.periodic, .dirichlet(0)]
        func run(poisoned: Bool, depth: Int = 1) throws -> (bits: [UInt64], exchanged: [[String]]) {
            let simulation = try singleBlockSimulation(
                Wave.self, shape: [11, 9], conditions: conditions, table: table, haloDepth: depth)
            let dt = try simulation.stableTimeStep(cfl: 0.9)
            try simulation.fillGhosts()
            for step in 0..<12 {
                if poisoned {
                    let older = simulation.state[1]
                    older.layout.whole.forEachPoint { point in
                        if !older.layout.interior.contains(point) { older[point] = .nan }
                    }
                }
                try simulation.step(dt: dt, time: Double(step) * dt)
            }
            var bits: [UInt64] = []
            for field in simulation.state { field.layout.interior.forEachPoint { bits.append(field[$0].bitPattern) } }
            return (bits, (simulation.communication as! SelfExchange).exchanged)
        }
        let plain = try run(poisoned: false)
        let poisoned = try run(poisoned: true)
        #expect(plain.bits == poisoned.bits)
        #expect(Set(plain.bits).count > 50)
        // The first exchange is the initial fill of every ghost.
        #expect(poisoned.exchanged.count == 13 && Set(poisoned.exchanged.dropFirst()) == [["pressure"]])
        // The state's exchanges (the medium's, which deep halos also need, aside).
        let deep = try run(poisoned: false, depth: 2).exchanged.filter { $0.contains("pressure") }
        #expect(deep.count == 7 && Set(deep) == [["pressure", "pressure_previous"]])
    }

    /// The update in place (p⁺ over p⁻, `next` the state rotated) gives the bits of the update
    /// into arrays of their own, and leaves p where it was.
    @Test(arguments: [[9], [7, 6], [6, 5, 4]])
    func theUpdateInPlaceGivesTheBitsOfOneIntoSeparateArrays(shape: [Int]) {
        let layout = LocalLayout(owned: Box(extent: shape), ghost: shape.map { _ in 1 })
        var generator = SeededGenerator(seed: 7)
        func random(_ name: String, _ range: ClosedRange<Double>) -> Field {
            let field = Field(name: name, layout: layout)
            for i in 0..<layout.count { field.base[i] = generator.uniform(in: range) }
            return field
        }
        let (p, previous) = (random("pressure", -1...1), random("pressure_previous", -1...1))
        let (scale, carry) = (random("scale", 0...0.1), random("carry", 0.5...1))
        let spacing = shape.map { 1 / Double($0) }
        let separate = [Field(name: "pressure", layout: layout), Field(name: "pressure_previous", layout: layout)]
        WaveKernel.update(
            from: [p, previous], into: separate, box: layout.interior, spacing: spacing, scale: scale, carry: carry)
        let before = Array(p.storage)
        let rotated = [Field(name: "pressure", sharing: previous), Field(name: "pressure_previous", sharing: p)]
        WaveKernel.update(
            from: [p, previous], into: rotated, box: layout.interior, spacing: spacing, scale: scale, carry: carry)
        layout.interior.forEachPoint { point in
            #expect(rotated[0][point].bitPattern == separate[0][point].bitPattern)
            #expect(rotated[1][point].bitPattern == separate[1][point].bitPattern)
        }
        #expect(Array(p.storage) == before)
    }

    /// A wave run holds its state once: the next state is the current one's memory, the
    /// restart's scratch is memory of its own, and frames handed to overlapped output while
    /// the steps overwrite the state are the frames of output between steps.
    @Test func aRunInPlaceWithOverlappedOutputGivesTheFramesOfOutputBetweenSteps() throws {
        let table: [String: ConfigValue] = [
            "source": .array([.double(0.3), .double(0.4), .double(0.5)]), "frequency": .double(6),
            "receivers": .int(3), "receiver_start": .array([.double(0.1), .double(0.1), .double(0.1)]),
            "receiver_end": .array([.double(0.9), .double(0.9), .double(0.9)]),
        ]
        let conditions: [BoundaryCondition] = [.dirichlet(0), .reflecting, .neumann]
        var recorded: [RecordingWriter] = []
        for (mode, depth) in [(FrameOutput.Mode.synchronous, 1), (.overlapped, 1), (.overlapped, 3)] {
            let simulation = try singleBlockSimulation(
                Wave.self, shape: [12, 10, 9], conditions: conditions, table: table, haloDepth: depth,
                tiling: depth > 1 ? Tiling(slab: 2, width: 3) : nil)
            #expect(!simulation.state.contains { $0.base == simulation.scratch.base })
            let schedule = try Schedule(
                steps: 24, endTime: nil, stableDt: simulation.stableTimeStep(cfl: 0.9), outputEvery: 4)
            let writer = RecordingWriter()
            let output = FrameOutput(
                writer: writer, statistics: simulation.statistics, reductions: simulation.communication, mode: mode)
            _ = try simulation.run(schedule, output: output) { _ in }
            recorded.append(writer)
        }
        #expect(recorded[0].frames.count == 7 && Set(recorded[0].frames).count == 7)
        for writer in recorded.dropFirst() {
            #expect(writer.frames == recorded[0].frames)
            #expect(writer.traces == recorded[0].traces)
        }
    }
}
