import ArgumentParser
import CSignals
import Config
import Distributed
import Engine
import Foundation
import Grid
import HDF5
import IO
import MPI

/// A run's configuration resolved against a rank count: the model, the process grid, the
/// decomposition. Pure: `validate` builds it for any rank count without MPI, and `run` builds
/// it on every rank alike, so every rank reaches the same verdict.
struct RunPlan {
    let config: RunConfig
    let modelType: any Model.Type
    let parameters: Parameters
    let decomposition: Decomposition
    /// The ghost width: the model's stencil.
    let ghost: Int
    /// The fields the model evolves.
    let fields: [FieldSpec]
    /// The scalar components of the fields: one ``Field`` each in the state.
    var components: Int { fields.components(dimensions: config.grid.shape.count).count }
    /// Stages of the model's time integrator.
    let stages: Int

    init(config: RunConfig, ranks: Int) throws {
        self.config = config
        modelType = try Tessera.modelType(named: config.modelName)
        parameters = try Parameters(config.modelTable, specs: modelType.description.parameters)
        let shape = config.grid.shape
        // A throwaway geometry lets the model check its parameters against the grid and say
        // how wide its stencil is, before any rank's block is known.
        let probe = try modelType.init(
            parameters: parameters,
            geometry: Geometry(
                shape: shape, extent: config.grid.extent, periodic: config.grid.periodic,
                layout: LocalLayout(owned: Box(extent: shape), ghost: shape.map { _ in 0 })))
        ghost = probe.stencilWidth
        fields = probe.fields
        stages = probe.integrator.stages.count
        // The same pure choice on every rank and in `validate`, so the two always agree.
        let dims = try Decomposition.balancedDims(
            ranks: ranks, shape: shape, minimumBlock: ghost, fixed: config.grid.processGrid)
        decomposition = try Decomposition(shape: shape, dims: dims, periodic: config.grid.periodic)
    }

    /// The model instance for one rank's block.
    func model(for geometry: Geometry) throws -> any Model {
        try modelType.init(parameters: parameters, geometry: geometry)
    }

    func geometry(rank: Int) -> Geometry {
        Geometry(
            shape: config.grid.shape, extent: config.grid.extent, periodic: config.grid.periodic,
            layout: LocalLayout(owned: decomposition.ownedBox(of: rank), ghost: config.grid.shape.map { _ in ghost }))
    }

    /// What a restart must share with the run that wrote its checkpoint: the model and its
    /// parameters, the grid and the boundaries. (Output and checkpoint settings may change.)
    var physics: String {
        let grid = config.grid
        return """
            model \(config.modelName) \(parameters.values.keys.sorted().map { "\($0)=\(parameters.values[$0]!)" }.joined(separator: " "))
            shape \(grid.shape) extent \(grid.extent) periodic \(grid.periodic) boundaries \(config.boundaries)
            """
    }

    /// Bytes of one results frame: every output field over the whole grid in float32.
    var frameBytes: Int {
        StagedFrame.bytes(
            fields: fields, dimensions: config.grid.shape.count, cells: config.grid.shape.reduce(1, *),
            precision: .single)
    }

    /// A few lines on what the run will do, for `validate` and the start of `run`.
    var summary: String {
        let blocks = (0..<decomposition.rankCount).map { decomposition.ownedBox(of: $0).extent }
        let cells = blocks.map { $0.reduce(1, *) }
        let smallest = blocks[cells.firstIndex(of: cells.min()!)!]
        let largest = blocks[cells.firstIndex(of: cells.max()!)!]
        let time = config.steps.map { "\($0) steps" } ?? "until t = \(config.endTime!)"
        return """
            model \(config.modelName): \(parameters.values.keys.sorted().map { "\($0) = \(parameters.values[$0]!)" }.joined(separator: ", "))
            grid \(shapeText(config.grid.shape)) cells, extent \(config.grid.extent), boundaries \(config.boundaries.map(\.name))
            \(rankText(decomposition.rankCount)), process grid \(shapeText(decomposition.dims)), blocks \(shapeText(smallest)) to \(shapeText(largest)) cells
            \(time), cfl \(config.cfl), a frame every \(config.outputEvery) steps into \(config.outputDirectory)/results.hdf5
            """
    }
}

extension RunPlan {
    /// How the ranks landed: launcher, nodes, process grid and each rank's block (listed up to
    /// `listed` ranks), for the start of a run. `hosts` holds each rank's node name.
    func layout(hosts: [String], launcher: String, listed: Int = 32) -> [String] {
        var nodes: [String: Int] = [:]
        for host in hosts { nodes[host, default: 0] += 1 }
        let perNode = nodes.keys.sorted().prefix(8).map { "\($0): \(nodes[$0]!)" }.joined(separator: ", ")
        var lines = [
            "\(launcher): \(hosts.count) \(hosts.count == 1 ? "rank" : "ranks") on \(nodes.count) "
                + "\(nodes.count == 1 ? "node" : "nodes") (\(perNode)\(nodes.count > 8 ? ", ..." : "")), "
                + "process grid \(shapeText(decomposition.dims))"
        ]
        guard hosts.count <= listed else {
            lines.append("(the block of each rank is listed for up to \(listed) ranks)")
            return lines
        }
        for (rank, host) in hosts.enumerated() {
            let block = decomposition.ownedBox(of: rank)
            let ranges = zip(block.lower, block.upper).map { "\($0)..<\($1)" }.joined(separator: ", ")
            lines.append("rank \(rank) on \(host): cells [\(ranges)], \(shapeText(block.extent))")
        }
        return lines
    }

    /// The scalar components written to each results frame.
    var outputComponents: Int {
        fields.filter(\.isOutput).components(dimensions: config.grid.shape.count).count
    }

    /// What a run costs per rank and on disk, for `tessera plan`; the bandwidth frames need at
    /// `cellRate` cell updates per second per rank (for the whole step).
    func sizing(cellRate: (rate: Double, source: String)?) throws -> [String] {
        // Two frame buffers where output may overlap the steps (what a run may hold).
        let buffers = config.outputOverlap == .never ? 1 : 2
        let footprint = try Footprint(
            decomposition: decomposition, ghost: config.grid.shape.map { _ in ghost }, fields: components,
            stages: stages, outputs: outputComponents, frameBuffers: buffers)
        func range(_ values: [Int], _ format: (Int) -> String) -> String {
            let low = values.min()!
            let high = values.max()!
            return low == high ? format(low) : "\(format(low)) to \(format(high))"
        }
        let ranks = footprint.ranks
        let frames = config.steps.map { $0 / config.outputEvery + 1 }
        let total = frames.map { "\($0) frames, \(byteText(footprint.frameBytes * $0)) in all" } ?? "frames set by dt"
        var lines = [
            "process grid \(shapeText(decomposition.dims)) for \(ranks.count) ranks; "
                + "\(config.modelName) on \(shapeText(config.grid.shape)) cells, \(components) "
                + "\(components == 1 ? "field" : "fields"), \(ghost) ghost \(ghost == 1 ? "cell" : "cells")",
            "cells per rank:       \(range(ranks.map(\.cells), String.init))",
            "halo bytes per step:  \(range(ranks.map(\.haloBytesPerStep), byteText)) sent per rank",
            "memory per rank:      \(range(ranks.map(\.memoryBytes), byteText)) "
                + "(state, next state\(stages > 1 ? ", stage" : ""), halo buffers, frame buffers)",
            "results frame:        \(byteText(footprint.frameBytes)) (float32); \(total)",
            "written per rank:     \(range(ranks.map(\.frameBytes), byteText)) per frame",
            "frame buffers:        \(range(ranks.map(\.outputBufferBytes), byteText)) per rank "
                + (buffers == 2
                    ? "(two frames, to write one while the steps go on)" : "(one frame, written between steps)"),
            "checkpoint:           \(byteText(footprint.checkpointBytes)) (float64); keep \(config.checkpointKeep): "
                + "\(byteText(footprint.checkpointBytes * config.checkpointKeep)) on disk",
        ]
        if let cellRate {
            // The slowest rank sets the pace: the one with the most cells.
            let step = Double(ranks.map(\.cells).max()!) / cellRate.rate
            let every = config.outputEvery
            let need = { (n: Int) in
                String(format: "%.3g GB/s", Double(footprint.frameBytes) / (Double(n) * step) / 1e9)
            }
            lines.append(
                "step time:            \(String(format: "%.3g s", step)) at \(String(format: "%.3g", cellRate.rate)) "
                    + "cell updates/s per rank (\(cellRate.source))")
            lines.append(
                "frame bandwidth:      a frame every \(every) \(every == 1 ? "step" : "steps") needs \(need(every)) "
                    + "in all; every step \(need(1)), every 10 \(need(10)), every 100 \(need(100))")
        }
        return lines
    }

    /// Cell updates per second of the model's update on one core here, for `plan`: a few
    /// updates of a block like one rank's, at most 2^20 cells. Nil if the model cannot be made
    /// on such a block.
    func measuredCellRate() -> Double? {
        var shape = decomposition.ownedBox(of: 0).extent
        var axis = 0
        while shape.reduce(1, *) > 1 << 20 {
            shape[axis] = (shape[axis] + 1) / 2
            axis = (axis + 1) % shape.count
        }
        let layout = LocalLayout(owned: Box(extent: shape), ghost: shape.map { _ in ghost })
        let geometry = Geometry(
            shape: shape, extent: config.grid.extent, periodic: config.grid.periodic, layout: layout)
        guard let model = try? self.model(for: geometry) else { return nil }
        let names = model.fields.components(dimensions: shape.count)
        let state = names.map { Field(name: $0, layout: layout) }
        let next = names.map { Field(name: $0, layout: layout) }
        model.initialize(state, geometry: geometry)
        let dt = model.stableTimeStep(state, geometry: geometry) * config.cfl
        let stages = Double(model.integrator.stages.count)
        var best = Double.infinity
        for _ in 0..<3 {
            let start = ContinuousClock.now
            model.update(from: state, into: next, box: layout.interior, dt: dt, geometry: geometry)
            best = Swift.min(best, (ContinuousClock.now - start).seconds)
        }
        return Double(layout.interior.count) / (best * stages)
    }
}

/// Sizes in powers of 1000, as `ls -h --si` and `df -H` print them.
func byteText(_ bytes: Int) -> String {
    let units = ["B", "kB", "MB", "GB", "TB", "PB"]
    var value = Double(bytes)
    var unit = 0
    while value >= 1000 && unit < units.count - 1 {
        value /= 1000
        unit += 1
    }
    return unit == 0 ? "\(bytes) B" : String(format: "%.1f %@", value, units[unit])
}

func shapeText(_ shape: [Int]) -> String { shape.map(String.init).joined(separator: "×") }

/// How this process of `ranks` was started, from the variables each launcher sets.
func launcherName(ranks: Int, _ environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
    if let job = environment["SLURM_JOB_ID"], let step = environment["SLURM_STEP_ID"] {
        return "launched by srun (Slurm job \(job), step \(step))"
    }
    if environment["OMPI_COMM_WORLD_SIZE"] != nil { return "launched by mpirun (Open MPI)" }
    if environment["PMI_RANK"] != nil || environment["HYDRA_CONTROL_FD"] != nil { return "launched by mpiexec (Hydra)" }
    return ranks == 1 ? "started as a single process" : "launched by a launcher Tessera does not know"
}

extension Tessera {
    static func modelType(named name: String) throws(ConfigError) -> any Model.Type {
        try tessera.modelType(named: name)
    }
}

/// Reads a config file, with an error that names the file and the reason.
func readConfig(_ path: String) throws -> String {
    guard FileManager.default.fileExists(atPath: path) else {
        throw ConfigError("", "config file \(path) does not exist")
    }
    guard let data = FileManager.default.contents(atPath: path) else {
        throw ConfigError("", "config file \(path) cannot be read (permissions?)")
    }
    guard let text = String(data: data, encoding: .utf8) else {
        throw ConfigError("", "config file \(path) is not UTF-8 text")
    }
    return text
}

/// The input of every command that reads a config: the file and its `--set` overrides.
struct ConfigInput: ParsableArguments {
    @Argument(help: "The TOML input file.")
    var config: String

    @Option(name: .customLong("set"), help: ArgumentHelp("Override a config value.", valueName: "section.key=value"))
    var overrides: [String] = []
}

/// The wall-clock limit of a command that stops early with a checkpoint when it nears it.
struct WallTimeOption: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "The job's wall-clock limit (HH:MM:SS or D-HH:MM:SS), so the run checkpoints and stops in time; without it, SLURM_JOB_END_TIME is used where set.",
            valueName: "time"))
    var walltime: String?
}

/// Runs an MPI command that stops early on SIGTERM, SIGINT or SIGUSR1: installs the signal
/// handlers, then runs `body` with the instant the wall-clock limit counts from (now, before
/// MPI starts).
func withStoppableMPI(_ body: (Communicator, ContinuousClock.Instant) throws -> Int32) throws -> Never {
    let started = ContinuousClock.now
    guard csignals_install() == 0 else { throw ValidationError("cannot install the signal handlers") }
    withMPI { world in try body(world, started) }
}

/// Reads and validates a config on every rank: rank 0 reads the file once and shares its
/// text, so every rank parses the same input and reaches the same verdict on it.
func loadPlan(_ path: String, overrides: [String], _ world: Communicator) throws -> RunPlan {
    let text = try agreed(world) { world.rank == 0 ? try readConfig(path) : "" }
    let shared = try world.broadcast(text)
    return try agreed(world) {
        try RunPlan(config: RunConfig(text: shared, overrides: overrides), ranks: world.size)
    }
}

/// What every command that runs a model builds on each rank: its place in the process grid,
/// its block, the model and the simulation, and the time steps the config asks for.
struct RankSetup {
    let geometry: Geometry
    let simulation: Simulation
    let schedule: Schedule

    init(plan: RunPlan, world: Communicator) throws {
        let decomposition = plan.decomposition
        let cartesian = try world.cartesian(dims: decomposition.dims, periodic: decomposition.periodic)
        let coords = try cartesian.coordinates(of: cartesian.communicator.rank)
        guard coords == decomposition.coordinates(of: world.rank) else {
            throw DecompositionError(
                "MPI placed rank \(world.rank) at \(coords), not where the decomposition expects it")
        }
        let geometry = plan.geometry(rank: world.rank)
        let haloPlan = try HaloPlan(decomposition: decomposition, rank: world.rank, ghost: geometry.layout.ghost)
        let model = try agreed(world) { try plan.model(for: geometry) }
        let domain = MPIDomain(cartesian: cartesian, plan: haloPlan)
        let simulation = Simulation(
            model: model, geometry: geometry, plan: haloPlan, conditions: plan.config.boundaries, communication: domain)
        let stable = try simulation.stableTimeStep(cfl: plan.config.cfl)
        self.geometry = geometry
        self.simulation = simulation
        self.schedule = Schedule(
            steps: plan.config.steps, endTime: plan.config.endTime, stableDt: stable,
            outputEvery: plan.config.outputEvery)
    }
}

/// Makes the output folder and its checkpoints folder, and checks that `file` can go there
/// without destroying any: an existing one is an error unless `overwrite`, or unless the run
/// is a restart (which continues it). Returns the file's path.
func prepareOutput(
    _ directory: String, file: String = "results.hdf5", overwrite: Bool, restarting: Bool
) throws -> String {
    let manager = FileManager.default
    do {
        try manager.createDirectory(
            atPath: (directory as NSString).appendingPathComponent("checkpoints"), withIntermediateDirectories: true)
    } catch {
        throw ConfigError(
            "output.dir", "cannot create the output folder \(directory): \((error as NSError).localizedDescription)")
    }
    Checkpoint.removeLeftovers(in: (directory as NSString).appendingPathComponent("checkpoints"))
    guard manager.isWritableFile(atPath: directory) else {
        throw ConfigError("output.dir", "the output folder \(directory) is not writable")
    }
    let results = (directory as NSString).appendingPathComponent(file)
    if manager.fileExists(atPath: results) && !overwrite && !restarting {
        throw ConfigError(
            "output.dir",
            "\(results) already exists; pass --restart auto to continue that run, --overwrite to replace it, or choose another output.dir"
        )
    }
    return results
}

extension RunConfig.FileSettings {
    /// The settings as HDF5 takes them.
    var tuning: FileTuning {
        FileTuning(
            hints: hints,
            alignment: alignment.map { FileTuning.Alignment(threshold: alignmentThreshold, boundary: $0) })
    }
}
