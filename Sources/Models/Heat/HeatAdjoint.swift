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

    public func control(_ index: Int) -> UnsafeMutablePointer<Double> {
        // The driver asks only once the model has initialised a block (and so knows its layout).
        cells.field(cells.layout!, uniform: diffusivity)
    }

    /// Positive, and no larger than the time step allows.
    public func bounds(_ index: Int) -> ClosedRange<Double> { 0...largest }

    public func controlsChanged() {}

    /// The uniform diffusivity: `∂κ/∂κ₀ = 1` in every cell.
    public var globalParameters: [String] { ["diffusivity"] }

    public func controlDerivative(parameter: Int, control: Int, geometry: Geometry, into field: Field) {
        let layout = geometry.layout
        layout.forEachRun(in: layout.interior) { offset, length in
            (field.base + offset).update(repeating: 1, count: length)
        }
    }

    public func initialState(_ state: [Field], geometry: Geometry) { initialize(state, geometry: geometry) }

    public func tangentStart(state: [Field], tangent: [Field], direction: [Field], dt: Double, geometry: Geometry) {}

    public func adjointStart(state: [Field], adjoint: [Field], gradient: [Field], dt: Double, geometry: Geometry) {}

    public func tangentUpdate(
        state: [Field], tangent: [Field], direction: [Field], into next: [Field], time: Double, dt: Double,
        geometry: Geometry
    ) {
        let layout = geometry.layout
        update(from: tangent, into: next, box: layout.interior, dt: dt, geometry: geometry)
        let inverseSquare = geometry.spacing.map { 1 / ($0 * $0) }
        let (u, out, dk) = (state[0].base, next[0].base, direction[0].base)
        layout.forEachRun(in: layout.interior) { offset, length in
            for k in offset..<(offset &+ length) {
                out[k] += dt * dk[k] * Laplacian.value(u, k, layout.strides, inverseSquare)
            }
        }
    }

    public func adjointUpdate(
        state: [Field], adjoint: [Field], into previous: [Field], gradient: [Field], time: Double, dt: Double,
        geometry: Geometry
    ) {
        let layout = geometry.layout
        let inverseSquare = geometry.spacing.map { 1 / ($0 * $0) }
        let weighted = cells.scratch(layout)
        let (u, l, out, w, g) = (state[0].base, adjoint[0].base, previous[0].base, weighted.base, gradient[0].base)
        let kappa = cells.values
        let uniform = diffusivity
        layout.forEachRun(in: layout.interior) { offset, length in
            for k in offset..<(offset &+ length) {
                w[k] = dt * (kappa?[k] ?? uniform) * l[k]
                out[k] = l[k]
                g[k] += l[k] * dt * Laplacian.value(u, k, layout.strides, inverseSquare)
            }
        }
        Laplacian.addTransposed(of: weighted, into: previous[0], coefficients: inverseSquare)
    }
}
