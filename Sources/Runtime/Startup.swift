internal import CSignals
import Config
import Distributed
import Engine
import Foundation
import Grid
import HDF5
import IO
import Logging
import MPI
import Settings

/// Reads a config file, with an error that names the file and the reason.
public func readConfig(_ path: String) throws -> String {
    guard FileManager.default.fileExists(atPath: path) else {
        throw ConfigError("", "config file \(path) does not exist")
    }
    guard HDF5.File.isRegularFile(path) else {
        throw ConfigError("", "config file \(path) is not a regular file (a folder, FIFO or device)")
    }
    guard let data = FileManager.default.contents(atPath: path) else {
        throw ConfigError("", "config file \(path) cannot be read (permissions?)")
    }
    guard let text = String(data: data, encoding: .utf8) else {
        throw ConfigError("", "config file \(path) is not UTF-8 text")
    }
    return text
}

/// Runs an MPI command that stops early on SIGTERM, SIGINT or SIGUSR1: installs the signal
/// handlers, then runs `body` with the instant the wall-clock limit counts from (now, before
/// MPI starts).
func withStoppableMPI(_ body: (Communicator, ContinuousClock.Instant) throws -> Int32) throws -> Never {
    let started = ContinuousClock.now
    guard csignals_install() == 0 else { throw StartupError("cannot install the signal handlers") }
    withMPI { world in try body(world, started) }
}

/// Reads and validates a config on every rank: rank 0 reads the file once and shares its
/// text, so every rank parses the same input and reaches the same verdict on it.
func loadPlan(_ path: String, overrides: [String], _ world: Communicator) throws -> RunPlan {
    let text = try agreed(world) { world.rank == 0 ? try readConfig(path) : "" }
    let shared = try world.broadcast(text)
    return try agreed(world) {
        try RunConfig.validated(text: shared, overrides: overrides) { try RunPlan(config: $0, ranks: world.size) }
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
        let (geometry, haloPlan) = try plan.block(rank: world.rank)
        let model = try agreed(world) { try plan.model(for: geometry) }
        let bytes = Footprint.memoryBytes(
            plan: haloPlan, fields: plan.components, stages: plan.stages, outputs: plan.outputComponents,
            workArrays: model.workArrays.count, inPlace: model.updatesInPlace)
        try checkMemory(bytes, what: "state, next state, work arrays, halo and frame buffers", world)
        let domain = MPIDomain(cartesian: cartesian, plan: haloPlan)
        let simulation = Simulation(
            model: model, geometry: geometry, plan: haloPlan, conditions: plan.config.boundaries, communication: domain,
            haloDepth: plan.haloDepth, tiling: plan.config.grid.tiling)
        self.geometry = geometry
        self.simulation = simulation
        if plan.adaptive, let endTime = plan.config.endTime, let every = plan.config.outputEveryTime {
            schedule = Schedule(
                adaptiveUntil: endTime, every: every,
                rule: Schedule.Adaptive(cfl: plan.config.cfl, maxGrowth: plan.config.maxDtGrowth))
            return
        }
        let stable = try simulation.stableTimeStep(cfl: plan.config.cfl)
        self.schedule = try agreed(world) {
            try Schedule(
                steps: plan.config.steps, endTime: plan.config.endTime, stableDt: stable,
                outputEvery: plan.config.outputEvery, everyTime: plan.config.outputEveryTime)
        }
    }
}

/// Makes the output folder and its checkpoints folder, locks the folder for this run (see
/// ``OutputLock``), and checks that `file` can go there without destroying any: an existing
/// one is an error unless `overwrite`, or unless the run is a restart (which continues it).
/// Returns the file's path.
func prepareOutput(
    _ directory: String, file: String = "results.hdf5", overwrite: Bool, restarting: Bool, logger: Logger
) throws -> String {
    let manager = FileManager.default
    do {
        try manager.createDirectory(
            atPath: (directory as NSString).appendingPathComponent("checkpoints"), withIntermediateDirectories: true)
    } catch {
        throw ConfigError(
            "output.dir", "cannot create the output folder \(directory): \(whyNotAFolder(directory, error))")
    }
    try lockFolder(directory, logger: logger)
    Checkpoint.removeLeftovers(in: (directory as NSString).appendingPathComponent("checkpoints"))
    guard manager.isWritableFile(atPath: directory) else {
        throw ConfigError("output.dir", "the output folder \(directory) is not writable")
    }
    let results = (directory as NSString).appendingPathComponent(file)
    if overwrite && !restarting && file == "results.hdf5" {
        // The run being replaced goes whole: its checkpoints must not be continued later
        // against the new results.
        for old in Checkpoint.list(in: (directory as NSString).appendingPathComponent("checkpoints")) {
            try? manager.removeItem(atPath: old.path)
        }
    }
    if manager.fileExists(atPath: results) && !overwrite && !restarting {
        throw ConfigError(
            "output.dir",
            "\(results) already exists; "
                + (file == "results.hdf5" ? "pass --restart auto to continue that run, " : "")
                + "pass --overwrite to replace it, or choose another output.dir"
        )
    }
    return results
}

/// Renames the results file at `path`, if there is one, to a name with the current time
/// (`results-20261202T101500.hdf5`), so that a fresh start cannot replace it; its ParaView
/// description (`.vtkhdf`) goes along, pointing at the new name. Returns that name, or nil when there
/// was no file.
func setAside(_ path: String) throws -> String? {
    let manager = FileManager.default
    guard manager.fileExists(atPath: path) else { return nil }
    let formatter = DateFormatter()
    formatter.locale = Locale(identifier: "en_US_POSIX")
    formatter.dateFormat = "yyyyMMdd'T'HHmmss"
    let stem = (path as NSString).deletingPathExtension
    let target = "\(stem)-\(formatter.string(from: Date())).hdf5"
    guard !manager.fileExists(atPath: target) else {
        throw ConfigError("output.dir", "cannot move \(path) aside: \(target) exists; try again in a second")
    }
    guard rename(path, target) == 0 else {
        throw ConfigError("output.dir", "cannot move \(path) aside to \(target): \(String(cString: strerror(errno)))")
    }
    // ParaView's description points at the file by name: describe the file under its new
    // one, and drop the old description, which would show the next run's frames.
    let description = ParaViewDescription.path(describing: path)
    if manager.fileExists(atPath: description) {
        if let (moved, times) = try? ParaViewDescription.reading(target) {
            try? moved.write(to: ParaViewDescription.path(describing: target), times: times)
        }
        try? manager.removeItem(atPath: description)
    }
    return target
}

/// Why `directory` or its `checkpoints` folder could not be made: the first path on the way
/// that is not a folder (a file, a dangling link, a link loop), or the system's reason.
func whyNotAFolder(_ directory: String, _ error: Error) -> String {
    // The folder's ancestors from the top, the folder, and its checkpoints folder.
    var paths: [String] = []
    var ancestor = (directory as NSString).deletingLastPathComponent
    while !ancestor.isEmpty && ancestor != "/" && ancestor != "." {
        paths.insert(ancestor, at: 0)
        ancestor = (ancestor as NSString).deletingLastPathComponent
    }
    for path in paths + [directory, (directory as NSString).appendingPathComponent("checkpoints")] {
        var link = stat()
        guard lstat(path, &link) == 0 else { break }  // Missing: the parent is the problem.
        var target = stat()
        if stat(path, &target) != 0 {
            return "\(path) is a link that leads nowhere (\(String(cString: strerror(errno))))"
        }
        if target.st_mode & S_IFMT != S_IFDIR { return "\(path) is a file, not a folder" }
    }
    return (error as NSError).localizedDescription
}

/// A command that cannot start.
struct StartupError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// The logger of a command on `world`: rank 0 says what happens, from ``LogSettings/level``
/// up; the other ranks only warn. An ensemble member's lines carry its index as `member`.
func makeLogger(_ world: Communicator, member: String? = nil) -> Logger {
    let level = world.rank == 0 ? LogSettings.level : max(LogSettings.level, .warning)
    var logger = Logger(label: "tessera") { _ in LineLogHandler(logLevel: level) }
    if let member { logger[metadataKey: "member"] = "\(member)" }
    return logger
}
