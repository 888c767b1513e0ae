import Engine
import Grid

/// The wave model's exact discrete adjoint, with the squared slowness `m` as the control.
///
/// The step is `p⁺ = p + r (p − p⁻) + s (∇²p + q/h^d δ_s)`, `p⁻⁺ = p`, with
/// `s = dt² / (m + a)` and `r = (m − a) / (m + a)`, `a = η dt / 2`; so
/// `∂s/∂m = −dt² / (m + a)²` and `∂r/∂m = 2a / (m + a)²`. The start of the run sets
/// `p⁻ = p + dt²/(2m) ∇²p`, which depends on `m` too.
extension Wave: Differentiable {
    public var controls: [String] { ["squared_slowness"] }

    public func control(_ index: Int) -> UnsafeMutablePointer<Double> { medium.slowness }

    /// The time step is stable up to `velocity_max`, so `m` stays at or above `1/velocity_max²`.
    public func bounds(_ index: Int) -> ClosedRange<Double> {
        1 / (fastest * fastest)...Double.greatestFiniteMagnitude
    }

    public func controlsChanged() { medium.invalidate() }

    public func tangentStart(
        state: [Field], tangent: [Field], direction: [UnsafePointer<Double>], dt: Double, geometry: Geometry
    ) {
        let layout = geometry.layout
        let strides = layout.strides
        let inverseSquare = geometry.spacing.map { 1 / ($0 * $0) }
        let (p, dp, dq, dm) = (state[0].base, tangent[0].base, tangent[1].base, direction[0])
        let half = 0.5 * dt * dt
        layout.forEachRun(in: layout.interior) { offset, length in
            for k in offset..<(offset &+ length) {
                let m = medium.slowness[k]
                let lap = Self.laplacian(p, k, strides, inverseSquare)
                let dlap = Self.laplacian(dp, k, strides, inverseSquare)
                dq[k] = dp[k] + half * dlap / m - half * lap * dm[k] / (m * m)
            }
        }
    }

    public func adjointStart(
        state: [Field], adjoint: [Field], gradient: [UnsafeMutablePointer<Double>], dt: Double, geometry: Geometry
    ) {
        // Only m's share: the initial pressure is not a control of this model.
        let layout = geometry.layout
        let strides = layout.strides
        let inverseSquare = geometry.spacing.map { 1 / ($0 * $0) }
        let (p, lq, g) = (state[0].base, adjoint[1].base, gradient[0])
        let half = 0.5 * dt * dt
        layout.forEachRun(in: layout.interior) { offset, length in
            for k in offset..<(offset &+ length) {
                let m = medium.slowness[k]
                g[k] += lq[k] * (-half * Self.laplacian(p, k, strides, inverseSquare) / (m * m))
            }
        }
    }

    public func tangentUpdate(
        state: [Field], tangent: [Field], direction: [UnsafePointer<Double>], into next: [Field], time: Double,
        dt: Double, geometry: Geometry
    ) {
        let layout = geometry.layout
        medium.prepare(dt: dt, layout: layout)
        WaveKernel.update(
            from: tangent, into: next, box: layout.interior, spacing: geometry.spacing, scale: medium.scale,
            carry: medium.carry)
        let strides = layout.strides
        let inverseSquare = geometry.spacing.map { 1 / ($0 * $0) }
        let (p, q, out, dm) = (state[0].base, state[1].base, next[0].base, direction[0])
        layout.forEachRun(in: layout.interior) { offset, length in
            for k in offset..<(offset &+ length) {
                let (dscale, dcarry) = derivatives(k, dt: dt)
                out[k] += dm[k] * (dcarry * (p[k] - q[k]) + dscale * Self.laplacian(p, k, strides, inverseSquare))
            }
        }
        if let s = sourceOffset(geometry) {
            out[s] += dm[s] * derivatives(s, dt: dt).scale * injection(at: time, geometry: geometry)
        }
    }

    public func adjointUpdate(
        state: [Field], adjoint: [Field], into previous: [Field], gradient: [UnsafeMutablePointer<Double>],
        time: Double, dt: Double, geometry: Geometry
    ) {
        let layout = geometry.layout
        medium.prepare(dt: dt, layout: layout)
        let strides = layout.strides
        let inverseSquare = geometry.spacing.map { 1 / ($0 * $0) }
        let mu = medium.scratch(layout)
        let (p, q, lp, lq, g) = (state[0].base, state[1].base, adjoint[0].base, adjoint[1].base, gradient[0])
        let (outP, outQ, weighted) = (previous[0].base, previous[1].base, mu.base)
        let (scale, carry) = (medium.scale, medium.carry)
        layout.forEachRun(in: layout.interior) { offset, length in
            for k in offset..<(offset &+ length) {
                let l = lp[k]
                weighted[k] = scale[k] * l
                outP[k] += (1 + carry[k]) * l + lq[k]
                outQ[k] -= carry[k] * l
                let (dscale, dcarry) = derivatives(k, dt: dt)
                g[k] += l * (dcarry * (p[k] - q[k]) + dscale * Self.laplacian(p, k, strides, inverseSquare))
            }
        }
        LaplacianTranspose.add(of: mu, into: previous[0], coefficients: inverseSquare)
        if let s = sourceOffset(geometry) {
            g[s] += lp[s] * derivatives(s, dt: dt).scale * injection(at: time, geometry: geometry)
        }
    }

    /// `∂s/∂m` and `∂r/∂m` at cell offset `k`.
    @inline(__always)
    func derivatives(_ k: Int, dt: Double) -> (scale: Double, carry: Double) {
        let m = medium.slowness[k]
        let a = medium.damping[k] * dt / 2
        let denominator = (m + a) * (m + a)
        return (-dt * dt / denominator, 2 * a / denominator)
    }

    @inline(__always)
    static func laplacian(
        _ p: UnsafeMutablePointer<Double>, _ k: Int, _ strides: [Int], _ inverseSquare: [Double]
    ) -> Double {
        var sum = 0.0
        for a in strides.indices { sum += (p[k &- strides[a]] - 2 * p[k] + p[k &+ strides[a]]) * inverseSquare[a] }
        return sum
    }
}
