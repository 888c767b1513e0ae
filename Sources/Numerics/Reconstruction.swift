import Engine
import Grid

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
        case .none: CentralSlope.slope(backward, forward)
        case .minmod: MinmodSlope.slope(backward, forward)
        case .vanleer: VanLeerSlope.slope(backward, forward)
        case .mc: MCSlope.slope(backward, forward)
        }
    }

    /// The operations of one ``slope(_:_:)``.
    public var slopeWork: FloatingPointWork {
        switch self {
        case .none: CentralSlope.work
        case .minmod: MinmodSlope.work
        case .vanleer: VanLeerSlope.work
        case .mc: MCSlope.work
        }
    }

    /// The operations of one cell reconstructed on both its faces along an axis from one
    /// slope (``SlopeLimiter/bothFaces(_:first:stride:count:upper:lower:)``): two differences,
    /// the slope, and the centre plus and minus half of it.
    public var bothFacesWork: FloatingPointWork {
        slopeWork + FloatingPointWork(additions: 4, multiplications: 2)
    }

    /// The operations of one cell reconstructed on one face (``face(_:_:_:towards:)``): two
    /// differences, the slope, and the centre plus half of it.
    public var faceWork: FloatingPointWork { slopeWork + FloatingPointWork(additions: 3, multiplications: 1) }

    /// The value of cell `k` reconstructed on its face in direction `towards` (±1) along the
    /// axis of stride `s`.
    @inlinable @inline(__always)
    public func face(_ u: UnsafePointer<Double>, _ k: Int, _ s: Int, towards: Double) -> Double {
        u[k] + towards * 0.5 * slope(u[k] - u[k &- s], u[k &+ s] - u[k])
    }

    /// Runs `kernel` with this limiter as a type, so that the kernel's loops are compiled for
    /// it with no choice left inside them.
    @inlinable
    public func run<Kernel: LimitedKernel>(_ kernel: Kernel) {
        switch self {
        case .none: kernel.run(CentralSlope.self)
        case .minmod: kernel.run(MinmodSlope.self)
        case .vanleer: kernel.run(VanLeerSlope.self)
        case .mc: kernel.run(MCSlope.self)
        }
    }
}

/// A limiter as a type: ``Limiter/run(_:)`` hands one to a ``LimitedKernel``.
public protocol SlopeLimiter {
    /// The limited slope of a cell from its backward and forward differences.
    static func slope(_ backward: Double, _ forward: Double) -> Double
    /// The same slope, several cells at a time, every choice a select: the bits of
    /// ``slope(_:_:)`` but perhaps the sign of a zero slope.
    static func slope<L: Lanes>(_ backward: L, _ forward: L) -> L
    /// The operations ``slope(_:_:)`` makes, counted from its code.
    static var work: FloatingPointWork { get }
}

extension SlopeLimiter {
    /// The faces of a row of `count` cells along the axis of stride `s`: entry `m` is the
    /// value on the face between cells `first + m` and `first + m + s`, reconstructed in the
    /// upwind cell of the face for a speed of sign `speed` (the cell below for a positive
    /// speed, the cell above otherwise). The same arithmetic as ``Limiter/face(_:_:_:towards:)``.
    @inlinable @inline(__always)
    public static func upwindFaces(
        _ u: Cells, first: Int, stride s: Int, count: Int, speed: Double,
        into faces: UnsafeMutablePointer<Double>
    ) {
        if speed > 0 {
            Self.faces(u, first: first, stride: s, count: count, towards: 1, into: faces)
        } else {
            Self.faces(u, first: first &+ s, stride: s, count: count, towards: -1, into: faces)
        }
    }

    /// Cells `first + m` (m < `count`) along the axis of stride `s`, reconstructed on their
    /// face in direction `towards` (±1): the same arithmetic as
    /// ``Limiter/face(_:_:_:towards:)``.
    @inlinable @inline(__always)
    public static func faces(
        _ u: Cells, first: Int, stride s: Int, count: Int, towards: Double,
        into faces: UnsafeMutablePointer<Double>
    ) {
        let half = towards * 0.5
        for m in 0..<count { faces[m] = face(u, first &+ m, s, half: half) }
    }

    /// Cells `first + m` (m < `count`) along the axis of stride `s`, each reconstructed from
    /// one limited slope on its face above (`upper[m]`) and its face below (`lower[m]`): the
    /// arithmetic of ``face(_:_:_:half:)`` with `half` = 0.5 and −0.5.
    @inlinable @inline(__always)
    public static func bothFaces(
        _ u: Cells, first: Int, stride s: Int, count: Int, upper: UnsafeMutablePointer<Double>,
        lower: UnsafeMutablePointer<Double>
    ) {
        for m in 0..<count {
            let k = first &+ m
            let centre = u[k]
            let sigma = slope(centre - u[k &- s], u[k &+ s] - centre)
            upper[m] = centre + 0.5 * sigma
            lower[m] = centre + -0.5 * sigma
        }
    }

    /// Cell `k` reconstructed on its face half a cell (`half` = ±0.5) along the axis of
    /// stride `s`.
    @inlinable @inline(__always)
    public static func face(_ u: Cells, _ k: Int, _ s: Int, half: Double) -> Double {
        let centre = u[k]
        return centre + half * slope(centre - u[k &- s], u[k &+ s] - centre)
    }
}

/// ``Limiter/none``.
public enum CentralSlope: SlopeLimiter {
    public static let work = FloatingPointWork(additions: 1, multiplications: 1)

    @inlinable @inline(__always)
    public static func slope(_ backward: Double, _ forward: Double) -> Double { 0.5 * (backward + forward) }

    @inlinable @inline(__always)
    public static func slope<L: Lanes>(_ backward: L, _ forward: L) -> L { 0.5 * (backward + forward) }
}

/// ``Limiter/minmod``.
public enum MinmodSlope: SlopeLimiter {
    /// The sign test, the minimum, the maximum (a comparison and a select each) and the
    /// choice between them; the product, its test and the choice of zero.
    public static let work = FloatingPointWork(multiplications: 1, selects: 8)

    @inlinable @inline(__always)
    public static func slope(_ backward: Double, _ forward: Double) -> Double {
        let smaller = backward > 0 ? Swift.min(backward, forward) : Swift.max(backward, forward)
        return backward * forward <= 0 ? 0 : smaller
    }

    @inlinable @inline(__always)
    public static func slope<L: Lanes>(_ backward: L, _ forward: L) -> L {
        let zero = L(0)
        let smaller = L.select(
            backward.greater(zero), L.minimum(backward, forward), L.maximum(backward, forward))
        return L.select((backward * forward).lessOrEqual(zero), zero, smaller)
    }
}

/// ``Limiter/vanleer``.
public enum VanLeerSlope: SlopeLimiter {
    /// The product, its test, twice it, the sum, the quotient and the choice of zero.
    public static let work = FloatingPointWork(additions: 1, multiplications: 2, selects: 2, divisions: 1)

    @inlinable @inline(__always)
    public static func slope(_ backward: Double, _ forward: Double) -> Double {
        let product = backward * forward
        return product > 0 ? 2 * product / (backward + forward) : 0
    }

    @inlinable @inline(__always)
    public static func slope<L: Lanes>(_ backward: L, _ forward: L) -> L {
        let product = backward * forward
        return L.select(product.greater(L(0)), 2 * product / (backward + forward), L(0))
    }
}

/// ``Limiter/mc``.
public enum MCSlope: SlopeLimiter {
    /// Three absolute values, three scalings and a sum; the minimum of three (two comparisons
    /// and selects); the sign test, the negation and the choice; the product, its test and the
    /// choice of zero.
    public static let work = FloatingPointWork(additions: 1, multiplications: 4, selects: 12)

    @inlinable @inline(__always)
    public static func slope(_ backward: Double, _ forward: Double) -> Double {
        let bound = Swift.min(2 * abs(backward), 2 * abs(forward), 0.5 * abs(backward + forward))
        let signed = backward > 0 ? bound : -bound
        return backward * forward <= 0 ? 0 : signed
    }

    @inlinable @inline(__always)
    public static func slope<L: Lanes>(_ backward: L, _ forward: L) -> L {
        let zero = L(0)
        @inline(__always) func magnitude(_ x: L) -> L { L.select(x.less(zero), zero - x, x) }
        let bound = L.minimum(
            L.minimum(2 * magnitude(backward), 2 * magnitude(forward)), 0.5 * magnitude(backward + forward))
        let signed = L.select(backward.greater(zero), bound, zero - bound)
        return L.select((backward * forward).lessOrEqual(zero), zero, signed)
    }
}

/// A kernel that takes its limiter as a type (see ``Limiter/run(_:)``).
public protocol LimitedKernel {
    func run<Slope: SlopeLimiter>(_ slope: Slope.Type)
}
