import Foundation
import MPI
import Synchronization

/// Ends a job whose ranks wait for one another far longer than the recent steps took (a rank
/// stopped, hung in a system call, or lost with its node while the others wait in a collective
/// call or a halo exchange), naming the ranks that did not arrive, instead of letting it burn
/// its allocation.
///
/// The main thread reports each step it finishes (``stepped(_:)``: a clock read and a lock
/// without contention). A thread of the watchdog's own wakes twice a second. On every rank
/// but 0 it sends rank 0 the step reached, over a communicator nothing else uses; on rank 0
/// it takes those reports in. When rank 0 has finished no step for longer than the limit,
/// it names the ranks it has not heard from (stopped or lost), or else those behind the
/// others, and aborts the job. Should rank 0 itself be the one stopped, each other rank ends
/// the job after twice the limit, saying that rank 0 is silent.
///
/// The limit is the larger of `minimum` (`[run] watchdog`) and 20 times the slowest recent
/// step; while a checkpoint is written, ten times that or five times the slowest checkpoint
/// so far. It starts with the time loop (start-up, reading a checkpoint, is not timed), so a
/// rank stopped during the first step is caught as well.
///
/// A rank whose own process was stopped (a scheduler suspending the job, SIGSTOP) notices the
/// gap when it goes on and starts its clocks again, so a job suspended and resumed as a whole
/// runs on.
///
/// Reports between ranks need MPI_THREAD_MULTIPLE; without it each rank watches only itself
/// and cannot name the others.
///
/// `@unchecked Sendable`: the mutable state is behind a `Mutex`; the communicator and the two
/// message buffers are used by the watchdog's thread alone until it has ended, then by `stop()`.
final class Watchdog: @unchecked Sendable {
    private struct State {
        var step: Int
        var lastStep = ContinuousClock.now
        /// The slowest recent interval between steps, decaying so that one slow start fades.
        var slowestStep = 0.0
        var writingSince: ContinuousClock.Instant?
        var slowestWrite = 0.0
        var stopped = false
    }

    private let state: Mutex<State>
    private let communicator: Communicator?
    private let rank: Int
    private let size: Int
    private let minimum: Double
    private let period: Duration = .milliseconds(500)
    private let finished = DispatchSemaphore(value: 0)
    /// Signalled by ``stop()``, so that the thread ends at once rather than after its sleep.
    private let wake = DispatchSemaphore(value: 0)
    private let outgoing = UnsafeMutablePointer<Int64>.allocate(capacity: 1)
    private let incoming = UnsafeMutablePointer<Int64>.allocate(capacity: 1)
    /// Reports sent (ranks but 0) or received per rank (rank 0), and the send in flight: the
    /// thread's until it ends, then `stop()`'s.
    private var sent = 0
    private var received: [Int]
    private var sending: Request?
    private static let tag = 7

    /// Starts watching the ranks of `world` (collective: duplicates it where threads may call MPI).
    init(_ world: Communicator, minimum: Double, from step: Int) throws {
        state = Mutex(State(step: step))
        communicator = MPIEnvironment.threadsMayCallMPI ? try world.duplicate() : nil
        rank = world.rank
        size = world.size
        received = Array(repeating: 0, count: world.size)
        self.minimum = minimum
        let thread = Thread { [self] in watch() }
        thread.name = "tessera-watchdog"
        thread.start()
    }

    /// The main thread finished `step`.
    func stepped(_ step: Int) {
        let now = ContinuousClock.now
        state.withLock {
            $0.slowestStep = max((now - $0.lastStep).seconds, $0.slowestStep * 0.99)
            $0.step = step
            $0.lastStep = now
        }
    }

    /// The main thread starts (`true`) or ends writing a checkpoint.
    func writing(_ on: Bool) {
        let now = ContinuousClock.now
        state.withLock {
            if on {
                $0.writingSince = now
            } else if let since = $0.writingSince {
                $0.slowestWrite = max($0.slowestWrite, (now - since).seconds)
                $0.writingSince = nil
                $0.lastStep = now  // The write was timed on its own.
            }
        }
    }

    /// Stops watching (the run ended): the thread ends within one period, and rank 0 takes
    /// in every report still on its way, so that no message is left unreceived. Collective.
    func stop() throws {
        state.withLock { $0.stopped = true }
        wake.signal()
        finished.wait()
        guard let communicator else { return }
        let counts = try communicator.allGather([Int64(sent)])
        if rank == 0 {
            for source in 1..<size {
                while received[source] < Int(counts[source][0]) {
                    try communicator.receive(incoming, count: 1, from: source, tag: Self.tag)
                    received[source] += 1
                }
            }
        } else if var pending = sending {
            while try !pending.test() { usleep(1000) }
        }
    }

    deinit {
        outgoing.deallocate()
        incoming.deallocate()
    }

    /// How long this rank has gone without finishing a step, and the limit for that now.
    private func stall() -> (seconds: Double, limit: Double, step: Int) {
        let now = ContinuousClock.now
        return state.withLock { state -> (Double, Double, Int) in
            var limit = max(minimum, 20 * state.slowestStep)
            if state.writingSince != nil { limit = max(10 * limit, 5 * state.slowestWrite) }
            return ((now - state.lastStep).seconds, limit, state.step)
        }
    }

    private func watch() {
        defer { finished.signal() }
        var lastHeard = [ContinuousClock.Instant](repeating: .now, count: size)
        var steps = [Int](repeating: -1, count: size)
        var lastWake = ContinuousClock.now
        while !state.withLock({ $0.stopped }) {
            _ = wake.wait(timeout: .now() + period.seconds)
            if state.withLock({ $0.stopped }) { break }
            // A wake-up far later than asked for means this process was stopped (a scheduler's
            // suspend, SIGSTOP, a debugger) and has just gone on: it waited for no one, so its
            // clocks start again.
            let now = ContinuousClock.now
            defer { lastWake = now }
            if (now - lastWake).seconds > 10 * period.seconds {
                state.withLock { $0.lastStep = now }
                lastHeard = lastHeard.map { _ in now }
                continue
            }
            let (stalled, limit, step) = stall()
            do {
                if let communicator {
                    if rank == 0 {
                        while let source = try communicator.arrived(tag: Self.tag) {
                            try communicator.receive(incoming, count: 1, from: source, tag: Self.tag)
                            steps[source] = Int(incoming.pointee)
                            lastHeard[source] = .now
                            received[source] += 1
                        }
                        steps[0] = step
                        lastHeard[0] = .now
                    } else if try sending?.test() ?? true {
                        outgoing.pointee = Int64(step)
                        sending = try communicator.isend(UnsafePointer(outgoing), count: 1, to: 0, tag: Self.tag)
                        sent += 1
                    }
                }
            } catch {
                continue  // The watchdog must not end a healthy job over its own reports.
            }
            if rank == 0 && communicator != nil && stalled > limit {
                fail(
                    "rank 0 has waited \(Int(stalled)) s since step \(step) (the limit is \(Int(limit)) s, [run] "
                        + "watchdog): \(culprits(steps: steps, lastHeard: lastHeard, limit: limit)); ending the job")
            }
            if (rank != 0 || communicator == nil) && stalled > 2 * limit + 5 {
                let who =
                    communicator == nil
                    ? "this MPI does not let the watchdog ask the other ranks (no MPI_THREAD_MULTIPLE)"
                    : "rank 0, which names the ranks that did not arrive, has not ended the job: rank 0 is likely "
                        + "stopped, hung or lost"
                fail(
                    "rank \(rank) has waited \(Int(stalled)) s since step \(step) for the other ranks; \(who); ending the job"
                )
            }
        }
    }

    /// The ranks that did not arrive: those rank 0 has not heard from for half the limit, or
    /// else those behind the others.
    private func culprits(steps: [Int], lastHeard: [ContinuousClock.Instant], limit: Double) -> String {
        let now = ContinuousClock.now
        let silent = (0..<size).filter { (now - lastHeard[$0]).seconds > max(limit / 2, 3 * period.seconds) }
        if !silent.isEmpty {
            let seconds = silent.map { Int((now - lastHeard[$0]).seconds) }.max() ?? 0
            return "\(Self.list(silent)) did not arrive: no word from \(silent.count == 1 ? "it" : "them") for "
                + "\(seconds) s (stopped, hung in a system call, or lost with \(silent.count == 1 ? "its" : "their") node)"
        }
        let lowest = steps.min() ?? 0
        let behind = (0..<size).filter { steps[$0] == lowest }
        guard behind.count < size else {
            return "every rank is at step \(lowest): the job is stuck as a whole (a file system or the network)"
        }
        return "\(Self.list(behind)) did not arrive: \(behind.count == 1 ? "it is" : "they are") at step \(lowest), "
            + "the others further on"
    }

    /// "rank 3" or "ranks 1, 4 and 7" (at most 16 named).
    static func list(_ ranks: [Int]) -> String {
        guard ranks.count > 1 else { return "rank \(ranks.first ?? 0)" }
        let named = ranks.prefix(16).map(String.init)
        let more = ranks.count > 16 ? " and \(ranks.count - 16) more" : ""
        return "ranks " + named.dropLast().joined(separator: ", ")
            + (more.isEmpty ? " and \(named.last!)" : ", \(named.last!)\(more)")
    }

    private func fail(_ message: String) -> Never {
        printError(message)
        MPIEnvironment.abort(code: 1)
    }
}

/// Runs `body`, which reads the file at `path`, and ends the process with an error if it
/// takes far longer than reading such a file can (60 s, plus a second per 20 MB): HDF5 can
/// loop forever on some damaged metadata, and a read cannot be interrupted, so the error says
/// which file to move aside. Under MPI it aborts the job, where other ranks would wait.
func guardingRead<T>(of path: String, _ what: String, _ body: () throws -> T) rethrows -> T {
    let bytes = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
    let limit = 60 + Double(bytes) / 20e6
    let done = Mutex(false)
    DispatchQueue.global().asyncAfter(deadline: .now() + limit) {
        guard !done.withLock({ $0 }) else { return }
        printError(
            "\(what) \(path) has taken more than \(Int(limit)) s: HDF5 is stuck on damaged metadata in it; move the "
                + "file aside and try again")
        MPIEnvironment.abort(code: 1)
    }
    defer { done.withLock { $0 = true } }
    return try body()
}
