import Engine
import Grid
import Settings

#if canImport(Glibc)
    import Glibc
#endif

/// The checks that an adjoint is exact: dot-product tests of each linear operator against its
/// transpose, and the Taylor test of the gradient. Collective: every rank calls each with the
/// same arguments. Random values depend only on the seed and the global cell (or receiver and
/// step), so every rank count tests the same vectors.
extension AdjointRun {
    /// The outcome of a dot-product test: `⟨A x, y⟩` and `⟨x, Aᵀ y⟩`.
    public struct DotProduct: Sendable {
        public let forward: Double
        public let adjoint: Double
        /// `|forward − adjoint| / max(|forward|, |adjoint|)`.
        public var mismatch: Double {
            abs(forward - adjoint) / Swift.max(abs(forward), abs(adjoint), .leastNormalMagnitude)
        }
    }

    /// The outcome of a Taylor test: for each step size `h`, the remainders
    /// `|J(m + h δm) − J(m)|` (first order) and `|J(m + h δm) − J(m) − h ⟨∇J, δm⟩|` (second).
    public struct Taylor: Sendable {
        public let sizes: [Double]
        public let first: [Double]
        public let second: [Double]
        /// The least-squares slope of log(remainder) against log(h).
        public static func slope(_ sizes: [Double], _ values: [Double]) -> Double {
            let x = sizes.map { log($0) }
            let y = values.map { log($0) }
            let mx = x.reduce(0, +) / Double(x.count)
            let my = y.reduce(0, +) / Double(y.count)
            var sxy = 0.0
            var sxx = 0.0
            for i in x.indices {
                sxy += (x[i] - mx) * (y[i] - my)
                sxx += (x[i] - mx) * (x[i] - mx)
            }
            return sxy / sxx
        }
        public var firstSlope: Double { Self.slope(sizes, first) }
        public var secondSlope: Double { Self.slope(sizes, second) }
    }

    /// A random value in [−1, 1) for `key` (a global cell, or a receiver and step) and `seed`.
    static func random(_ seed: UInt64, _ key: Int) -> Double {
        var generator = SeededGenerator(seed: seed &* 0x9E37_79B9_7F4A_7C15 ^ UInt64(bitPattern: Int64(key)))
        return 2 * generator.uniform() - 1
    }

    /// Fills the owned cells of `field` (or every cell, ghosts included, with `ghosts`) with
    /// random values keyed by global cell.
    func fillRandom(_ field: Field, seed: UInt64, ghosts: Bool = false) {
        let layout = field.layout
        let shape = geometry.shape
        let box = ghosts ? layout.whole : layout.interior
        box.forEachPoint { local in
            var flat = 0
            for a in local.indices {
                // Ghosts get keys of their own, past the grid's cells.
                let index = layout.owned.lower[a] + local[a] + layout.ghost[a]
                flat = flat * (shape[a] + 2 * layout.ghost[a]) + index
            }
            field[local] = Self.random(seed, flat)
        }
    }

    /// `Σ x·y` over the owned cells (or every allocated cell) of pairs of fields, over all ranks.
    func dot(_ x: [Field], _ y: [Field], ghosts: Bool = false) throws -> Double {
        let layout = geometry.layout
        var sum = 0.0
        for (a, b) in zip(x, y) {
            layout.forEachRun(in: ghosts ? layout.whole : layout.interior) { offset, length in
                for k in offset..<(offset &+ length) { sum += a.base[k] * b.base[k] }
            }
        }
        return try simulation.communication.globalSum([sum])[0]
    }

    /// `Σ a·b` over this rank's receiver samples, over all ranks.
    func dot(samples a: [[Double]], _ b: [[Double]]) throws -> Double {
        var sum = 0.0
        for (x, y) in zip(a, b) { for k in x.indices { sum += x[k] * y[k] } }
        return try simulation.communication.globalSum([sum])[0]
    }

    /// Random receiver data: one list of `steps + 1` per receiver this rank holds.
    func randomSamples(seed: UInt64) -> [[Double]] {
        receivers.map { receiver in (0...steps).map { Self.random(seed, receiver * (steps + 1) + $0) } }
    }

    /// The ghost fill (halo exchange and boundary conditions) against its adjoint.
    public func exchangeDotProduct(seed: UInt64) throws -> DotProduct {
        let names = state.map(\.name)
        let x = fields(names)
        let y = fields(names)
        for (i, field) in x.enumerated() { fillRandom(field, seed: seed &+ UInt64(i)) }
        for (i, field) in y.enumerated() { fillRandom(field, seed: seed &+ 100 &+ UInt64(i), ghosts: true) }
        try fillLinearGhosts(x)
        let forward = try dot(x, y, ghosts: true)
        for (i, field) in x.enumerated() {
            field.storage.update(repeating: 0)
            fillRandom(field, seed: seed &+ UInt64(i))
        }
        try reverseLinearGhosts(y)
        return DotProduct(forward: forward, adjoint: try dot(x, y))
    }

    /// One step of the linearised model (controls fixed), from the initial state, against its
    /// adjoint.
    public func stepDotProduct(seed: UInt64) throws -> DotProduct {
        _ = try forward()
        try simulation.fillGhosts()
        let names = state.map(\.name)
        let (x, y, sx, aty) = (fields(names), fields(names), fields(names), fields(names))
        for (i, field) in x.enumerated() { fillRandom(field, seed: seed &+ UInt64(i)) }
        for (i, field) in y.enumerated() { fillRandom(field, seed: seed &+ 100 &+ UInt64(i)) }
        let none = fields(model.controls)
        try fillLinearGhosts(x)
        try simulation.prepare(dt: dt)
        model.tangentUpdate(
            state: state, tangent: x, direction: none, into: sx, time: 0, dt: dt,
            work: work, geometry: geometry)
        let forward = try dot(sx, y)
        model.adjointUpdate(
            state: state, adjoint: y, into: aty, gradient: none, time: 0, dt: dt, work: work, geometry: geometry)
        try reverseLinearGhosts(aty)
        return DotProduct(forward: forward, adjoint: try dot(x, aty))
    }

    /// The whole linearised run, controls (and initial state, when a control) to receiver
    /// samples, against the gradient computation with random data as the residual.
    public func linearisedDotProduct(seed: UInt64) throws -> DotProduct {
        let direction = fields(model.controls)
        for (i, field) in direction.enumerated() { fillRandom(field, seed: seed &+ UInt64(i)) }
        let initial = model.initialStateIsControl ? fields(state.map(\.name)) : nil
        for (i, field) in (initial ?? []).enumerated() { fillRandom(field, seed: seed &+ 50 &+ UInt64(i)) }
        let data = randomSamples(seed: seed &+ 200)
        let forward = try dot(samples: try tangent(direction: direction, initial: initial), data)
        let result = try gradient { _ in data }
        var adjoint = try dot(direction, result.gradient)
        if let initial, let lambda = result.initial { adjoint += try dot(initial, lambda) }
        return DotProduct(forward: forward, adjoint: adjoint)
    }

    /// The least-squares misfit `½ Σ (d − d_obs)²` of `samples` against `observed` (this rank's
    /// receivers), over all ranks.
    public func misfit(_ samples: [[Double]], observed: [[Double]]) throws -> Double {
        var sum = 0.0
        for (d, o) in zip(samples, observed) { for k in d.indices { sum += 0.5 * (d[k] - o[k]) * (d[k] - o[k]) } }
        return try simulation.communication.globalSum([sum])[0]
    }

    /// The gradient with respect to the model's global parameters, from the controls'
    /// `gradient`: `Σ_cells ∇J · ∂control/∂θ`, summed over every rank.
    public func globalGradient(_ gradient: [Field]) throws -> [Double] {
        let layout = geometry.layout
        let derivative = Field(name: "derivative", layout: layout)
        var sums: [Double] = []
        for parameter in model.globalParameters.indices {
            var sum = 0.0
            for (control, g) in gradient.enumerated() {
                derivative.storage.update(repeating: 0)
                model.controlDerivative(parameter: parameter, control: control, geometry: geometry, into: derivative)
                layout.forEachRun(in: layout.interior) { offset, length in
                    for k in offset..<(offset &+ length) { sum += g.base[k] * derivative.base[k] }
                }
            }
            sums.append(sum)
        }
        return try simulation.communication.globalSum(sums)
    }

    /// The misfit against `observed` and its gradient.
    public func misfitGradient(observed: [[Double]]) throws -> (misfit: Double, gradient: [Field], initial: [Field]?) {
        var value = 0.0
        let result = try gradient { samples in
            value = try misfit(samples, observed: observed)
            return zip(samples, observed).map { d, o in zip(d, o).map { $0 - $1 } }
        }
        return (value, result.gradient, result.initial)
    }

    /// The Taylor test of the misfit's gradient in a random direction `δm` that changes each
    /// control (and the initial state, when a control) by up to `fraction` of its size, at step sizes `1, 1/2, ..., 1/2^(count−1)`.
    public func taylor(observed: [[Double]], seed: UInt64, fraction: Double = 0.005, count: Int = 6) throws -> Taylor {
        let m0 = controlValues()
        let (j0, gradient, lambda) = try misfitGradient(observed: observed)
        let layout = geometry.layout
        /// Random values of up to `fraction` of the largest of `sizes` in magnitude.
        func randomDirection(like sizes: [Field], seed: UInt64) throws -> [Field] {
            let made = fields(sizes.map(\.name))
            for (i, field) in made.enumerated() {
                fillRandom(field, seed: seed &+ UInt64(i))
                var size = 0.0
                layout.forEachRun(in: layout.interior) { offset, length in
                    for k in offset..<(offset &+ length) { size = Swift.max(size, abs(sizes[i].base[k])) }
                }
                let scale = fraction * (try simulation.communication.globalMaximum(size))
                layout.forEachRun(in: layout.interior) { offset, length in
                    for k in offset..<(offset &+ length) { field.base[k] *= scale }
                }
            }
            return made
        }
        let direction = try randomDirection(like: m0, seed: seed)
        var initial: [Field]?
        if model.initialStateIsControl {
            let start = fields(state.map(\.name))
            model.initialState(start, work: work, geometry: geometry)
            initial = try randomDirection(like: start, seed: seed &+ 50)
        }
        var slope = try dot(direction, gradient)
        if let initial, let lambda { slope += try dot(initial, lambda) }
        var sizes: [Double] = []
        var first: [Double] = []
        var second: [Double] = []
        for k in 0..<count {
            let h = 1 / Double(1 << k)
            let moved = fields(model.controls)
            for i in moved.indices {
                moved[i].storage.baseAddress!.update(from: m0[i].base, count: layout.count)
            }
            add(direction, to: moved, scale: h)
            setControls(moved)
            let offset = initial.map { fields -> [Field] in
                let scaled = self.fields(fields.map(\.name))
                add(fields, to: scaled, scale: h)
                return scaled
            }
            let j = try misfit(try forward(offset: offset), observed: observed)
            sizes.append(h)
            first.append(abs(j - j0))
            second.append(abs(j - j0 - h * slope))
        }
        setControls(m0)
        return Taylor(sizes: sizes, first: first, second: second)
    }
}
