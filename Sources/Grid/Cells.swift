/// One field's cells as a kernel reaches them, in the spirit of AMReX's `Array4`: a cell by its
/// offset in the block's layout, its neighbours by steps along the axes, with the stride
/// arithmetic in this one place. A `@frozen` value whose subscripts are inlined, it compiles to
/// the code of a raw pointer and strides held in registers (`bench/models.sh` times the kernels
/// written with it beside their bounds).
///
/// Offsets are those of ``LocalLayout/offset(_:)`` and ``LocalLayout/forEachRun(in:_:)``; the
/// axes are the layout's, the last one contiguous. A kernel reads through one view and writes
/// through another; both are views of memory the ``Field`` owns, valid while it lives.
@frozen public struct Cells: @unchecked Sendable {
    /// The first allocated element (the corner ghost cell).
    public let base: UnsafeMutablePointer<Double>
    /// Elements between neighbours along the first, second and third axis (0 beyond the
    /// layout's axes, so that a step along them stays in place).
    public let s0: Int
    public let s1: Int
    public let s2: Int

    @inlinable
    public init(_ field: Field) {
        base = field.base
        let strides = field.layout.strides
        s0 = strides.count > 0 ? strides[0] : 0
        s1 = strides.count > 1 ? strides[1] : 0
        s2 = strides.count > 2 ? strides[2] : 0
    }

    /// The cell at `offset`.
    @inlinable @inline(__always)
    public subscript(_ offset: Int) -> Double {
        get { base[offset] }
        nonmutating set { base[offset] = newValue }
    }

    /// The cell `i`, `j` and `k` cells from the one at `offset` along the first, second and
    /// third axis: `u[k, -1]` is the cell before it along the first axis, `u[k, 0, 1]` the one
    /// after it along the second.
    @inlinable @inline(__always)
    public subscript(_ offset: Int, _ i: Int, _ j: Int = 0, _ k: Int = 0) -> Double {
        base[offset &+ i &* s0 &+ j &* s1 &+ k &* s2]
    }

    /// Elements between neighbours along `axis`.
    @inlinable @inline(__always)
    public func stride(_ axis: Int) -> Int { axis == 0 ? s0 : axis == 1 ? s1 : s2 }

    /// The cell `steps` cells from the one at `offset` along `axis`.
    @inlinable @inline(__always)
    public subscript(_ offset: Int, along axis: Int, _ steps: Int) -> Double {
        base[offset &+ steps &* stride(axis)]
    }
}

extension Field {
    /// The cells as a kernel reaches them.
    @inlinable
    public var cells: Cells { Cells(self) }
}
