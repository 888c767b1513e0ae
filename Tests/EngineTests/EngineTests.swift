import Foundation
import Testing

@testable import Advection
@testable import Burgers
@testable import Engine
@testable import GrayScott
@testable import Grid
@testable import Heat
@testable import Wave

/// A one-rank exchange: every message goes to this rank itself (periodic wrap), copied in
/// memory. Lets the driver run in a unit test without MPI.
final class SelfExchange: DomainCommunication {
    let plan: HaloPlan
    var pending: [Field] = []
    init(plan: HaloPlan) { self.plan = plan }
    /// Every ghost is filled in finishExchange, as if every neighbour were another rank.
    var lateFaces: [(low: Bool, high: Bool)] { plan.layout.extent.map { _ in (true, true) } }
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
    func reverseExchange(_ fields: [Field]) throws {
        for field in fields {
            for message in plan.messages {
                let partner = plan.messages.first { $0.sendTag == message.receiveTag }!
                let buffer = UnsafeMutablePointer<Double>.allocate(capacity: message.receive.count)
                field.pack(message.receive, into: buffer)
                field.zero(message.receive)
                field.accumulate(partner.send, from: buffer)
                buffer.deallocate()
            }
        }
    }
    func globalMinimum(_ value: Double) throws -> Double { value }
    func globalMaximum(_ values: [Double]) throws -> [Double] { values }
    func globalSum(_ values: [Double]) throws -> [Double] { values }
}

/// Keeps no frame: for runs whose output a test does not read.
final class NullWriter: FrameWriter {
    let precision = FramePrecision.single
    func write(frame index: Int, time: Double, staged: StagedFrame, totals: [Double]) throws {}
    func finish() throws {}
}

extension Simulation {
    /// Output that stages every frame between steps, checks it and drops it.
    var nullOutput: FrameOutput {
        FrameOutput(writer: NullWriter(), statistics: statistics, reductions: communication, mode: .synchronous)
    }
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

    @Test func aReflectingWallFlipsOnlyTheVelocityComponentNormalToIt() throws {
        let d = try Decomposition(shape: [4, 3], dims: [1, 1], periodic: [false, false])
        let plan = try HaloPlan(decomposition: d, rank: 0, ghost: [2, 2])
        let fields = ["rho", "u_x", "u_y"].map { Field(name: $0, layout: plan.layout) }
        for (n, field) in fields.enumerated() {
            for i in 0..<4 { for j in 0..<3 { field[[i, j]] = Double(100 * n + 10 * i + j + 1) } }
        }
        // u_x (field 1) is normal to the walls across axis 0, u_y (field 2) to those across axis 1.
        BoundaryFiller(plan: plan, conditions: [.reflecting, .reflecting], normal: [[1], [2]]).apply(to: fields)
        let (rho, ux, uy) = (fields[0], fields[1], fields[2])
        #expect(rho[[-2, 1]] == rho[[1, 1]] && rho[[2, 4]] == rho[[2, 1]])
        #expect(ux[[-1, 1]] == -ux[[0, 1]] && ux[[5, 2]] == -ux[[2, 2]])
        #expect(ux[[1, -1]] == ux[[1, 0]])
        #expect(uy[[1, -2]] == -uy[[1, 1]] && uy[[-1, 1]] == uy[[0, 1]])
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

    @Test func onlyLateFacesAreHeldBackFromTheInterior() {
        let layout = LocalLayout(owned: Box(extent: [8, 7, 6]), ghost: [2, 2, 2])
        let (inner, shell) = Simulation.split(
            layout, width: 2, late: [(low: true, high: false), (low: false, high: false), (low: false, high: true)])
        #expect(inner == Box(lower: [2, 0, 0], upper: [8, 7, 4]))
        var seen = [Int](repeating: 0, count: layout.count)
        for box in [inner] + shell { layout.forEachRun(in: box) { o, n in for i in o..<(o + n) { seen[i] += 1 } } }
        var expected = [Int](repeating: 0, count: layout.count)
        layout.forEachRun(in: layout.interior) { o, n in for i in o..<(o + n) { expected[i] = 1 } }
        #expect(seen == expected)
        // Nothing late: one sweep over every owned cell.
        let (whole, none) = Simulation.split(layout, width: 2, late: [(false, false), (false, false), (false, false)])
        #expect(whole == layout.interior && none.isEmpty)
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
    /// Each frame it writes 30 cells of two float32 components, and it holds two such frames.
    @Test func sizesFollowFromTheDecompositionAlone() throws {
        let decomposition = try Decomposition(shape: [10, 6], dims: [2, 1], periodic: [false, true])
        let halo = (6 + 1 + 1 + 5 + 5) * 2 * 8
        let frame = 30 * 2 * 4
        let euler = try Footprint(decomposition: decomposition, ghost: [1, 1], fields: 2)
        let rank = Footprint.Rank(
            cells: 30, haloBytesPerStep: halo, memoryBytes: 2 * 2 * 7 * 8 * 8 + 2 * halo + 2 * frame,
            frameBytes: frame, outputBufferBytes: 2 * frame)
        #expect(euler.ranks == [rank, rank])
        // Three stages: three exchanges a step, and a third copy of the state. Output between
        // steps: one frame buffer. One of the two fields written.
        let footprint = try Footprint(
            decomposition: decomposition, ghost: [1, 1], fields: 2, stages: 3, outputs: 1, frameBuffers: 1)
        let staged = Footprint.Rank(
            cells: 30, haloBytesPerStep: 3 * halo, memoryBytes: 3 * 2 * 7 * 8 * 8 + 2 * halo + frame / 2,
            frameBytes: frame / 2, outputBufferBytes: frame / 2)
        #expect(footprint.ranks == [staged, staged])
        #expect(footprint.frameBytes == 60 * 1 * 4)
        #expect(footprint.checkpointBytes == 60 * 2 * 8)
    }
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
            let sim = try periodicSimulation(Advection.self, shape: shape, table: table)
            let (model, geometry) = (sim.model as! Advection, sim.geometry)
            let schedule = Schedule(
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

    @Test(arguments: [
        Box(lower: [3], upper: [8]), Box(lower: [1, 2], upper: [5, 7]), Box(lower: [0, 1, 2], upper: [4, 5, 6]),
        Box(lower: [2, 0, 3], upper: [3, 5, 4]),
    ])
    func faceSweepCarriesEachRowsSlotToTheNextRowAlongEveryAxis(box: Box) {
        let layout = LocalLayout(owned: Box(extent: [9, 9, 9].prefix(box.lower.count).map { $0 }), ghost: [2, 2, 2])
        let sweep = FaceSweep(layout: layout, box: box)
        let last = box.lower.count - 1
        // Which row last wrote each slot of each axis, by its point.
        var writer = (0..<last).map { [Int: [Int]](minimumCapacity: sweep.slots(axis: $0)) }
        var points: [[Int]] = []
        box.forEachPoint { if $0[last] == box.lower[last] { points.append($0) } }
        var index = 0
        sweep.forEachRow { row in
            let point = points[index]
            index += 1
            #expect(row.offset == layout.offset(point) && row.length == box.extent[last])
            for axis in 0..<last {
                let slot = row.slot(axis)
                #expect((0..<sweep.slots(axis: axis)).contains(slot))
                #expect(row.carried(axis) == (point[axis] > box.lower[axis]))
                if row.carried(axis) {
                    // The row before along this axis wrote the slot, and no row since.
                    var before = point
                    before[axis] -= 1
                    #expect(writer[axis][slot] == before, "\(point) axis \(axis)")
                }
                writer[axis][slot] = point
            }
        }
        #expect(index == points.count)
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
            Schedule(steps: 200, endTime: nil, stableDt: try sim.stableTimeStep(cfl: 0.9), outputEvery: 200),
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

/// A model of type `type` on one periodic block of `shape` cells in a unit box, with its ghosts
/// filled by ``SelfExchange``.
func periodicSimulation(_ type: any Model.Type, shape: [Int], table: [String: ConfigValue]) throws -> Simulation {
    try singleBlockSimulation(type, shape: shape, conditions: shape.map { _ in .periodic }, table: table)
}

/// A model on one block with `conditions` per axis (periodic axes wrap through `SelfExchange`).
func singleBlockSimulation(
    _ type: any Model.Type, shape: [Int], conditions: [BoundaryCondition], table: [String: ConfigValue]
) throws -> Simulation {
    let periodic = conditions.map { $0 == .periodic }
    let d = try Decomposition(shape: shape, dims: shape.map { _ in 1 }, periodic: periodic)
    let parameters = try Parameters(table, specs: type.description.parameters)
    let probe = Geometry(
        shape: shape, extent: shape.map { _ in 1.0 }, periodic: periodic,
        layout: LocalLayout(owned: Box(extent: shape), ghost: shape.map { _ in 0 }))
    let width = try type.init(parameters: parameters, geometry: probe).stencilWidth
    let plan = try HaloPlan(decomposition: d, rank: 0, ghost: shape.map { _ in width })
    let geometry = Geometry(shape: shape, extent: shape.map { _ in 1.0 }, periodic: periodic, layout: plan.layout)
    return Simulation(
        model: try type.init(parameters: parameters, geometry: geometry), geometry: geometry, plan: plan,
        conditions: conditions, communication: SelfExchange(plan: plan))
}

/// Observed orders of a model with no exact solution, from runs to `time` on grids that double:
/// the L1 difference between each run and the next finer one (averaged onto the coarser cells)
/// falls by 2^p.
func selfConvergence(
    _ type: any Model.Type, _ table: [String: ConfigValue], dimensions: Int, sizes: [Int], time: Double,
    cfl: Double = 0.8
) throws -> (differences: [Double], orders: [Double]) {
    var states: [[[Double]]] = []
    for n in sizes {
        let shape = [Int](repeating: n, count: dimensions)
        let sim = try periodicSimulation(type, shape: shape, table: table)
        let schedule = Schedule(steps: nil, endTime: time, stableDt: try sim.stableTimeStep(cfl: cfl), outputEvery: 1)
        _ = try sim.run(schedule, output: sim.nullOutput) { _ in }
        states.append(
            sim.state.map { field in
                var values: [Double] = []
                Box(extent: shape).forEachPoint { values.append(field[$0]) }
                return values
            })
    }
    var differences: [Double] = []
    for level in 0..<(sizes.count - 1) {
        let n = sizes[level]
        let coarse = Box(extent: [Int](repeating: n, count: dimensions))
        let children = 1 << dimensions
        var sum = 0.0
        for component in states[level].indices {
            var index = 0
            coarse.forEachPoint { p in
                var average = 0.0
                for child in 0..<children {
                    var fine = 0
                    for a in 0..<dimensions { fine = fine * 2 * n + 2 * p[a] + (child >> a & 1) }
                    average += states[level + 1][component][fine]
                }
                sum += abs(states[level][component][index] - average / Double(children))
                index += 1
            }
        }
        differences.append(sum / Double(coarse.count))
    }
    return (differences, zip(differences, differences.dropFirst()).map { log2($0 / $1) })
}

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
        _ = try sim.run(
            Schedule(steps: nil, endTime: 0.4, stableDt: try sim.stableTimeStep(cfl: 0.8), outputEvery: 1000),
            output: sim.nullOutput
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

@Suite struct ReproducibleSumTests {
    func sum(_ values: [Double]) -> Double {
        let sum = ReproducibleSum(bound: values.map(abs).max()!, count: values.count)
        var partials = sum.zero
        for x in values { sum.add(x, to: &partials) }
        return sum.total(partials)
    }

    @Test func theOrderOfTheTermsDoesNotChangeTheBits() {
        var random = SeededGenerator(seed: 42)
        let values = (0..<10_000).map { _ in (random.uniform() - 0.3) * pow(10, Double(random.integer(in: -8...8))) }
        let reference = sum(values)
        var shuffled = values
        for _ in 0..<5 {
            for i in stride(from: shuffled.count - 1, to: 0, by: -1) {
                shuffled.swapAt(i, random.integer(in: 0...i))
            }
            #expect(sum(shuffled).bitPattern == reference.bitPattern)
            // Split among "ranks" and the partials added afterwards, as MPI does.
            let bound = values.map(abs).max()!
            let s = ReproducibleSum(bound: bound, count: values.count)
            var total = s.zero
            for part in [shuffled[..<1234], shuffled[1234..<7000], shuffled[7000...]] {
                var partials = s.zero
                for x in part { s.add(x, to: &partials) }
                for level in total.indices { total[level] += partials[level] }
            }
            #expect(s.total(total).bitPattern == reference.bitPattern)
        }
        // A plain sum in the same orders does change.
        #expect(values.reduce(0, +) != shuffled.reduce(0, +) || values.reversed().reduce(0, +) != values.reduce(0, +))
    }

    @Test func cancellationKeepsTheSmallTerms() {
        #expect(sum([1e16, 1, -1e16, 1]) == 2)
        #expect(sum([1, 1e-10, -1]) == 1e-10)
        #expect(sum([0, 0]) == 0)
        #expect(sum([1, .nan]).isNaN)
    }
}

@Suite struct FieldSpecTests {
    @Test func componentsFollowTheWellsNaming() {
        #expect(FieldSpec(name: "p").components(dimensions: 3) == ["p"])
        #expect(FieldSpec(name: "u", tensorOrder: 1).components(dimensions: 2) == ["u_x", "u_y"])
        #expect(
            FieldSpec(name: "s", tensorOrder: 2).components(dimensions: 2) == ["s_xx", "s_xy", "s_yx", "s_yy"])
        #expect(
            [FieldSpec(name: "a"), FieldSpec(name: "b", tensorOrder: 1)].components(dimensions: 1) == ["a", "b_x"])
    }
}

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
            let schedule = Schedule(
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

@Suite struct NonFiniteTests {
    /// The initial frame is checked as every other: a state that is not finite is never written.
    @Test func aNaNStopsTheRunAtTheNextFrameNamingTheComponent() throws {
        let sim = try periodicSimulation(Heat.self, shape: [8, 6], table: [:])
        sim.state[0][[3, 2]] = .nan
        #expect {
            _ = try sim.run(
                Schedule(steps: 10, endTime: nil, stableDt: try sim.stableTimeStep(cfl: 0.5), outputEvery: 4),
                output: sim.nullOutput
            ) { _ in }
        } throws: { error in
            guard let error = error as? NonFiniteState else { return false }
            return error.step == 0 && error.components == ["temperature"] && "\(error)".contains("lower [time] cfl")
        }
    }
}
