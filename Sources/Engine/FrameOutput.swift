import Foundation
import Grid
import Settings

#if canImport(Glibc)
    import Glibc
#endif

/// Where frames go: the results file. ``FrameOutput`` calls it from one thread at a time (its
/// writer thread when output overlaps the simulation), never from two at once.
public protocol FrameWriter: AnyObject {
    /// The precision the writer stores fields in.
    var precision: FramePrecision { get }
    /// Writes frame `index` (0 is the initial state) at simulated `time`: this rank's block of
    /// the output fields, staged, and the totals of the conserved components. Collective.
    func write(frame index: Int, time: Double, staged: StagedFrame, totals: [Double]) throws
    /// Writes the receiver samples of `block` (every rank calls it with its own receivers).
    func write(traces block: TraceBlock) throws
    /// Completes the output after the last frame (or before a checkpoint): everything written
    /// so far is durable when it returns.
    func finish() throws
}

extension FrameWriter {
    public func write(traces block: TraceBlock) throws {}
}

/// The output of a run on one rank: stages each frame (converts it, checks that it is finite,
/// sums its conserved totals) and hands it to a ``FrameWriter``.
///
/// **Synchronous** output does all of that before ``write(frame:step:time:state:)`` returns.
/// **Overlapped** output returns at once and does it on two threads of its own while the
/// simulation steps on: a *stager* that reads the state (which the driver leaves untouched
/// until ``release(_:)``) into one of two frame buffers, and a *writer* that hands staged
/// frames to the ``FrameWriter``, the only thread that calls it. The driver waits only when a
/// step is about to overwrite a state still being staged, or when ``drain()`` asks for
/// everything to be written (before a checkpoint, at the end). Memory: two staged frames.
///
/// Every rank's stager makes the same reductions in the same order, over ``Reductions`` of its
/// own, and every rank's writer the same collective writes; so overlapped output needs MPI's
/// `MPI_THREAD_MULTIPLE` and communicators that no other thread uses.
///
/// A frame that holds a NaN or an infinity is not written: the run stops with
/// ``NonFiniteState``, thrown on every rank at the same point of the run (the release of that
/// frame's state, or the next drain), and the frames before it are kept.
public final class FrameOutput: @unchecked Sendable {
    /// Whether frames are written while the simulation steps on.
    public enum Mode: Sendable { case synchronous, overlapped }

    public let mode: Mode
    let writer: FrameWriter
    let statistics: FrameStatistics
    let reductions: Reductions
    /// Guards everything below it, and wakes whoever waits for a change.
    private let condition = NSCondition()
    /// Frames (and trace blocks) waiting for the stager, oldest first.
    private var toStage: [Job] = []
    /// Staged frames (and trace blocks) waiting for the writer, oldest first.
    private var toWrite: [Job] = []
    /// Frame buffers not in use.
    private var spare: [StagedFrame]
    /// For each array of a state handed over, by its memory, the last frame it held: a field
    /// may name memory another field owns (``Field/init(name:sharing:)``).
    private var handed: [UnsafeMutablePointer<Double>: Int] = [:]
    /// The last frame staged (frames are staged in order); -1 before the first.
    private var stagedThrough = -1
    /// Jobs taken by a thread and not yet done.
    private var busy = 0
    /// The first frame found not finite, by index.
    private var nonFinite: (frame: Int, state: NonFiniteState)?
    /// The first error of a thread: fatal, because the ranks cannot be known to agree on it.
    private var failure: (any Error)?
    /// Set when the output goes away: the threads finish the job in hand and stop.
    private var closing = false
    private var threadsRunning = 0
    /// For each frame written, the seconds from its hand-over until the writer returned (its
    /// bytes durable, when the writer flushes every frame).
    public private(set) var frameSeconds: [Double] = []
    /// Seconds the driver spent waiting for output.
    public private(set) var waitedSeconds = 0.0
    /// The last frame's bounds of the conserved components, the guess that lets staging sum
    /// them on its one pass (``FrameStatistics/stage(_:into:reductions:guess:)``). Only the
    /// stager (or, synchronously, the caller) touches it.
    private var guess: [Double]?
    /// Seconds spent staging frames and writing them.
    private var stagingSeconds = 0.0
    private var writingSeconds = 0.0

    private enum Job {
        case frame(index: Int, step: Int, time: Double, state: [Field], handed: ContinuousClock.Instant)
        case staged(index: Int, time: Double, frame: StagedFrame, totals: [Double], handed: ContinuousClock.Instant)
        case traces(TraceBlock)
    }

    /// - Parameters:
    ///   - reductions: global reductions for the statistics; in overlapped mode, over a
    ///     communicator that only this output uses.
    public init(writer: FrameWriter, statistics: FrameStatistics, reductions: Reductions, mode: Mode) {
        self.writer = writer
        self.statistics = statistics
        self.reductions = reductions
        self.mode = mode
        spare = (0..<(mode == .overlapped ? 2 : 1)).map { _ in statistics.makeFrame(precision: writer.precision) }
        if mode == .overlapped {
            threadsRunning = 2
            start("stager") { output in
                // Staging uses CPU that the steps and the writer leave idle; when a step waits
                // for a state to be released, its CPU is idle and the stager takes it.
                Self.runOnlyWhenIdle()
                output.stageLoop()
            }
            start("writer") { $0.writeLoop() }
        }
    }

    /// A line on how output went, for the end of a run: the median time from the end of a frame's
    /// step until it was written (and, flushed every frame, durable), that as a rate for frames of
    /// `frameBytes` bytes (over all ranks), and how long the `seconds` of stepping waited for
    /// output. Nil when no frame was written.
    public func summary(seconds: Double, frameBytes: Int) -> String? {
        condition.lock()
        let times = frameSeconds.sorted()
        let (waited, staging, writing) = (waitedSeconds, stagingSeconds, writingSeconds)
        condition.unlock()
        guard !times.isEmpty else { return nil }
        let n = times.count
        let median = n % 2 == 1 ? times[n / 2] : (times[n / 2 - 1] + times[n / 2]) / 2
        let rate = Double(frameBytes) / Swift.max(median, 1e-9) / 1e9
        let how = mode == .overlapped ? "overlapped" : "between steps"
        return String(
            format: "output (%@): %d frames, median %.4f s from the end of a step until written (%.3f GB/s); "
                + "stepping took %.3f s, %.3f s of it waiting for output; staging took %.3f s, writing %.3f s",
            how, n, median, rate, seconds, waited, staging, writing)
    }

    /// Stops the threads after the job in hand; what is still queued is dropped. A run that
    /// ends well calls ``finish()`` first, so nothing is.
    deinit {
        condition.lock()
        closing = true
        condition.broadcast()
        while threadsRunning > 0 { condition.wait() }
        condition.unlock()
    }

    /// Bytes the output's frame buffers take on a block of `cells` cells.
    public static func bufferBytes(
        fields: [FieldSpec], dimensions: Int, cells: Int, precision: FramePrecision, mode: Mode
    ) -> Int {
        StagedFrame.bytes(fields: fields, dimensions: dimensions, cells: cells, precision: precision)
            * (mode == .overlapped ? 2 : 1)
    }

    private func start(_ name: String, _ loop: @escaping @Sendable (FrameOutput) -> Void) {
        // The thread must not keep the output alive: it reaches it without a reference of its
        // own, and deinit (which runs once the last owner lets go) waits for it to stop.
        let output = Unmanaged.passUnretained(self)
        let thread = Thread {
            output._withUnsafeGuaranteedRef { me in
                loop(me)
                me.condition.lock()
                me.threadsRunning -= 1
                me.condition.broadcast()
                me.condition.unlock()
            }
        }
        thread.name = "tessera-output-\(name)"
        thread.start()
    }

    /// Lets the calling thread run only when a CPU would otherwise be idle: Linux's
    /// `SCHED_IDLE` (5 in <bits/sched.h>, which Swift's Glibc module leaves out, being a GNU
    /// extension). Elsewhere, or if refused, the thread keeps its priority.
    static func runOnlyWhenIdle() {
        #if os(Linux)
            var parameters = sched_param()
            parameters.sched_priority = 0
            _ = sched_setscheduler(0, 5, &parameters)
        #endif
    }

    /// Hands over frame `index`, taken after `step` at `time`. The output reads the fields of
    /// `state` that the frame holds or totals (``FrameStatistics/staged``) until ``release(_:)``
    /// of those fields returns: the driver must not change their owned cells before then.
    /// Synchronous output writes the frame before returning.
    public func write(frame index: Int, step: Int, time: Double, state: [Field]) throws {
        let job = Job.frame(index: index, step: step, time: time, state: state, handed: .now)
        guard mode == .overlapped else {
            if let staged = try stage(job) { return try commit(staged) }
            throw nonFinite!.state
        }
        condition.lock()
        defer { condition.unlock() }
        if let failure { throw failure }
        for position in statistics.staged { handed[state[position].base] = index }
        toStage.append(job)
        condition.broadcast()
    }

    /// Hands over receiver samples; they are written in order with the frames.
    public func write(traces block: TraceBlock) throws {
        guard mode == .overlapped else { return try writer.write(traces: block) }
        condition.lock()
        defer { condition.unlock() }
        if let failure { throw failure }
        toStage.append(.traces(block))
        condition.broadcast()
    }

    /// Returns once no frame reads any of `fields` (the arrays the next step writes into).
    /// Throws ``NonFiniteState`` if the last frame that held them, or one before it, was not
    /// finite: every rank releases the same arrays at the same step, and so throws there,
    /// whether or not its stager was done with them before.
    public func release(_ fields: [Field]) throws {
        guard mode == .overlapped else { return }
        condition.lock()
        defer { condition.unlock() }
        guard let last = fields.compactMap({ handed[$0.base] }).max() else {
            if let failure { throw failure }
            return
        }
        let start = ContinuousClock.now
        while failure == nil && stagedThrough < last { condition.wait() }
        waitedSeconds += (ContinuousClock.now - start).seconds
        if let failure { throw failure }
        if let nonFinite, nonFinite.frame <= last { throw nonFinite.state }
    }

    /// Waits until every frame and trace block handed over is written, then has the writer make
    /// it durable (before a checkpoint, and at the end). Throws ``NonFiniteState`` if a frame was
    /// not finite, after writing the frames before it. Collective.
    public func drain() throws {
        try waitUntilIdle()
        try writer.finish()
        if let nonFinite { throw nonFinite.state }
    }

    private func waitUntilIdle() throws {
        guard mode == .overlapped else { return }
        condition.lock()
        defer { condition.unlock() }
        let start = ContinuousClock.now
        while failure == nil && (!toStage.isEmpty || !toWrite.isEmpty || busy > 0) { condition.wait() }
        waitedSeconds += (ContinuousClock.now - start).seconds
        if let failure { throw failure }
    }

    /// Stages a frame: converts it, checks it, sums its totals. Returns the staged job, or nil
    /// when the frame is not finite (recorded in `nonFinite`). Passes trace blocks through.
    private func stage(_ job: Job) throws -> Job? {
        guard case .frame(let index, let step, let time, let state, let handed) = job else { return job }
        let buffer = take()
        let started = ContinuousClock.now
        defer {
            let seconds = (ContinuousClock.now - started).seconds
            condition.lock()
            stagingSeconds += seconds
            condition.unlock()
        }
        let (bad, totals) = try statistics.stage(state, into: buffer, reductions: reductions, guess: &guess)
        guard bad.isEmpty else {
            give(buffer)
            condition.lock()
            nonFinite = nonFinite ?? (index, NonFiniteState(step: step, time: time, components: bad))
            condition.unlock()
            return nil
        }
        return .staged(index: index, time: time, frame: buffer, totals: totals, handed: handed)
    }

    /// Writes a staged frame or a trace block.
    private func commit(_ job: Job) throws {
        switch job {
        case .staged(let index, let time, let frame, let totals, let handed):
            defer { give(frame) }
            let started = ContinuousClock.now
            try writer.write(frame: index, time: time, staged: frame, totals: totals)
            let seconds = (ContinuousClock.now - handed).seconds
            condition.lock()
            frameSeconds.append(seconds)
            writingSeconds += (ContinuousClock.now - started).seconds
            condition.unlock()
        case .traces(let block):
            try writer.write(traces: block)
        case .frame:
            preconditionFailure("an unstaged frame reached the writer")
        }
    }

    /// A spare frame buffer, waiting for the writer to return one if both are in flight.
    private func take() -> StagedFrame {
        condition.lock()
        defer { condition.unlock() }
        while spare.isEmpty { condition.wait() }
        return spare.removeLast()
    }

    private func give(_ frame: StagedFrame) {
        condition.lock()
        spare.append(frame)
        condition.broadcast()
        condition.unlock()
    }

    /// The stager: stages frames in order, releases their states and queues them for the
    /// writer. After a frame that is not finite it stages nothing more (on every rank alike).
    private func stageLoop() {
        while let job = next(from: \.toStage) {
            var staged: Job?
            var error: (any Error)?
            condition.lock()
            let skip = nonFinite != nil
            condition.unlock()
            if !skip {
                do { staged = try stage(job) } catch let caught { error = caught }
            }
            condition.lock()
            if case .frame(let index, _, _, _, _) = job { stagedThrough = index }
            if let error { failure = failure ?? error }
            if let staged { toWrite.append(staged) }
            busy -= 1
            condition.broadcast()
            condition.unlock()
        }
    }

    /// The writer: hands staged frames and trace blocks to the ``FrameWriter`` in order.
    private func writeLoop() {
        while let job = next(from: \.toWrite) {
            var error: (any Error)?
            do { try commit(job) } catch let caught { error = caught }
            condition.lock()
            if let error { failure = failure ?? error }
            busy -= 1
            condition.broadcast()
            condition.unlock()
        }
    }

    /// The next job of a queue, or nil once the output closes or a thread failed.
    private func next(from queue: ReferenceWritableKeyPath<FrameOutput, [Job]>) -> Job? {
        condition.lock()
        defer { condition.unlock() }
        while self[keyPath: queue].isEmpty && !closing && failure == nil { condition.wait() }
        guard !closing, failure == nil else { return nil }
        busy += 1
        return self[keyPath: queue].removeFirst()
    }
}

extension Duration {
    /// The duration in seconds.
    public var seconds: Double { Double(components.seconds) + Double(components.attoseconds) * 1e-18 }
}
