import Foundation
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

    @Test func xdmfDescribesEveryFrameAsAHyperslabOfTheResultsFile() {
        let layout = LocalLayout(owned: Box(extent: [4, 6]), ghost: [1, 1])
        let geometry = Geometry(shape: [4, 6], extent: [1, 3], periodic: [true, true], layout: layout)
        let writer = XDMFWriter(
            url: .init(fileURLWithPath: "/tmp/r.xdmf"), dataFile: "results.hdf5", geometry: geometry,
            fields: [FieldSpec(name: "temperature")])
        let xml = writer.document(times: [0, 0.5, 1])
        #expect(xml.components(separatedBy: "<Time Value=").count == 4)
        #expect(xml.contains("TopologyType=\"2DCoRectMesh\" Dimensions=\"5 7\""))
        #expect(xml.contains("Dimensions=\"1 3 4 6\""))
        #expect(xml.contains("0 2 0 0 1 1 1 1 1 1 4 6"))
        #expect(xml.contains("results.hdf5:/t0_fields/temperature"))
        #expect(xml.components(separatedBy: "<Grid").count == xml.components(separatedBy: "</Grid>").count)
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
