import Dispatch

/// How fast this core's floating-point divider works: divisions and square roots per second,
/// vectorised as the kernels' are, on arrays that stay in the L1 cache so that memory plays no
/// part. With a model's ``DividerWork`` it gives the compute bound that `tessera bench-model`
/// states for kernels heavy in divisions. Compiled with the kernels' flags, so it uses the same
/// vector width.
public enum DividerThroughput {
    /// Divisions per second and square roots per second, each the best of several rounds.
    public static func measure() -> (divisions: Double, squareRoots: Double) {
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
        func best(_ body: () -> Void) -> Double {
            var fastest = Double.infinity
            for _ in 0..<5 {
                let start = DispatchTime.now().uptimeNanoseconds
                for _ in 0..<repeats { body() }
                fastest = Swift.min(fastest, Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9)
            }
            return Double(count * repeats) / fastest
        }
        let divisions = best { divide(b, by: c, into: a, count: count) }
        let roots = best { root(b, into: a, count: count) }
        return (divisions, roots)
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
