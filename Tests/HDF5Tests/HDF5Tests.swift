import Foundation
import Grid
import HDF5
import IO
import MPI
import Testing

/// MPI starts once per process (as a singleton: one rank, no mpirun) and stays up: MPI cannot
/// be initialised again after `MPI_Finalize`. Tests here run one at a time on the main rank.
/// Every test that needs MPI lives in this target, so that only one place starts it.
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

    /// A restart reads its block slab by slab; any slab size, and a block that does not start
    /// at the origin, must give back exactly what was written and the matching checksum.
    @Test func checkpointsReadBackExactlyInSlabsOfAnySize() throws {
        let folder = temporaryPath("checkpoints")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let shape = [9, 5, 6]
        let value = { (p: [Int]) in sin(Double((p[0] * shape[1] + p[1]) * shape[2] + p[2])) * 1e3 }
        let written = ["u", "v"].map {
            Field(name: $0, layout: LocalLayout(owned: Box(extent: shape), ghost: [1, 1, 1]))
        }
        for (index, field) in written.enumerated() {
            Box(extent: shape).forEachPoint { field[$0] = value($0) + Double(index) }
        }
        let info = CheckpointInfo(
            step: 7, time: 0.5, dt: 0.1, frames: 2, model: "heat", physics: "p", configText: "c", version: "v",
            ranks: 1, processGrid: [1, 1, 1], fields: ["u", "v"])
        let path = try Checkpoint.write(
            info, state: written, shape: shape, directory: folder, communicator: world, keep: 1
        ).path

        let plane = shape[1] * shape[2] * MemoryLayout<Double>.stride
        let decomposition = try Decomposition(shape: shape, dims: [2, 1, 2], periodic: [false, false, false])
        for block in [Box(extent: shape), decomposition.ownedBox(of: 3)] {
            for slabBytes in [1, 2 * plane, 3 * plane - 1, 1 << 20] {
                let layout = LocalLayout(owned: block, ghost: [1, 2, 1])
                let state = ["u", "v"].map { Field(name: $0, layout: layout) }
                for field in state { field.storage.update(repeating: .nan) }
                let scratch = Field(name: "scratch", layout: layout)
                let read = try Checkpoint.read(path, into: state, scratch: scratch, slabBytes: slabBytes)
                #expect(read.info == info)
                for (index, field) in state.enumerated() {
                    var exact = true
                    layout.whole.forEachPoint { local in
                        let global = zip(local, block.lower).map(+)
                        let inside = layout.interior.contains(local)
                        let got = field[local]
                        if inside ? got != value(global) + Double(index) : !got.isNaN { exact = false }
                    }
                    #expect(exact, "field \(field.name), block \(block), slabs of \(slabBytes) bytes")
                }
                if block == Box(extent: shape) {
                    #expect(read.sums.allSatisfy { $0.partial == $0.stored }, "slabs of \(slabBytes) bytes")
                } else {
                    let whole = written.map { StateChecksum.partial($0, shape: shape) }
                    #expect(read.sums.map(\.stored) == whole)
                    #expect(read.sums.map(\.partial) == state.map { StateChecksum.partial($0, shape: shape) })
                }
            }
        }
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
