import Foundation
import Testing

@testable import Advection
@testable import Engine
@testable import Grid
@testable import Heat

/// A one-rank exchange: every message goes to this rank itself (periodic wrap), copied in
/// memory. Lets the driver run in a unit test without MPI.
final class SelfExchange: DomainCommunication {
    let plan: HaloPlan
    var pending: [Field] = []
    init(plan: HaloPlan) { self.plan = plan }
    func beginExchange(_ fields: [Field]) throws { pending = fields }
    func finishExchange() throws {
        for field in pending {
            for message in plan.messages {
                let partner = plan.messages.first { $0.sendTag == message.receiveTag }!
                let buffer = UnsafeMutablePointer<Double>.allocate(capacity: partner.send.count)
                field.pack(partner.send, into: buffer)
                field.unpack(message.receive, from: buffer)
                buffer.deallocate()
            }
        }
        pending = []
    }
    func globalMinimum(_ value: Double) throws -> Double { value }
}

struct NullSink: FrameSink {
    func write(frame index: Int, time: Double, state: [Field]) throws {}
    func finish() throws {}
}

func heat(shape: [Int], periodic: [Bool], table: [String: ConfigValue] = [:]) throws -> (Heat, Geometry, HaloPlan) {
    let d = try Decomposition(shape: shape, dims: shape.map { _ in 1 }, periodic: periodic)
    let plan = try HaloPlan(decomposition: d, rank: 0, ghost: shape.map { _ in 1 })
    let geometry = Geometry(shape: shape, extent: shape.map { _ in 1.0 }, periodic: periodic, layout: plan.layout)
    let model = try Heat(parameters: Parameters(table, specs: Heat.description.parameters), geometry: geometry)
    return (model, geometry, plan)
}

@Suite struct BoundaryTests {
    @Test func dirichletPutsTheValueOnTheFaceAndNeumannMirrors() throws {
        let d = try Decomposition(shape: [4, 3], dims: [1, 1], periodic: [false, false])
        let plan = try HaloPlan(decomposition: d, rank: 0, ghost: [2, 1])
        let field = Field(name: "u", layout: plan.layout)
        for i in 0..<4 { for j in 0..<3 { field[[i, j]] = Double(10 * i + j) } }
        BoundaryFiller(plan: plan, conditions: [.dirichlet(5), .neumann]).apply(to: [field])
        #expect(field[[-1, 1]] == 2 * 5 - field[[0, 1]])
        #expect(field[[-2, 1]] == 2 * 5 - field[[1, 1]])
        #expect(field[[4, 2]] == 2 * 5 - field[[3, 2]])
        #expect(field[[2, -1]] == field[[2, 0]])
        #expect(field[[2, 3]] == field[[2, 2]])
        // Corners take the second axis's rule applied to the first axis's ghosts.
        #expect(field[[-1, -1]] == field[[-1, 0]])
    }
}

@Suite struct SimulationTests {
    @Test(arguments: [[9], [6, 5], [5, 4, 3], [2, 2, 2], [1, 3]])
    func interiorAndShellCoverEveryCellOnce(extent: [Int]) {
        let layout = LocalLayout(owned: Box(extent: extent), ghost: extent.map { _ in 1 })
        let (inner, shell) = Simulation.split(layout, width: 1)
        var seen = [Int](repeating: 0, count: layout.count)
        for box in [inner] + shell { layout.forEachRun(in: box) { o, n in for i in o..<(o + n) { seen[i] += 1 } } }
        var expected = [Int](repeating: 0, count: layout.count)
        layout.forEachRun(in: layout.interior) { o, n in for i in o..<(o + n) { expected[i] = 1 } }
        #expect(seen == expected)
    }

    @Test func splitUpdateIsBitwiseTheWholeBoxUpdate() throws {
        let (model, geometry, plan) = try heat(
            shape: [12, 10, 8], periodic: [true, true, true], table: ["initial": .string("gaussian")])
        let a = Simulation(
            model: model, geometry: geometry, plan: plan, conditions: [.periodic, .periodic, .periodic],
            communication: SelfExchange(plan: plan))
        try a.fillGhosts()
        let whole = Field(name: "w", layout: plan.layout)
        model.update(from: a.state, into: [whole], box: plan.layout.interior, dt: 1e-4, geometry: geometry)
        try a.step(dt: 1e-4)
        var differing = 0
        plan.layout.forEachRun(in: plan.layout.interior) { offset, length in
            for i in offset..<(offset + length) where whole.base[i].bitPattern != a.state[0].base[i].bitPattern {
                differing += 1
            }
        }
        #expect(differing == 0)
    }

    @Test func scheduleReachesEndTimeExactlyWithoutExceedingTheStableStep() {
        let s = Schedule(steps: nil, endTime: 1.0, stableDt: 0.3, outputEvery: 2)
        #expect(s.steps == 4)
        #expect(s.dt == 0.25)
        #expect(s.frameCount == 3)
        let wide = Schedule(steps: nil, endTime: 1.0, stableDt: 0.3, outputEvery: 3)
        #expect(wide.steps == 6 && wide.dt == 1.0 / 6 && wide.frameCount == 3)
    }

    @Test func heatMatchesTheSineSolutionAndConvergesAtSecondOrder() throws {
        var errors: [Double] = []
        for n in [16, 32, 64] {
            let (model, geometry, plan) = try heat(
                shape: [n, n], periodic: [true, false], table: ["modes": .array([.int(1), .int(1)])])
            let sim = Simulation(
                model: model, geometry: geometry, plan: plan, conditions: [.periodic, .dirichlet(0)],
                communication: SelfExchange(plan: plan))
            let schedule = Schedule(
                steps: nil, endTime: 0.02, stableDt: try sim.stableTimeStep(cfl: 0.5), outputEvery: 1)
            _ = try sim.run(schedule, sink: NullSink()) { _ in }
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

@Suite struct ParameterTests {
    @Test func unknownWrongTypeAndOutOfRangeParametersNameTheKey() {
        let specs = Heat.description.parameters
        #expect(throws: ConfigError.self) { try Parameters(["difusivity": .double(1)], specs: specs) }
        do { _ = try Parameters(["diffusivity": .string("x")], specs: specs) } catch {
            #expect(error.key == "model.diffusivity")
            #expect(error.message.contains("number"))
        }
        do { _ = try Parameters(["diffusivity": .double(-1)], specs: specs) } catch {
            #expect(error.key == "model.diffusivity")
        }
        do { _ = try Parameters(["initial": .string("square")], specs: specs) } catch {
            #expect(error.message.contains("\"sine\""))
        }
    }

    @Test func defaultsFillWhatIsNotGiven() throws {
        let p = try Parameters([:], specs: Heat.description.parameters)
        #expect(p.number("diffusivity") == 1)
        #expect(p.string("initial") == "sine")
    }
}

@Suite struct FootprintTests {
    /// Worked by hand: a 10×6 grid over 2×1 ranks, periodic along the second axis only, two
    /// fields, one ghost cell. Rank 0 owns 5×6 cells (7×8 with ghosts) and sends its neighbour
    /// one row of 6 plus two corners, and itself (across the periodic axis) two columns of 5.
    @Test func sizesFollowFromTheDecompositionAlone() throws {
        let decomposition = try Decomposition(shape: [10, 6], dims: [2, 1], periodic: [false, true])
        let halo = (6 + 1 + 1 + 5 + 5) * 2 * 8
        let euler = try Footprint(decomposition: decomposition, ghost: [1, 1], fields: 2)
        let rank = Footprint.Rank(cells: 30, haloBytesPerStep: halo, memoryBytes: 2 * 2 * 7 * 8 * 8 + 2 * halo)
        #expect(euler.ranks == [rank, rank])
        // Three stages: three exchanges a step, and a third copy of the state.
        let footprint = try Footprint(decomposition: decomposition, ghost: [1, 1], fields: 2, stages: 3)
        let staged = Footprint.Rank(cells: 30, haloBytesPerStep: 3 * halo, memoryBytes: 3 * 2 * 7 * 8 * 8 + 2 * halo)
        #expect(footprint.ranks == [staged, staged])
        #expect(footprint.frameBytes == 60 * 2 * 4)
        #expect(footprint.checkpointBytes == 60 * 2 * 8)
    }
}

func advection(shape: [Int], table: [String: ConfigValue]) throws -> (Advection, Geometry, HaloPlan) {
    let periodic = shape.map { _ in true }
    let d = try Decomposition(shape: shape, dims: shape.map { _ in 1 }, periodic: periodic)
    let parameters = try Parameters(table, specs: Advection.description.parameters)
    let probe = Geometry(
        shape: shape, extent: shape.map { _ in 1.0 }, periodic: periodic,
        layout: LocalLayout(owned: Box(extent: shape), ghost: shape.map { _ in 0 }))
    let width = try Advection(parameters: parameters, geometry: probe).stencilWidth
    let plan = try HaloPlan(decomposition: d, rank: 0, ghost: shape.map { _ in width })
    let geometry = Geometry(shape: shape, extent: shape.map { _ in 1.0 }, periodic: periodic, layout: plan.layout)
    return (try Advection(parameters: parameters, geometry: geometry), geometry, plan)
}

@Suite struct AdvectionTests {
    /// The L1 error against the exact solution (the sine carried along) after `time`, on
    /// periodic grids of `sizes` cells per axis, and the observed orders between them.
    func convergence(_ table: [String: ConfigValue], dimensions: Int, sizes: [Int], time: Double) throws
        -> (errors: [Double], orders: [Double])
    {
        var errors: [Double] = []
        for n in sizes {
            let shape = [Int](repeating: n, count: dimensions)
            let (model, geometry, plan) = try advection(shape: shape, table: table)
            let sim = Simulation(
                model: model, geometry: geometry, plan: plan, conditions: shape.map { _ in .periodic },
                communication: SelfExchange(plan: plan))
            let schedule = Schedule(
                steps: nil, endTime: time, stableDt: try sim.stableTimeStep(cfl: 0.8), outputEvery: 1)
            _ = try sim.run(schedule, sink: NullSink()) { _ in }
            var sum = 0.0
            Box(extent: shape).forEachPoint { p in
                let x = p.indices.map { geometry.centre(axis: $0, index: p[$0]) }
                sum += abs(sim.state[0][p] - model.exact(at: x, time: time))
            }
            errors.append(sum / Double(shape.reduce(1, *)))
        }
        return (errors, zip(errors, errors.dropFirst()).map { log2($0 / $1) })
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
        let (model, geometry, plan) = try advection(shape: [48, 40], table: table)
        let sim = Simulation(
            model: model, geometry: geometry, plan: plan, conditions: [.periodic, .periodic],
            communication: SelfExchange(plan: plan))
        func total() -> Double {
            var sum = 0.0
            Box(extent: [48, 40]).forEachPoint { sum += sim.state[0][$0] }
            return sum
        }
        let (before, maximum) = (total(), 1.0)
        _ = try sim.run(
            Schedule(steps: 200, endTime: nil, stableDt: try sim.stableTimeStep(cfl: 0.9), outputEvery: 200),
            sink: NullSink()
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
            _ = try advection(shape: [8], table: ["integrator": .string("euler")])
        } throws: { error in
            "\(error)".contains("muscl with euler is unstable")
        }
    }
}
