import Foundation
import HDF5
import MPI
import TestSupport
import Testing

/// Every test holds the MPI lock (``usingMPI(_:)``): HDF5 is not thread-safe.
@Suite(.serialized) struct HDF5Tests {
    @Test func attributesRoundTripInEveryType() throws {
        try usingMPI { world in
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
    }

    @Test func collectiveHyperslabsWriteAndReadBackAndDatasetsGrow() throws {
        try usingMPI { world in
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
    }

    @Test func failuresCarryHDF5sErrorStack() throws {
        try usingMPI { _ in
            do {
                _ = try HDF5.File.open("/nonexistent/folder/file.hdf5")
                Issue.record("opened a file that does not exist")
            } catch let error as HDF5Error {
                #expect(error.call == "H5Fopen")
                #expect(error.context == "/nonexistent/folder/file.hdf5")
                #expect(!error.stack.isEmpty)
                #expect(error.description.contains("unable to open file"), "\(error)")
            }
        }
    }

    @Test func creatingOverAnExistingFileFailsUnlessAskedToOverwrite() throws {
        try usingMPI { _ in
            let path = temporaryPath("exists.hdf5")
            defer { try? FileManager.default.removeItem(atPath: path) }
            _ = try HDF5.File.create(path, communicator: nil, overwrite: false)
            #expect(throws: HDF5Error.self) { try HDF5.File.create(path, communicator: nil, overwrite: false) }
            _ = try HDF5.File.create(path, communicator: nil, overwrite: true)
        }
    }

    /// Alignment puts every large object (here, each chunk) on a multiple of the boundary.
    @Test func alignmentPlacesChunksOnTheBoundary() throws {
        let path = temporaryPath("aligned.hdf5")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try usingMPI { world in
            let file = try HDF5.File.create(
                path, communicator: world, overwrite: false,
                tuning: FileTuning(
                    hints: ["romio_cb_write": "enable"],
                    alignment: FileTuning.Alignment(threshold: 1024, boundary: 65536)))
            let dataset = try file.root.createDataset(
                "f", of: Float.self, shape: [0, 40, 40], maxShape: [nil, 40, 40], chunk: [1, 40, 40])
            let frame = [Float](repeating: 1, count: 1600)
            for index in 0..<3 {
                try dataset.setExtent([index + 1, 40, 40])
                try frame.withUnsafeBufferPointer { try dataset.write($0, start: [index, 0, 0], count: [1, 40, 40]) }
            }
            let addresses = try (0..<3).map { try dataset.chunkAddress($0) }
            #expect(addresses.allSatisfy { $0 % 65536 == 0 }, "\(addresses)")
            #expect(try file.mpiHints["romio_cb_write"] == "enable")
        }
    }
}
