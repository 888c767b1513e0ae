import Foundation
import Testing

@testable import Grid
@testable import Numerics

@Suite struct FaceSweepTests {
    @Test(arguments: [
        Box(lower: [3], upper: [8]), Box(lower: [1, 2], upper: [5, 7]), Box(lower: [0, 1, 2], upper: [4, 5, 6]),
        Box(lower: [2, 0, 3], upper: [3, 5, 4]),
    ])
    func faceSweepCarriesEachRowsSlotToTheNextRowAlongEveryAxis(box: Box) {
        let layout = LocalLayout(owned: Box(extent: [9, 9, 9].prefix(box.lower.count).map { $0 }), ghost: [2, 2, 2])
        let sweep = FaceSweep(layout: layout, box: box)
        let last = box.lower.count - 1
        // Which row last wrote each slot of each axis, by its point.
        var writer = (0..<last).map { [Int: [Int]](minimumCapacity: sweep.slots(axis: $0)) }
        var points: [[Int]] = []
        box.forEachPoint { if $0[last] == box.lower[last] { points.append($0) } }
        var index = 0
        sweep.forEachRow { row in
            let point = points[index]
            index += 1
            #expect(row.offset == layout.offset(point) && row.length == box.extent[last])
            for axis in 0..<last {
                let slot = row.slot(axis)
                #expect((0..<sweep.slots(axis: axis)).contains(slot))
                #expect(row.carried(axis) == (point[axis] > box.lower[axis]))
                if row.carried(axis) {
                    // The row before along this axis wrote the slot, and no row since.
                    var before = point
                    before[axis] -= 1
                    #expect(writer[axis][slot] == before, "\(point) axis \(axis)")
                }
                writer[axis][slot] = point
            }
        }
        #expect(index == points.count)
    }

    @Test(arguments: [
        ([600], 256), ([4, 600], 256), ([3, 70, 9], 256), ([7, 5, 3], 4), ([1000, 3], 10), ([5, 300, 2], 256),
        ([9], 1), ([2, 2, 2], 1),
    ])
    func piecesCoverTheBoxOnceAndKeepTheirRowsOrCrossSectionsWithinTheirCells(extent: [Int], cells: Int) {
        let box = Box(lower: extent.map { _ in 2 }, upper: extent.map { $0 + 2 })
        for axis in extent.indices {
            let pieces = FaceSweep.pieces(of: box, axis: axis, cells: cells)
            var covered = [[Int]: Int]()
            for piece in pieces {
                #expect(!piece.isEmpty)
                piece.forEachPoint { covered[$0, default: 0] += 1 }
                // Whole along the axis and before it; within `cells` across (along for the last).
                for a in 0..<axis { #expect(piece.extent[a] == box.extent[a]) }
                if axis < extent.count - 1 {
                    #expect(piece.extent[axis] == box.extent[axis])
                    #expect(piece.extent[(axis + 1)...].reduce(1, *) <= cells)
                } else {
                    #expect(piece.extent[axis] <= cells)
                }
                // No sliver: along each axis, pieces differ by at most one cell.
                for other in pieces {
                    for a in extent.indices { #expect(abs(piece.extent[a] - other.extent[a]) <= 1) }
                }
            }
            #expect(covered.count == box.count && covered.values.allSatisfy { $0 == 1 })
            #expect(pieces.allSatisfy { $0.lower.allSatisfy { $0 >= 2 } })
        }
        #expect(FaceSweep.pieces(of: Box(lower: [3], upper: [3]), axis: 0, cells: 8).isEmpty)
    }

    @Test func rowBuffersAreZeroedDistinctAndReusedFromThePool() {
        var first: Set<UnsafeMutablePointer<Double>> = []
        do {
            let buffers = RowBuffers()
            for count in [1000, 20000, 1000] {
                let p = buffers.make(count)
                #expect((0..<count).allSatisfy { p[$0] == 0 })
                p.update(repeating: .nan, count: count)
                first.insert(p)
            }
            #expect(first.count == 3)
        }
        // The next kernel's buffers come back from the pool (unless a test running beside this
        // one took them first), zeroed again, and never shared between two buffers alive at once.
        let buffers = RowBuffers()
        let again = [buffers.make(1000), buffers.make(1000), buffers.make(20000)]
        #expect(Set(again).count == 3)
        for (p, count) in zip(again, [1000, 1000, 20000]) { #expect((0..<count).allSatisfy { p[$0] == 0 }) }
    }
}

/// Van Leer's limiter, counting its calls.
enum CountingSlope: SlopeLimiter {
    nonisolated(unsafe) static var calls = 0
    static let work = VanLeerSlope.work
    static func slope(_ backward: Double, _ forward: Double) -> Double {
        calls += 1
        return VanLeerSlope.slope(backward, forward)
    }
    static func slope<L: Lanes>(_ backward: L, _ forward: L) -> L {
        calls += L.width
        return VanLeerSlope.slope(backward, forward)
    }
}

@Suite struct ReconstructionRowsTests {
    /// Every face state is the one ``SlopeLimiter/face(_:_:_:half:)`` gives, bit for bit, and
    /// each cell's slope along each axis is computed once: for the box's cells and one layer
    /// beyond each side along that axis, nothing more.
    @Test func faceStatesComeFromOneSlopePerCellAndAxis() {
        let boxes = [
            Box(lower: [3], upper: [8]), Box(lower: [1, 2], upper: [5, 7]), Box(lower: [0, 1, 2], upper: [4, 5, 6]),
            Box(lower: [2, 0, 3], upper: [3, 5, 4]),
        ]
        for box in boxes {
            let d = box.lower.count
            let layout = LocalLayout(
                owned: Box(extent: [9, 9, 9].prefix(d).map { $0 }), ghost: [2, 2, 2].prefix(d).map { $0 })
            let fields = (0..<2).map { c in
                let field = Field(name: "u\(c)", layout: layout)
                for k in 0..<field.storage.count { field.storage[k] = sin(Double(7 * k + 3 * c)) * Double(1 + k % 5) }
                return field
            }
            let cells = fields.map(\.cells)
            let sweep = FaceSweep(layout: layout, box: box)
            let rows = FaceRows(sweep: sweep, components: 2, buffers: RowBuffers(), reconstructing: true)
            CountingSlope.calls = 0
            var mismatches = 0
            sweep.forEachRow { row in
                for axis in 0..<d {
                    let s = layout.strides[axis]
                    _ = rows.reconstructedFaces(CountingSlope.self, of: row, axis: axis, stride: s, cells: cells) {
                        first, count, left, right, statePitch, target, pitch in
                        for c in 0..<2 {
                            for m in 0..<count {
                                let below = VanLeerSlope.face(cells[c], first + m, s, half: 0.5)
                                let above = VanLeerSlope.face(cells[c], first + m + s, s, half: -0.5)
                                if left[c * statePitch + m].bitPattern != below.bitPattern
                                    || right[c * statePitch + m].bitPattern != above.bitPattern
                                {
                                    mismatches += 1
                                }
                                target[c * pitch + m] = left[c * statePitch + m] - right[c * statePitch + m]
                            }
                        }
                    }
                    rows.carry(row, axis: axis)
                }
            }
            #expect(mismatches == 0, "\(box)")
            let extent = box.extent
            let once = (0..<d).reduce(0) { total, axis in
                total + (extent[axis] + 2)
                    * extent.enumerated().filter { $0.offset != axis }.map(\.element).reduce(1, *)
            }
            #expect(CountingSlope.calls == 2 * once, "\(box)")
        }
    }
}
