/// Slope limiters for MUSCL reconstruction: the slope of a cell from its backward and forward
/// differences. Shared by the finite-volume models.
public enum Limiter: String, Sendable, CaseIterable {
    /// Van Leer's harmonic mean: smooth, second order away from extrema.
    case vanleer
    /// The smaller difference, or 0 at extrema: the most dissipative.
    case minmod
    /// Monotonised central: the least dissipative of the three.
    case mc
    /// The central slope, not limited: second order everywhere, oscillates at shocks.
    case none

    @inlinable @inline(__always)
    public func slope(_ backward: Double, _ forward: Double) -> Double {
        switch self {
        case .none:
            return 0.5 * (backward + forward)
        case .minmod:
            if backward * forward <= 0 { return 0 }
            return backward > 0 ? Swift.min(backward, forward) : Swift.max(backward, forward)
        case .vanleer:
            let product = backward * forward
            return product > 0 ? 2 * product / (backward + forward) : 0
        case .mc:
            if backward * forward <= 0 { return 0 }
            let bound = Swift.min(2 * abs(backward), 2 * abs(forward), 0.5 * abs(backward + forward))
            return backward > 0 ? bound : -bound
        }
    }

    /// The value of cell `k` reconstructed on its face in direction `towards` (±1) along the
    /// axis of stride `s`.
    @inlinable @inline(__always)
    public func face(_ u: UnsafePointer<Double>, _ k: Int, _ s: Int, towards: Double) -> Double {
        u[k] + towards * 0.5 * slope(u[k] - u[k &- s], u[k &+ s] - u[k])
    }
}
