import Engine
import Foundation
import Grid
import Heat
import Settings

/// A one-rank exchange: every message goes to this rank itself (periodic wrap), copied in
/// memory. Lets the driver run in a unit test without MPI.
///
/// Ghosts beyond the `late` faces (all of them unless told) arrive in ``finishExchange()``, as
/// from another rank, and hold NaN from ``beginExchange(_:)`` until then, so that a step that
/// reads them too early gives other bits. The rest are copied in ``beginExchange(_:)``, which
/// packs every message there, as MPI sends do.
public final class SelfExchange: DomainCommunication {
    public let plan: HaloPlan
    public let lateFaces: [(low: Bool, high: Bool)]
    /// The fields being exchanged and, per field, what each message carries (packed at begin).
    var pending: [Field] = []
    var packed: [[(receive: Box, values: [Double])]] = []
    public init(plan: HaloPlan, late: [(low: Bool, high: Bool)]? = nil) {
        self.plan = plan
        self.lateFaces = late ?? plan.layout.extent.map { _ in (true, true) }
    }
    /// Whether a message's ghosts lie beyond a late face.
    func isLate(_ message: HaloMessage) -> Bool {
        message.direction.enumerated().contains { axis, side in
            side < 0 ? lateFaces[axis].low : side > 0 ? lateFaces[axis].high : false
        }
    }
    /// The names of the fields of each exchange so far, in order.
    public private(set) var exchanged: [[String]] = []
    public func beginExchange(_ fields: [Field]) throws {
        exchanged.append(fields.map(\.name))
        pending = fields
        packed = fields.map { field in
            plan.messages.map { message in
                let partner = plan.messages.first { $0.sendTag == message.receiveTag }!
                var values = [Double](repeating: 0, count: partner.send.count)
                values.withUnsafeMutableBufferPointer { _ = field.pack(partner.send, into: $0.baseAddress!) }
                return (message.receive, values)
            }
        }
        for (field, messages) in zip(fields, packed) {
            for (message, (receive, values)) in zip(plan.messages, messages) {
                if isLate(message) {
                    field.layout.forEachRun(in: receive) { offset, length in
                        (field.base + offset).update(repeating: .nan, count: length)
                    }
                } else {
                    values.withUnsafeBufferPointer { _ = field.unpack(receive, from: $0.baseAddress!) }
                }
            }
        }
    }
    public func finishExchange() throws {
        for (field, messages) in zip(pending, packed) {
            for (message, (receive, values)) in zip(plan.messages, messages) where isLate(message) {
                values.withUnsafeBufferPointer { _ = field.unpack(receive, from: $0.baseAddress!) }
            }
        }
        (pending, packed) = ([], [])
    }
    public func reverseExchange(_ fields: [Field]) throws {
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
    public func globalMinimum(_ value: Double) throws -> Double { value }
    public func globalMaximum(_ values: [Double]) throws -> [Double] { values }
    public func globalSum(_ values: [Double]) throws -> [Double] { values }
}

/// Keeps no frame: for runs whose output a test does not read.
public final class NullWriter: FrameWriter {
    public let precision = FramePrecision.single
    public init() {}
    public func write(frame index: Int, time: Double, staged: StagedFrame, totals: [Double]) throws {}
    public func finish() throws {}
}

/// Keeps the bits of every frame's first field and every receiver sample, in order.
public final class RecordingWriter: FrameWriter {
    public let precision = FramePrecision.double
    public private(set) var frames: [[UInt64]] = []
    public private(set) var traces: [UInt64] = []
    public init() {}
    public func write(frame index: Int, time: Double, staged: StagedFrame, totals: [Double]) throws {
        frames.append(staged.double(0).map(\.bitPattern))
    }
    public func write(traces block: TraceBlock) throws {
        for step in block.times.indices {
            traces += block.samples.map { $0[step].bitPattern }
        }
    }
    public func finish() throws {}
}

extension Simulation {
    /// Output that stages every frame between steps and hands it to `writer`.
    public func output(to writer: FrameWriter) -> FrameOutput {
        FrameOutput(writer: writer, statistics: statistics, reductions: communication, mode: .synchronous)
    }

    /// Output that stages every frame between steps, checks it and drops it.
    public var nullOutput: FrameOutput {
        FrameOutput(writer: NullWriter(), statistics: statistics, reductions: communication, mode: .synchronous)
    }
}

/// A model of type `type` on one periodic block of `shape` cells in a unit box, with its ghosts
/// filled by ``SelfExchange``.
public func periodicSimulation(_ type: any Model.Type, shape: [Int], table: [String: ConfigValue]) throws -> Simulation
{
    try singleBlockSimulation(type, shape: shape, conditions: shape.map { _ in .periodic }, table: table)
}

/// A model on one block with `conditions` per axis (periodic axes wrap through `SelfExchange`,
/// whose ghosts beyond the `late` faces arrive when the exchange finishes). With `haloDepth`,
/// ghost zones that many stencils deep, exchanged once every that many steps.
public func singleBlockSimulation(
    _ type: any Model.Type, shape: [Int], conditions: [BoundaryCondition], table: [String: ConfigValue],
    haloDepth: Int = 1, tiling: Tiling? = nil, late: [(low: Bool, high: Bool)]? = nil
) throws -> Simulation {
    let periodic = conditions.map { $0 == .periodic }
    let d = try Decomposition(shape: shape, dims: shape.map { _ in 1 }, periodic: periodic)
    let parameters = try Parameters(table, specs: type.description.parameters)
    let probe = Geometry(
        shape: shape, extent: shape.map { _ in 1.0 }, periodic: periodic,
        layout: LocalLayout(owned: Box(extent: shape), ghost: shape.map { _ in 0 }))
    let width = try type.init(parameters: parameters, geometry: probe).stencilWidth
    let plan = try HaloPlan(decomposition: d, rank: 0, ghost: shape.map { _ in width * haloDepth })
    let geometry = Geometry(shape: shape, extent: shape.map { _ in 1.0 }, periodic: periodic, layout: plan.layout)
    return Simulation(
        model: try type.init(parameters: parameters, geometry: geometry), geometry: geometry, plan: plan,
        conditions: conditions, communication: SelfExchange(plan: plan, late: late), haloDepth: haloDepth,
        tiling: tiling)
}

/// Observed orders of a model with no exact solution, from runs to `time` on grids that double:
/// the L1 difference between each run and the next finer one (averaged onto the coarser cells)
/// falls by 2^p.
public func selfConvergence(
    _ type: any Model.Type, _ table: [String: ConfigValue], dimensions: Int, sizes: [Int], time: Double,
    cfl: Double = 0.8
) throws -> (differences: [Double], orders: [Double]) {
    var states: [[[Double]]] = []
    for n in sizes {
        let shape = [Int](repeating: n, count: dimensions)
        let sim = try periodicSimulation(type, shape: shape, table: table)
        let schedule = try Schedule(
            steps: nil, endTime: time, stableDt: try sim.stableTimeStep(cfl: cfl), outputEvery: 1)
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

/// The heat model on one block of `shape` cells in a unit box, with its geometry and halo plan.
public func heat(shape: [Int], periodic: [Bool], table: [String: ConfigValue] = [:]) throws -> (
    Heat, Geometry, HaloPlan
) {
    let d = try Decomposition(shape: shape, dims: shape.map { _ in 1 }, periodic: periodic)
    let plan = try HaloPlan(decomposition: d, rank: 0, ghost: shape.map { _ in 1 })
    let geometry = Geometry(shape: shape, extent: shape.map { _ in 1.0 }, periodic: periodic, layout: plan.layout)
    let model = try Heat(parameters: Parameters(table, specs: Heat.description.parameters), geometry: geometry)
    return (model, geometry, plan)
}
