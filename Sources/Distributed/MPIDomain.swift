import Engine
import Grid
import MPI

/// Halo exchange and reductions over an MPI Cartesian communicator.
///
/// One message per neighbour direction (faces, edges and corners) carries every field of the
/// exchange, packed one after another. Receives are posted before sends; ``beginExchange(_:)``
/// returns at once and ``finishExchange()`` waits and unpacks, so the interior update runs
/// while the messages travel.
public final class MPIDomain: DomainCommunication {
    public let cartesian: CartesianCommunicator
    public let plan: HaloPlan
    private var sendBuffers: [UnsafeMutableBufferPointer<Double>] = []
    private var receiveBuffers: [UnsafeMutableBufferPointer<Double>] = []
    private var requests: [Request] = []
    private var pending: [Field] = []

    public init(cartesian: CartesianCommunicator, plan: HaloPlan) {
        self.cartesian = cartesian
        self.plan = plan
    }

    deinit { releaseBuffers() }

    private func releaseBuffers() {
        for buffer in sendBuffers + receiveBuffers { buffer.deallocate() }
    }

    var communicator: Communicator { cartesian.communicator }

    /// Makes sure every message buffer holds `fields` fields.
    private func reserve(fields: Int) {
        let needed = plan.messages.map { $0.send.count * fields }
        if sendBuffers.count == needed.count && zip(sendBuffers, needed).allSatisfy({ $0.count >= $1 }) { return }
        releaseBuffers()
        sendBuffers = needed.map { .allocate(capacity: Swift.max($0, 1)) }
        receiveBuffers = needed.map { .allocate(capacity: Swift.max($0, 1)) }
    }

    public func beginExchange(_ fields: [Field]) throws {
        precondition(pending.isEmpty, "beginExchange called twice without finishExchange")
        pending = fields
        try post(fields, sending: \.send, receiving: \.receive)
    }

    /// Posts every message's receive, then packs and sends: the cells of each message's
    /// `sending` box go to its neighbour, and as many values as its `receiving` box holds come
    /// back into the receive buffers. The forward exchange sends owned cells and receives
    /// ghosts; the reverse exchange the other way round. Tags are the forward exchange's,
    /// which pair the same two sides either way.
    private func post(_ fields: [Field], sending: KeyPath<HaloMessage, Box>, receiving: KeyPath<HaloMessage, Box>)
        throws
    {
        reserve(fields: fields.count)
        let count = fields.count
        for (index, message) in plan.messages.enumerated() {
            requests.append(
                try communicator.irecv(
                    receiveBuffers[index].baseAddress!, count: message[keyPath: receiving].count * count,
                    from: message.neighbour, tag: message.receiveTag))
        }
        for (index, message) in plan.messages.enumerated() {
            let buffer = sendBuffers[index].baseAddress!
            var position = 0
            for field in fields { position += field.pack(message[keyPath: sending], into: buffer + position) }
            requests.append(
                try communicator.isend(
                    UnsafePointer(buffer), count: position, to: message.neighbour, tag: message.sendTag))
        }
    }

    public func finishExchange() throws {
        defer { pending = [] }
        try Request.waitAll(&requests)
        for (index, message) in plan.messages.enumerated() {
            var position = 0
            for field in pending {
                position += field.unpack(
                    message.receive, from: UnsafePointer(receiveBuffers[index].baseAddress! + position))
            }
        }
    }

    public func reverseExchange(_ fields: [Field]) throws {
        precondition(pending.isEmpty, "reverseExchange called during an exchange")
        // The forward exchange's messages with their boxes swapped: ghosts go out, owned cells
        // come back.
        try post(fields, sending: \.receive, receiving: \.send)
        for message in plan.messages {
            for field in fields { field.zero(message.receive) }
        }
        try Request.waitAll(&requests)
        for (index, message) in plan.messages.enumerated() {
            var position = 0
            for field in fields {
                position += field.accumulate(
                    message.send, from: UnsafePointer(receiveBuffers[index].baseAddress! + position))
            }
        }
    }

    public func globalMinimum(_ value: Double) throws -> Double {
        try communicator.allReduce(value, .min)
    }

    public func globalMaximum(_ value: Double) throws -> Double {
        try communicator.allReduce(value, .max)
    }

    public func globalSum(_ values: [Double]) throws -> [Double] {
        var sums = values
        try communicator.allReduce(&sums, .sum)
        return sums
    }
}
