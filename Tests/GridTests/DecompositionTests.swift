import Testing

@testable import Grid

@Suite struct DecompositionTests {
    @Test(arguments: [
        ([10], [3]), ([7, 5], [2, 2]), ([13, 7, 5], [3, 1, 1]), ([9, 8, 7], [1, 2, 3]), ([5, 5, 5], [5, 1, 1]),
    ])
    func blocksTileTheGridExactlyOnce(shape: [Int], dims: [Int]) throws {
        let d = try Decomposition(shape: shape, dims: dims, periodic: shape.map { _ in false })
        var owner = [Int](repeating: -1, count: shape.reduce(1, *))
        for rank in 0..<d.rankCount {
            let box = d.ownedBox(of: rank)
            #expect(!box.isEmpty)
            LocalLayout(owned: box, ghost: shape.map { _ in 0 }).forEachRun(in: Box(extent: box.extent)) {
                offset, length in
                // With no ghosts, local offsets enumerate the block; map them to global cells.
                for i in 0..<length {
                    var rest = offset + i
                    var flat = 0
                    let extent = box.extent
                    var local = [Int](repeating: 0, count: shape.count)
                    for a in (0..<shape.count).reversed() {
                        local[a] = rest % extent[a]
                        rest /= extent[a]
                    }
                    for a in 0..<shape.count { flat = flat * shape[a] + box.lower[a] + local[a] }
                    #expect(owner[flat] == -1, "cell \(flat) owned twice")
                    owner[flat] = rank
                }
            }
        }
        #expect(!owner.contains(-1))
    }

    @Test func unevenSplitsDifferByAtMostOneAndPutLongerRunsFirst() throws {
        let d = try Decomposition(shape: [10], dims: [4], periodic: [false])
        #expect((0..<4).map { d.cells(axis: 0, index: $0) } == [0..<3, 3..<6, 6..<8, 8..<10])
    }

    @Test func ranksAreRowMajorLikeMPICartCreate() throws {
        let d = try Decomposition(shape: [8, 8, 8], dims: [2, 3, 1], periodic: [true, false, false])
        #expect(d.coordinates(of: 4) == [1, 1, 0])
        #expect(d.rank(at: [1, 1, 0]) == 4)
        #expect(d.rank(at: [2, 0, 0]) == 0, "periodic axis wraps")
        #expect(d.rank(at: [0, 3, 0]) == nil, "bounded axis ends")
        for rank in 0..<6 { #expect(d.rank(at: d.coordinates(of: rank)) == rank) }
    }

    @Test func balancedDimsKeepsSurfaceSmallAndLastAxisLong() throws {
        #expect(try Decomposition.balancedDims(ranks: 4, shape: [64, 64, 64]) == [2, 2, 1])
        #expect(try Decomposition.balancedDims(ranks: 3, shape: [64, 64, 64]) == [3, 1, 1])
        #expect(try Decomposition.balancedDims(ranks: 7, shape: [10, 100]) == [1, 7])
        #expect(try Decomposition.balancedDims(ranks: 1, shape: [5]) == [1])
        // 3×2 cuts 2 planes of 3 cells and 1 of 4 (10); 2×3 cuts 1 of 3 and 2 of 4 (11).
        #expect(try Decomposition.balancedDims(ranks: 6, shape: [4, 3]) == [3, 2])
    }

    @Test func fixedEntriesAreKeptAndTheRestChosen() throws {
        #expect(try Decomposition.balancedDims(ranks: 8, shape: [64, 64, 64], fixed: [4, 0, 0]) == [4, 2, 1])
        #expect(try Decomposition.balancedDims(ranks: 8, shape: [64, 64, 64], fixed: [0, 0, 8]) == [1, 1, 8])
        #expect(throws: DecompositionError.self) {
            try Decomposition.balancedDims(ranks: 8, shape: [64, 64, 64], fixed: [3, 0, 0])
        }
    }

    @Test func impossibleSplitsSayWhy() {
        #expect(throws: DecompositionError.self) { try Decomposition.balancedDims(ranks: 7, shape: [5, 5]) }
        #expect(throws: DecompositionError.self) { try Decomposition(shape: [4], dims: [5], periodic: [true]) }
        #expect(throws: DecompositionError.self) {
            try Decomposition(shape: [0, 4], dims: [1, 1], periodic: [true, true])
        }
        do {
            _ = try Decomposition.balancedDims(ranks: 7, shape: [5, 5])
        } catch {
            #expect(error.description.contains("5×5"))
            #expect(error.description.contains("7 ranks"))
        }
    }
}
