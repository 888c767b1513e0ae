import Grid

/// The end of a split sweep's row, shared by ``EulerHancockSweep`` and ``EulerWaveSweep``:
/// each conserved component's new value, the old one less `dt/Δx` times the difference of its
/// fluxes at the faces above and below each cell, then gravity's sources along the sweep's axis
/// (momentum gains ρg dt, energy m g dt, both from the state before the sweep).
struct SplitRowUpdate {
    /// The state before the sweep and the one it writes, component by component (density,
    /// energy, momenta along the block's axes).
    let conserved: [Cells]
    let out: [Cells]
    /// 2 + the block's dimensions.
    let components: Int
    /// `dt/Δx` along the axis.
    let factor: Double
    let dt: Double
    /// Gravity's component along the axis, 0 for none.
    let gravity: Double
    let axis: Int

    init(state: [Field], next: [Field], dt: Double, spacing: [Double], gravity: [Double], axis: Int) {
        conserved = state.map(\.cells)
        out = next.map(\.cells)
        components = 2 + state[0].layout.strides.count
        factor = dt / spacing[axis]
        self.dt = dt
        self.gravity = axis < gravity.count ? gravity[axis] : 0
        self.axis = axis
    }

    /// Updates cells `first + m` (m < `count`) from the unrotated fluxes of the faces below them
    /// (`low`) and above them (`high`), component `q` at `q * pitch`.
    @inline(__always)
    func callAsFunction(
        first: Int, count n: Int, low: UnsafeMutablePointer<Double>, high: UnsafeMutablePointer<Double>,
        pitch: Int
    ) {
        for q in 0..<components {
            let (target, source, l, h) = (out[q], conserved[q], low + q * pitch, high + q * pitch)
            for m in 0..<n {
                let k = first &+ m
                target[k] = source[k] - factor * (h[m] - l[m])
            }
        }
        if gravity != 0 {
            let (rho, momentum) = (conserved[0], conserved[2 + axis])
            let (targetMomentum, targetEnergy) = (out[2 + axis], out[1])
            for m in 0..<n {
                let k = first &+ m
                targetMomentum[k] += dt * rho[k] * gravity
                targetEnergy[k] += dt * momentum[k] * gravity
            }
        }
    }
}
