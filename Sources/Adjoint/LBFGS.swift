/// Limited-memory BFGS (Nocedal and Wright, algorithm 7.4): the search direction from the
/// gradient and the last few steps and gradient changes. Vectors are this rank's share of a
/// distributed vector; `dot` sums over every rank.
public struct LBFGS {
    /// Pairs kept.
    public let memory: Int
    private var pairs: [(s: [Double], y: [Double], rho: Double)] = []

    public init(memory: Int = 5) { self.memory = memory }

    /// Whether no pair is held (the direction is then the steepest descent).
    public var isEmpty: Bool { pairs.isEmpty }

    /// Records a step `s` and the change of gradient `y` over it; skipped unless `s·y > 0`,
    /// which keeps the implied Hessian positive definite.
    public mutating func record(step s: [Double], change y: [Double], dot: ([Double], [Double]) throws -> Double)
        rethrows
    {
        let sy = try dot(s, y)
        guard sy > 0 else { return }
        pairs.append((s, y, 1 / sy))
        if pairs.count > memory { pairs.removeFirst() }
    }

    /// Forgets every pair.
    public mutating func reset() { pairs = [] }

    /// `−H g`, the quasi-Newton direction (`−g` when no pair is held).
    public func direction(_ g: [Double], dot: ([Double], [Double]) throws -> Double) rethrows -> [Double] {
        var q = g
        var alphas: [Double] = []
        for pair in pairs.reversed() {
            let alpha = pair.rho * (try dot(pair.s, q))
            alphas.append(alpha)
            for i in q.indices { q[i] -= alpha * pair.y[i] }
        }
        if let last = pairs.last {
            let gamma = (try dot(last.s, last.y)) / (try dot(last.y, last.y))
            for i in q.indices { q[i] *= gamma }
        }
        for (pair, alpha) in zip(pairs, alphas.reversed()) {
            let beta = pair.rho * (try dot(pair.y, q))
            for i in q.indices { q[i] += (alpha - beta) * pair.s[i] }
        }
        return q.map { -$0 }
    }
}
