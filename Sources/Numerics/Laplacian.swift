import Engine
import Grid

extension Laplacian {
    /// The second-difference Laplacian `Σ_a (p[−a] − 2p + p[+a]) / h_a²` at offset `k`, over the
    /// axes of `inverseSquare`.
    @inlinable @inline(__always)
    public static func value(_ p: Cells, _ k: Int, _ inverseSquare: [Double]) -> Double {
        var sum = 0.0
        for a in inverseSquare.indices {
            sum += (p[k, along: a, -1] - 2 * p[k] + p[k, along: a, 1]) * inverseSquare[a]
        }
        return sum
    }
}

/// The second-difference Laplacian `Σ_a c_a (u[−a] − 2u + u[+a])` on a block, and its
/// transpose, which adjoint steps need.
public enum Laplacian {
    /// Adds the transpose applied to `mu` (owned cells; ghosts zero) to `out`: on the owned
    /// cells, and on the face ghost cells for what the owned cells beside them read there.
    public static func addTransposed(of mu: Field, into out: Field, coefficients c: [Double]) {
        let layout = mu.layout
        let (m, o) = (mu.cells, out.cells)
        let d = layout.dimensions
        var diagonal = 0.0
        for a in 0..<d { diagonal += 2 * c[a] }
        layout.forEachRun(in: layout.interior) { offset, length in
            for k in offset..<(offset &+ length) {
                var sum = 0.0
                for a in 0..<d { sum += c[a] * (m[k, along: a, -1] + m[k, along: a, 1]) }
                o[k] += sum - diagonal * m[k]
            }
        }
        addTransposedToFaceGhosts(of: { m[$0] }, into: out, coefficients: c)
    }

    /// Only the ghost part: adds `c_a · value(k)` to the ghost beside each owned face cell `k`
    /// across axis `a` (the share of `value` that the stencil at `k` read from that ghost).
    public static func addTransposedToFaceGhosts(of value: (Int) -> Double, into out: Field, coefficients c: [Double]) {
        let layout = out.layout
        let o = out.cells
        for a in 0..<layout.dimensions {
            for side in [-1, 1] {
                var face = layout.interior
                let index = side < 0 ? 0 : layout.extent[a] - 1
                face.lower[a] = index
                face.upper[a] = index + 1
                layout.forEachRun(in: face) { offset, length in
                    for k in offset..<(offset &+ length) {
                        let ghost = k &+ side &* o.stride(a)
                        o[ghost] += c[a] * value(k)
                    }
                }
            }
        }
    }
}
