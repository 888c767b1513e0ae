import Testing

@testable import Grid

/// Runs the halo exchange of every rank in one process: each message's receive box is
/// filled from the neighbour's matching send box, found by the tag the neighbour sends with.
/// This checks the plans themselves (boxes, neighbours, tags) without MPI; the same exchange
/// over MPI is checked by the integration tests through `tessera check-halo`.
func exchangeInMemory(_ decomposition: Decomposition, ghost: [Int], fields: Int) throws -> [[Field]] {
    let plans = try (0..<decomposition.rankCount).map {
        try HaloPlan(decomposition: decomposition, rank: $0, ghost: ghost)
    }
    let pattern = GhostPattern(decomposition: decomposition)
    let state = plans.map { plan in (0..<fields).map { Field(name: "f\($0)", layout: plan.layout) } }
    for rank in state.indices { for (i, f) in state[rank].enumerated() { pattern.fill(f, field: i) } }
    for (rank, plan) in plans.enumerated() {
        for message in plan.messages {
            let source = plans[message.neighbour].messages.filter {
                $0.neighbour == rank && $0.sendTag == message.receiveTag
            }
            #expect(source.count == 1, "rank \(rank) direction \(message.direction): \(source.count) matching sends")
            guard let send = source.first else { continue }
            #expect(send.send.extent == message.receive.extent)
            for (i, field) in state[rank].enumerated() {
                let buffer = UnsafeMutablePointer<Double>.allocate(capacity: send.send.count)
                defer { buffer.deallocate() }
                state[message.neighbour][i].pack(send.send, into: buffer)
                field.unpack(message.receive, from: buffer)
            }
        }
    }
    return state
}

@Suite struct HaloPlanTests {
    @Test(arguments: [
        ([11], [3], [true], 1),
        ([11], [4], [false], 2),
        ([7, 5], [2, 2], [true, false], 1),
        ([7, 5], [3, 1], [true, true], 1),
        ([7, 6], [1, 2], [true, true], 2),
        ([7, 5, 3], [2, 1, 1], [true, false, true], 1),
        ([9, 7, 5], [3, 2, 1], [true, true, true], 1),
        ([5, 4, 6], [1, 1, 1], [true, true, true], 2),
        ([6, 6, 6], [2, 2, 2], [false, false, false], 1),
    ])
    func everyGhostHoldsItsOwnersValue(shape: [Int], dims: [Int], periodic: [Bool], width: Int) throws {
        let decomposition = try Decomposition(shape: shape, dims: dims, periodic: periodic)
        let state = try exchangeInMemory(decomposition, ghost: shape.map { _ in width }, fields: 2)
        let pattern = GhostPattern(decomposition: decomposition)
        for fields in state {
            for (i, field) in fields.enumerated() {
                let problems = pattern.mismatches(in: field, field: i)
                #expect(problems.isEmpty, "\(problems.prefix(3))")
            }
        }
    }

    @Test func threeDimensionalInteriorBlockHasFacesEdgesAndCorners() throws {
        let d = try Decomposition(shape: [9, 9, 9], dims: [3, 3, 3], periodic: [false, false, false])
        let plan = try HaloPlan(decomposition: d, rank: d.rank(at: [1, 1, 1])!, ghost: [1, 1, 1])
        #expect(plan.messages.count == 26)
        #expect(plan.physicalBoundaries.isEmpty)
        let corner = try HaloPlan(decomposition: d, rank: 0, ghost: [1, 1, 1])
        #expect(corner.messages.count == 7)
        #expect(corner.physicalBoundaries.count == 3)
    }

    @Test func periodicAxisWithTwoRanksSendsTwoDistinctlyTaggedMessagesToOneNeighbour() throws {
        let d = try Decomposition(shape: [8], dims: [2], periodic: [true])
        let plan = try HaloPlan(decomposition: d, rank: 0, ghost: [1])
        #expect(plan.messages.map(\.neighbour) == [1, 1])
        #expect(Set(plan.messages.map(\.sendTag)).count == 2)
    }

    @Test func remoteFacesAreTheFacesWhoseGhostsComeFromAnotherRank() throws {
        // One rank, periodic: every neighbour is the rank itself.
        let alone = try HaloPlan(
            decomposition: Decomposition(shape: [6, 5], dims: [1, 1], periodic: [true, true]), rank: 0, ghost: [1, 1])
        #expect(alone.messages.allSatisfy { !alone.isRemote($0) })
        #expect(alone.remoteFaces.map { [$0.low, $0.high] } == [[false, false], [false, false]])
        // Two ranks split along the first axis, periodic: that axis is remote on both sides,
        // the other wraps onto the rank itself.
        let pair = try Decomposition(shape: [6, 5, 4], dims: [2, 1, 1], periodic: [true, true, true])
        let wrapped = try HaloPlan(decomposition: pair, rank: 1, ghost: [2, 2, 2])
        #expect(wrapped.remoteFaces.map { [$0.low, $0.high] } == [[true, true], [false, false], [false, false]])
        // Bounded: the first rank has a wall below and its neighbour above.
        let walls = try Decomposition(shape: [6, 5], dims: [2, 1], periodic: [false, false])
        let first = try HaloPlan(decomposition: walls, rank: 0, ghost: [1, 1])
        #expect(first.remoteFaces.map { [$0.low, $0.high] } == [[false, true], [false, false]])
        #expect(first.messages.count == 1)
    }

    @Test func blocksThinnerThanTheStencilAreRejected() throws {
        let d = try Decomposition(shape: [5], dims: [4], periodic: [true])
        #expect(throws: DecompositionError.self) { try HaloPlan(decomposition: d, rank: 3, ghost: [2]) }
    }
}
