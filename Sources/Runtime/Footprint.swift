import Grid
import Settings

/// What one run costs per rank and on disk, from the decomposition alone: for sizing a job
/// before it is submitted (`tessera plan`), so it needs no MPI and no allocation.
public struct Footprint: Sendable, Equatable {
    /// One rank's share.
    public struct Rank: Sendable, Equatable {
        /// Owned cells.
        public let cells: Int
        /// Bytes this rank sends to its neighbours in one step's halo exchanges (it receives
        /// as many); with deep halos, one exchange's bytes shared over the steps it serves.
        public let haloBytesPerStep: Int
        /// Messages this rank sends to other ranks in one halo exchange (to its own block across
        /// a periodic axis it spans alone, none).
        public let haloMessages: Int
        /// Bytes the simulation allocates: the state and the next state with their ghosts
        /// (one array for the two where the update is in place, a stage's more for integrators
        /// of more than one stage), one send and one receive
        /// buffer per neighbour, and the output's frame buffers.
        public let memoryBytes: Int
        /// Bytes this rank writes into each results frame.
        public let frameBytes: Int
        /// Bytes of the output's frame buffers (two when output overlaps the steps).
        public let outputBufferBytes: Int
    }

    /// Per rank, in rank order.
    public let ranks: [Rank]
    /// One frame of results.hdf5: every output field over the whole grid in float32.
    public let frameBytes: Int
    /// One checkpoint's field data: every field over the whole grid in float64.
    public let checkpointBytes: Int

    /// - Parameters:
    ///   - fields: the fields the model evolves (and exchanges).
    ///   - exchanged: the fields a step's halo exchange carries, where fewer than `fields`
    ///     (``RunPlan/exchangedComponents``); the message buffers still hold them all, for the
    ///     exchange that fills every ghost at the start.
    ///   - stages: stages of the time integrator, each with its own halo exchange.
    ///   - outputs: the scalar components written to each results frame (float32); all of
    ///     `fields` when nil.
    ///   - frameBuffers: frame buffers the output holds (2 when it overlaps the steps).
    ///   - haloDepth: steps between exchanges (`ghost` is this many stencils deep).
    ///   - inPlace: whether the update writes into the state it reads (``Model/updatesInPlace``).
    public init(
        decomposition: Decomposition, ghost: [Int], fields: Int, exchanged: Int? = nil, stages: Int = 1,
        outputs: Int? = nil, frameBuffers: Int = 2, haloDepth: Int = 1, inPlace: Bool = false
    ) throws(DecompositionError) {
        let value = MemoryLayout<Double>.stride
        var ranks: [Rank] = []
        for rank in 0..<decomposition.rankCount {
            let plan = try HaloPlan(decomposition: decomposition, rank: rank, ghost: ghost)
            let message = plan.messages.reduce(0) { $0 + $1.send.count } * (exchanged ?? fields) * value
            let frame = plan.layout.owned.count * (outputs ?? fields) * MemoryLayout<Float>.stride
            ranks.append(
                Rank(
                    cells: plan.layout.owned.count, haloBytesPerStep: message * stages / haloDepth,
                    haloMessages: plan.messages.filter(plan.isRemote).count,
                    memoryBytes: Self.memoryBytes(
                        plan: plan, fields: fields, stages: stages, outputs: outputs, frameBuffers: frameBuffers,
                        inPlace: inPlace),
                    frameBytes: frame, outputBufferBytes: frameBuffers * frame))
        }
        self.ranks = ranks
        let cells = decomposition.shape.reduce(1, *)
        frameBytes = cells * (outputs ?? fields) * MemoryLayout<Float>.stride
        checkpointBytes = cells * fields * value
    }

    /// The bytes one rank's simulation allocates on the block of `plan` (see
    /// ``Rank/memoryBytes``), with `workArrays` more fields of the block where the model
    /// declares them.
    public static func memoryBytes(
        plan: HaloPlan, fields: Int, stages: Int = 1, outputs: Int? = nil, frameBuffers: Int = 2, workArrays: Int = 0,
        inPlace: Bool = false
    ) -> Int {
        let states = stages > 1 ? 3 : inPlace ? 1 : 2
        let value = MemoryLayout<Double>.stride
        let message = plan.messages.reduce(0) { $0 + $1.send.count } * fields * value
        let frame = plan.layout.owned.count * (outputs ?? fields) * MemoryLayout<Float>.stride
        return (states * fields + workArrays) * plan.layout.count * value + 2 * message + frameBuffers * frame
    }
}
