import Foundation
import MPI
import TestSupport
import Testing

@Suite(.serialized) struct MPITests {
    @Test func mpiErrorsCarryMPIsMessage() throws {
        try usingMPI { world in try errorsAndCollectives(world) }
    }

    func errorsAndCollectives(_ world: Communicator) throws {
        do {
            _ = try world.cartesian(dims: [5], periodic: [true])
            Issue.record("a 5-rank process grid on 1 rank was accepted")
        } catch {
            #expect(error.call == "MPI_Cart_create")
            #expect(!error.message.isEmpty)
        }
        #expect(try world.allReduce(3.5, .max) == 3.5)
        #expect(try world.broadcast("text") == "text")
        #expect(try MPIEnvironment.dimsCreate(ranks: 1, constraints: [0, 0]) == [1, 1])
    }

    /// What output threads use: a communicator of their own, and waits that sleep.
    @Test func duplicatesNodesAndWaitsAsleep() throws {
        try usingMPI { world in
            #expect(MPIEnvironment.threadsMayCallMPI)
            let other = try world.duplicate()
            #expect(other.size == world.size && other.rank == world.rank)
            var values = [1.5, -2.0]
            try other.allReduceAsleep(&values, .max)
            #expect(values == [1.5, -2.0])
            try other.barrierAsleep()
            let node = try world.node()
            #expect(node.size == 1)
            _ = try Hints(["cb_nodes": "2", "striping_factor": "4"])
            _ = try Hints([:])
        }
    }
}
