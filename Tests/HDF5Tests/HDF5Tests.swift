import Foundation
import HDF5
import MPI
import Testing

/// MPI starts once per process (as a singleton: one rank, no mpirun) and stays up: MPI cannot
/// be initialised again after `MPI_Finalize`. Tests here run one at a time on the main rank.
nonisolated(unsafe) let world: Communicator = {
    do { return try MPIEnvironment.initialize() } catch { fatalError("MPI did not start: \(error)") }
}()

func temporaryPath(_ name: String) -> String {
    FileManager.default.temporaryDirectory.appendingPathComponent("tessera-\(UUID().uuidString)-\(name)").path
}

@Suite(.serialized) struct HDF5Tests {
    @Test func attributesRoundTripInEveryType() throws {
        let path = temporaryPath("attrs.hdf5")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let values: [String: AttributeValue] = [
            "i": .int(-7), "is": .ints([1, 2, 3]), "d": .double(0.25), "ds": .doubles([1.5, -2]),
            "s": .string("héat ✓"), "ss": .strings(["x", "y", ""]), "b": .bool(true), "bs": .bools([false, true]),
        ]
        do {
            let root = try HDF5.File.create(path, communicator: world, overwrite: false).root
            for (name, value) in values { try root.attributes.setAttribute(name, value) }
            try root.attributes.setAttribute("i", .int(42))  // replacing an attribute works
        }
        let root = try HDF5.File.open(path).root
        for (name, value) in values where name != "i" { #expect(try root.attributes.attribute(name) == value) }
        #expect(try root.attributes.attribute("i") == .int(42))
        #expect(try root.attributes.attribute("missing") == nil)
        #expect(Set(try root.attributes.attributeNames()) == Set(values.keys))
    }

    @Test func collectiveHyperslabsWriteAndReadBackAndDatasetsGrow() throws {
        let path = temporaryPath("data.hdf5")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let file = try HDF5.File.create(path, communicator: world, overwrite: false)
        let group = try file.root.createGroup("g")
        let dataset = try group.createDataset(
            "f", of: Float.self, shape: [0, 4, 6], maxShape: [nil, 4, 6], chunk: [1, 4, 6])
        let block: [Float] = (0..<12).map(Float.init)
        for frame in 0..<3 {
            try dataset.setExtent([frame + 1, 4, 6])
            try block.withUnsafeBufferPointer { try dataset.write($0, start: [frame, 1, 2], count: [1, 3, 4]) }
        }
        #expect(try dataset.shape == [3, 4, 6])
        var back = [Float](repeating: -1, count: 12)
        try back.withUnsafeMutableBufferPointer { try dataset.read(into: $0, start: [2, 1, 2], count: [1, 3, 4]) }
        #expect(back == block)
        #expect(dataset.elementDescription == "float32")
        #expect(try file.root.members().map(\.name) == ["g"])
        #expect(try group.members().first?.kind == .dataset)
        #expect(file.isParallel)
    }

    @Test func failuresCarryHDF5sErrorStack() {
        do {
            _ = try HDF5.File.open("/nonexistent/folder/file.hdf5")
            Issue.record("opened a file that does not exist")
        } catch {
            #expect(error.call == "H5Fopen")
            #expect(error.context == "/nonexistent/folder/file.hdf5")
            #expect(!error.stack.isEmpty)
            #expect(error.description.contains("unable to open file"), "\(error)")
        }
    }

    @Test func creatingOverAnExistingFileFailsUnlessAskedToOverwrite() throws {
        let path = temporaryPath("exists.hdf5")
        defer { try? FileManager.default.removeItem(atPath: path) }
        _ = try HDF5.File.create(path, communicator: nil, overwrite: false)
        #expect(throws: HDF5Error.self) { try HDF5.File.create(path, communicator: nil, overwrite: false) }
        _ = try HDF5.File.create(path, communicator: nil, overwrite: true)
    }

    @Test func mpiErrorsCarryMPIsMessage() throws {
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
}
