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
        do {
            try Data(document(times: times).utf8).write(to: url, options: .atomic)
        } catch {
            throw CheckpointError("cannot write \(url.path): \(systemReason(error))")
        }
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
            // Vectors and tensors are listed one component at a time, as scalars: ParaView reads
            // those for any number of axes, and `name_x` is the name The Well's loader gives.
            for field in fields where field.isOutput {
                let order = field.tensorOrder
                let rank = fileRank + order
                let fileShape = ([1, frames] + geometry.shape + Array(repeating: d, count: order))
                    .map(String.init).joined(separator: " ")
                let strides = Array(repeating: "1", count: rank).joined(separator: " ")
                let count = ([1, 1] + geometry.shape + Array(repeating: 1, count: order))
                    .map(String.init).joined(separator: " ")
                for (index, name) in field.components(dimensions: d).enumerated() {
                    // The component's position along each tensor axis (row-major).
                    var position = [Int](repeating: 0, count: order)
                    var rest = index
                    for axis in stride(from: order - 1, through: 0, by: -1) {
                        position[axis] = rest % d
                        rest /= d
                    }
                    let start = ([0, frame] + geometry.shape.map { _ in 0 } + position)
                        .map(String.init).joined(separator: " ")
                    xml += """
                                <Attribute Name="\(name)" AttributeType="Scalar" Center="Cell">
                                  <DataItem ItemType="HyperSlab" Dimensions="\(cellShape)" Type="HyperSlab">
                                    <DataItem Dimensions="3 \(rank)" Format="XML">\(start) \(strides) \(count)</DataItem>
                                    <DataItem Dimensions="\(fileShape)" NumberType="Float" Precision="4" Format="HDF">\(dataFile):/t\(order)_fields/\(field.name)</DataItem>
                                  </DataItem>
                                </Attribute>

                        """
                }
            }
            xml += "        </Grid>\n"
        }
        xml += "    </Grid>\n  </Domain>\n</Xdmf>\n"
        return xml
    }
}

/// What the system said of a failed file operation ("No space left on device"), from
/// Foundation's error where it carries the POSIX error, else its own description.
func systemReason(_ error: any Error) -> String {
    var current: NSError? = error as NSError
    while let candidate = current {
        if candidate.domain == NSPOSIXErrorDomain { return String(cString: strerror(Int32(candidate.code))) }
        current = (candidate.userInfo[NSUnderlyingErrorKey] as? any Error).map { $0 as NSError }
    }
    return (error as NSError).localizedDescription
}
