#if canImport(Glibc)
    import Glibc
#endif

/// A scalar field on one rank's block, ghosts included, in 64-byte aligned memory that the
/// field owns. Kernels reach the memory through ``base``.
public final class Field: @unchecked Sendable {
    /// The field's name, as written to output.
    public let name: String
    /// Where each cell lives in memory.
    public let layout: LocalLayout
    /// The first allocated element (the corner ghost cell).
    public let base: UnsafeMutablePointer<Double>
    /// The field whose memory this one names, or nil when the memory is its own.
    private let owner: Field?

    public init(name: String, layout: LocalLayout) {
        self.name = name
        self.layout = layout
        let bytes = Swift.max(layout.count, 1) * 8
        // Fields of many pages go in transparent huge pages where the kernel gives them only on
        // request (THP "madvise"): a stencil touches rows in several planes at once, and a tiled
        // pass many more, which 4 KiB pages would spread over more TLB entries than a core has.
        let huge = 2 << 20
        let raw = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: bytes >= 2 * huge ? huge : 64)
        #if canImport(Glibc)
            if bytes >= 2 * huge { _ = madvise(raw, bytes, MADV_HUGEPAGE) }
        #endif
        // Touched now (after the advice, which first touch follows), zeroed.
        self.base = raw.initializeMemory(as: Double.self, repeating: 0, count: Swift.max(layout.count, 1))
        self.owner = nil
    }

    /// A field named `name` over the memory of `other`, which it keeps alive: one array that
    /// plays two parts (a leapfrog's oldest level, overwritten by its newest).
    public init(name: String, sharing other: Field) {
        self.name = name
        self.layout = other.layout
        self.base = other.base
        self.owner = other.owner ?? other
    }

    deinit { if owner == nil { base.deallocate() } }

    /// The value at local coordinates `point` (ghosts included); for tests and set-up, not kernels.
    public subscript(_ point: [Int]) -> Double {
        get { base[layout.offset(point)] }
        set { base[layout.offset(point)] = newValue }
    }

    /// All allocated elements.
    public var storage: UnsafeMutableBufferPointer<Double> {
        UnsafeMutableBufferPointer(start: base, count: layout.count)
    }

    /// Copies the cells of `box` (local coordinates) into `buffer` in C order; returns how many.
    @discardableResult
    public func pack(_ box: Box, into buffer: UnsafeMutablePointer<Double>) -> Int {
        var position = 0
        layout.forEachRun(in: box) { offset, length in
            // A face across the last axis is a run of one cell per row: no call per cell.
            if length == 1 {
                buffer[position] = base[offset]
            } else {
                (buffer + position).update(from: base + offset, count: length)
            }
            position += length
        }
        return position
    }

    /// Copies the cells of `source` into the cells of `target`, a box of the same extent:
    /// a halo message to this rank itself, without a buffer.
    public func copy(_ source: Box, to target: Box) {
        precondition(source.extent == target.extent, "copy between boxes of different extents")
        let shift = layout.offset(target.lower) - layout.offset(source.lower)
        layout.forEachRun(in: source) { offset, length in
            if length == 1 {
                base[offset &+ shift] = base[offset]
            } else {
                (base + offset + shift).update(from: base + offset, count: length)
            }
        }
    }

    /// Adds `buffer` (C order) to the cells of `box`; returns how many elements it read. The
    /// adjoint of ``pack(_:into:)``.
    @discardableResult
    public func accumulate(_ box: Box, from buffer: UnsafePointer<Double>) -> Int {
        var position = 0
        layout.forEachRun(in: box) { offset, length in
            let target = base + offset
            let source = buffer + position
            for i in 0..<length { target[i] += source[i] }
            position += length
        }
        return position
    }

    /// Sets the cells of `box` to zero.
    public func zero(_ box: Box) {
        layout.forEachRun(in: box) { offset, length in (base + offset).update(repeating: 0, count: length) }
    }

    /// Copies `buffer` (C order) into the cells of `box`; returns how many elements it read.
    @discardableResult
    public func unpack(_ box: Box, from buffer: UnsafePointer<Double>) -> Int {
        var position = 0
        layout.forEachRun(in: box) { offset, length in
            if length == 1 {
                base[offset] = buffer[position]
            } else {
                (base + offset).update(from: buffer + position, count: length)
            }
            position += length
        }
        return position
    }
}
