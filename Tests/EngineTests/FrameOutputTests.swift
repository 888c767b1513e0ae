import Foundation
import Testing

@testable import Engine
@testable import Grid

/// Keeps every frame it is given, as the results file would hold them.
final class MemoryWriter: FrameWriter {
    let precision: FramePrecision
    private let lock = NSLock()
    private var written: [(index: Int, time: Double, values: [[Float]], totals: [Double])] = []
    private(set) var finishes = 0
    /// Called inside each write, on the writer's thread, to slow it down or watch it.
    var onWrite: (Int) -> Void = { _ in }

    init(precision: FramePrecision = .single) { self.precision = precision }

    var frames: [(index: Int, time: Double, values: [[Float]], totals: [Double])] {
        lock.lock()
        defer { lock.unlock() }
        return written
    }

    func write(frame index: Int, time: Double, staged: StagedFrame, totals: [Double]) throws {
        onWrite(index)
        let values = staged.segments.indices.map { Array(staged.single($0)) }
        lock.lock()
        written.append((index, time, values, totals))
        lock.unlock()
    }

    func finish() throws {
        lock.lock()
        finishes += 1
        lock.unlock()
    }
}

/// One rank's reductions.
final class OneRank: Reductions {
    func globalMaximum(_ values: [Double]) throws -> [Double] { values }
    func globalSum(_ values: [Double]) throws -> [Double] { values }
}

/// A 2-D block of 5×4 owned cells with two ghosts, holding a scalar, a vector and a field that
/// is not written; every owned value different.
func stateForStaging() -> (FrameStatistics, [Field]) {
    let layout = LocalLayout(owned: Box(lower: [3, 0], upper: [8, 4]), ghost: [2, 2])
    let geometry = Geometry(shape: [10, 4], extent: [1, 1], periodic: [true, true], layout: layout)
    let fields = [
        FieldSpec(name: "rho"), FieldSpec(name: "m", tensorOrder: 1), FieldSpec(name: "old", isOutput: false),
    ]
    let statistics = FrameStatistics(fields: fields, conserved: ["rho", "m_y"], geometry: geometry)
    let state = statistics.names.map { Field(name: $0, layout: layout) }
    for (n, field) in state.enumerated() {
        for k in 0..<layout.count { field.base[k] = -999 }  // ghosts: never staged
        layout.interior.forEachPoint { p in field[p] = Double(n) * 100 + Double(p[0] * 10 + p[1]) + 0.1 }
    }
    return (statistics, state)
}

@Suite struct FrameStagingTests {
    @Test func stagingWritesTheOwnedCellsInTheWellsOrderWithVectorComponentsInterleaved() throws {
        let (statistics, state) = stateForStaging()
        let frame = statistics.makeFrame(precision: .single)
        var guess: [Double]?
        let (bad, totals) = try statistics.stage(state, into: frame, reductions: OneRank(), guess: &guess)
        #expect(bad.isEmpty)
        #expect(frame.segments.map(\.field.name) == ["rho", "m"])
        let rho = Array(frame.single(0))
        let m = Array(frame.single(1))
        #expect(rho.count == 20 && m.count == 40)
        var cell = 0
        for i in 0..<5 {
            for j in 0..<4 {
                #expect(rho[cell] == Float(state[0][[i, j]]))
                #expect(m[2 * cell] == Float(state[1][[i, j]]) && m[2 * cell + 1] == Float(state[2][[i, j]]))
                cell += 1
            }
        }
        // The totals are the integrals (sum times cell volume 1/10 × 1/4) of rho and m_y.
        let volume = 0.1 * 0.25
        for (slot, index) in [0, 2].enumerated() {
            var sum = 0.0
            state[index].layout.interior.forEachPoint { sum += state[index][$0] }
            #expect(abs(totals[slot] - sum * volume) <= 1e-12 * abs(sum * volume))
        }
    }

    /// The vectorised sums have the bits of adding each value's parts one by one, whatever the
    /// lengths of the runs; and a sum guessed from another bound of the same exponent is the same.
    @Test(arguments: [1, 3, 4, 7, 64, 1001])
    func vectorisedReproducibleSumsHaveTheBitsOfTheScalarOnes(length: Int) throws {
        var generator = SystemRandomNumberGenerator()
        let layout = LocalLayout(owned: Box(extent: [3, length]), ghost: [1, 1])
        let field = Field(name: "u", layout: layout)
        var largest = 0.0
        layout.interior.forEachPoint { p in
            let value = Double.random(in: -1...1, using: &generator) * pow(2, Double.random(in: -40...3))
            field[p] = value
            largest = max(largest, abs(value))
        }
        let sum = ReproducibleSum(bound: largest, count: 3 * length)
        var scalar = sum.zero
        layout.interior.forEachPoint { sum.add(field[$0], to: &scalar) }
        #expect(sum.sum(field, layout: layout) == scalar)
        let fused = FrameStaging.pass(field, layout: layout, into: .none, summing: sum)
        #expect(fused.partials == scalar && fused.bound == largest)
    }

    @Test func aGuessedBoundGivesTheTotalsOfNoGuessRightOrWrong() throws {
        let (statistics, state) = stateForStaging()
        var none: [Double]?
        let (_, exact) = try statistics.stage(state, into: nil, reductions: OneRank(), guess: &none)
        #expect(none != nil)
        for guess in [none!, none!.map { $0 * 0.75 }, none!.map { $0 * 8 }, [1e-300, 1e300]] {
            var given: [Double]? = guess
            let (_, totals) = try statistics.stage(state, into: nil, reductions: OneRank(), guess: &given)
            #expect(totals.map(\.bitPattern) == exact.map(\.bitPattern))
            #expect(given == none)
        }
        #expect(try statistics.totals(state, reductions: OneRank()).map(\.bitPattern) == exact.map(\.bitPattern))
    }

    @Test func nonFiniteValuesAreFoundAndNamed() throws {
        let (statistics, state) = stateForStaging()
        state[2][[4, 3]] = .nan
        state[3][[0, 0]] = -.infinity
        state[0][[-1, 0]] = .nan  // a ghost: not the state's
        var guess: [Double]?
        let (bad, totals) = try statistics.stage(
            state, into: statistics.makeFrame(precision: .single), reductions: OneRank(), guess: &guess)
        // Staging reads what the frame holds and totals; "old" is neither, and only the check
        // of the whole state finds it.
        #expect(statistics.staged == [0, 1, 2])
        #expect(bad == ["m_y"] && totals.isEmpty)
        #expect(try statistics.nonFinite(state, reductions: OneRank()) == ["m_y", "old"])
    }
}

@Suite struct FrameOutputTests {
    func frames(_ mode: FrameOutput.Mode, count: Int, slow: Bool = false) throws -> [(Int, Double, [[Float]], [Double])]
    {
        let (statistics, state) = stateForStaging()
        let writer = MemoryWriter()
        if slow { writer.onWrite = { _ in usleep(20_000) } }
        let output = FrameOutput(writer: writer, statistics: statistics, reductions: OneRank(), mode: mode)
        // Two states taking turns, as the driver's state and next state do.
        let other = state.map { Field(name: $0.name, layout: $0.layout) }
        var current = state
        var next = other
        for index in 0..<count {
            try output.write(frame: index, step: index, time: Double(index) / 4, state: current)
            try output.release(next)
            for (a, b) in zip(current, next) {
                a.layout.interior.forEachPoint { b[$0] = a[$0] * 1.5 + Double(index) }
            }
            swap(&current, &next)
        }
        try output.drain()
        #expect(writer.finishes == 1)
        return writer.frames.map { ($0.index, $0.time, $0.values, $0.totals) }
    }

    @Test func overlappedOutputWritesTheFramesThatSynchronousOutputWrites() throws {
        let between = try frames(.synchronous, count: 7)
        for slow in [false, true] {
            let overlapped = try frames(.overlapped, count: 7, slow: slow)
            #expect(overlapped.count == 7)
            for (a, b) in zip(between, overlapped) {
                #expect(a.0 == b.0 && a.1 == b.1 && a.2 == b.2 && a.3.map(\.bitPattern) == b.3.map(\.bitPattern))
            }
        }
    }

    /// A state handed over is staged before the driver may write into it again: the frame holds
    /// the values at hand-over even though they change right after the release. Release goes
    /// by memory: a field that names the state's array (a leapfrog's next state names its
    /// current one's arrays) waits as the state's own field does.
    @Test(arguments: [false, true])
    func releaseWaitsUntilTheStateIsStaged(throughAFieldSharingItsMemory sharing: Bool) throws {
        let (statistics, state) = stateForStaging()
        let writer = MemoryWriter()
        writer.onWrite = { _ in usleep(50_000) }
        let output = FrameOutput(writer: writer, statistics: statistics, reductions: OneRank(), mode: .overlapped)
        let expected = state[0][[2, 2]]
        let written = sharing ? Field(name: "other", sharing: state[0]) : state[0]
        try output.write(frame: 0, step: 0, time: 0, state: state)
        try output.release(sharing ? [written] : state)
        written[[2, 2]] = 12345
        try output.drain()
        #expect(writer.frames.first?.values[0][2 * 4 + 2] == Float(expected))
    }

    /// A component that the frame neither holds nor totals is not read, so its release does not
    /// wait for the frame (a wave's step after a frame writes its older level at once). Here
    /// frame 2 cannot be staged before the writer, held at frame 0, gives back a buffer: a
    /// release that waited for it would return only after the writer's two-second hold.
    @Test func releaseOfAComponentNoFrameReadsDoesNotWait() throws {
        let (statistics, state) = stateForStaging()
        let writer = MemoryWriter()
        let gate = DispatchSemaphore(value: 0)
        writer.onWrite = { _ in _ = gate.wait(timeout: .now() + 2) }
        let output = FrameOutput(writer: writer, statistics: statistics, reductions: OneRank(), mode: .overlapped)
        for frame in 0..<3 { try output.write(frame: frame, step: frame, time: Double(frame), state: state) }
        try output.release([state[3]])
        #expect(writer.frames.isEmpty)
        for _ in 0..<3 { gate.signal() }
        try output.drain()
        #expect(writer.frames.map(\.index) == [0, 1, 2])
    }

    /// A frame that is not finite is not written, nor anything after it; the frames before it are,
    /// and the run learns of it when it takes back that frame's state, or drains.
    @Test(arguments: [FrameOutput.Mode.synchronous, .overlapped])
    func aNonFiniteFrameStopsTheOutputAtThatFrame(mode: FrameOutput.Mode) throws {
        let (statistics, state) = stateForStaging()
        let writer = MemoryWriter()
        let output = FrameOutput(writer: writer, statistics: statistics, reductions: OneRank(), mode: mode)
        let spare = state.map { Field(name: $0.name, layout: $0.layout) }
        try output.write(frame: 0, step: 0, time: 0, state: state)
        try output.release(spare)
        for (a, b) in zip(state, spare) { a.layout.interior.forEachPoint { b[$0] = a[$0] } }
        spare[1][[1, 1]] = .infinity
        if mode == .synchronous {
            #expect(throws: NonFiniteState.self) { try output.write(frame: 1, step: 10, time: 1, state: spare) }
        } else {
            try output.write(frame: 1, step: 10, time: 1, state: spare)
            // The release of frame 0's state says nothing of frame 1; that of frame 1's does,
            // even when the stager was done with it long before.
            try output.release(state)
            usleep(100_000)
            #expect(throws: NonFiniteState.self) { try output.release(spare) }
        }
        #expect(throws: NonFiniteState.self) { try output.drain() }
        #expect(writer.frames.map(\.index) == [0])
    }
}
