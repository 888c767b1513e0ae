import Dispatch
import Engine

/// How fast this core does each kind of floating-point operation of ``FloatingPointWork``, four
/// lanes wide as the kernels are (compiled with the kernels' flags), with nothing from memory:
/// the peak a model's count of operations is measured against for the compute bound that
/// `tessera bench-model` states (a roofline).
public enum FloatingPointThroughput {
    /// Operations of each kind per second, each the best of several rounds.
    public static func measure() -> FloatingPointWork {
        // Additions, multiplications and selects: twelve independent chains of four lanes
        // each, held in registers, so that the units' throughput, not their latency or the
        // loads, sets the pace.
        let chains = 12
        let steps = 20_000
        let additions = best(operations: chains * 4 * steps) { add(steps: steps) }
        let multiplications = best(operations: chains * 4 * steps) { multiply(steps: steps) }
        // A comparison and a select per lane and step.
        let selects = best(operations: 2 * chains * 4 * steps) { select(steps: steps) }

        // Divisions and square roots: a loop over arrays in the L1 cache, which the divider
        // bounds long before the loads do.
        let count = 512
        let repeats = 4000
        let a = UnsafeMutablePointer<Double>.allocate(capacity: count)
        let b = UnsafeMutablePointer<Double>.allocate(capacity: count)
        let c = UnsafeMutablePointer<Double>.allocate(capacity: count)
        defer {
            a.deallocate()
            b.deallocate()
            c.deallocate()
        }
        for i in 0..<count {
            a[i] = 0
            b[i] = 1 + Double(i % 7) / 7
            c[i] = 1.5 + Double(i % 5) / 5
        }
        let divisions = best(operations: count * repeats) {
            for _ in 0..<repeats { divide(b, by: c, into: a, count: count) }
            return a[0]
        }
        let roots = best(operations: count * repeats) {
            for _ in 0..<repeats { root(b, into: a, count: count) }
            return a[0]
        }
        return FloatingPointWork(
            additions: additions, multiplications: multiplications, selects: selects, divisions: divisions,
            squareRoots: roots)
    }

    /// `operations` over the shortest of five runs of `body`.
    static func best(operations: Int, _ body: () -> Double) -> Double {
        var fastest = Double.infinity
        var sink = 0.0
        for _ in 0..<5 {
            let start = DispatchTime.now().uptimeNanoseconds
            sink += body()
            fastest = Swift.min(fastest, Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9)
        }
        // The result is used, so the work cannot be left out.
        return sink.isNaN ? 0 : Double(operations) / fastest
    }

    typealias Chains = (
        SIMD4<Double>, SIMD4<Double>, SIMD4<Double>, SIMD4<Double>, SIMD4<Double>, SIMD4<Double>,
        SIMD4<Double>, SIMD4<Double>, SIMD4<Double>, SIMD4<Double>, SIMD4<Double>, SIMD4<Double>
    )

    static func start(_ first: Double) -> Chains {
        let v = (0..<12).map { SIMD4<Double>(repeating: first + Double($0) * 1e-3) }
        return (v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10], v[11])
    }

    static func sum(_ x: Chains) -> Double {
        let total = x.0 + x.1 + x.2 + x.3 + x.4 + x.5 + x.6 + x.7 + x.8 + x.9 + x.10 + x.11
        return total.sum()
    }

    @inline(never)
    static func add(steps: Int) -> Double {
        var x = start(1)
        let y = SIMD4<Double>(repeating: 1e-9)
        for _ in 0..<steps {
            x = (
                x.0 + y, x.1 + y, x.2 + y, x.3 + y, x.4 + y, x.5 + y, x.6 + y, x.7 + y, x.8 + y, x.9 + y, x.10 + y,
                x.11 + y
            )
        }
        return sum(x)
    }

    @inline(never)
    static func multiply(steps: Int) -> Double {
        var x = start(1)
        let y = SIMD4<Double>(repeating: 1 + 1e-12)
        for _ in 0..<steps {
            x = (
                x.0 * y, x.1 * y, x.2 * y, x.3 * y, x.4 * y, x.5 * y, x.6 * y, x.7 * y, x.8 * y, x.9 * y, x.10 * y,
                x.11 * y
            )
        }
        return sum(x)
    }

    @inline(never)
    static func select(steps: Int) -> Double {
        var x = start(1)
        let (limit, other) = (SIMD4<Double>(repeating: 1.5), SIMD4<Double>(repeating: 2))
        @inline(__always) func pick(_ v: SIMD4<Double>) -> SIMD4<Double> {
            v.replacing(with: other, where: v .> limit)
        }
        for _ in 0..<steps {
            x = (
                pick(x.0), pick(x.1), pick(x.2), pick(x.3), pick(x.4), pick(x.5), pick(x.6), pick(x.7), pick(x.8),
                pick(x.9), pick(x.10), pick(x.11)
            )
        }
        return sum(x)
    }

    @inline(never)
    static func divide(
        _ b: UnsafePointer<Double>, by c: UnsafePointer<Double>, into a: UnsafeMutablePointer<Double>, count: Int
    ) {
        for i in 0..<count { a[i] = b[i] / c[i] }
    }

    @inline(never)
    static func root(_ b: UnsafePointer<Double>, into a: UnsafeMutablePointer<Double>, count: Int) {
        for i in 0..<count { a[i] = b[i].root() }
    }
}
