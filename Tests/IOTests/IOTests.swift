import Foundation
import HDF5
import TestSupport
import Testing

@testable import Engine
@testable import Grid
@testable import IO

@Suite struct LayoutTests {
    @Test func aChunkIsAWholeFrameUnlessThatExceedsTheLargestChunk() {
        #expect(ResultsWriter.chunk(for: [64, 64, 64], values: 1, bytes: 4) == [64, 64, 64])
        #expect(ResultsWriter.chunk(for: [512, 512, 256], values: 1, bytes: 4) == [512, 512, 256])
        #expect(ResultsWriter.chunk(for: [100], values: 3, bytes: 8) == [100])
        // 512³ float32 is 512 MiB: two slabs of 256 planes.
        #expect(ResultsWriter.chunk(for: [512, 512, 512], values: 1, bytes: 4) == [256, 512, 512])
        for (shape, values) in [([2048, 2048, 2048], 1), ([100_000, 100_000], 2), ([7, 5, 3], 9), ([1 << 30], 1)] {
            let chunk = ResultsWriter.chunk(for: shape, values: values, bytes: 4)
            #expect(chunk.reduce(1, *) * values * 4 <= ResultsWriter.largestChunk)
            #expect(zip(chunk, shape).allSatisfy { $0 >= 1 && $0 <= $1 })
            // Only the leading axes are cut: what follows the first cut axis is whole.
            let cut = chunk.indices.first { chunk[$0] < shape[$0] } ?? chunk.count
            #expect(chunk.indices.filter { $0 > cut }.allSatisfy { chunk[$0] == shape[$0] })
        }
    }
}

@Suite struct ParaViewDescriptionTests {
    @Test func theImageDirectionMapsVTKsFastestIndexToTheLastAxis() {
        let plane = ParaViewDescription(
            dataFile: "results.hdf5", shape: [4, 6], spacing: [0.25, 0.5], fields: [], double: false)
        // VTK's i runs along the stored array's last axis (Tessera's y), j along x.
        #expect(plane.wholeExtent == [0, 6, 0, 4, 0, 0])
        #expect(plane.indexSpacing == [0.5, 0.25, 1])
        #expect(plane.direction == [0, 1, 0, 1, 0, 0, 0, 0, 1])
        let cube = ParaViewDescription(
            dataFile: "results.hdf5", shape: [2, 3, 4], spacing: [1, 2, 3], fields: [], double: false)
        #expect(cube.wholeExtent == [0, 4, 0, 3, 0, 2])
        #expect(cube.direction == [0, 0, 1, 0, 1, 0, 1, 0, 0])
        let line = ParaViewDescription(dataFile: "r.hdf5", shape: [5], spacing: [0.1], fields: [], double: false)
        #expect(line.wholeExtent == [0, 5, 0, 0, 0, 0])
        #expect(line.direction == [1, 0, 0, 0, 1, 0, 0, 0, 1])
    }

    @Test func vectorsAndTensorsBecomeThreeAndNineComponentArraysWithoutTheTrajectoryAxis() {
        let description = ParaViewDescription(
            dataFile: "results.hdf5", shape: [4, 6], spacing: [1, 1], fields: [], double: false, trajectory: 2,
            trajectories: 3)
        let (scalarShape, scalar) = description.mappings(of: ("rho", 0), frames: 5)
        #expect(scalarShape == [5, 4, 6])
        #expect(scalar.count == 1 && scalar[0].sourceShape == [3, 5, 4, 6] && scalar[0].sourceStart == [2, 0, 0, 0])
        #expect(scalar[0].sourceDataset == "t0_fields/rho" && scalar[0].count == [5, 4, 6])
        let (vectorShape, vector) = description.mappings(of: ("momentum", 1), frames: 5)
        #expect(vectorShape == [5, 4, 6, 3])
        #expect(vector.count == 1 && vector[0].count == [5, 4, 6, 2] && vector[0].sourceCount == [1, 5, 4, 6, 2])
        let (tensorShape, tensor) = description.mappings(of: ("stress", 2), frames: 5)
        #expect(tensorShape == [5, 4, 6, 9])
        #expect(tensor.map(\.start) == [[0, 0, 0, 0], [0, 0, 0, 3]])
        #expect(tensor.map(\.sourceStart) == [[2, 0, 0, 0, 0, 0], [2, 0, 0, 0, 1, 0]])
        #expect(tensor.allSatisfy { $0.count.reduce(1, *) == $0.sourceCount.reduce(1, *) })
        let (single, one) = description.mappings(of: ("momentum", 1), frames: 1)
        #expect(single == [4, 6, 3] && one[0].start == [0, 0, 0] && one[0].count == [4, 6, 2])
    }

    /// Holds the MPI lock: HDF5 is not thread-safe and other suites use it at the same time.
    @Test func theDescriptionReadsTheResultsFramesThroughVirtualDatasets() throws {
        try usingMPI { _ in
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
                "tessera-vtkhdf-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: folder) }
            // A Well-layout file of two frames of a 2 x 3 grid: a scalar and a 2-D vector.
            let results = folder.appendingPathComponent("results.hdf5").path
            do {
                let file = try HDF5.File.create(results, communicator: nil, overwrite: true)
                let root = try file.root
                let scalar = try root.createGroup("t0_fields").createDataset(
                    "rho", of: Float.self, shape: [1, 2, 2, 3])
                try scalar.writeAll((0..<12).map(Float.init), writer: true)
                let vector = try root.createGroup("t1_fields").createDataset(
                    "m", of: Float.self, shape: [1, 2, 2, 3, 2])
                try vector.writeAll((0..<24).map { Float(100 + $0) }, writer: true)
                _ = try root.createGroup("t2_fields")
                let dimensions = try root.createGroup("dimensions")
                try dimensions.createDataset("time", of: Double.self, shape: [2]).writeAll([0, 0.5], writer: true)
                try dimensions.createDataset("x", of: Double.self, shape: [2]).writeAll([0.25, 0.75], writer: true)
                try dimensions.createDataset("y", of: Double.self, shape: [3]).writeAll([1, 3, 5], writer: true)
            }
            let (description, times) = try ParaViewDescription.reading(results)
            #expect(times == [0, 0.5])
            #expect(description.shape == [2, 3] && description.spacing == [0.5, 2] && !description.double)
            #expect(description.fields.map(\.name) == ["rho", "m"] && description.fields.map(\.order) == [0, 1])
            let path = ParaViewDescription.path(describing: results)
            try description.write(to: path, times: times)
            let cells = try HDF5.File.open(path).root.openGroup("VTKHDF").openGroup("CellData")
            #expect(try cells.openDataset("rho").readAll(Float.self) == (0..<12).map(Float.init))
            let padded = try cells.openDataset("m").readAll(Float.self)
            #expect(padded.count == 36)
            for cell in 0..<12 {
                #expect(Array(padded[3 * cell..<3 * cell + 3]) == [Float(100 + 2 * cell), Float(101 + 2 * cell), 0])
            }
            #expect(
                try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted() == [
                    "results.hdf5", "results.vtkhdf",
                ])
        }
    }
}

@Suite struct CheckpointNamingTests {
    @Test func checkpointsListNewestFirstAndIgnoreLeftoversAndStrangers() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("tessera-list-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let names = [
            Checkpoint.fileName(step: 900), Checkpoint.fileName(step: 10_000), Checkpoint.fileName(step: 50),
            ".\(Checkpoint.fileName(step: 20_000)).partial", "checkpoint-abc.hdf5", "notes.txt",
        ]
        for name in names {
            #expect(FileManager.default.createFile(atPath: folder.appendingPathComponent(name).path, contents: nil))
        }
        #expect(Checkpoint.fileName(step: 900) == "checkpoint-0000000900.hdf5")
        #expect(Checkpoint.list(in: folder.path).map(\.step) == [10_000, 900, 50])
        Checkpoint.removeLeftovers(in: folder.path)
        let left = try FileManager.default.contentsOfDirectory(atPath: folder.path)
        #expect(!left.contains { $0.hasSuffix(".partial") })
        #expect(left.count == 5)
    }
}

@Suite struct StateChecksumTests {
    @Test func partsOverAnyDecompositionAddUpToTheWholeAndOneFlippedBitShows() throws {
        let shape = [7, 5, 6]
        let values = (0..<shape.reduce(1, *)).map { sin(Double($0)) * 1e3 }
        let whole = values.withUnsafeBufferPointer {
            StateChecksum.partial($0, block: Box(extent: shape), shape: shape)
        }
        for dims in [[1, 1, 1], [3, 1, 2], [7, 5, 1], [2, 2, 3]] {
            let d = try Decomposition(shape: shape, dims: dims, periodic: [false, false, false])
            var total: UInt64 = 0
            for rank in 0..<d.rankCount {
                let block = d.ownedBox(of: rank)
                var part: [Double] = []
                block.forEachPoint { p in part.append(values[(p[0] * shape[1] + p[1]) * shape[2] + p[2]]) }
                total = total &+ part.withUnsafeBufferPointer { StateChecksum.partial($0, block: block, shape: shape) }
            }
            #expect(total == whole, "process grid \(dims)")
        }
        // Read in place from a field with ghosts, a block sums to the same part.
        let d = try Decomposition(shape: shape, dims: [2, 1, 3], periodic: [true, true, true])
        let block = d.ownedBox(of: 4)
        let field = Field(name: "u", layout: LocalLayout(owned: block, ghost: [1, 2, 1]))
        field.storage.update(repeating: .nan)
        var packed: [Double] = []
        Box(extent: block.extent).forEachPoint { local in
            let p = zip(local, block.lower).map(+)
            field[local] = values[(p[0] * shape[1] + p[1]) * shape[2] + p[2]]
            packed.append(field[local])
        }
        #expect(
            StateChecksum.partial(field, shape: shape)
                == packed.withUnsafeBufferPointer { StateChecksum.partial($0, block: block, shape: shape) })
        var damaged = values
        damaged[101] = Double(bitPattern: damaged[101].bitPattern ^ 1)
        let changed = damaged.withUnsafeBufferPointer {
            StateChecksum.partial($0, block: Box(extent: shape), shape: shape)
        }
        #expect(changed != whole)
        var swapped = values
        swapped.swapAt(3, 4)
        #expect(
            swapped.withUnsafeBufferPointer { StateChecksum.partial($0, block: Box(extent: shape), shape: shape) }
                != whole)
    }
}
