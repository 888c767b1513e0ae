import Engine
import Foundation
import HDF5

/// `results.vtkhdf` beside a results file: a VTKHDF image (VTK's own HDF5 format, read by
/// ParaView 5.12 and later and by VTK's `vtkHDFReader`) whose arrays are HDF5 virtual
/// datasets over the results file's frames, so that ParaView shows every field at its true
/// coordinates without a frame being copied.
///
/// The results file stores each frame in The Well's order, x slowest, while VTK reads the
/// last array axis as its first index. The image's `Direction` matrix maps index axis `q` to
/// Tessera's axis `d − 1 − q`, so the picture is not transposed. Vectors and tensors become
/// one VTK array of 3 or 9 components in physical axis order (padded with zeros below three
/// dimensions), which glyphs and stream tracers take as they are.
///
/// XDMF cannot describe this: its structured meshes read the last array axis as x and have
/// no way to permute axes, which is why ParaView drew the old `results.xdmf` transposed.
public struct ParaViewDescription: Sendable {
    /// The results file, by its name in the description's folder.
    public var dataFile: String
    /// Cells per axis, x first.
    public var shape: [Int]
    /// Cell widths per axis.
    public var spacing: [Double]
    /// The output fields: name and tensor order (0 scalar, 1 vector, 2 tensor).
    public var fields: [(name: String, order: Int)]
    /// Whether frames are stored as float64 rather than float32.
    public var double: Bool
    /// Which trajectory of the file (The Well's first axis) is shown.
    public var trajectory: Int
    /// How many trajectories the file holds.
    public var trajectories: Int

    public init(
        dataFile: String, shape: [Int], spacing: [Double], fields: [(name: String, order: Int)], double: Bool,
        trajectory: Int = 0, trajectories: Int = 1
    ) {
        self.dataFile = dataFile
        self.shape = shape
        self.spacing = spacing
        self.fields = fields
        self.double = double
        self.trajectory = trajectory
        self.trajectories = trajectories
    }

    /// The path of the description of the results file at `path`: `.vtkhdf` for `.hdf5`.
    public static func path(describing path: String) -> String {
        (path as NSString).deletingPathExtension + ".vtkhdf"
    }

    var dimensions: Int { shape.count }

    /// VTK's index axes (first fastest) in Tessera's axes: the last Tessera axis first.
    func tesseraAxis(ofIndexAxis q: Int) -> Int? { q < dimensions ? dimensions - 1 - q : nil }

    /// `WholeExtent`: points per index axis, as pairs from 0.
    var wholeExtent: [Int] {
        (0..<3).flatMap { q in [0, tesseraAxis(ofIndexAxis: q).map { shape[$0] } ?? 0] }
    }

    /// `Spacing` per index axis; 1 on the axes a grid of fewer than three dimensions lacks.
    var indexSpacing: [Double] { (0..<3).map { q in tesseraAxis(ofIndexAxis: q).map { spacing[$0] } ?? 1 } }

    /// `Direction`, row-major: physical axis `p` gets index axis `q` where `p` is its Tessera axis.
    var direction: [Double] {
        var matrix = [Double](repeating: 0, count: 9)
        for q in 0..<3 { matrix[3 * (tesseraAxis(ofIndexAxis: q) ?? q) + q] = 1 }
        return matrix
    }

    /// The blocks each VTK array is made of for `frames` frames: a field's frames with The
    /// Well's trajectory axis dropped, and a vector's or tensor's components placed in a 3- or
    /// 9-component array (row by row for a tensor). A single frame has no time axis: VTK
    /// reads an image of one step as one without time.
    func mappings(of field: (name: String, order: Int), frames: Int) -> (shape: [Int], [VirtualMapping]) {
        let d = dimensions
        let components = field.order == 0 ? [] : [field.order == 1 ? 3 : 9]
        let time = frames == 1 ? [] : [frames]
        let virtualShape = time + shape + components
        let sourceShape = [trajectories, frames] + shape + Array(repeating: d, count: field.order)
        let source = "t\(field.order)_fields/\(field.name)"
        let zeros = Array(repeating: 0, count: d)
        func mapping(component: Int, sourceTail: [Int], countTail: [Int], virtualTail: [Int]) -> VirtualMapping {
            VirtualMapping(
                start: time.map { _ in 0 } + zeros + (field.order == 0 ? [] : [component]),
                count: time + shape + virtualTail,
                sourceFile: dataFile, sourceDataset: source, sourceShape: sourceShape,
                sourceStart: [trajectory, 0] + zeros + sourceTail, sourceCount: [1, frames] + shape + countTail)
        }
        switch field.order {
        case 0: return (virtualShape, [mapping(component: 0, sourceTail: [], countTail: [], virtualTail: [])])
        case 1: return (virtualShape, [mapping(component: 0, sourceTail: [0], countTail: [d], virtualTail: [d])])
        default:
            let rows = (0..<d).map { row in
                mapping(component: 3 * row, sourceTail: [row, 0], countTail: [1, d], virtualTail: [d])
            }
            return (virtualShape, rows)
        }
    }

    /// Writes the description of the first `times.count` frames to `path`, replacing it
    /// atomically (written under a temporary name, then renamed), so that a reader never
    /// sees a half-written one. Nothing is written before the first frame.
    public func write(to path: String, times: [Double]) throws {
        guard !times.isEmpty else { return }
        let folder = (path as NSString).deletingLastPathComponent
        let temporary = (folder as NSString).appendingPathComponent(
            ".\((path as NSString).lastPathComponent).\(getpid()).partial")
        do {
            try writeFile(temporary, times: times)
        } catch {
            unlink(temporary)
            throw CheckpointError("cannot write \(path): \(error)")
        }
        guard rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw CheckpointError("cannot write \(path): \(reason)")
        }
    }

    private func writeFile(_ path: String, times: [Double]) throws {
        let file = try HDF5.File.create(path, communicator: nil, overwrite: true)
        let root = try file.root.createGroup("VTKHDF")
        let attributes = root.attributes
        try attributes.setAttribute("Version", .ints([2, 2]))
        try attributes.setAttribute("Type", .string("ImageData"), strings: .fixedLength)
        try attributes.setAttribute("WholeExtent", .ints(wholeExtent))
        try attributes.setAttribute("Origin", .doubles([0, 0, 0]))
        try attributes.setAttribute("Spacing", .doubles(indexSpacing))
        try attributes.setAttribute("Direction", .doubles(direction))
        _ = try root.createGroup("PointData")
        _ = try root.createGroup("FieldData")
        let cells = try root.createGroup("CellData")
        var active = Set<Int>()
        for field in fields {
            let (shape, mappings) = self.mappings(of: field, frames: times.count)
            let dataset = try cells.createVirtualDataset(
                field.name, of: double ? .double : .float, shape: shape, mappings: mappings)
            // The first vector (tensor) is the active one: what glyphs and stream tracers take.
            if field.order > 0, active.insert(field.order).inserted {
                try dataset.attributes.setAttribute(
                    "Attribute", .string(field.order == 1 ? "Vectors" : "Tensors"), strings: .fixedLength)
            }
        }
        let steps = try root.createGroup("Steps")
        try steps.attributes.setAttribute("NSteps", .int(times.count))
        let values = try steps.createDataset("Values", of: Double.self, shape: [times.count])
        try values.writeAll(times, writer: true)
    }
}

extension ParaViewDescription {
    /// The description of the results file at `path` (closed, in The Well's layout), read
    /// from the file itself: its output fields, their shape and precision, and its grid.
    public static func reading(_ path: String) throws -> (ParaViewDescription, times: [Double]) {
        let file = try HDF5.File.open(path)
        let root = try file.root
        let dimensions = try root.openGroup("dimensions")
        var fields: [(name: String, order: Int)] = []
        var shape: [Int] = []
        var trajectories = 1
        var double = false
        let groups = Set(try root.members().map(\.name))
        for order in 0...2 where groups.contains("t\(order)_fields") {
            let group = try root.openGroup("t\(order)_fields")
            for (name, kind) in try group.members() where kind == .dataset {
                let dataset = try group.openDataset(name)
                let full = try dataset.shape
                shape = Array(full.dropFirst(2).dropLast(order))
                trajectories = full.first ?? 1
                double = dataset.elementDescription == "float64"
                fields.append((name, order))
            }
        }
        let times = try dimensions.openDataset("time").readAll(Double.self)
        let spacing = try ["x", "y", "z"].prefix(shape.count).map { axis in
            // Cell centres: the first lies half a cell from the origin.
            2 * (try dimensions.openDataset(axis).readAll(Double.self).first ?? 0.5)
        }
        return (
            ParaViewDescription(
                dataFile: (path as NSString).lastPathComponent, shape: shape, spacing: spacing, fields: fields,
                double: double, trajectories: trajectories),
            times
        )
    }
}
