import Numerics
import Testing

@testable import Engine
@testable import Euler
@testable import Grid

/// What the bitwise tests of the two split sweeps (``EulerHancockSweep``, ``EulerWaveSweep``)
/// share: a reference update cell by cell from a face's flux, and the loop that runs a sweep
/// along every axis of ``EulerKernelTests/cases`` and compares each cell's bits with it.
enum SplitSweepCheck {
    /// A sweep's reference, given the state, the box, the axis, dt, the spacing and gravity:
    /// per component, each cell's new value by its offset.
    typealias Reference = (
        _ state: [Field], _ box: Box, _ axis: Int, _ dt: Double, _ spacing: [Double], _ gravity: [Double]
    ) -> [[Int: Double]]

    /// A face's flux in the rotated order of a sweep along `axis` (density, energy, normal and
    /// tangential momenta), put back in the state's order (density, energy, momenta x, y, z).
    static func unrotated(_ f: Five<Double>, axis: Int) -> [Double] {
        let tangential = (0..<3).filter { $0 != axis }
        var result = [Double](repeating: 0, count: 5)
        for (value, q) in zip([f.0, f.1, f.2, f.3, f.4], [0, 1, 2 + axis, 2 + tangential[0], 2 + tangential[1]]) {
            result[q] = value
        }
        return result
    }

    /// The cells of `box` after a split sweep along `axis`, each computed alone, one value at a
    /// time: the old value less dt/Δx times the difference of `flux` (the unrotated flux of the
    /// face between cells k and k + s) at its two faces, then gravity's sources.
    static func update(
        _ state: [Field], box: Box, axis: Int, dt: Double, spacing: [Double], gravity: [Double],
        flux: (Int) -> [Double]
    ) -> [[Int: Double]] {
        let layout = state[0].layout
        let s = layout.strides[axis]
        let factor = dt / spacing[axis]
        return state.indices.map { q in
            var result: [Int: Double] = [:]
            layout.forEachRun(in: box) { offset, length in
                for k in offset..<(offset + length) {
                    var value = state[q].base[k] - factor * (flux(k)[q] - flux(k - s)[q])
                    if axis < gravity.count && gravity[axis] != 0 {
                        if q == 2 + axis { value += dt * state[0].base[k] * gravity[axis] }
                        if q == 1 { value += dt * state[2 + axis].base[k] * gravity[axis] }
                    }
                    result[k] = value
                }
            }
            return result
        }
    }

    /// Runs ``EulerKernel/sweep(axis:from:into:box:dt:spacing:primitives:)`` with `limiter`
    /// (wave propagation's where `waves`) along every axis of each case and of `cut`, on a
    /// random gas, and expects every cell of the box to have the bits of `Sweep`'s reference.
    /// Each box of `cut` must be one the sweep takes in pieces of `pieceCells` along some axis
    /// (``FaceSweep/pieces(of:axis:cells:)``).
    static func expectSameBits<Sweep: SplitSweepReference>(
        _: Sweep.Type, limiter: Limiter, waves: Bool, cut: [(extent: [Int], box: Box, gravity: [Double])],
        pieceCells: Int
    ) {
        #expect(
            cut.allSatisfy { c in
                c.extent.indices.contains { FaceSweep.pieces(of: c.box, axis: $0, cells: pieceCells).count > 1 }
            })
        let reference: Reference
        switch limiter {
        case .vanleer: reference = Sweep.reference(VanLeerSlope.self)
        case .minmod: reference = Sweep.reference(MinmodSlope.self)
        case .mc: reference = Sweep.reference(MCSlope.self)
        case .none: reference = Sweep.reference(CentralSlope.self)
        }
        for (extent, box, gravity) in EulerKernelTests.cases + cut {
            let d = extent.count
            let (layout, state) = EulerKernelTests.randomState(extent: extent)
            let spacing = [0.1, 0.2, 0.05].prefix(d).map { $0 }
            for axis in 0..<d {
                let next = state.map { Field(name: $0.name, layout: layout) }
                let primitives = (0..<5).map { Field(name: "primitive\($0)", layout: layout) }
                EulerKernel(gamma: 1.4, limiter: limiter, gravity: gravity, waves: waves).sweep(
                    axis: axis, from: state, into: next, box: box, dt: 0.01, spacing: spacing, primitives: primitives)
                let expected = reference(state, box, axis, 0.01, spacing, gravity)
                for q in state.indices {
                    let mismatched = expected[q].count(where: { next[q].base[$0.key].bitPattern != $0.value.bitPattern }
                    )
                    #expect(expected[q].count == box.count && expected[q].values.allSatisfy(\.isFinite))
                    #expect(
                        mismatched == 0,
                        "\(limiter) \(extent) \(box) axis \(axis) component \(q): \(mismatched) cells differ")
                }
            }
        }
    }
}

/// A split sweep's reference, cell by cell, for each limiter.
protocol SplitSweepReference {
    static func reference<Slope: SlopeLimiter>(_: Slope.Type) -> SplitSweepCheck.Reference
}
