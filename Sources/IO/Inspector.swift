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
                lines.append("\(indent)\(Attributes.printable(member.name))/")
                let child = try group.openGroup(member.name)
                try describeAttributes(child.attributes, indent: indent + "    ", into: &lines)
                try describe(child, indent: indent + "  ", into: &lines)
            case .dataset:
                let dataset = try group.openDataset(member.name)
                let shape = try dataset.shape
                let shapeText = shape.isEmpty ? "scalar" : shape.map(String.init).joined(separator: " × ")
                lines.append(
                    "\(indent)\(Attributes.printable(member.name))  \(dataset.elementDescription) [\(shapeText)]")
                try describeAttributes(dataset.attributes, indent: indent + "    ", into: &lines)
            case .other:
                lines.append("\(indent)\(Attributes.printable(member.name))  (other object)")
            }
        }
    }

    private static func describeAttributes(_ attributes: Attributes, indent: String, into lines: inout [String]) throws
    {
        let names: [String]
        do { names = try attributes.attributeNames() } catch {
            lines.append(
                "\(indent)(the attributes cannot be read by this HDF5: \(error.call) failed: \(error.stack.last ?? ""))"
            )
            return
        }
        for name in names {
            let value: String
            // A long text (a stored config) is shown by its size.
            if case .string(let text) = try? attributes.attribute(name), text.contains("\n") {
                value = "<\(text.utf8.count) bytes of text>"
            } else {
                do { value = try attributes.display(name) } catch {
                    value = "(cannot be read: \(error.stack.last ?? error.call))"
                }
            }
            lines.append("\(indent)@\(Attributes.printable(name)) = \(value)")
        }
    }
}
