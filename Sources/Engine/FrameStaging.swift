import Grid

/// How a frame's fields are stored: float32, as The Well's datasets are, or float64 (for
/// gradients, which are compared to round-off).
public enum FramePrecision: Sendable {
    case single, double

    /// Bytes per stored value.
    public var bytes: Int { self == .single ? 4 : 8 }
}

/// One rank's block of one frame in the order the results file stores it: for each output
/// field, its owned cells in C order with a vector's or tensor's components interleaved per
/// cell (The Well's `[..., D]` and `[..., D, D]` trailing axes), in the output precision.
///
/// The buffer belongs to whoever staged the frame until it is written; frames in flight each
/// hold their own.
public final class StagedFrame: @unchecked Sendable {
    /// The stored precision.
    public let precision: FramePrecision
    /// Per output field: where its values start (in values) and how many components each cell has.
    public let segments: [(field: FieldSpec, start: Int, components: Int)]
    /// Owned cells of the block.
    public let cells: Int
    private let raw: UnsafeMutableRawPointer
    /// Values in the whole buffer.
    public let count: Int

    init(fields: [FieldSpec], dimensions: Int, cells: Int, precision: FramePrecision) {
        var segments: [(FieldSpec, Int, Int)] = []
        var position = 0
        for field in fields where field.isOutput {
            let components = field.components(dimensions: dimensions).count
            segments.append((field, position, components))
            position += cells * components
        }
        self.segments = segments
        self.cells = cells
        self.count = position
        self.precision = precision
        raw = .allocate(byteCount: Swift.max(position, 1) * precision.bytes, alignment: 64)
        // Touched now, so that the first frame does not pay for page faults.
        raw.initializeMemory(as: UInt8.self, repeating: 0, count: Swift.max(position, 1) * precision.bytes)
    }

    deinit { raw.deallocate() }

    /// The values of output field `index` (single precision).
    public func single(_ index: Int) -> UnsafeBufferPointer<Float> {
        precondition(precision == .single)
        let segment = segments[index]
        return UnsafeBufferPointer(
            start: raw.assumingMemoryBound(to: Float.self) + segment.start, count: cells * segment.components)
    }

    /// The values of output field `index` (double precision).
    public func double(_ index: Int) -> UnsafeBufferPointer<Double> {
        precondition(precision == .double)
        let segment = segments[index]
        return UnsafeBufferPointer(
            start: raw.assumingMemoryBound(to: Double.self) + segment.start, count: cells * segment.components)
    }

    var singleBase: UnsafeMutablePointer<Float> { raw.assumingMemoryBound(to: Float.self) }
    var doubleBase: UnsafeMutablePointer<Double> { raw.assumingMemoryBound(to: Double.self) }

    /// Bytes of one staged frame of `fields` on a block of `cells` cells.
    public static func bytes(fields: [FieldSpec], dimensions: Int, cells: Int, precision: FramePrecision) -> Int {
        fields.filter(\.isOutput).reduce(0) { $0 + $1.components(dimensions: dimensions).count } * cells
            * precision.bytes
    }
}

/// Global reductions, for the statistics of a frame. The output pipeline gets its own (over a
/// communicator of its own), so that they never interleave with the halo exchange's.
public protocol Reductions: AnyObject {
    /// The element-wise maxima of `values` over all ranks.
    func globalMaximum(_ values: [Double]) throws -> [Double]
    /// The element-wise sums of `values` over all ranks.
    func globalSum(_ values: [Double]) throws -> [Double]
}

extension Reductions {
    /// The maximum of `value` over all ranks.
    public func globalMaximum(_ value: Double) throws -> Double { try globalMaximum([value])[0] }
}

/// What every frame needs besides its values: whether the state is finite, and the integrals of
/// the model's conserved components over the whole grid, with the same bits on any number of
/// ranks (``ReproducibleSum``).
///
/// ``stage(_:into:reductions:)`` makes one pass over the state that converts the output fields
/// into the frame's buffer, counts non-finite values and finds each conserved component's
/// largest magnitude; after one reduction, a second pass over the conserved components sums
/// them. Both passes only read the state.
public struct FrameStatistics: Sendable {
    /// The names of the state's components, in order.
    public let names: [String]
    /// The fields, in the model's order.
    public let fields: [FieldSpec]
    /// Positions in the state of the conserved components.
    public let conserved: [Int]
    /// Positions in the state of the components a frame reads: those it holds (the output
    /// fields') and those it totals. Staging checks only these for NaNs and infinities, so a
    /// step may write the others while a frame is staged (the wave's older level, whose
    /// array its update in place writes first); the whole state is checked before each
    /// checkpoint and at the end of a run (``nonFinite(_:reductions:)``).
    public let staged: [Int]
    /// The block's layout.
    public let layout: LocalLayout
    /// Cells in the whole grid.
    public let globalCells: Int
    /// The volume of one cell.
    public let cellVolume: Double
    let dimensions: Int

    public init(fields: [FieldSpec], conserved: [String], geometry: Geometry) {
        let names = fields.components(dimensions: geometry.dimensions)
        self.names = names
        self.fields = fields
        let conserved = conserved.map { name in names.firstIndex(of: name)! }
        self.conserved = conserved
        let output = fields.flatMap { field in
            field.components(dimensions: geometry.dimensions).map { _ in field.isOutput }
        }
        self.staged = names.indices.filter { output[$0] || conserved.contains($0) }
        self.layout = geometry.layout
        self.globalCells = geometry.shape.reduce(1, *)
        self.cellVolume = geometry.spacing.reduce(1, *)
        self.dimensions = geometry.dimensions
    }

    /// A buffer for one staged frame of this block.
    public func makeFrame(precision: FramePrecision) -> StagedFrame {
        StagedFrame(fields: fields, dimensions: dimensions, cells: layout.interior.count, precision: precision)
    }

    /// Converts the output fields of `state` into `frame` and returns, over all ranks, the
    /// components among ``staged`` that hold a NaN or an infinity (none when all is well) and,
    /// when there are none, the totals of the conserved components. It reads no other
    /// component.
    ///
    /// `guess` holds, per conserved component, a bound every rank shares (the last frame's
    /// largest magnitude): the pass sums each conserved component in that bound's units on the
    /// way. Where the true bound has the same binary exponent, those sums are the very ones a
    /// second pass would make, and it is skipped; `guess` is updated to the true bounds.
    public func stage(
        _ state: [Field], into frame: StagedFrame?, reductions: Reductions, guess: inout [Double]?
    ) throws -> (nonFinite: [String], totals: [Double]) {
        var bad = [Double](repeating: 0, count: state.count)
        var bounds = [Double](repeating: 0, count: conserved.count)
        let guesses = guess.map { $0.map { ReproducibleSum(bound: $0, count: globalCells) } }
        var guessed = [[Double]](repeating: [], count: conserved.count)
        var component = 0
        var segment = 0
        for field in fields {
            let m = field.components(dimensions: dimensions).count
            for c in 0..<m {
                let index = component + c
                // Neither held nor totalled: left to the checks before checkpoints and at the end.
                guard staged.contains(index) else { continue }
                let slot = conserved.firstIndex(of: index)
                var out: FrameStaging.Target = .none
                if field.isOutput, let frame {
                    let start = frame.segments[segment].start
                    out =
                        frame.precision == .single
                        ? .single(frame.singleBase + start + c, stride: m)
                        : .double(frame.doubleBase + start + c, stride: m)
                }
                let sum = slot.flatMap { guesses?[$0] }
                let pass = FrameStaging.pass(state[index], layout: layout, into: out, summing: sum)
                bad[index] = Double(pass.nonFinite)
                if let slot {
                    bounds[slot] = pass.bound
                    guessed[slot] = pass.partials
                }
            }
            if field.isOutput { segment += 1 }
            component += m
        }
        let global = try reductions.globalSum(bad)
        let nonFinite = state.indices.filter { global[$0] > 0 }.map { names[$0] }
        guard nonFinite.isEmpty else { return (nonFinite, []) }
        guard !conserved.isEmpty else { return (nonFinite, []) }
        let maxima = try reductions.globalMaximum(bounds)
        var partials: [Double] = []
        let sums = maxima.map { ReproducibleSum(bound: $0, count: globalCells) }
        for (slot, index) in conserved.enumerated() {
            // The same units as the guess: the sums made on the way are this pass's own.
            if let guesses, guesses[slot].shifts == sums[slot].shifts, !guessed[slot].isEmpty {
                partials += guessed[slot]
            } else {
                partials += sums[slot].sum(state[index], layout: layout)
            }
        }
        guess = maxima
        return (nonFinite, try total(partials, sums, reductions: reductions))
    }

    /// The totals from every rank's partial sums (``ReproducibleSum/levels`` per conserved
    /// component, in `sums`' units), added over all ranks in one reduction.
    func total(_ partials: [Double], _ sums: [ReproducibleSum], reductions: Reductions) throws -> [Double] {
        let global = try reductions.globalSum(partials)
        let levels = ReproducibleSum.levels
        return sums.indices.map { slot in
            sums[slot].total(Array(global[slot * levels..<(slot + 1) * levels])) * cellVolume
        }
    }

    /// The totals of the conserved components of `state` alone (no frame staged).
    public func totals(_ state: [Field], reductions: Reductions) throws -> [Double] {
        guard !conserved.isEmpty else { return [] }
        let bounds = conserved.map { FrameStaging.pass(state[$0], layout: layout, into: .none).bound }
        let sums = try reductions.globalMaximum(bounds).map { ReproducibleSum(bound: $0, count: globalCells) }
        let partials = conserved.indices.flatMap { sums[$0].sum(state[conserved[$0]], layout: layout) }
        return try total(partials, sums, reductions: reductions)
    }

    /// The components of `state` that hold a NaN or an infinity on any rank.
    public func nonFinite(_ state: [Field], reductions: Reductions) throws -> [String] {
        let counts = state.map { Double(FrameStaging.pass($0, layout: layout, into: .none).nonFinite) }
        let global = try reductions.globalSum(counts)
        return state.indices.filter { global[$0] > 0 }.map { names[$0] }
    }
}

/// The inner loops of staging, on raw memory.
enum FrameStaging {
    /// Where a component's converted values go: every `stride`-th value from `base`.
    enum Target {
        case none
        case single(UnsafeMutablePointer<Float>, stride: Int)
        case double(UnsafeMutablePointer<Double>, stride: Int)
    }

    /// One pass over the owned cells of `field`: copies them into `target` (converted), and
    /// returns how many are not finite and the largest magnitude (infinite if any is not
    /// finite); with `summing`, also the partial sums in its units (``ReproducibleSum/sum(_:layout:)``).
    static func pass(_ field: Field, layout: LocalLayout, into target: Target, summing: ReproducibleSum? = nil) -> (
        nonFinite: Int, bound: Double, partials: [Double]
    ) {
        let u = UnsafePointer(field.base)
        var bad = 0
        var bound = 0.0
        var next = 0
        var accumulator = summing.map { ReproducibleSum.Accumulator($0) }
        layout.forEachRun(in: layout.interior) { offset, length in
            let run = UnsafeBufferPointer(start: u + offset, count: length)
            switch target {
            case .none:
                break
            case .single(let out, let stride):
                if stride == 1 {
                    convert(run, into: out + next)
                } else {
                    for i in 0..<length { out[(next &+ i) &* stride] = Float(run[i]) }
                }
            case .double(let out, let stride):
                for i in 0..<length { out[(next &+ i) &* stride] = run[i] }
            }
            let (count, largest) = measure(run)
            accumulator?.add(run)
            bad &+= count
            bound = Swift.max(bound, largest)
            next &+= length
        }
        return (bad, bad > 0 ? .infinity : bound, accumulator?.partials ?? [])
    }

    /// float64 to float32, four at a time.
    @inline(__always)
    static func convert(_ run: UnsafeBufferPointer<Double>, into out: UnsafeMutablePointer<Float>) {
        let n = run.count
        let base = run.baseAddress!
        var i = 0
        while i &+ 4 <= n {
            let v = UnsafeRawPointer(base + i).loadUnaligned(as: SIMD4<Double>.self)
            UnsafeMutableRawPointer(out + i).storeBytes(of: SIMD4<Float>(v), as: SIMD4<Float>.self)
            i &+= 4
        }
        while i < n {
            out[i] = Float(base[i])
            i &+= 1
        }
    }

    /// The count of non-finite values in `run` and the largest magnitude among the rest, four
    /// at a time: a value is finite when its magnitude is below infinity (NaN compares false).
    @inline(__always)
    static func measure(_ run: UnsafeBufferPointer<Double>) -> (nonFinite: Int, largest: Double) {
        let n = run.count
        let base = run.baseAddress!
        var largest = SIMD4<Double>(repeating: 0)
        var bad = SIMD4<Int64>(repeating: 0)
        let infinity = SIMD4<Double>(repeating: .infinity)
        var i = 0
        while i &+ 4 <= n {
            let v = UnsafeRawPointer(base + i).loadUnaligned(as: SIMD4<Double>.self)
            let magnitude = v.replacing(with: -v, where: v .< 0)
            let finite = magnitude .< infinity
            bad &+= SIMD4<Int64>(repeating: 1).replacing(with: 0, where: finite)
            largest = largest.replacing(with: magnitude, where: finite .& (magnitude .> largest))
            i &+= 4
        }
        var count = Int(bad.wrappedSum())
        var top = largest.max()
        while i < n {
            let magnitude = abs(base[i])
            if magnitude < .infinity {
                top = Swift.max(top, magnitude)
            } else {
                count &+= 1
            }
            i &+= 1
        }
        return (count, top)
    }
}

extension ReproducibleSum {
    /// This rank's partial sums (one per level) over the owned cells of `field`: the same
    /// parts as ``add(_:to:)`` for each value, accumulated four values at a time. Every part is
    /// a whole number of its level's unit and every partial sum is exact, so the grouping does
    /// not change a bit of the result.
    public func sum(_ field: Field, layout: LocalLayout) -> [Double] {
        var accumulator = Accumulator(self)
        let u = UnsafePointer(field.base)
        layout.forEachRun(in: layout.interior) { offset, length in
            accumulator.add(UnsafeBufferPointer(start: u + offset, count: length))
        }
        return accumulator.partials
    }

    /// Partial sums being accumulated, four lanes per level.
    struct Accumulator {
        let sum: ReproducibleSum
        var tail: [Double]
        var p0 = SIMD4<Double>(repeating: 0)
        var p1 = SIMD4<Double>(repeating: 0)
        var p2 = SIMD4<Double>(repeating: 0)
        let s0: SIMD4<Double>
        let s1: SIMD4<Double>
        let s2: SIMD4<Double>
        let full: Bool

        init(_ sum: ReproducibleSum) {
            self.sum = sum
            tail = sum.zero
            full = sum.shifts.count == ReproducibleSum.levels
            let s = sum.shifts + [Double](repeating: 0, count: ReproducibleSum.levels - sum.shifts.count)
            (s0, s1, s2) = (SIMD4(repeating: s[0]), SIMD4(repeating: s[1]), SIMD4(repeating: s[2]))
        }

        @inline(__always)
        mutating func add(_ run: UnsafeBufferPointer<Double>) {
            guard !sum.shifts.isEmpty else { return }
            let base = run.baseAddress!
            let n = run.count
            var i = 0
            if full {
                while i &+ 4 <= n {
                    var rest = UnsafeRawPointer(base + i).loadUnaligned(as: SIMD4<Double>.self)
                    let a = (rest + s0) - s0
                    p0 += a
                    rest -= a
                    let b = (rest + s1) - s1
                    p1 += b
                    rest -= b
                    p2 += (rest + s2) - s2
                    i &+= 4
                }
            }
            while i < n {
                sum.add(base[i], to: &tail)
                i &+= 1
            }
        }

        var partials: [Double] {
            var result = tail
            result[0] += p0.sum()
            result[1] += p1.sum()
            result[2] += p2.sum()
            return result
        }
    }
}
