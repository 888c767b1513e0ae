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

/// What a run is asked besides its config: whether it may replace results, whether it
/// continues from a checkpoint, and the job's wall-clock limit.
public struct RunOptions: Sendable {
    /// Replace results.hdf5 if the output folder already holds one.
    public var overwrite: Bool
    /// `"auto"` (the newest checkpoint that verifies, or a fresh start) or a checkpoint's path.
    public var restart: String?
    /// The wall-clock limit (HH:MM:SS, D-HH:MM:SS or seconds), if given.
    public var walltime: String?

    public init(overwrite: Bool = false, restart: String? = nil, walltime: String? = nil) {
        self.overwrite = overwrite
        self.restart = restart
        self.walltime = walltime
    }
}

/// One run of a simulation: output folder, restart, results, checkpoints, the time loop and
/// the report of how it went.
public enum RunSession {
    /// `tessera run`: reads the config on every rank, runs it, and exits every rank with the
    /// run's exit code (0 finished, 75 stopped early with a checkpoint, 1 failed).
    public static func main(config: String, overrides: [String], options: RunOptions) throws -> Never {
        try withStoppableMPI { world, started in
            let plan = try loadPlan(config, overrides: overrides, world)
            return try execute(plan, options: options, world, started: started)
        }
    }

    /// Runs `plan` on `world` (the world, or one group of an ensemble, whose log lines then
    /// carry `label`); the wall-clock limit counts from `started`.
    ///
    /// `cpus` is the CPU budget of the job's nodes, when the caller knows it (an ensemble, whose
    /// groups share nodes); otherwise it is measured over `world`.
    public static func execute(
        _ plan: RunPlan, options: RunOptions, _ world: Communicator, started: ContinuousClock.Instant,
        label: String? = nil, cpus: CPUBudget? = nil
    ) throws -> Int32 {
        let logger = makeLogger(world, member: label)
        let (overwrite, restart) = (options.overwrite, options.restart)
        let timeLeft = try agreed(world) { try wallTimeLeft(option: options.walltime) }
        let outputDirectory = plan.config.outputDirectory
        let checkpoints = (outputDirectory as NSString).appendingPathComponent("checkpoints")
        let path = try world.broadcast(
            try agreed(world) {
                world.rank == 0
                    ? try prepareOutput(
                        outputDirectory, overwrite: overwrite, restarting: restart != nil, logger: logger) : ""
            })

        defer { OutputLock.release(outputDirectory) }

        let setup = try RankSetup(plan: plan, world: world)
        let (geometry, simulation, schedule) = (setup.geometry, setup.simulation, setup.schedule)
        let model = simulation.model
        let decomposition = plan.decomposition

        logger.info("tessera \(tesseraVersion), \(MPIEnvironment.libraryVersion)")
        for line in plan.summary.split(separator: "\n") { logger.info("\(line)") }
        let hosts = try world.allGather(try MPIEnvironment.processorName())
        for line in plan.layout(hosts: hosts, launcher: launcherName(ranks: world.size)) { logger.info("\(line)") }
        if let rule = schedule.adaptive, let every = schedule.frameInterval {
            let frames = "\(schedule.frameCount) frames every \(every) of simulated time"
            logger.info(
                "adaptive steps: each \(rule.cfl) × the stable step of the state, at most \(rule.maxGrowth)× the one before; \(frames)"
            )
        } else {
            let spacing =
                schedule.frameInterval.map { " every \($0) of simulated time (\(schedule.outputEvery) steps each)" }
                ?? ""
            logger.info("dt = \(schedule.dt), \(schedule.steps) steps, \(schedule.frameCount) frames\(spacing)")
        }

        let resumed =
            try restart.map { try resume(from: $0, into: simulation, checkpoints: checkpoints, world, logger) } ?? nil
        if restart != nil && resumed == nil && !overwrite {
            // `--restart auto` found nothing to continue: a fresh start, which must not destroy
            // the results of a run that left no checkpoint.
            try agreed(world) {
                guard world.rank == 0, let kept = try setAside(path) else { return }
                logger.warning("no checkpoint to continue \(path) from: it is kept as \(kept)")
            }
        }
        let provenance = Provenance(
            version: tesseraVersion, configText: plan.config.text, ranks: world.size, processGrid: decomposition.dims)
        // Overlapped output writes on threads of its own, each over a communicator no other
        // thread uses; it needs MPI_THREAD_MULTIPLE, and pays where each rank has a CPU to spare.
        let wanted: Bool
        switch plan.config.outputOverlap {
        case .never: wanted = false
        case .always: wanted = true
        case .auto:
            let budget = try cpus ?? CPUBudget(world)
            wanted = budget.spare
            let how = wanted ? "while the steps go on" : "between steps"
            logger.info("frames are written \(how): \(budget) ([output] overlap = true or false chooses)")
        }
        let overlap = wanted && MPIEnvironment.threadsMayCallMPI
        if wanted && !overlap {
            logger.info("frames are written between steps: this MPI does not let threads call it (MPI_THREAD_MULTIPLE)")
        }
        let files = overlap ? try world.duplicate() : world
        let reductions = MPIReductions(communicator: overlap ? try world.duplicate() : world, waitingAsleep: overlap)
        let flush = ResultsWriter.FlushPolicy(rawValue: plan.config.outputFlush) ?? .everyFrame
        let tuning = plan.config.outputFiles.tuning
        let writer: ResultsWriter
        if let resumed {
            try agreed(world) {
                guard resumed.physics == plan.physics else {
                    let differences = plan.physics.differences(from: resumed.physics)
                    throw ConfigError(
                        "",
                        "the checkpoint was written for different physics; restart with the same model, grid and "
                            + "boundaries (checkpoint ≠ this run): \(differences.joined(separator: "; "))")
                }
                guard (resumed.outputEvery == 0) == (schedule.adaptive != nil) else {
                    let steps = { (adaptive: Bool) in adaptive ? "adaptive steps" : "fixed steps" }
                    throw ConfigError(
                        "time.adaptive",
                        "the checkpoint was written with \(steps(resumed.outputEvery == 0)), this config takes "
                            + "\(steps(schedule.adaptive != nil)); restart with the same [time] settings")
                }
                guard schedule.adaptive != nil || resumed.dt.bitPattern == schedule.dt.bitPattern else {
                    throw ConfigError(
                        "time",
                        "the checkpoint was written with dt = \(resumed.dt), this config gives dt = \(schedule.dt); restart with the same [time] settings"
                    )
                }
                guard schedule.adaptive != nil || resumed.outputEvery == schedule.outputEvery else {
                    throw ConfigError(
                        "output.every",
                        "the run being continued wrote a frame every \(resumed.outputEvery) steps, this config says "
                            + "every \(schedule.outputEvery); one results file cannot hold frames at two spacings: "
                            + "restart with output.every = \(resumed.outputEvery), or start a new run in another output.dir"
                    )
                }
                guard schedule.adaptive != nil || resumed.step <= schedule.steps else {
                    throw ConfigError(
                        "time", "the checkpoint is at step \(resumed.step), past this run's \(schedule.steps) steps")
                }
                guard resumed.frames <= schedule.frameCount else {
                    throw ConfigError(
                        "time",
                        "the checkpoint comes after \(resumed.frames) frames, more than this run's \(schedule.frameCount)"
                    )
                }
            }
            writer = try agreed(world) {
                // HDF5 can loop forever on a damaged global heap (variable-length strings,
                // which The Well requires in results files).
                try guardingRead(of: path, "reading the results file") {
                    try ResultsWriter(
                        resuming: path, frames: resumed.frames, step: resumed.step, schedule: schedule,
                        communicator: files,
                        geometry: geometry, fields: model.fields, conserved: model.conserved,
                        receivers: model.receivers.count, provenance: provenance, flush: flush, tuning: tuning)
                }
            }
            logger.info(
                "continuing from step \(resumed.step) (t = \(resumed.time)), results cut back to \(resumed.frames) frames"
            )
        } else {
            writer = try agreed(world) {
                try ResultsWriter(
                    path: path, communicator: files, geometry: geometry, fields: model.fields,
                    conserved: model.conserved, receivers: model.receivers, constants: model.constants,
                    boundaries: plan.config.boundaries, boundaryLabels: plan.wellBoundaryLabels(model),
                    datasetName: "tessera_\(plan.config.modelName)",
                    provenance: provenance, overwrite: overwrite || restart != nil, flush: flush, tuning: tuning)
            }
        }
        writer.meetsAsleep = overlap
        let output = FrameOutput(
            writer: writer, statistics: simulation.statistics, reductions: reductions,
            mode: overlap ? .overlapped : .synchronous)

        let control = CheckpointControl(
            world: world, directory: checkpoints, every: plan.config.checkpointEvery,
            interval: plan.config.checkpointInterval, keep: plan.config.checkpointKeep,
            deadline: timeLeft.map { started + .milliseconds(Int64($0 * 1000)) },
            shape: plan.config.grid.shape, fields: simulation.state.count,
            tuning: plan.config.checkpointFiles.tuning, logger: logger
        ) { step, time, dt, frames in
            // output_every 0 marks adaptive steps; dt is then the last step before landing on a frame.
            CheckpointInfo(
                step: step, time: time, dt: dt, frames: frames, outputEvery: schedule.outputEvery,
                model: plan.config.modelName,
                physics: plan.physics, configText: plan.config.text, version: tesseraVersion, ranks: world.size,
                processGrid: decomposition.dims, fields: simulation.state.map(\.name))
        }
        let cells = Double(plan.config.grid.shape.reduce(1, *))
        var progress = ProgressReporter(start: resumed?.step ?? 0, cells: cells)
        let outcome: RunOutcome
        let watchdog = try plan.config.watchdog.map { try Watchdog(world, minimum: $0, from: resumed?.step ?? 0) }
        control.watchdog = watchdog
        let stepping = ContinuousClock.now
        do {
            let reporting = { (report: StepReport) in
                watchdog?.stepped(report.step)
                if world.rank == 0, let line = progress.line(for: report) { logger.info("\(line)") }
            }
            if schedule.adaptive != nil {
                let clock = resumed.map { StepClock(step: $0.step, time: $0.time, dt: $0.dt, frames: $0.frames) }
                outcome = try simulation.run(
                    schedule, resuming: clock, output: output, control: control, report: reporting)
            } else {
                outcome = try simulation.run(
                    schedule, from: resumed?.step ?? 0, output: output, control: control, report: reporting)
            }
        } catch var error as any ModelFailure {
            // Every rank found the same: exit cleanly, keeping the frames and checkpoints so far.
            do { try output.drain() } catch is NonFiniteState {}
            try watchdog?.stop()
            error.causes = plan.modelType.description.instabilities
            throw AgreedFailure(description: "\(error)")
        } catch let error as AgreedFailure {
            try watchdog?.stop()
            throw error
        }
        let seconds = (ContinuousClock.now - stepping).seconds
        try watchdog?.stop()
        let exchanges = "halo exchanges: \(simulation.exchanges) in \(simulation.steps) steps"
        logger.info("\(exchanges) (halo depth \(plan.haloDepth))")
        if let tiling = simulation.tiling, simulation.sweeps > 0 {
            // The trials' tilings differ in tile width in 3-D and in slab height in 2-D.
            let tried = simulation.triedTilings.map { "\(geometry.dimensions == 2 ? $0.slab : $0.width)" }
            let choice =
                tried.isEmpty ? "" : ", the fastest of \(tried.joined(separator: ", ")) tried in the first passes"
            logger.info("tiled sweeps: \(simulation.sweeps) of up to \(plan.haloDepth) steps each (\(tiling)\(choice))")
        }
        if world.rank == 0, let line = output.summary(seconds: seconds, frameBytes: plan.frameBytes) {
            logger.info("\(line)")
        }
        switch outcome {
        case .completed:
            logger.info("finished: \(schedule.frameCount) frames in \(path)")
            return 0
        case .stopped(let step):
            logger.info(
                "stopped at step \(step) because \(control.stopReason ?? "asked to"); continue with --restart auto (exit code \(exitStoppedEarly))"
            )
            return exitStoppedEarly
        }
    }

}

/// Turns step reports into progress lines, at most one every two seconds plus the last step.
struct ProgressReporter {
    /// The step the run started from (not 0 after a restart).
    let firstStep: Int
    let cells: Double
    let start = Date()
    var lastPrinted = Date()
    /// How far through the run it was at the first report: the rate counts from there.
    var firstFraction: Double?

    init(start: Int, cells: Double) {
        self.firstStep = start
        self.cells = cells
    }

    /// A line at most every two seconds and at the end: the step (of how many, with fixed
    /// steps), how far through the run, the current dt, and the time left at the rate so far.
    mutating func line(for report: StepReport) -> String? {
        let now = Date()
        if firstFraction == nil { firstFraction = report.fraction }
        guard now.timeIntervalSince(lastPrinted) >= 2 || report.fraction >= 1 else { return nil }
        let elapsed = now.timeIntervalSince(start)
        let rate = Double(report.step - firstStep) / Swift.max(elapsed, 1e-9)
        let done = report.fraction - (firstFraction ?? 0)
        let remaining = done > 0 ? elapsed * (1 - report.fraction) / done : 0
        lastPrinted = now
        let percent = Int(100 * report.fraction)
        let numbers = String(
            format: "t = %.6g  dt = %.3g  %.1f steps/s  %.3g cell updates/s", report.time, report.dt, rate,
            rate * cells)
        let step = report.steps > 0 ? "step \(report.step)/\(report.steps)" : "step \(report.step)"
        return "\(step) (\(percent)%)  \(numbers)  \(duration(remaining)) left"
    }

    func duration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return s >= 3600 ? "\(s / 3600)h\(s % 3600 / 60)m" : s >= 60 ? "\(s / 60)m\(s % 60)s" : "\(s)s"
    }
}

/// The CPUs the ranks of a job may run on, per node: the union of their affinity masks, which
/// says whether each rank has a CPU to spare for output threads (two or more each), or whether
/// the ranks fill the node, or overfill it (more ranks than CPUs, as on a laptop).
public struct CPUBudget: Sendable, CustomStringConvertible {
    /// The fewest CPUs per rank on any node.
    public let perRank: Double
    /// Whether every rank on every node has a CPU besides its own.
    public var spare: Bool { perRank >= 2 }

    /// Measures over `communicator`: the same verdict on every rank. Collective.
    public init(_ communicator: Communicator) throws {
        let node = try communicator.node()
        var allowed = Self.allowedCPUs()
        try node.allReduce(&allowed, .max)
        let mine = Double(allowed.reduce(0) { $0 + Int($1) }) / Double(node.size)
        perRank = try communicator.allReduce(mine, .min)
    }

    public var description: String {
        String(format: "%.3g %@ per rank on the busiest node", perRank, perRank == 1 ? "CPU" : "CPUs")
    }

    /// One flag per CPU (of the first 4096) this process may run on: Linux's
    /// `Cpus_allowed_list` in /proc/self/status, or every CPU the system reports where that
    /// is missing.
    static func allowedCPUs() -> [UInt8] {
        let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("Cpus_allowed_list:") }
        if let list = line?.split(separator: ":").last { return flags(list: String(list)) }
        var flags = [UInt8](repeating: 0, count: 4096)
        for cpu in 0..<Swift.min(ProcessInfo.processInfo.activeProcessorCount, 4096) { flags[cpu] = 1 }
        return flags
    }

    /// One flag per CPU (of the first 4096) in a CPU list such as `0-3,8-11` or `5`.
    static func flags(list: String) -> [UInt8] {
        var flags = [UInt8](repeating: 0, count: 4096)
        for range in list.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ",") {
            let ends = range.split(separator: "-").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard let low = ends.first, let high = ends.last, low <= high, low >= 0, low < 4096 else { continue }
            for cpu in low...Swift.min(high, 4095) { flags[cpu] = 1 }
        }
        return flags
    }
}
