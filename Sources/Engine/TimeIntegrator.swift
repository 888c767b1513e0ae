/// How a model's forward-Euler update makes one time step.
///
/// The strong-stability-preserving Runge-Kutta schemes of Shu and Osher are convex
/// combinations of Euler steps, so a model supplies one Euler update and keeps its stability
/// (and positivity or TVD property) under the same time step. The driver exchanges halos and
/// applies boundary conditions before every stage.
public enum TimeIntegrator: String, Sendable, CaseIterable {
    /// One Euler step: first order.
    case euler
    /// SSP-RK2 (Heun's method): second order, two stages.
    case sspRK2 = "ssprk2"
    /// SSP-RK3: third order, three stages.
    case sspRK3 = "ssprk3"

    /// Stage k gives `old · uⁿ + euler · E(u⁽ᵏ⁻¹⁾)`, where E is one Euler step and u⁽⁰⁾ = uⁿ;
    /// the last stage is uⁿ⁺¹.
    public var stages: [(old: Double, euler: Double)] {
        switch self {
        case .euler: [(0, 1)]
        case .sspRK2: [(0, 1), (0.5, 0.5)]
        case .sspRK3: [(0, 1), (0.75, 0.25), (1.0 / 3.0, 2.0 / 3.0)]
        }
    }
}
