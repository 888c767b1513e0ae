internal import CSignals
import Config
import Distributed
import Engine
import Foundation
import Grid
import IO
import Logging
import MPI
import Settings

/// Reads a config file, with an error that names the file and the reason.
public func readConfig(_ path: String) throws -> String {
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
        let (geometry, haloPlan) = try plan.block(rank: world.rank)
        let model = try agreed(world) { try plan.model(for: geometry) }
        let domain = MPIDomain(cartesian: cartesian, plan: haloPlan)
        let simulation = Simulation(
            model: model, geometry: geometry, plan: haloPlan, conditions: plan.config.boundaries, communication: domain)
        let stable = try simulation.stableTimeStep(cfl: plan.config.cfl)
        self.geometry = geometry
        self.simulation = simulation
        self.schedule = try agreed(world) {
            try Schedule(
                steps: plan.config.steps, endTime: plan.config.endTime, stableDt: stable,
                outputEvery: plan.config.outputEvery)
        }
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

/// A command that cannot start.
struct StartupError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// The logger of a command on `world`: rank 0 says what happens; the other ranks only warn.
/// An ensemble member's lines carry its index as `member`.
func makeLogger(_ world: Communicator, member: String? = nil) -> Logger {
    var logger = Logger(label: "tessera")
    if let member { logger[metadataKey: "member"] = "\(member)" }
    logger.logLevel = world.rank == 0 ? .info : .warning
    return logger
}
