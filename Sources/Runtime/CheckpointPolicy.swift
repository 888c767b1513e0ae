internal import CSignals
import Config
import Engine
import Foundation
import Grid
import HDF5
import IO
import Logging
import MPI
import Settings

/// The exit code of a run that checkpointed and stopped before its end (on a signal or near
/// its wall-clock limit) and should be restarted with `--restart auto`. It is EX_TEMPFAIL
/// from sysexits.h: "try again later".
public let exitStoppedEarly: Int32 = 75

/// When to checkpoint and when to stop, decided alike on every rank: each rank looks at its
/// own clock and signals, and one reduction per step makes the decision common.
///
/// - every `every` steps and every `interval` seconds of wall time, and after the last step;
/// - on SIGTERM, SIGINT or SIGUSR1: checkpoint and stop;
/// - before `deadline`: checkpoint and stop while there is still time, leaving a margin of
///   twice the last checkpoint's duration plus three of the slowest steps (before the first
///   checkpoint, its duration is estimated at 100 MB/s).
final class CheckpointControl: RunControl {
    let world: Communicator
    let directory: String
    let every: Int?
    let interval: Double?
    let keep: Int
    let deadline: ContinuousClock.Instant?
    let shape: [Int]
    let tuning: FileTuning
    let info: (_ step: Int, _ time: Double, _ dt: Double, _ frames: Int) -> CheckpointInfo
    let logger: Logger
    /// Told when a checkpoint is written, so that the write is timed on its own.
    var watchdog: Watchdog?
    private var lastCheckpoint = ContinuousClock.now
    private var lastCheckpointDuration: Duration
    private var lastStep = ContinuousClock.now
    private var slowestStep = Duration.zero
    /// Why the run stopped early, once it has.
    private(set) var stopReason: String?

    init(
        world: Communicator, directory: String, every: Int?, interval: Double?, keep: Int,
        deadline: ContinuousClock.Instant?,
        shape: [Int], fields: Int, tuning: FileTuning, logger: Logger,
        info: @escaping (_ step: Int, _ time: Double, _ dt: Double, _ frames: Int) -> CheckpointInfo
    ) {
        self.world = world
        self.directory = directory
        self.every = every
        self.interval = interval
        self.keep = keep
        self.deadline = deadline
        self.shape = shape
        self.tuning = tuning
        self.info = info
        self.logger = logger
        let bytes = Double(shape.reduce(1, *) * fields * 8)
        self.lastCheckpointDuration = .milliseconds(Int64(bytes / 100e6 * 1000))
    }

    var checkpointEvery: Int? { every }

    func decide(after step: Int, last: Bool, stableStep: Double?) throws -> StepDecision {
        let now = ContinuousClock.now
        slowestStep = max(slowestStep, now - lastStep)
        lastStep = now
        var checkpoint = last
        if let every, step % every == 0 { checkpoint = true }
        if let interval, now - lastCheckpoint >= .milliseconds(Int64(interval * 1000)) { checkpoint = true }
        let signal = Int64(csignals_received())
        var nearDeadline = false
        if let deadline {
            let margin = lastCheckpointDuration * 2 + slowestStep * 3
            nearDeadline = now + margin >= deadline
        }
        // A positive double's bits order as the double does: the most negated bits are the least
        // stable step, reduced with the flags in one call.
        var flags: [Int64] = [checkpoint ? 1 : 0, nearDeadline ? 1 : 0, signal]
        // A step that is not a positive number (a state gone bad) goes in as 0, which the run refuses.
        if let stableStep {
            let positive = stableStep.isFinite && stableStep > 0 ? stableStep : 0
            flags.append(-Int64(bitPattern: positive.bitPattern))
        }
        try world.allReduce(&flags, .max)
        let stable = stableStep.map { _ in Double(bitPattern: UInt64(bitPattern: -flags[3])) }
        if flags[2] != 0 {
            stopReason = "received \(Self.name(of: Int32(flags[2])))"
        } else if flags[1] != 0 {
            stopReason = "the wall-clock limit is near"
        }
        return StepDecision(checkpoint: flags[0] != 0, stop: stopReason != nil, stableStep: stable)
    }

    func checkpoint(step: Int, time: Double, dt: Double, frames: Int, state: [Field]) throws {
        let start = ContinuousClock.now
        let (path, bytes): (String, Int)
        watchdog?.writing(true)
        defer { watchdog?.writing(false) }
        do {
            (path, bytes) = try Checkpoint.write(
                info(step, time, dt, frames), state: state, shape: shape, directory: directory, communicator: world,
                keep: keep, tuning: tuning)
        } catch let error as CheckpointError where error.onEveryRank {
            throw AgreedFailure(description: error.description)
        }
        let elapsed = ContinuousClock.now - start
        lastCheckpointDuration = elapsed
        lastCheckpoint = ContinuousClock.now
        let seconds = elapsed.seconds
        logger.info(
            "checkpoint at step \(step): \(path) (\(transferRate(bytes: Double(bytes), seconds: seconds)))"
        )
    }

    static func name(of signal: Int32) -> String {
        switch signal {
        case SIGTERM: "SIGTERM"
        case SIGINT: "SIGINT"
        case SIGUSR1: "SIGUSR1"
        default: "signal \(signal)"
        }
    }
}

/// The wall-clock time left when the job started, from `--walltime` or, where the scheduler
/// exports it, from `SLURM_JOB_END_TIME` (Unix seconds; then counted from now, a slight
/// overestimate of the time used so far that only makes the stop earlier).
func wallTimeLeft(option: String?) throws -> Double? {
    if let option {
        guard WallTime.duration(in: option) != nil else {
            throw ConfigError("", "--walltime \(option): expected HH:MM:SS, D-HH:MM:SS or seconds")
        }
        guard let seconds = WallTime.seconds(in: option) else {
            throw ConfigError(
                "",
                "--walltime \(option) is no time at all: give the job's limit, which must leave time for a step "
                    + "and a checkpoint")
        }
        return seconds
    }
    if let end = ProcessInfo.processInfo.environment["SLURM_JOB_END_TIME"].flatMap(Double.init) {
        return end - Date().timeIntervalSince1970
    }
    return nil
}

/// How much was moved and how fast, for log lines (bench/checkpoint.sh reads the GB/s).
func transferRate(bytes: Double, seconds: Double) -> String {
    String(format: "%.1f MB in %.3f s, %.2f GB/s", bytes / 1e6, seconds, bytes / max(seconds, 1e-9) / 1e9)
}
