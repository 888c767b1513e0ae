import HDF5

/// A human summary of any HDF5 file: root attributes, then every group and dataset with its
/// shape, type and attributes. Long text attributes (the stored config) are shown by size.
public enum Inspector {
    public static func summary(of path: String) throws -> String {
        let file = try HDF5.File.open(path)
        let root = try file.root
        var lines = ["\(path)"]
        try describeAttributes(root.attributes, indent: "  ", into: &lines)
        try describe(root, indent: "  ", into: &lines)
        return lines.joined(separator: "\n")
    }

    private static func describe(_ group: Group, indent: String, into lines: inout [String]) throws {
        for member in try group.members() {
            switch member.kind {
            case .group:
                lines.append("\(indent)\(member.name)/")
                let child = try group.openGroup(member.name)
                try describeAttributes(child.attributes, indent: indent + "    ", into: &lines)
                try describe(child, indent: indent + "  ", into: &lines)
            case .dataset:
                let dataset = try group.openDataset(member.name)
                let shape = try dataset.shape
                let shapeText = shape.isEmpty ? "scalar" : shape.map(String.init).joined(separator: " × ")
                lines.append("\(indent)\(member.name)  \(dataset.elementDescription) [\(shapeText)]")
                try describeAttributes(dataset.attributes, indent: indent + "    ", into: &lines)
            case .other:
                lines.append("\(indent)\(member.name)  (other object)")
            }
        }
    }

    private static func describeAttributes(_ attributes: Attributes, indent: String, into lines: inout [String]) throws
    {
        for name in try attributes.attributeNames() {
            let value = try attributes.attribute(name).map { "\($0)" } ?? "(unsupported type)"
            lines.append("\(indent)@\(name) = \(value)")
        }
    }
}
