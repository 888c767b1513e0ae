/// Sums of floating-point numbers whose result does not depend on the order of the terms, so a
/// total over the grid has the same bits on any number of ranks.
///
/// Each term is split into parts on fixed binary grids (pre-rounding, as in Demmel and Nguyen's
/// reproducible summation): the first part is the term rounded to a multiple of a unit `u₁`
/// chosen from a bound on every term and on how many there are, the second is the remainder
/// rounded to a finer unit `u₂`, and so on. On each grid every partial sum is a whole number of
/// units small enough to be exact, so adding the parts in any order, on one rank or across
/// ranks, gives the same value. The result is the sum of the levels, which is accurate to about
/// `levels × (52 − log₂ n)` bits of the bound: far more than a plain double sum.
public struct ReproducibleSum: Sendable {
    /// How many grids each term is split over.
    public static let levels = 3
    /// The adding constant of each level: 1.5 · 2⁵² units, so `(x + σ) − σ` rounds `x` to a unit.
    let shifts: [Double]
    /// Whether the terms include a NaN or an infinity.
    let isFinite: Bool

    /// Units for `count` terms no larger than `bound` in magnitude (the maximum over all ranks).
    public init(bound: Double, count: Int) {
        isFinite = bound.isFinite
        guard isFinite, bound > 0 else {
            shifts = []
            return
        }
        // 2^k ≥ 4 · count keeps every partial sum below 2⁵³ units and every term below 2⁵¹.
        let k = Int.bitWidth - Swift.max(count - 1, 0).leadingZeroBitCount + 2
        var top = Double(sign: .plus, exponent: bound.exponent + 1, significand: 1)
        var shifts: [Double] = []
        for _ in 0..<Self.levels {
            let unit = Double(sign: .plus, exponent: top.exponent + k - 52, significand: 1)
            // Below this, units are subnormal and rounding to them is no longer exact.
            guard unit >= .leastNormalMagnitude * 0x1p53 else { break }
            shifts.append(1.5 * 0x1p52 * unit)
            top = unit / 2
        }
        self.shifts = shifts
    }

    /// Adds `x`'s parts to `partials` (one per level, start from ``zero``).
    @inline(__always)
    public func add(_ x: Double, to partials: inout [Double]) {
        var rest = x
        for level in shifts.indices {
            let shift = shifts[level]
            let part = (rest + shift) - shift
            partials[level] += part
            rest -= part
        }
    }

    /// Partial sums to start from.
    public var zero: [Double] { [Double](repeating: 0, count: Self.levels) }

    /// The sum from the partial sums of every term (added up level by level over all ranks).
    public func total(_ partials: [Double]) -> Double {
        guard isFinite else { return .nan }
        var sum = 0.0
        for level in partials.indices { sum += partials[level] }
        return sum
    }
}
