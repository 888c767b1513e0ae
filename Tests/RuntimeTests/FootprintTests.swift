import Testing

@testable import Grid
@testable import Runtime

@Suite struct FootprintTests {
    /// Worked by hand: a 10×6 grid over 2×1 ranks, periodic along the second axis only, two
    /// fields, one ghost cell. Rank 0 owns 5×6 cells (7×8 with ghosts) and sends its neighbour
    /// one row of 6 plus two corners, and itself (across the periodic axis) two columns of 5.
    /// Each frame it writes 30 cells of two float32 components, and it holds two such frames.
    @Test func sizesFollowFromTheDecompositionAlone() throws {
        let decomposition = try Decomposition(shape: [10, 6], dims: [2, 1], periodic: [false, true])
        let halo = (6 + 1 + 1 + 5 + 5) * 2 * 8
        let frame = 30 * 2 * 4
        let euler = try Footprint(decomposition: decomposition, ghost: [1, 1], fields: 2)
        let rank = Footprint.Rank(
            cells: 30, haloBytesPerStep: halo, haloMessages: 3, memoryBytes: 2 * 2 * 7 * 8 * 8 + 2 * halo + 2 * frame,
            frameBytes: frame, outputBufferBytes: 2 * frame)
        #expect(euler.ranks == [rank, rank])
        // Three stages: three exchanges a step, and a third copy of the state. Output between
        // steps: one frame buffer. One of the two fields written.
        let footprint = try Footprint(
            decomposition: decomposition, ghost: [1, 1], fields: 2, stages: 3, outputs: 1, frameBuffers: 1)
        let staged = Footprint.Rank(
            cells: 30, haloBytesPerStep: 3 * halo, haloMessages: 3,
            memoryBytes: 3 * 2 * 7 * 8 * 8 + 2 * halo + frame / 2,
            frameBytes: frame / 2, outputBufferBytes: frame / 2)
        #expect(footprint.ranks == [staged, staged])
        // A leapfrog that updates in place holds its state once; its stencil reads one level's
        // ghosts, so a step sends half the bytes (the buffers still hold both, for the first fill).
        let leapfrog = try Footprint(
            decomposition: decomposition, ghost: [1, 1], fields: 2, exchanged: 1, inPlace: true)
        #expect(leapfrog.ranks.map(\.memoryBytes) == [rank, rank].map { $0.memoryBytes - 2 * 7 * 8 * 8 })
        #expect(leapfrog.ranks.map(\.haloBytesPerStep) == [halo / 2, halo / 2])
        #expect(footprint.frameBytes == 60 * 1 * 4)
        #expect(footprint.checkpointBytes == 60 * 2 * 8)
    }

    /// The same grid with ghost zones 3 cells deep, exchanged every 3 steps: rank 0 sends its
    /// neighbour three rows of 6 plus two 3×3 corners, and itself three columns of 5 each way,
    /// once per 3 steps. Three messages go to the other rank (face and two corners).
    @Test func deepHalosSendMoreBytesPerExchangeAndShareThemOverTheSteps() throws {
        let decomposition = try Decomposition(shape: [10, 6], dims: [2, 1], periodic: [false, true])
        let deep = try Footprint(decomposition: decomposition, ghost: [3, 3], fields: 2, haloDepth: 3)
        let exchange = (3 * 6 + 9 + 9 + 3 * 5 + 3 * 5) * 2 * 8
        let frame = 30 * 2 * 4
        let rank = Footprint.Rank(
            cells: 30, haloBytesPerStep: exchange / 3, haloMessages: 3,
            memoryBytes: 2 * 2 * 11 * 12 * 8 + 2 * exchange + 2 * frame, frameBytes: frame, outputBufferBytes: 2 * frame
        )
        #expect(deep.ranks == [rank, rank])
    }
}
