import CLanes
import Grid

/// Arithmetic that a kernel writes once and runs on one value (`Double`) or on four at a time
/// (`SIMD4<Double>`): for loops whose body the compiler does not vectorise by itself (many
/// arrays, square roots, selects), a row runs four cells at a time and its tail one at a time,
/// through the same code. Every operation is IEEE per lane and nothing is fused, so both give
/// the same bits for a cell.
public protocol Lanes {
    associatedtype Mask: LaneMask
    /// How many values.
    static var width: Int { get }
    init(_ value: Double)
    /// The values at `pointer[index]` onward.
    static func load(_ pointer: UnsafePointer<Double>, _ index: Int) -> Self
    /// Stores the values at `pointer[index]` onward.
    func store(_ pointer: UnsafeMutablePointer<Double>, _ index: Int)
    static func + (lhs: Self, rhs: Self) -> Self
    static func - (lhs: Self, rhs: Self) -> Self
    static func * (lhs: Self, rhs: Self) -> Self
    static func / (lhs: Self, rhs: Self) -> Self
    static func * (lhs: Double, rhs: Self) -> Self
    /// The IEEE square root, without `sqrt`'s errno path (see CLanes).
    func root() -> Self
    /// Per lane, `self > other`.
    func greater(_ other: Self) -> Mask
    /// Per lane, `self >= other`.
    func greaterOrEqual(_ other: Self) -> Mask
    /// Per lane, `other` where `mask` holds and `self` elsewhere.
    func replacing(with other: Self, where mask: Mask) -> Self
}

/// The per-lane truth values of ``Lanes``.
public protocol LaneMask {
    /// Per lane, both.
    func and(_ other: Self) -> Self
}

extension Lanes {
    /// The lanes from `offset` on, read through a field's view.
    @inlinable @inline(__always)
    public static func load(_ cells: Cells, _ offset: Int) -> Self { load(UnsafePointer(cells.base), offset) }

    /// Per lane, `self < other`.
    @inlinable @inline(__always)
    public func less(_ other: Self) -> Mask { other.greater(self) }

    /// Per lane, `self <= other`.
    @inlinable @inline(__always)
    public func lessOrEqual(_ other: Self) -> Mask { other.greaterOrEqual(self) }

    /// `mask ? a : b`, per lane.
    @inlinable @inline(__always)
    public static func select(_ mask: Mask, _ a: Self, _ b: Self) -> Self { b.replacing(with: a, where: mask) }

    /// `Swift.min(a, b)` per lane, NaNs included: `b < a ? b : a`.
    @inlinable @inline(__always)
    public static func minimum(_ a: Self, _ b: Self) -> Self { select(b.less(a), b, a) }

    /// `Swift.max(a, b)` per lane, NaNs included: `b >= a ? b : a`.
    @inlinable @inline(__always)
    public static func maximum(_ a: Self, _ b: Self) -> Self { select(b.greaterOrEqual(a), b, a) }
}

extension Bool: LaneMask {
    @inlinable @inline(__always)
    public func and(_ other: Bool) -> Bool { self && other }
}

extension Double: Lanes {
    public static var width: Int { 1 }

    @inlinable @inline(__always)
    public static func load(_ pointer: UnsafePointer<Double>, _ index: Int) -> Double { pointer[index] }

    @inlinable @inline(__always)
    public func store(_ pointer: UnsafeMutablePointer<Double>, _ index: Int) { pointer[index] = self }

    @inlinable @inline(__always)
    public func root() -> Double { tessera_sqrt(self) }

    @inlinable @inline(__always)
    public func greater(_ other: Double) -> Bool { self > other }

    @inlinable @inline(__always)
    public func greaterOrEqual(_ other: Double) -> Bool { self >= other }

    @inlinable @inline(__always)
    public func replacing(with other: Double, where mask: Bool) -> Double { mask ? other : self }
}

extension SIMDMask<SIMD4<Int64>>: LaneMask {
    @inlinable @inline(__always)
    public func and(_ other: Self) -> Self { self .& other }
}

extension SIMD4<Double>: Lanes {
    public static var width: Int { 4 }

    @inlinable @inline(__always)
    public init(_ value: Double) { self.init(repeating: value) }

    @inlinable @inline(__always)
    public static func load(_ pointer: UnsafePointer<Double>, _ index: Int) -> SIMD4<Double> {
        UnsafeRawPointer(pointer + index).loadUnaligned(as: SIMD4<Double>.self)
    }

    @inlinable @inline(__always)
    public func store(_ pointer: UnsafeMutablePointer<Double>, _ index: Int) {
        UnsafeMutableRawPointer(pointer + index).storeBytes(of: self, as: SIMD4<Double>.self)
    }

    @inlinable @inline(__always)
    public func root() -> SIMD4<Double> { tessera_sqrt4(self) }

    @inlinable @inline(__always)
    public func greater(_ other: SIMD4<Double>) -> SIMDMask<SIMD4<Int64>> { self .> other }

    @inlinable @inline(__always)
    public func greaterOrEqual(_ other: SIMD4<Double>) -> SIMDMask<SIMD4<Int64>> { self .>= other }
}

/// Runs `body(m)` for `m` in `0..<count`: with four lanes while four remain, then one.
@inlinable @inline(__always)
public func forEachLanes(
    count: Int, wide: (_ m: Int) -> Void, narrow: (_ m: Int) -> Void
) {
    var m = 0
    while m &+ 4 <= count {
        wide(m)
        m &+= 4
    }
    while m < count {
        narrow(m)
        m &+= 1
    }
}
