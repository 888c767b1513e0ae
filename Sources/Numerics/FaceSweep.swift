import Grid
import Synchronization

/// Visits a box row by row (runs along the last, contiguous axis, in C order) so that a
/// finite-volume kernel can compute every face of the box once.
///
/// Along the last axis a kernel computes a row's `length + 1` faces together. Across every
/// other axis `a`, each cell needs the face below it and the face above it, and the face
/// above a row is the face below the next row along `a`. The sweep gives each axis a set of
/// carry slots, one per row of the box's cross-section beyond `a`: a kernel keeps the faces
/// above a row in the row's slot, and the next row along `a` finds them there as its faces
/// below. Rows are visited in C order, so for every axis the row before along `a` has always
/// just written the slot, unless the row is the box's first along `a` (`carried(a)` false),
/// when the kernel computes the faces below itself. ``FaceRows`` keeps the buffers.
///
/// The faces a kernel computes are the same function of the same cells wherever the box
/// starts, so results do not depend on how the domain is split into boxes or ranks.
public struct FaceSweep {
    /// One row of the box.
    public struct Row {
        /// The offset of the row's first cell in the layout.
        public let offset: Int
        /// The cells in the row.
        public let length: Int
        let slotPair: (Int, Int)
        let carriedPair: (Bool, Bool)

        /// The carry slot of this row for `axis` (not the last).
        @inline(__always)
        public func slot(_ axis: Int) -> Int { axis == 0 ? slotPair.0 : slotPair.1 }

        /// Whether the previous row along `axis` (not the last) filled the slot: false for the
        /// box's first row along that axis.
        @inline(__always)
        public func carried(_ axis: Int) -> Bool { axis == 0 ? carriedPair.0 : carriedPair.1 }
    }

    public let box: Box
    let layout: LocalLayout

    public init(layout: LocalLayout, box: Box) {
        self.layout = layout
        self.box = box
    }

    /// Cells in each row.
    public var rowLength: Int { box.isEmpty ? 0 : box.extent[box.extent.count - 1] }

    /// The carry slots of `axis` (one per row of the cross-section of the axes between it
    /// and the last).
    public func slots(axis: Int) -> Int {
        let extent = box.extent
        return (axis + 1..<Swift.max(extent.count - 1, axis + 1)).reduce(1) { $0 * extent[$1] }
    }

    /// `box` cut into pieces, in C order, for a sweep along `axis` whose buffers stay in cache:
    /// along the last axis, rows of at most `cells` cells; across another axis, whole along
    /// `axis` and the axes before it, with a cross-section (the axes after `axis`, whose rows
    /// are the carry slots) of at most `cells` cells. A kernel sweeps each piece as a box of
    /// its own and recomputes the faces on its sides, which are the same function of the same
    /// cells, so the pieces give the bits of the whole box.
    public static func pieces(of box: Box, axis: Int, cells: Int) -> [Box] {
        let extent = box.extent
        let d = extent.count
        guard !box.isEmpty, d > 0 else { return [] }
        // The widest pieces allowed: along the last axis, `cells` of it; across another, whole
        // along `axis` and the axes before it, the axes after it filled from the last back.
        var widths = extent
        if axis == d - 1 {
            widths[axis] = Swift.min(extent[axis], cells)
        } else {
            var room = cells
            for a in stride(from: d - 1, to: axis, by: -1) {
                widths[a] = Swift.max(1, Swift.min(extent[a], room))
                room = Swift.max(1, room / widths[a])
            }
        }
        // Near-equal pieces per axis, so that none is a sliver.
        let cuts = (0..<d).map { a -> [Int] in
            let count = (extent[a] + widths[a] - 1) / widths[a]
            return (0...count).map { box.lower[a] + $0 * extent[a] / count }
        }
        var result: [Box] = []
        func add(_ a: Int, _ lower: [Int], _ upper: [Int]) {
            guard a < d else {
                result.append(Box(lower: lower, upper: upper))
                return
            }
            for i in 0..<(cuts[a].count - 1) { add(a + 1, lower + [cuts[a][i]], upper + [cuts[a][i + 1]]) }
        }
        add(0, [], [])
        return result
    }

    /// Calls `body` for every row of the box, in C order (boxes of up to three axes).
    public func forEachRow(_ body: (Row) -> Void) {
        guard !box.isEmpty else { return }
        precondition(box.lower.count <= 3, "FaceSweep covers up to three axes")
        let extent = box.extent
        let length = extent[extent.count - 1]
        let corner = layout.offset(box.lower)
        let strides = layout.strides
        switch extent.count {
        case 1:
            body(Row(offset: corner, length: length, slotPair: (0, 0), carriedPair: (false, false)))
        case 2:
            for i in 0..<extent[0] {
                body(
                    Row(
                        offset: corner &+ i &* strides[0], length: length, slotPair: (0, 0), carriedPair: (i > 0, false)
                    ))
            }
        default:
            for i in 0..<extent[0] {
                for j in 0..<extent[1] {
                    body(
                        Row(
                            offset: corner &+ i &* strides[0] &+ j &* strides[1], length: length, slotPair: (j, 0),
                            carriedPair: (i > 0, j > 0)))
                }
            }
        }
    }
}

/// The faces of a ``FaceSweep``'s rows, `components` values each: for each axis, where the
/// faces below and above a row's cells are, computing only those the row before along the
/// axis did not leave.
///
/// For MUSCL kernels, ``reconstructedFaces(_:of:axis:stride:cells:flux:)`` also reconstructs
/// the face states on both sides, each cell's limited slope along the axis computed once and
/// turned at once into the cell's values on its two faces: along the row in one pass, across
/// another axis by carrying the values of the row above on its lower faces to the next row
/// along the axis, as the faces are carried.
public struct FaceRows {
    @usableFromInline let sweep: FaceSweep
    @usableFromInline let components: Int
    @usableFromInline let length: Int
    /// The faces a row computes: all n + 1 along the last axis, the n above it across another.
    @usableFromInline let faces: UnsafeMutablePointer<Double>
    /// Per axis but the last, the carry slots (see ``FaceSweep``).
    @usableFromInline let below: [UnsafeMutablePointer<Double>]
    /// Reconstruction: the face states from below and from above (`components` rows of
    /// n + 3: a spare value before and after the n + 1 faces of a row), a row's values on
    /// its upper faces across an axis, and per axis but the last the values of each carry
    /// slot's row on its upper faces along that axis.
    @usableFromInline let left: UnsafeMutablePointer<Double>
    @usableFromInline let right: UnsafeMutablePointer<Double>
    @usableFromInline let next: UnsafeMutablePointer<Double>
    @usableFromInline let upper: [UnsafeMutablePointer<Double>]
    @usableFromInline let reconstructing: Bool
    /// Kept alive as long as the rows: the pointers above are its memory (and so are the
    /// kernel's other rows from the same buffers, while it uses these rows).
    @usableFromInline let buffers: RowBuffers

    /// `reconstructing`: keep the buffers ``reconstructedFaces(_:of:axis:stride:cells:flux:)`` needs.
    public init(sweep: FaceSweep, components: Int, buffers: RowBuffers, reconstructing: Bool = false) {
        self.sweep = sweep
        self.components = components
        self.reconstructing = reconstructing
        self.buffers = buffers
        length = sweep.rowLength
        let last = sweep.box.lower.count - 1
        let n = length
        faces = buffers.make(components * (n + 1))
        below = (0..<Swift.max(last, 0)).map { buffers.make(sweep.slots(axis: $0) * components * n) }
        let size = reconstructing ? components : 0
        left = buffers.make(size * (n + 3))
        right = buffers.make(size * (n + 3))
        next = buffers.make(size * n)
        upper = (0..<Swift.max(last, 0)).map { buffers.make(sweep.slots(axis: $0) * size * n) }
    }

    /// The faces below and above the cells of `row` along `axis` (of stride `s`): for cell `m`
    /// of the row, component `c` of the face below is `low[c * pitch + m]` and of the face above
    /// `high[c * pitch + m]`. `compute(first, count, target, pitch)` fills `count` faces, the
    /// first between cells `first` and `first + s`, component `c` of face `m` at
    /// `target[c * pitch + m]`. Call ``carry(_:axis:)`` when the row is done with them.
    public func faces(
        of row: FaceSweep.Row, axis: Int, stride s: Int,
        compute: (_ first: Int, _ count: Int, _ target: UnsafeMutablePointer<Double>, _ pitch: Int) -> Void
    ) -> (low: UnsafeMutablePointer<Double>, high: UnsafeMutablePointer<Double>, pitch: Int) {
        let n = length
        if axis == sweep.box.lower.count - 1 {
            // Along the row: neighbouring cells share their faces, n + 1 of them.
            compute(row.offset &- 1, n + 1, faces, n + 1)
            return (faces, faces + 1, n + 1)
        }
        let slot = below[axis] + row.slot(axis) * components * n
        if !row.carried(axis) { compute(row.offset &- s, n, slot, n) }
        compute(row.offset, n, faces, n)
        return (slot, faces, n)
    }

    /// As ``faces(of:axis:stride:compute:)``, with the face states reconstructed: `cells[c]`
    /// (at most `components` of them) reconstructed with `Slope` on both sides of each face,
    /// each cell's slope along the axis computed once. `flux(first, count, left, right,
    /// statePitch, target, pitch)` fills `count` faces from the states of the cells below
    /// (component `c` of face `m` at `left[c * statePitch + m]`) and above (`right`). The
    /// states have the bits of ``SlopeLimiter/faces(_:first:stride:count:towards:into:)``.
    /// Build the rows with `reconstructing: true`.
    @inlinable
    public func reconstructedFaces<Slope: SlopeLimiter>(
        _: Slope.Type, of row: FaceSweep.Row, axis: Int, stride s: Int, cells: [Cells],
        flux: (
            _ first: Int, _ count: Int, _ left: UnsafeMutablePointer<Double>, _ right: UnsafeMutablePointer<Double>,
            _ statePitch: Int, _ target: UnsafeMutablePointer<Double>, _ pitch: Int
        ) -> Void
    ) -> (low: UnsafeMutablePointer<Double>, high: UnsafeMutablePointer<Double>, pitch: Int) {
        assert(reconstructing && cells.count <= components, "FaceRows built without reconstructing: true")
        let n = length
        if axis == sweep.box.lower.count - 1 {
            // Along the row: its n cells and one beyond each end, each on the face above it
            // (the left state of face j is cell j's) and below it (the right state of face
            // j − 1), into rows that have a spare value at each end for the two unused ones.
            let first = row.offset &- 1
            let pitch = n + 3
            for c in 0..<cells.count {
                Slope.bothFaces(
                    cells[c], first: first, stride: 1, count: n + 2, upper: left + c * pitch + 1,
                    lower: right + c * pitch)
            }
            flux(first, n + 1, left + 1, right + 1, pitch, faces, n + 1)
            return (faces, faces + 1, n + 1)
        }
        let slot = below[axis] + row.slot(axis) * components * n
        // This row on its upper faces: the row before along the axis left it, or it is
        // computed here, for the box's first row along the axis.
        let own = upper[axis] + row.slot(axis) * components * n
        if !row.carried(axis) {
            for c in 0..<cells.count {
                // The row below only on its upper faces, the ones between it and this row.
                Slope.faces(cells[c], first: row.offset &- s, stride: s, count: n, towards: 1, into: left + c * n)
                Slope.bothFaces(
                    cells[c], first: row.offset, stride: s, count: n, upper: own + c * n, lower: right + c * n)
            }
            flux(row.offset &- s, n, left, right, n, slot, n)
        }
        // The faces above: this row's values on them, and the next row's, whose values on
        // its own upper faces ``carry(_:axis:)`` keeps for it.
        for c in 0..<cells.count {
            Slope.bothFaces(
                cells[c], first: row.offset &+ s, stride: s, count: n, upper: next + c * n, lower: right + c * n)
        }
        flux(row.offset, n, own, right, n, faces, n)
        return (slot, faces, n)
    }

    /// Keeps the faces above `row` along `axis` for the next row along it (and, after
    /// ``reconstructedFaces(_:of:axis:stride:cells:flux:)``, the next row's values on its upper
    /// faces).
    public func carry(_ row: FaceSweep.Row, axis: Int) {
        guard axis < sweep.box.lower.count - 1 else { return }
        (below[axis] + row.slot(axis) * components * length).update(from: faces, count: components * length)
        if reconstructing {
            (upper[axis] + row.slot(axis) * components * length).update(from: next, count: components * length)
        }
    }
}

/// Scratch rows of doubles for a kernel, zeroed, alive together as long as this object.
///
/// A kernel makes its buffers anew on every call, with the same sizes step after step. Their
/// memory is kept for the next kernel in a small process-wide pool rather than freed: freed, a
/// block of more than 128 kB went back to the operating system (glibc's mmap and trim
/// thresholds) and the next step faulted its pages in again, which held a 1-D Burgers step of
/// 4000 cells to 3e7–4e7 cell updates per second, against 1.6e8–2.0e8 with the pool.
public final class RowBuffers {
    struct Block: @unchecked Sendable {
        let pointer: UnsafeMutablePointer<Double>
        let capacity: Int
    }

    /// The blocks of finished buffers, at most ``poolBlocks`` of them and ``poolBytes`` in all.
    private static let pool = Mutex<[Block]>([])
    static let poolBlocks = 64
    static let poolBytes = 64 << 20

    private var storage: [Block] = []

    public init() {}

    deinit {
        let surplus = Self.pool.withLock { pool -> [Block] in
            pool.append(contentsOf: storage)
            // Keep the most recent blocks within the limits; free the rest.
            var (kept, bytes) = (0, 0)
            for block in pool.reversed() {
                guard kept < Self.poolBlocks, bytes + block.capacity * 8 <= Self.poolBytes else { break }
                kept += 1
                bytes += block.capacity * 8
            }
            let surplus = Array(pool.prefix(pool.count - kept))
            pool.removeFirst(pool.count - kept)
            return surplus
        }
        for block in surplus { block.pointer.deallocate() }
    }

    /// A new buffer of `count` doubles, zeroed, alive as long as this object.
    public func make(_ count: Int) -> UnsafeMutablePointer<Double> {
        let capacity = Swift.max(count, 1)
        // The smallest pooled block that holds it, or a new one.
        let pooled = Self.pool.withLock { pool -> Block? in
            let fitting = pool.indices.filter { pool[$0].capacity >= capacity }
            guard let best = fitting.min(by: { pool[$0].capacity < pool[$1].capacity }) else { return nil }
            return pool.remove(at: best)
        }
        let block = pooled ?? Block(pointer: .allocate(capacity: capacity), capacity: capacity)
        block.pointer.initialize(repeating: 0, count: capacity)
        storage.append(block)
        return block.pointer
    }
}
