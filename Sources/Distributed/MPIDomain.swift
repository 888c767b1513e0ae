import Engine
import Grid
import MPI

/// Halo exchange and reductions over an MPI Cartesian communicator.
///
/// One message per neighbour direction (faces, edges and corners) carries every field of the
/// exchange, packed one after another. Receives are posted before sends; ``beginExchange(_:)``
/// returns at once and ``finishExchange()`` waits and unpacks, so the interior update runs
/// while the messages travel. Ghosts that come from this rank itself (a periodic axis it
/// spans alone) are copied in ``beginExchange(_:)`` straight from the owned cells, with no
/// message: they are ready before the interior update.
public final class MPIDomain: DomainCommunication {
    public let cartesian: CartesianCommunicator
    public let plan: HaloPlan
    private var sendBuffers: [UnsafeMutableBufferPointer<Double>] = []
    private var receiveBuffers: [UnsafeMutableBufferPointer<Double>] = []
    private var requests: [Request] = []
    private var pending: [Field] = []
    /// The messages that go to other ranks, by index in the plan.
    private let remote: [Int]
    /// For each message this rank sends itself, the owned cells its ghosts copy.
    private let local: [(from: Box, to: Box)]
    private let reductions: MPIReductions

    public init(cartesian: CartesianCommunicator, plan: HaloPlan) {
        self.cartesian = cartesian
        self.plan = plan
        reductions = MPIReductions(communicator: cartesian.communicator)
        remote = plan.messages.indices.filter { plan.isRemote(plan.messages[$0]) }
        // This rank, as its own neighbour in a direction, sends the cells it sends the
        // opposite way: the message whose send tag is this one's receive tag.
        local = plan.messages.filter { !plan.isRemote($0) }.map { message in
            (plan.messages.first { $0.sendTag == message.receiveTag }!.send, message.receive)
        }
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

    public var lateFaces: [(low: Bool, high: Bool)] { plan.remoteFaces }

    public func beginExchange(_ fields: [Field]) throws {
        precondition(pending.isEmpty, "beginExchange called twice without finishExchange")
        pending = fields
        try post(fields, messages: remote, sending: \.send, receiving: \.receive)
        for field in fields {
            for (from, to) in local { field.copy(from, to: to) }
        }
    }

    /// Posts every message's receive, then packs and sends: the cells of each message's
    /// `sending` box go to its neighbour, and as many values as its `receiving` box holds come
    /// back into the receive buffers. The forward exchange sends owned cells and receives
    /// ghosts; the reverse exchange the other way round. Tags are the forward exchange's,
    /// which pair the same two sides either way.
    private func post(
        _ fields: [Field], messages indices: [Int], sending: KeyPath<HaloMessage, Box>,
        receiving: KeyPath<HaloMessage, Box>
    ) throws {
        reserve(fields: fields.count)
        let count = fields.count
        for index in indices {
            let message = plan.messages[index]
            requests.append(
                try communicator.irecv(
                    receiveBuffers[index].baseAddress!, count: message[keyPath: receiving].count * count,
                    from: message.neighbour, tag: message.receiveTag))
        }
        for index in indices {
            let message = plan.messages[index]
            let buffer = sendBuffers[index].baseAddress!
            var position = 0
            for field in fields { position += field.pack(message[keyPath: sending], into: buffer + position) }
            requests.append(
                try communicator.isend(
                    UnsafePointer(buffer), count: position, to: message.neighbour, tag: message.sendTag))
        }
    }

    /// Tests the exchange's requests: libraries that move a large message only inside an MPI
    /// call (a rendezvous) then move it while the tiled pass goes on, not all in
    /// ``finishExchange()``.
    public func progress() throws {
        _ = try Request.testAll(&requests)
    }

    public func finishExchange() throws {
        defer { pending = [] }
        try Request.waitAll(&requests)
        for index in remote {
            let message = plan.messages[index]
            var position = 0
            for field in pending {
                position += field.unpack(
                    message.receive, from: UnsafePointer(receiveBuffers[index].baseAddress! + position))
            }
        }
    }

    public func reverseExchange(_ fields: [Field]) throws {
        precondition(pending.isEmpty, "reverseExchange called during an exchange")
        // Every message goes through MPI here, this rank's own included: the ghosts must all
        // be packed before any is zeroed or added, and the adjoint runs are not where the
        // copies cost.
        // The forward exchange's messages with their boxes swapped: ghosts go out, owned cells
        // come back.
        try post(fields, messages: Array(plan.messages.indices), sending: \.receive, receiving: \.send)
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

    public func globalMaximum(_ values: [Double]) throws -> [Double] {
        try reductions.globalMaximum(values)
    }

    public func globalSum(_ values: [Double]) throws -> [Double] {
        try reductions.globalSum(values)
    }
}

/// Global reductions over one communicator: for the halo exchange's domain, and for an
/// output pipeline on a communicator of its own, whose thread waits asleep
/// (``Communicator/allReduceAsleep(_:_:interval:)``) so as to leave its CPU to the steps.
public final class MPIReductions: Reductions {
    public let communicator: Communicator
    let asleep: Bool

    public init(communicator: Communicator, waitingAsleep: Bool = false) {
        self.communicator = communicator
        self.asleep = waitingAsleep
    }

    public func globalMaximum(_ values: [Double]) throws -> [Double] {
        try reduce(values, .max)
    }

    public func globalSum(_ values: [Double]) throws -> [Double] {
        try reduce(values, .sum)
    }

    private func reduce(_ values: [Double], _ op: ReductionOp) throws -> [Double] {
        var result = values
        if asleep {
            try communicator.allReduceAsleep(&result, op)
        } else {
            try communicator.allReduce(&result, op)
        }
        return result
    }
}
