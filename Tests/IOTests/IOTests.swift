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
