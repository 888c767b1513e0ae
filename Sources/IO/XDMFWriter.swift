import Engine
import Foundation

/// Writes `results.xdmf` beside `results.hdf5`: a temporal collection of uniform grids whose
/// cell data point into the HDF5 file with hyperslabs, so ParaView and VisIt open the results
/// directly. Rewritten after every frame (to a temporary name, then renamed), so it always
/// describes exactly the frames the HDF5 file holds.
struct XDMFWriter {
    let url: URL
    let dataFile: String
    let geometry: Geometry
    let fields: [FieldSpec]

    func write(times: [Double]) throws {
        try Data(document(times: times).utf8).write(to: url, options: .atomic)
    }

    func document(times: [Double]) -> String {
        let d = geometry.dimensions
        // XDMF has no 1-D structured mesh: a line is drawn as a 2-D mesh one cell thick.
        let cells = d == 1 ? [1] + geometry.shape : geometry.shape
        let spacing = d == 1 ? [geometry.spacing[0]] + geometry.spacing : geometry.spacing
        let meshRank = cells.count
        let topology = "\(meshRank)DCoRectMesh"
        let geometryType = meshRank == 3 ? "ORIGIN_DXDYDZ" : "ORIGIN_DXDY"
        let nodes = cells.map { String($0 + 1) }.joined(separator: " ")
        let origin = cells.map { _ in "0" }.joined(separator: " ")
        let steps = spacing.map { "\($0)" }.joined(separator: " ")
        let frames = times.count
        let fileShape = ([1, frames] + geometry.shape).map(String.init).joined(separator: " ")
        let cellShape = cells.map(String.init).joined(separator: " ")
        let fileRank = geometry.shape.count + 2
        var xml = """
            <?xml version="1.0" ?>
            <!DOCTYPE Xdmf SYSTEM "Xdmf.dtd" []>
            <Xdmf Version="3.0">
              <Domain>
                <Grid Name="results" GridType="Collection" CollectionType="Temporal">

            """
        for (frame, time) in times.enumerated() {
            xml += """
                      <Grid Name="frame \(frame)" GridType="Uniform">
                        <Time Value="\(time)"/>
                        <Topology TopologyType="\(topology)" Dimensions="\(nodes)"/>
                        <Geometry GeometryType="\(geometryType)">
                          <DataItem Format="XML" Dimensions="\(meshRank)">\(origin)</DataItem>
                          <DataItem Format="XML" Dimensions="\(meshRank)">\(steps)</DataItem>
                        </Geometry>

                """
            for field in fields where field.tensorOrder == 0 {
                let start = ([0, frame] + geometry.shape.map { _ in 0 }).map(String.init).joined(separator: " ")
                let stride = Array(repeating: "1", count: fileRank).joined(separator: " ")
                let count = ([1, 1] + geometry.shape).map(String.init).joined(separator: " ")
                xml += """
                            <Attribute Name="\(field.name)" AttributeType="Scalar" Center="Cell">
                              <DataItem ItemType="HyperSlab" Dimensions="\(cellShape)" Type="HyperSlab">
                                <DataItem Dimensions="3 \(fileRank)" Format="XML">\(start) \(stride) \(count)</DataItem>
                                <DataItem Dimensions="\(fileShape)" NumberType="Float" Precision="4" Format="HDF">\(dataFile):/t0_fields/\(field.name)</DataItem>
                              </DataItem>
                            </Attribute>

                    """
            }
            xml += "        </Grid>\n"
        }
        xml += "    </Grid>\n  </Domain>\n</Xdmf>\n"
        return xml
    }
}
