import Foundation
import Settings
import TestSupport
import Testing

@testable import Engine
@testable import Grid
@testable import Heat

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

extension BoundaryTests {
    static func bits(_ field: Field) -> [UInt64] { field.storage.map(\.bitPattern) }

    /// The fill as the docs state it, point by point: boundary by boundary, nearest layer
    /// first, ghost layer d taking the rule applied to owned layer d - 1 across the face, over
    /// the whole allocated extent of the other axes.
    static func fillPointByPoint(
        _ fields: [Field], plan: HaloPlan, conditions: [BoundaryCondition], normal: [Set<Int>]
    ) {
        let layout = plan.layout
        for (axis, side) in plan.physicalBoundaries {
            let n = layout.extent[axis]
            for depth in stride(from: 1, through: layout.ghost[axis], by: 1) {
                var slab = layout.whole
                let ghost = side < 0 ? -depth : n - 1 + depth
                slab.lower[axis] = ghost
                slab.upper[axis] = ghost + 1
                for (position, field) in fields.enumerated() {
                    slab.forEachPoint { point in
                        var inside = point
                        inside[axis] = side < 0 ? depth - 1 : n - depth
                        let value = field[inside]
                        switch conditions[axis] {
                        case .periodic: break
                        case .reflecting where normal[axis].contains(position): field[point] = -value
                        case .neumann, .reflecting: field[point] = value
                        case .dirichlet(let v): field[point] = 2 * v - value
                        }
                    }
                }
            }
        }
    }

    @Test(arguments: [
        ([7, 6, 5], [2, 3, 3], [BoundaryCondition.neumann, .dirichlet(0.5), .reflecting]),
        ([5, 4, 6], [1, 2, 4], [.reflecting, .periodic, .dirichlet(-2)]),
        ([6, 5], [3, 2], [.dirichlet(1.5), .reflecting]),
        ([4, 7], [2, 3], [.periodic, .neumann]),
    ])
    func everyFaceAndRegionGetsTheFillPointByPoint(shape: [Int], ghost: [Int], conditions: [BoundaryCondition])
        throws
    {
        let d = shape.count
        let decomposition = try Decomposition(
            shape: shape, dims: shape.map { _ in 1 }, periodic: conditions.map { $0 == .periodic })
        let plan = try HaloPlan(decomposition: decomposition, rank: 0, ghost: ghost)
        // A velocity-like field normal to each axis, so that reflecting walls flip one of them.
        let normal = (0..<d).map { Set([1 + $0]) }
        let layout = plan.layout
        func fresh() -> [Field] {
            (0...d).map { n in
                let field = Field(name: "f\(n)", layout: layout)
                layout.whole.forEachPoint { point in
                    let owned = layout.interior.contains(point)
                    field[point] = owned ? Double(point.reduce(n * 1000) { 10 * $0 + $1 + 5 }) : .nan
                }
                return field
            }
        }
        let filler = BoundaryFiller(plan: plan, conditions: conditions, normal: normal)
        let (expected, got) = (fresh(), fresh())
        Self.fillPointByPoint(expected, plan: plan, conditions: conditions, normal: normal)
        filler.apply(to: got)
        for (e, g) in zip(expected, got) { #expect(Self.bits(e) == Self.bits(g)) }
        // Within a region, the ghosts in it get the same values from filled neighbours, and
        // nothing outside it changes: regions cut across every face's layers.
        for cut in 0..<4 {
            var region = layout.whole
            for axis in 0..<d {
                region.lower[axis] = -ghost[axis] + (cut + axis) % (ghost[axis] + 1)
                region.upper[axis] = layout.extent[axis] + ghost[axis] - (cut + 2 * axis) % (ghost[axis] + 1)
            }
            let partial = fresh()
            for (p, e) in zip(partial, expected) {
                layout.whole.forEachPoint { point in if !region.contains(point) { p[point] = e[point] } }
                layout.interior.forEachPoint { point in p[point] = e[point] }
            }
            // The ghosts in the region the fill sets are NaN until the fill writes them.
            filler.apply(to: partial, within: region)
            for (e, p) in zip(expected, partial) { #expect(Self.bits(e) == Self.bits(p), "region \(region)") }
            // And it writes nothing outside: ghosts there keep a value no fill gives.
            let marked = fresh()
            for field in marked {
                layout.whole.forEachPoint { point in
                    if !region.contains(point) && !layout.interior.contains(point) { field[point] = 1e300 }
                }
            }
            filler.apply(to: marked, within: region)
            for field in marked {
                layout.whole.forEachPoint { point in
                    if !region.contains(point) && !layout.interior.contains(point) {
                        #expect(field[point] == 1e300, "\(point) outside \(region)")
                    }
                }
            }
        }
        // The adjoint: <fill(x), y> = <x, adjoint(y)> over every cell, ghosts included, for the
        // linear (homogeneous) fill. Small integers keep every sum exact.
        func integers(_ salt: Int) -> [Field] {
            (0...d).map { n in
                let field = Field(name: "f\(n)", layout: layout)
                layout.whole.forEachPoint { point in
                    let h = point.reduce(n * 7919 + salt) { ($0 &* 31 &+ $1 &+ 11) % 1_000_003 }
                    field[point] = Double(h % 17 - 8)
                }
                return field
            }
        }
        func dot(_ a: [Field], _ b: [Field]) -> Double {
            var sum = 0.0
            for (f, g) in zip(a, b) { layout.whole.forEachPoint { sum += f[$0] * g[$0] } }
            return sum
        }
        let (x, y) = (integers(1), integers(2))
        let (filled, pulled) = (integers(1), integers(2))
        filler.apply(to: filled, homogeneous: true)
        filler.applyAdjoint(to: pulled)
        #expect(dot(filled, y) == dot(x, pulled))
        #expect(dot(filled, y) != dot(x, y), "the fill changes something")
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

    @Test func aSplitOfGrownCellsCoversThemOnceAndHoldsBackOnlyWhatLateGhostsReach() {
        // Ghosts 3 deep on an 8×7 block: the cells a step updates two cells past the faces of
        // axis 0 (late below, filled by this rank above) and of axis 1's low face.
        let layout = LocalLayout(owned: Box(extent: [8, 7]), ghost: [3, 3])
        let outer = Simulation.grow(
            layout.interior, by: 2, faces: [(low: true, high: true), (low: true, high: false)])
        #expect(outer == Box(lower: [-2, -2], upper: [10, 7]))
        let (inner, shell) = Simulation.split(
            layout, width: 1, late: [(low: true, high: false), (low: false, high: false)], outer: outer)
        #expect(inner == Box(lower: [1, -2], upper: [10, 7]))
        var seen = [Int](repeating: 0, count: layout.count)
        for box in [inner] + shell { layout.forEachRun(in: box) { o, n in for i in o..<(o + n) { seen[i] += 1 } } }
        var expected = [Int](repeating: 0, count: layout.count)
        layout.forEachRun(in: outer) { o, n in for i in o..<(o + n) { expected[i] = 1 } }
        #expect(seen == expected)
    }

    /// Heat on one block, periodic along x (its ghosts copied from itself) and between
    /// Dirichlet walls along y: ghosts 3 deep, exchanged every third step, give the bits of
    /// exchanging every step, and the simulation counts the exchanges.
    @Test(arguments: [2, 3, 5])
    func deepHalosGiveTheBitsOfOneExchangeAStep(depth: Int) throws {
        let conditions: [BoundaryCondition] = [.periodic, .dirichlet(0.25)]
        let table: [String: ConfigValue] = [
            "initial": .string("gaussian"), "width": .double(0.2), "centre": .array([.double(0.9), .double(0.3)]),
        ]
        let shallow = try singleBlockSimulation(Heat.self, shape: [16, 12], conditions: conditions, table: table)
        let deep = try singleBlockSimulation(
            Heat.self, shape: [16, 12], conditions: conditions, table: table, haloDepth: depth)
        #expect(deep.geometry.layout.ghost == [depth, depth])
        let dt = try shallow.stableTimeStep(cfl: 0.9)
        for simulation in [shallow, deep] {
            try simulation.fillGhosts()
            for step in 0..<11 { try simulation.step(dt: dt, time: Double(step) * dt) }
        }
        #expect(shallow.exchanges == 11 && deep.exchanges == (11 + depth - 1) / depth && deep.steps == 11)
        var values: ([UInt64], [UInt64]) = ([], [])
        Box(extent: [16, 12]).forEachPoint { cell in
            values.0.append(shallow.state[0][cell].bitPattern)
            values.1.append(deep.state[0][cell].bitPattern)
        }
        #expect(values.0 == values.1)
        #expect(Set(values.0).count > 100)
    }

    /// Temporal blocking: sweeps of several steps in one tiled pass (wavefront slabs along x,
    /// tiles along y) give the bits of steps one by one, for slabs and tiles down to one cell
    /// and past the block, with walls of every kind and a periodic axis, and sweeps cut short
    /// of the next exchange (as frames cut them).
    @Test(arguments: [[2, 1, 1], [3, 2, 3], [4, 3, 5], [5, 16, 64], [3, 1, 2]])
    func tiledSweepsGiveTheBitsOfStepsOneByOne(setting: [Int]) throws {
        let (depth, tiling) = (setting[0], Tiling(slab: setting[1], width: setting[2]))
        let conditions: [BoundaryCondition] = [.dirichlet(0.25), .periodic, .neumann]
        let table: [String: ConfigValue] = [
            "initial": .string("gaussian"), "width": .double(0.2),
            "centre": .array([.double(0.1), .double(0.9), .double(0.5)]),
        ]
        let shape = [11, 9, 7]
        let plain = try singleBlockSimulation(Heat.self, shape: shape, conditions: conditions, table: table)
        let tiled = try singleBlockSimulation(
            Heat.self, shape: shape, conditions: conditions, table: table, haloDepth: depth, tiling: tiling)
        #expect(plain.tiling == nil && tiled.tiling == tiling)
        let dt = try plain.stableTimeStep(cfl: 0.9)
        try plain.fillGhosts()
        try tiled.fillGhosts()
        for step in 0..<13 { try plain.step(dt: dt, time: Double(step) * dt) }
        var step = 0
        var sweeps = 0
        while step < 13 {
            let count = Swift.min(tiled.sweepLimit, [2, 5, 1][sweeps % 3], 13 - step)
            try tiled.advance(steps: count, dt: dt, after: step)
            step += count
            sweeps += 1
        }
        #expect(tiled.steps == 13 && tiled.exchanges == (13 + depth - 1) / depth)
        var values: ([UInt64], [UInt64]) = ([], [])
        Box(extent: shape).forEachPoint { cell in
            values.0.append(plain.state[0][cell].bitPattern)
            values.1.append(tiled.state[0][cell].bitPattern)
        }
        #expect(values.0 == values.1)
        #expect(Set(values.0).count > 300)
    }

    /// A tiled pass that starts with an exchange sweeps the cells that need no late ghost while
    /// the exchange is in flight (the late ghosts hold NaN until it finishes), then the rest:
    /// the same bits as steps one by one, with the late faces on one side of an axis (the rest
    /// swept in tiles too), on both sides, and on two axes (the rest step by step).
    @Test(arguments: [
        [false, true, false, false], [true, false, false, false], [true, true, false, false],
        [true, true, true, true], [false, true, true, false],
    ])
    func passesOverlappedWithTheExchangeGiveTheBitsOfStepsOneByOne(faces: [Bool]) throws {
        // x and y periodic through the exchange, z a wall; `faces`: late x low, x high, y low, y high.
        let late = [(faces[0], faces[1]), (faces[2], faces[3]), (false, false)]
        let conditions: [BoundaryCondition] = [.periodic, .periodic, .dirichlet(0.5)]
        let table: [String: ConfigValue] = [
            "initial": .string("gaussian"), "width": .double(0.2),
            "centre": .array([.double(0.2), .double(0.7), .double(0.4)]),
        ]
        let shape = [14, 10, 6]
        let plain = try singleBlockSimulation(Heat.self, shape: shape, conditions: conditions, table: table)
        let dt = try plain.stableTimeStep(cfl: 0.9)
        try plain.fillGhosts()
        for step in 0..<13 { try plain.step(dt: dt, time: Double(step) * dt) }
        for (depth, tiling) in [
            (4, Tiling(slab: 2, width: 3)), (5, Tiling(slab: 1, width: 64)), (3, Tiling(slab: 4, width: 1)),
        ] {
            let tiled = try singleBlockSimulation(
                Heat.self, shape: shape, conditions: conditions, table: table, haloDepth: depth, tiling: tiling,
                late: late)
            try tiled.fillGhosts()
            var step = 0
            while step < 13 {
                let count = Swift.min(tiled.sweepLimit, 13 - step)
                try tiled.advance(steps: count, dt: dt, after: step)
                step += count
            }
            #expect(tiled.sweeps > 0 && tiled.exchanges == (13 + depth - 1) / depth)
            var values: ([UInt64], [UInt64]) = ([], [])
            Box(extent: shape).forEachPoint { cell in
                values.0.append(plain.state[0][cell].bitPattern)
                values.1.append(tiled.state[0][cell].bitPattern)
            }
            #expect(values.0 == values.1, "depth \(depth), \(tiling)")
            #expect(Set(values.0).count > 300)
        }
    }

    /// The first passes try tilings in turn (one per pass, each `rounds` times), then keep the
    /// one with the shortest time per step; the candidates are the automatic tiling and tiles
    /// two and four times as wide (slabs as high in 2-D), capped at the block.
    @Test func tilingTrialsTakeEachCandidateInTurnAndKeepTheFastest() {
        let candidates = [Tiling(slab: 4, width: 16), Tiling(slab: 4, width: 32), Tiling(slab: 4, width: 64)]
        var trials = TilingTrials(candidates: candidates, rounds: 2)
        var taken: [Tiling] = []
        // Seconds per pass of 8 steps, then one of 4 steps: the middle one is fastest per step.
        for (seconds, steps) in [(0.8, 8), (0.6, 8), (0.7, 8), (0.9, 8), (0.25, 4), (0.9, 8)] {
            #expect(!trials.isDone)
            taken.append(trials.next)
            trials.record(seconds: seconds, steps: steps)
        }
        #expect(taken == candidates + candidates)
        #expect(trials.isDone && trials.chosen == candidates[1] && trials.next == candidates[1])
        #expect(
            TilingTrials.around(Tiling(slab: 4, width: 20), dimensions: 3, extent: 50).map(\.width) == [20, 40, 50])
        #expect(TilingTrials.around(Tiling(slab: 4, width: 20), dimensions: 3, extent: 20).count == 1)
        #expect(TilingTrials.around(Tiling(slab: 8, width: 1), dimensions: 2, extent: 100).map(\.slab) == [8, 16, 32])
    }

    /// Tilings that change from pass to pass while trials run (slabs and tiles of every size)
    /// give the bits of steps one by one, and the run ends on the candidate it chose.
    @Test func passesWhoseTilingChangesWhileTrialsRunGiveTheSameBits() throws {
        let conditions: [BoundaryCondition] = [.neumann, .periodic, .dirichlet(0.25)]
        let table: [String: ConfigValue] = ["initial": .string("gaussian"), "width": .double(0.2)]
        let shape = [13, 9, 7]
        let plain = try singleBlockSimulation(Heat.self, shape: shape, conditions: conditions, table: table)
        let tiled = try singleBlockSimulation(
            Heat.self, shape: shape, conditions: conditions, table: table, haloDepth: 3,
            tiling: Tiling(slab: 2, width: 2))
        #expect(tiled.trials == nil)
        let candidates = [Tiling(slab: 2, width: 3), Tiling(slab: 1, width: 64), Tiling(slab: 5, width: 1)]
        tiled.tryTilings(candidates, rounds: 2)
        let dt = try plain.stableTimeStep(cfl: 0.9)
        try plain.fillGhosts()
        try tiled.fillGhosts()
        for step in 0..<21 { try plain.step(dt: dt, time: Double(step) * dt) }
        var step = 0
        while step < 21 {
            let count = Swift.min(tiled.sweepLimit, 21 - step)
            try tiled.advance(steps: count, dt: dt, after: step)
            step += count
        }
        #expect(tiled.trials == nil && tiled.triedTilings == candidates)
        #expect(candidates.contains(tiled.tiling!))
        var values: ([UInt64], [UInt64]) = ([], [])
        Box(extent: shape).forEachPoint { cell in
            values.0.append(plain.state[0][cell].bitPattern)
            values.1.append(tiled.state[0][cell].bitPattern)
        }
        #expect(values.0 == values.1)
        #expect(Set(values.0).count > 300)
    }

    /// The run loop asks its control after every step when steps go one by one, and after
    /// every tiled pass otherwise: passes end on frames, on checkpoints by step count and at
    /// the last step, and are never longer than the halo depth.
    @Test(arguments: [1, 4])
    func theControlDecidesAfterEveryStepOrEveryPass(depth: Int) throws {
        final class Recorder: RunControl {
            var decided: [Int] = []
            var checkpointed: [Int] = []
            var checkpointEvery: Int? { 5 }
            func decide(after step: Int, last: Bool, stableStep: Double?) throws -> StepDecision {
                decided.append(step)
                return StepDecision(checkpoint: step % 5 == 0, stop: false)
            }
            func checkpoint(step: Int, time: Double, dt: Double, frames: Int, state: [Field]) throws {
                checkpointed.append(step)
            }
        }
        let simulation = try singleBlockSimulation(
            Heat.self, shape: [12, 10], conditions: [.neumann, .periodic], table: ["initial": .string("gaussian")],
            haloDepth: depth)
        let control = Recorder()
        let schedule = try Schedule(
            steps: 23, endTime: nil, stableDt: simulation.stableTimeStep(cfl: 0.5), outputEvery: 6)
        _ = try simulation.run(schedule, output: simulation.nullOutput, control: control) { _ in }
        if depth == 1 {
            #expect(control.decided == Array(1...23))
        } else {
            // Cycles of 4 steps from step 0; frames every 6; checkpoints every 5.
            #expect(control.decided == [4, 5, 6, 8, 10, 12, 15, 16, 18, 20, 23])
        }
        #expect(control.checkpointed == [5, 10, 15, 20])
    }

    @Test func splitUpdateIsBitwiseTheWholeBoxUpdate() throws {
        let (model, geometry, plan) = try heat(
            shape: [12, 10, 8], periodic: [true, true, true], table: ["initial": .string("gaussian")])
        let a = Simulation(
            model: model, geometry: geometry, plan: plan, conditions: [.periodic, .periodic, .periodic],
            communication: SelfExchange(plan: plan))
        try a.fillGhosts()
        let whole = Field(name: "w", layout: plan.layout)
        model.update(
            from: a.state, into: [whole], box: plan.layout.interior, dt: 1e-4, work: a.work, geometry: geometry)
        try a.step(dt: 1e-4)
        var differing = 0
        plan.layout.forEachRun(in: plan.layout.interior) { offset, length in
            for i in offset..<(offset + length) where whole.base[i].bitPattern != a.state[0].base[i].bitPattern {
                differing += 1
            }
        }
        #expect(differing == 0)
    }

    @Test func scheduleReachesEndTimeExactlyWithoutExceedingTheStableStep() throws {
        let s = try Schedule(steps: nil, endTime: 1.0, stableDt: 0.3, outputEvery: 2)
        #expect(s.steps == 4)
        #expect(s.dt == 0.25)
        #expect(s.frameCount == 3)
        let wide = try Schedule(steps: nil, endTime: 1.0, stableDt: 0.3, outputEvery: 3)
        #expect(wide.steps == 6 && wide.dt == 1.0 / 6 && wide.frameCount == 3)
        // An interval as long as the run is one frame at the end; a longer one is refused,
        // rather than stretching a 4-step run to 100000 steps.
        #expect(try Schedule(steps: nil, endTime: 1.0, stableDt: 0.3, outputEvery: 4).steps == 4)
        do {
            _ = try Schedule(steps: nil, endTime: 1.0, stableDt: 0.3, outputEvery: 100_000)
            Issue.record("accepted an interval longer than the run")
        } catch {
            #expect(error.key == "output.every" && error.message.contains("takes 4 steps"), "\(error)")
        }
    }

    /// Step counts that would wrap are errors naming the key, never a wrong time step.
    @Test func aRunTooLongToCountIsAnErrorNotAWrappedStepCount() throws {
        #expect(throws: ConfigError.self) {
            try Schedule(steps: nil, endTime: 1e20, stableDt: 0.065, outputEvery: 1)
        }
        #expect(throws: ConfigError.self) {
            try Schedule(steps: nil, endTime: 1, stableDt: 1e-20, outputEvery: 1)
        }
        #expect(throws: ConfigError.self) { try Schedule(steps: nil, endTime: 1, stableDt: 0, outputEvery: 1) }
        #expect(throws: ConfigError.self) { try Schedule(steps: nil, endTime: 1, stableDt: .nan, outputEvery: 1) }
        #expect(throws: ConfigError.self) {
            try Schedule(steps: nil, endTime: 1, stableDt: 0.3, outputEvery: Int.max)
        }
        // The largest count allowed still gives the exact time step.
        let longest = try Schedule(
            steps: nil, endTime: Double(Schedule.maximumSteps), stableDt: 1, outputEvery: 1)
        #expect(longest.steps == Schedule.maximumSteps && longest.dt == 1)
        #expect(throws: ConfigError.self) {
            try Schedule(steps: nil, endTime: 1, stableDt: 1e-20, outputEvery: 1, everyTime: 0.5)
        }
    }

    /// Frames every 0.1 of simulated time: each interval takes as few equal steps as keep
    /// within the stable step, and frame k is at exactly k × 0.1 whatever the step, so runs
    /// with different steps share their frame times bit for bit.
    @Test func framesEveryIntervalOfSimulatedTimeFallOnItsMultiples() throws {
        let slow = try Schedule(steps: nil, endTime: 1.0, stableDt: 0.03, outputEvery: 1, everyTime: 0.1)
        #expect(slow.outputEvery == 4 && slow.steps == 40 && slow.frameCount == 11)
        #expect(slow.dt == 0.1 / 4 && slow.dt <= 0.03)
        let fast = try Schedule(steps: nil, endTime: 1.0, stableDt: 0.007, outputEvery: 1, everyTime: 0.1)
        #expect(fast.outputEvery == 15 && fast.steps == 150 && fast.dt <= 0.007)
        for k in 0...10 {
            #expect(slow.time(ofFrame: k).bitPattern == (Double(k) * 0.1).bitPattern)
            #expect(fast.time(ofFrame: k).bitPattern == slow.time(ofFrame: k).bitPattern)
        }
        // Steps of the stable size, no shorter, where they divide the interval.
        let exact = try Schedule(steps: nil, endTime: 1.0, stableDt: 0.05, outputEvery: 1, everyTime: 0.25)
        #expect(exact.outputEvery == 5 && exact.dt == 0.05 && exact.steps == 20)
        // Adaptive steps: the number of steps is not known ahead, the frames are.
        let adaptive = Schedule(
            adaptiveUntil: 1.0, every: 0.1, rule: Schedule.Adaptive(cfl: 0.9, maxGrowth: 1.1))
        #expect(adaptive.frameCount == 11 && adaptive.steps == 0 && adaptive.adaptive?.maxGrowth == 1.1)
        #expect(adaptive.time(ofFrame: 3).bitPattern == (3 * 0.1).bitPattern)
        // Without every_time, frames are at their steps' times as before.
        let plain = try Schedule(steps: 10, endTime: nil, stableDt: 0.3, outputEvery: 5)
        #expect(plain.frameInterval == nil && plain.time(ofFrame: 2) == 10 * 0.3)
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

/// A model whose second component no frame holds or totals; its update copies the state.
struct Keeper: Model {
    static let description = ModelDescription(name: "keeper", summary: "keeps its state", parameters: [])
    init(parameters: Parameters, geometry: Geometry) throws(ConfigError) {}
    var fields: [FieldSpec] { [FieldSpec(name: "shown"), FieldSpec(name: "kept", isOutput: false)] }
    var stencilWidth: Int { 1 }
    var constants: [(name: String, value: Double)] { [] }
    func initialize(_ state: [Field], work: [Field], geometry: Geometry) {
        for (n, field) in state.enumerated() { field.layout.interior.forEachPoint { field[$0] = Double(n + 1) } }
    }
    func stableTimeStep(_ state: [Field], geometry: Geometry) -> Double { 1 }
    func update(from state: [Field], into next: [Field], box: Box, dt: Double, work: [Field], geometry: Geometry) {
        for (old, new) in zip(state, next) { box.forEachPoint { new[$0] = old[$0] } }
    }
}

@Suite struct NonFiniteTests {
    /// A component that no frame holds or totals is not staged, so its NaN lets every frame be
    /// written, but the run still fails: at its end, naming the component, on either output.
    @Test(arguments: [FrameOutput.Mode.synchronous, .overlapped])
    func aNaNThatNoFrameReadsStopsTheRunAtItsEnd(mode: FrameOutput.Mode) throws {
        let sim = try periodicSimulation(Keeper.self, shape: [6, 4], table: [:])
        sim.state[1][[2, 1]] = .nan
        let writer = MemoryWriter()
        let output = FrameOutput(
            writer: writer, statistics: sim.statistics, reductions: OneRank(), mode: mode)
        #expect {
            _ = try sim.run(try Schedule(steps: 4, endTime: nil, stableDt: 1, outputEvery: 2), output: output) { _ in }
        } throws: { error in
            guard let error = error as? NonFiniteState else { return false }
            return error.step == 4 && error.components == ["kept"]
        }
        #expect(writer.frames.map(\.index) == [0, 1, 2])
    }

    /// The initial frame is checked as every other: a state that is not finite is never written.
    @Test func aNaNStopsTheRunAtTheNextFrameNamingTheComponent() throws {
        let sim = try periodicSimulation(Heat.self, shape: [8, 6], table: [:])
        sim.state[0][[3, 2]] = .nan
        #expect {
            _ = try sim.run(
                try Schedule(steps: 10, endTime: nil, stableDt: try sim.stableTimeStep(cfl: 0.5), outputEvery: 4),
                output: sim.nullOutput
            ) { _ in }
        } throws: { error in
            guard let error = error as? NonFiniteState else { return false }
            return error.step == 0 && error.components == ["temperature"] && "\(error)".contains("lower [time] cfl")
        }
    }
}
