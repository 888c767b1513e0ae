import Foundation
import Testing

@testable import Engine
@testable import Grid
@testable import IO

@Suite struct LayoutTests {
    @Test func chunksDependOnlyOnTheGridAndStayUnderAMebibyte() {
        #expect(ResultsWriter.chunk(for: [64, 64, 64]) == [64, 64, 64])
        #expect(ResultsWriter.chunk(for: [128, 128, 64]) == [64, 64, 64])
        #expect(ResultsWriter.chunk(for: [100]) == [100])
        for shape in [[256, 256, 256], [1000, 1000], [7, 5, 3], [1 << 20]] {
            let chunk = ResultsWriter.chunk(for: shape)
            #expect(chunk.reduce(1, *) <= 1 << 18)
            #expect(zip(chunk, shape).allSatisfy { $0 >= 1 && $0 <= $1 })
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
