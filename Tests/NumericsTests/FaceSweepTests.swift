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
}
