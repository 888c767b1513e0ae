import Adjoint
import Engine
import Grid
import Numerics

/// The heat model's exact discrete adjoint, with the diffusivity per cell and the initial
/// temperature as controls. The step is `u⁺ = u + dt κ L u` with `L` the second-difference
/// Laplacian, so its transpose is `λ = λ⁺ + Lᵀ (dt κ λ⁺)` and `∂u⁺/∂κ = dt L u`.
extension Heat: Differentiable {
    public var controls: [String] { ["diffusivity"] }
    public var initialStateIsControl: Bool { true }

    /// The diffusivity per cell (the control), and the adjoint's weighted state.
    public var gradientWorkArrays: [String] { ["diffusivity", "diffusivity_weighted_adjoint"] }

    /// Every cell starts with the uniform diffusivity.
    public func prepareGradient(work: [Field], geometry: Geometry) {
        work[0].storage.update(repeating: diffusivity)
    }

    public func control(_ index: Int, work: [Field]) -> Field { work[0] }

    /// Positive, and no larger than the time step allows.
    public func bounds(_ index: Int) -> ClosedRange<Double> { 0...largest }

    /// The uniform diffusivity: `∂κ/∂κ₀ = 1` in every cell.
    public var globalParameters: [String] { ["diffusivity"] }

    public func controlDerivative(parameter: Int, control: Int, geometry: Geometry, into field: Field) {
        let layout = geometry.layout
        layout.forEachRun(in: layout.interior) { offset, length in
            (field.base + offset).update(repeating: 1, count: length)
        }
    }

    public func initialState(_ state: [Field], work: [Field], geometry: Geometry) {
        initialize(state, work: [], geometry: geometry)
    }

    public func tangentStart(
        state: [Field], tangent: [Field], direction: [Field], work: [Field], dt: Double, geometry: Geometry
    ) {}

    public func adjointStart(
        state: [Field], adjoint: [Field], gradient: [Field], work: [Field], dt: Double, geometry: Geometry
    ) {}

    public func tangentUpdate(
        state: [Field], tangent: [Field], direction: [Field], into next: [Field], time: Double, dt: Double,
        work: [Field], geometry: Geometry
    ) {
        let layout = geometry.layout
        update(from: tangent, into: next, box: layout.interior, dt: dt, work: work, geometry: geometry)
        let inverseSquare = geometry.spacing.map { 1 / ($0 * $0) }
        let (u, out, dk) = (state[0].cells, next[0].cells, direction[0].cells)
        layout.forEachRun(in: layout.interior) { offset, length in
            for k in offset..<(offset &+ length) {
                out[k] += dt * dk[k] * Laplacian.value(u, k, inverseSquare)
            }
        }
    }

    /// `work` holds the diffusivity per cell and the scratch for `dt κ λ⁺` (ghosts zero).
    public func adjointUpdate(
        state: [Field], adjoint: [Field], into previous: [Field], gradient: [Field], time: Double, dt: Double,
        work: [Field], geometry: Geometry
    ) {
        let layout = geometry.layout
        let inverseSquare = geometry.spacing.map { 1 / ($0 * $0) }
        let weighted = work[1]
        let (u, l, out, w, g, kappa) = (
            state[0].cells, adjoint[0].cells, previous[0].cells, weighted.cells, gradient[0].cells, work[0].cells
        )
        layout.forEachRun(in: layout.interior) { offset, length in
            for k in offset..<(offset &+ length) {
                w[k] = dt * kappa[k] * l[k]
                out[k] = l[k]
                g[k] += l[k] * dt * Laplacian.value(u, k, inverseSquare)
            }
        }
        Laplacian.addTransposed(of: weighted, into: previous[0], coefficients: inverseSquare)
    }
}
