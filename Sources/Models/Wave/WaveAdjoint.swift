import Adjoint
import Engine
import Grid
import Numerics

/// The wave model's exact discrete adjoint, with the squared slowness `m` as the control.
///
/// The step is `p⁺ = p + r (p − p⁻) + s (∇²p + q/h^d δ_s)`, `p⁻⁺ = p`, with
/// `s = dt² / (m + a)` and `r = (m − a) / (m + a)`, `a = η dt / 2`; so
/// `∂s/∂m = −dt² / (m + a)²` and `∂r/∂m = 2a / (m + a)²`. The start of the run sets
/// `p⁻ = p + dt²/(2m) ∇²p`, which depends on `m` too.
extension Wave: Differentiable {
    public var controls: [String] { ["squared_slowness"] }

    public func control(_ index: Int, work: [Field]) -> Field { work[0] }

    /// The time step is stable up to `velocity_max`, so `m` stays at or above `1/velocity_max²`.
    public func bounds(_ index: Int) -> ClosedRange<Double> {
        1 / (fastest * fastest)...Double.greatestFiniteMagnitude
    }

    /// The background velocity and the anomaly's strength: `m = 1/c²` with `c = c₀ + A g(x)`,
    /// so `∂m/∂c₀ = −2/c³` and `∂m/∂A = −2 g/c³`.
    public var globalParameters: [String] { ["velocity", "anomaly"] }

    public func controlDerivative(parameter: Int, control: Int, geometry: Geometry, into field: Field) {
        let layout = geometry.layout
        let owned = layout.owned
        layout.interior.forEachPoint { local in
            let point = local.indices.map { geometry.centre(axis: $0, index: owned.lower[$0] + local[$0]) }
            let c = velocity(at: point)
            let shape =
                parameter == 0
                ? 1
                : InitialCondition.gaussian(
                    at: point, centre: anomaly.centre, width: anomaly.width, extent: extent, periodic: periodic)
            field[local] = -2 * shape / (c * c * c)
        }
    }

    public func tangentStart(
        state: [Field], tangent: [Field], direction: [Field], work: [Field], dt: Double, geometry: Geometry
    ) {
        let layout = geometry.layout
        let inverseSquare = geometry.spacing.map { 1 / ($0 * $0) }
        let (p, dp, dq, dm, slowness) = (
            state[0].cells, tangent[0].cells, tangent[1].cells, direction[0].cells, work[0].cells
        )
        let half = 0.5 * dt * dt
        layout.forEachRun(in: layout.interior) { offset, length in
            for k in offset..<(offset &+ length) {
                let m = slowness[k]
                let lap = Laplacian.value(p, k, inverseSquare)
                let dlap = Laplacian.value(dp, k, inverseSquare)
                dq[k] = dp[k] + half * dlap / m - half * lap * dm[k] / (m * m)
            }
        }
    }

    public func adjointStart(
        state: [Field], adjoint: [Field], gradient: [Field], work: [Field], dt: Double, geometry: Geometry
    ) {
        // Only m's share: the initial pressure is not a control of this model.
        let layout = geometry.layout
        let inverseSquare = geometry.spacing.map { 1 / ($0 * $0) }
        let (p, lq, g, slowness) = (state[0].cells, adjoint[1].cells, gradient[0].cells, work[0].cells)
        let half = 0.5 * dt * dt
        layout.forEachRun(in: layout.interior) { offset, length in
            for k in offset..<(offset &+ length) {
                let m = slowness[k]
                g[k] += lq[k] * (-half * Laplacian.value(p, k, inverseSquare) / (m * m))
            }
        }
    }

    public func tangentUpdate(
        state: [Field], tangent: [Field], direction: [Field], into next: [Field], time: Double,
        dt: Double, work: [Field], geometry: Geometry
    ) {
        let layout = geometry.layout
        WaveKernel.update(
            from: tangent, into: next, box: layout.interior, spacing: geometry.spacing, scale: work[2], carry: work[3])
        let inverseSquare = geometry.spacing.map { 1 / ($0 * $0) }
        let (p, q, out, dm) = (state[0].cells, state[1].cells, next[0].cells, direction[0].cells)
        layout.forEachRun(in: layout.interior) { offset, length in
            for k in offset..<(offset &+ length) {
                let (dscale, dcarry) = derivatives(k, dt: dt, work: work)
                out[k] += dm[k] * (dcarry * (p[k] - q[k]) + dscale * Laplacian.value(p, k, inverseSquare))
            }
        }
        if let s = sourceOffset(geometry) {
            out[s] += dm[s] * derivatives(s, dt: dt, work: work).scale * injection(at: time, geometry: geometry)
        }
    }

    public func adjointUpdate(
        state: [Field], adjoint: [Field], into previous: [Field], gradient: [Field],
        time: Double, dt: Double, work: [Field], geometry: Geometry
    ) {
        let inverseSquare = geometry.spacing.map { 1 / ($0 * $0) }
        WaveAdjointKernel.apply(
            state: state, adjoint: adjoint, into: previous, gradient: gradient[0], scale: work[2], carry: work[3],
            coefficients: inverseSquare, dt: dt)
        // What the face cells' stencils read from the ghosts goes back to the ghosts.
        let (lp, scale) = (adjoint[0].cells, work[2].cells)
        Laplacian.addTransposedToFaceGhosts(of: { scale[$0] * lp[$0] }, into: previous[0], coefficients: inverseSquare)
        if let s = sourceOffset(geometry) {
            gradient[0].cells[s] +=
                lp[s] * derivatives(s, dt: dt, work: work).scale * injection(at: time, geometry: geometry)
        }
    }

    /// `∂s/∂m` and `∂r/∂m` at cell offset `k`.
    @inline(__always)
    func derivatives(_ k: Int, dt: Double, work: [Field]) -> (scale: Double, carry: Double) {
        let m = work[0].cells[k]
        let a = work[1].cells[k] * dt / 2
        let denominator = (m + a) * (m + a)
        return (-dt * dt / denominator, 2 * a / denominator)
    }
}

/// The wave step's adjoint in one pass over the owned cells, written like ``WaveKernel`` with
/// every axis's stride and coefficient hoisted out of the loop (a missing axis has both zero)
/// so that it vectorises. With `w = s λ` (zero in ghosts, where `s` is zero):
///
/// It writes the owned cells of the adjoint state before the step (not adding to them):
///
///     λ_p ← (1 + r) λ_p⁺ + λ_q⁺ + Σ_a c_a (w[−a] + w[+a]) − 2 Σ_a c_a w
///     λ_q ← −r λ_p⁺
///     g   += λ_p⁺ (∂r/∂m (p − p⁻) + ∂s/∂m ∇²p),  ∂s/∂m = −s²/dt²,  ∂r/∂m = (1 − r) s/dt²
enum WaveAdjointKernel {
    static func apply(
        state: [Field], adjoint: [Field], into previous: [Field], gradient: Field, scale: Field, carry: Field,
        coefficients: [Double], dt: Double
    ) {
        let layout = state[0].layout
        let d = layout.dimensions
        var s = [0, 0, 0]
        var c = [0.0, 0.0, 0.0]
        for a in 0..<d {
            s[3 - d + a] = layout.strides[a]
            c[3 - d + a] = coefficients[a]
        }
        let (s0, s1, s2) = (s[0], s[1], s[2])
        let (c0, c1, c2) = (c[0], c[1], c[2])
        let diagonal = 2 * (c0 + c1 + c2)
        let inverseDt2 = 1 / (dt * dt)
        // The axes' strides and coefficients packed at the end (a missing axis has both zero);
        // the cells are reached by offset.
        let (p, q) = (state[0].cells, state[1].cells)
        let (lp, lq) = (adjoint[0].cells, adjoint[1].cells)
        let (outP, outQ, g) = (previous[0].cells, previous[1].cells, gradient.cells)
        let (scale, carry) = (scale.cells, carry.cells)
        layout.forEachRun(in: layout.interior) { offset, length in
            for k in offset..<(offset &+ length) {
                let l = lp[k]
                let sk = scale[k]
                let r = carry[k]
                let transposed =
                    c0 * (scale[k &- s0] * lp[k &- s0] + scale[k &+ s0] * lp[k &+ s0])
                    + c1 * (scale[k &- s1] * lp[k &- s1] + scale[k &+ s1] * lp[k &+ s1])
                    + c2 * (scale[k &- s2] * lp[k &- s2] + scale[k &+ s2] * lp[k &+ s2]) - diagonal * (sk * l)
                outP[k] = (1 + r) * l + lq[k] + transposed
                outQ[k] = -r * l
                let laplacian =
                    c0 * (p[k &- s0] + p[k &+ s0]) + c1 * (p[k &- s1] + p[k &+ s1]) + c2 * (p[k &- s2] + p[k &+ s2])
                    - diagonal * p[k]
                let dscale = -sk * sk * inverseDt2
                let dcarry = (1 - r) * sk * inverseDt2
                g[k] += l * (dcarry * (p[k] - q[k]) + dscale * laplacian)
            }
        }
    }
}
