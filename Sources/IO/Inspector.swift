import HDF5

/// A summary of any HDF5 file: root attributes, then every group and dataset with its shape,
/// type and attributes; as text for people (long text attributes, the stored config, shown by
/// size) or as JSON-ready values for scripts.
public enum Inspector {
    public static func summary(of path: String) throws -> String {
        let root = try entry(of: path)
        var lines = ["\(path)"]
        text(root, indent: "  ", into: &lines)
        return lines.joined(separator: "\n")
    }

    /// The file as nested dictionaries: `attributes` (name to value), and `members` (name to
    /// a group's `attributes` and `members`, or a dataset's `type`, `shape` and `attributes`).
    public static func tree(of path: String) throws -> [String: Any] {
        var tree = json(try entry(of: path))
        tree["path"] = path
        return tree
    }

    /// One object of the file, read once for either form.
    struct Entry {
        enum Kind {
            case group
            case dataset(type: String, shape: [Int])
            case other
        }
        let name: String
        let kind: Kind
        /// Each attribute's name, its display text, and its value where it has one of the
        /// kinds Tessera writes.
        var attributes: [(name: String, shown: String, value: AttributeValue?)] = []
        /// Why the attributes could not be read, if they could not.
        var unreadable: String?
        var members: [Entry] = []
    }

    static func entry(of path: String) throws -> Entry {
        let file = try HDF5.File.open(path)
        let root = try file.root
        var entry = Entry(name: "/", kind: .group)
        read(root.attributes, into: &entry)
        entry.members = try members(of: root)
        return entry
    }

    private static func members(of group: Group) throws -> [Entry] {
        try group.members().map { member in
            switch member.kind {
            case .group:
                let child = try group.openGroup(member.name)
                var entry = Entry(name: member.name, kind: .group)
                read(child.attributes, into: &entry)
                entry.members = try members(of: child)
                return entry
            case .dataset:
                let dataset = try group.openDataset(member.name)
                var entry = Entry(
                    name: member.name, kind: .dataset(type: dataset.elementDescription, shape: try dataset.shape))
                read(dataset.attributes, into: &entry)
                return entry
            case .other:
                return Entry(name: member.name, kind: .other)
            }
        }
    }

    private static func read(_ attributes: Attributes, into entry: inout Entry) {
        let names: [String]
        do { names = try attributes.attributeNames() } catch {
            entry.unreadable = "\(error.call) failed: \(error.stack.last ?? "")"
            return
        }
        for name in names {
            let value = try? attributes.attribute(name)
            let shown: String
            // A long text (a stored config) is shown by its size.
            if case .string(let text) = value, text.contains("\n") {
                shown = "<\(text.utf8.count) bytes of text>"
            } else {
                do { shown = try attributes.display(name) } catch {
                    shown = "(cannot be read: \(error.stack.last ?? error.call))"
                }
            }
            entry.attributes.append((name, shown, value))
        }
    }

    private static func text(_ entry: Entry, indent: String, into lines: inout [String]) {
        let attributeIndent = entry.name == "/" ? indent : indent + "  "
        if let unreadable = entry.unreadable {
            lines.append("\(attributeIndent)(the attributes cannot be read by this HDF5: \(unreadable))")
        }
        for attribute in entry.attributes {
            lines.append("\(attributeIndent)@\(Attributes.printable(attribute.name)) = \(attribute.shown)")
        }
        for member in entry.members {
            let name = Attributes.printable(member.name)
            switch member.kind {
            case .group:
                lines.append("\(indent)\(name)/")
                text(member, indent: indent + "  ", into: &lines)
            case .dataset(let type, let shape):
                let shapeText = shape.isEmpty ? "scalar" : shape.map(String.init).joined(separator: " × ")
                lines.append("\(indent)\(name)  \(type) [\(shapeText)]")
                for attribute in member.attributes {
                    lines.append("\(indent)    @\(Attributes.printable(attribute.name)) = \(attribute.shown)")
                }
                if let unreadable = member.unreadable {
                    lines.append("\(indent)    (the attributes cannot be read by this HDF5: \(unreadable))")
                }
            case .other:
                lines.append("\(indent)\(name)  (other object)")
            }
        }
    }

    private static func json(_ entry: Entry) -> [String: Any] {
        var object: [String: Any] = [:]
        var attributes: [String: Any] = [:]
        for attribute in entry.attributes {
            attributes[attribute.name] = attribute.value.map(jsonValue) ?? attribute.shown
        }
        object["attributes"] = attributes
        if let unreadable = entry.unreadable { object["attributes_unreadable"] = unreadable }
        switch entry.kind {
        case .group:
            object["kind"] = "group"
            object["members"] = Dictionary(entry.members.map { ($0.name, json($0)) }) { first, _ in first }
        case .dataset(let type, let shape):
            object["kind"] = "dataset"
            object["type"] = type
            object["shape"] = shape
        case .other:
            object["kind"] = "other"
        }
        return object
    }

    /// An attribute value as JSON (the long texts too, whole).
    static func jsonValue(_ value: AttributeValue) -> Any {
        switch value {
        case .int(let v): v
        case .ints(let v): v
        case .double(let v): v
        case .doubles(let v): v
        case .string(let v): v
        case .strings(let v): v
        case .bool(let v): v
        case .bools(let v): v
        }
    }
}
