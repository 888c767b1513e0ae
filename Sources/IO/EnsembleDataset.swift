import Engine
import Foundation
import HDF5
import Settings

/// One value of an ensemble member's parameter, as a dataset file records it.
public enum ParameterValue: Sendable, Equatable {
    case number(Double)
    case text(String)

    /// The value of a config entry: numbers and strings as they are, booleans as 0 and 1;
    /// a list becomes one value per entry (`name_0`, `name_1`, ...).
    public static func flatten(_ name: String, _ value: ConfigValue) -> [(String, ParameterValue)] {
        switch value {
        case .int(let v): [(name, .number(Double(v)))]
        case .double(let v): [(name, .number(v))]
        case .bool(let v): [(name, .number(v ? 1 : 0))]
        case .string(let v): [(name, .text(v))]
        case .array(let items): items.enumerated().flatMap { flatten("\(name)_\($0.offset)", $0.element) }
        case .table: []
        }
    }
}

/// Gathers ensemble members' results files (one trajectory each) into one dataset file of
/// The Well's layout with `n_trajectories` trajectories, and computes the statistics of a
/// dataset split.
///
/// The new file takes the first member's `dimensions`, `boundary_conditions`, `scalars` and
/// `t0/t1/t2_fields` (copied by HDF5, attributes and all), then grows every field and every
/// time series along its first axis to one entry per member and writes the others' data
/// there. Parameters that differ between the members become per-trajectory scalars
/// (`sample_varying`, shape `[n]`, a list parameter one per entry as `name_0`, `name_1`, ...);
/// those that do not stay plain scalars and root attributes, as in a results file. Text
/// parameters (a `choice` of strings) go to a root attribute listing one per trajectory, and
/// so do seeds (integers), which are no physics for a model to be conditioned on. Receiver
/// traces are not carried over.
public enum EnsembleDataset {
    public struct Member: Sendable {
        /// The member's results file.
        public let results: String
        public let index: Int
        /// Its drawn parameters, flattened (``ParameterValue/flatten(_:_:)``).
        public let parameters: [(name: String, value: ParameterValue)]

        public init(results: String, index: Int, parameters: [(name: String, value: ParameterValue)]) {
            self.results = results
            self.index = index
            self.parameters = parameters
        }
    }

    /// Writes `path` (replacing it) from `members`, in order. `varying` names the parameters
    /// drawn per member (flattened), which are per-trajectory scalars in every file even where
    /// this file's members happen to share a value. Every member must have its frames at the
    /// same times (`dimensions/time` is one `[T]` axis). Serial: one process writes a file.
    public static func assemble(_ path: String, members: [Member], varying: Set<String>, configText: String) throws {
        precondition(!members.isEmpty)
        let temporary = path + ".partial"
        try? FileManager.default.removeItem(atPath: temporary)
        do {
            try write(temporary, members: members, varying: varying, configText: configText)
            // Closed (every handle gone with `write`); now durable, then in place.
            try Checkpoint.syncFile(temporary)
        } catch {
            try? FileManager.default.removeItem(atPath: temporary)
            throw error
        }
        _ = try? FileManager.default.removeItem(atPath: path)
        try FileManager.default.moveItem(atPath: temporary, toPath: path)
        try Checkpoint.syncFile((path as NSString).deletingLastPathComponent)
    }

    /// Writes the dataset file at `path`; every HDF5 object is closed when it returns.
    static func write(_ path: String, members: [Member], varying: Set<String>, configText: String) throws {
        let sources = try members.map { try HDF5.File.open($0.results) }
        let first = try sources[0].root
        let file = try HDF5.File.create(path, communicator: nil, overwrite: true)
        let root = try file.root
        for name in try first.attributes.attributeNames() {
            if let value = try first.attributes.attribute(name) { try root.attributes.setAttribute(name, value) }
        }
        try root.attributes.setAttribute("n_trajectories", .int(members.count))
        try root.attributes.setAttribute("tessera_config", .string(configText))
        try root.attributes.setAttribute("tessera_members", .ints(members.map(\.index)))
        for group in ["dimensions", "boundary_conditions", "scalars", "t0_fields", "t1_fields", "t2_fields"] {
            try first.copy(group, to: root)
        }
        try gatherFields(into: root, from: sources, members: members)
        try checkTimes(of: sources, members: members)
        try gatherScalars(into: root, from: sources, members: members, varying: varying)
        try file.flush()
    }

    /// Every field: `[1, T, ...]` from each member into `[n, T, ...]`.
    static func gatherFields(into root: Group, from sources: [HDF5.File], members: [Member]) throws {
        for order in 0...2 {
            let group = try root.openGroup("t\(order)_fields")
            for name in try fieldNames(group) {
                let dataset = try group.openDataset(name)
                let shape = try dataset.shape
                try dataset.setExtent([sources.count] + shape.dropFirst())
                // One frame at a time: a member's whole trajectory may not fit in memory.
                let frame = [1, 1] + shape.dropFirst(2)
                var buffer = [Float](repeating: 0, count: frame.reduce(1, *))
                for (index, source) in sources.enumerated().dropFirst() {
                    let other = try source.root.openGroup("t\(order)_fields").openDataset(name)
                    guard try other.shape == shape else {
                        throw ConfigError(
                            "ensemble",
                            "member \(members[index].index) wrote \(name) with shape \(try other.shape), member "
                                + "\(members[0].index) with \(shape): every member must write the same frames "
                                + "(give [output] every_time, and parameters that keep the grid)")
                    }
                    for t in 0..<shape[1] {
                        let rest = shape.dropFirst(2).map { _ in 0 }
                        try buffer.withUnsafeMutableBufferPointer {
                            try other.read(into: $0, start: [0, t] + rest, count: frame)
                        }
                        try buffer.withUnsafeBufferPointer {
                            try dataset.write($0, start: [index, t] + rest, count: frame)
                        }
                    }
                }
            }
        }
    }

    /// Checks that every member's frames are at the first's times, bit for bit, so that the
    /// first's `dimensions/time` holds for all: The Well's models take no time step, so frames
    /// spaced differently would teach them different maps.
    static func checkTimes(of sources: [HDF5.File], members: [Member]) throws {
        let first = try times(of: sources[0])
        for (index, source) in sources.enumerated().dropFirst() {
            let other = try times(of: source)
            guard other.map(\.bitPattern) != first.map(\.bitPattern) else { continue }
            let at =
                zip(first, other).enumerated().first { $0.element.0.bitPattern != $0.element.1.bitPattern }?.offset
                ?? Swift.min(first.count, other.count)
            throw ConfigError(
                "output.every_time",
                "member \(members[index].index) wrote frame \(at) at another time than member \(members[0].index) "
                    + "(\(at < other.count ? "\(other[at])" : "none") against \(at < first.count ? "\(first[at])" : "none")): "
                    + "every member must write its frames at the same times; give [output] every_time")
        }
    }

    /// Parameters that are settings, not physics: each trajectory's value is an integer root
    /// attribute, not a scalar that a loader would hand a model as `constant_scalars`.
    static let settings: Set<String> = ["seed"]

    /// Time series (`[1, T]`) into `[n, T]`; constants and drawn parameters as described above.
    static func gatherScalars(
        into root: Group, from sources: [HDF5.File], members: [Member], varying drawn: Set<String>
    ) throws {
        let scalars = try root.openGroup("scalars")
        var names = try fieldNames(scalars)
        var parameterNames: [String] = []
        if case .strings(let listed) = try root.attributes.attribute("simulation_parameters") {
            parameterNames = listed
        }
        for name in names {
            let dataset = try scalars.openDataset(name)
            if case .bool(true) = try dataset.attributes.attribute("time_varying") {
                let shape = try dataset.shape
                try dataset.setExtent([sources.count, shape[1]])
                for (index, source) in sources.enumerated().dropFirst() {
                    let values = try source.root.openGroup("scalars").openDataset(name).readAll(Double.self)
                    try values.withUnsafeBufferPointer {
                        try dataset.write($0, start: [index, 0], count: [1, shape[1]])
                    }
                }
            }
        }
        // Every parameter, from the model's constants (root attributes) and from the draws.
        var values: [String: [ParameterValue]] = [:]
        var order: [String] = []
        for (index, source) in sources.enumerated() {
            let attributes = try source.root.attributes
            for name in parameterNames {
                if case .double(let v) = try attributes.attribute(name) {
                    if values[name] == nil { order.append(name) }
                    values[name, default: []].append(.number(v))
                }
            }
            for (name, value) in members[index].parameters where !parameterNames.contains(name) {
                if values[name] == nil { order.append(name) }
                values[name, default: []].append(value)
            }
        }
        var listed: [String] = []
        for name in order {
            let column = values[name]!
            guard column.count == sources.count else { continue }
            let numbers = column.compactMap { if case .number(let v) = $0 { v } else { nil } }
            if settings.contains(name), numbers.count == column.count,
                numbers.allSatisfy({ $0 == $0.rounded() && abs($0) < 0x1p63 })
            {
                // A seed is no physics: a root attribute, out of the scalars loaders feed to models.
                try root.attributes.setAttribute(name, .ints(numbers.map { Int($0) }))
                continue
            }
            if numbers.count != column.count {
                let texts = column.map { if case .text(let v) = $0 { v } else { "" } }
                try root.attributes.setAttribute(name, Set(texts).count == 1 ? .string(texts[0]) : .strings(texts))
                continue
            }
            listed.append(name)
            let varies = drawn.contains(name) || Set(numbers.map(\.bitPattern)).count > 1
            try root.attributes.setAttribute(name, varies ? .doubles(numbers) : .double(numbers[0]))
            if names.contains(name) { try scalars.remove(name) } else { names.append(name) }
            let dataset = try scalars.createDataset(name, of: Double.self, shape: varies ? [numbers.count] : [])
            try dataset.writeAll(varies ? numbers : [numbers[0]], writer: true)
            try dataset.attributes.setAttribute("sample_varying", .bool(varies))
            try dataset.attributes.setAttribute("time_varying", .bool(false))
        }
        try root.attributes.setAttribute("simulation_parameters", .strings(listed))
        try scalars.attributes.setAttribute("field_names", .strings(names))
    }

    /// The frame times of a results file.
    public static func times(of file: HDF5.File) throws -> [Double] {
        try file.root.openGroup("dimensions").openDataset("time").readAll(Double.self)
    }

    /// The frame times of the results file at `path`.
    public static func times(_ path: String) throws -> [Double] { try times(of: try HDF5.File.open(path)) }

    static func fieldNames(_ group: Group) throws -> [String] {
        if case .strings(let names) = try group.attributes.attribute("field_names") { return names }
        return []
    }

    /// Sums over one member's trajectory, per field component: `[Σx, Σx², n, Σδ, Σδ², n_δ]`
    /// with `δ` the change between consecutive frames; in the order of ``statisticsLayout(_:)``.
    public static func partialSums(_ results: String) throws -> [Double] {
        let file = try HDF5.File.open(results)
        var sums: [Double] = []
        for (group, name, components) in try statisticsLayout(results) {
            let dataset = try file.root.openGroup(group).openDataset(name)
            let shape = try dataset.shape
            // One frame at a time, keeping the one before for the changes between them.
            let frame = [1, 1] + shape.dropFirst(2)
            let size = frame.reduce(1, *)
            var current = [Float](repeating: 0, count: size)
            var previous = current
            var s = [[Double]](repeating: [Double](repeating: 0, count: 6), count: components)
            for t in 0..<shape[1] {
                try current.withUnsafeMutableBufferPointer {
                    try dataset.read(into: $0, start: [0, t] + shape.dropFirst(2).map { _ in 0 }, count: frame)
                }
                for k in 0..<size {
                    let c = k % components
                    let x = Double(current[k])
                    s[c][0] += x
                    s[c][1] += x * x
                    s[c][2] += 1
                    if t > 0 {
                        let d = x - Double(previous[k])
                        s[c][3] += d
                        s[c][4] += d * d
                        s[c][5] += 1
                    }
                }
                swap(&current, &previous)
            }
            sums += s.flatMap { $0 }
        }
        return sums
    }

    /// The fields statistics cover, with their group and their number of components.
    public static func statisticsLayout(_ results: String) throws -> [(group: String, name: String, components: Int)] {
        let root = try HDF5.File.open(results).root
        let d: Int
        if case .int(let n) = try root.attributes.attribute("n_spatial_dims") { d = n } else { d = 1 }
        var layout: [(String, String, Int)] = []
        for order in 0...2 {
            let group = "t\(order)_fields"
            for name in try fieldNames(try root.openGroup(group)) {
                layout.append((group, name, [1, d, d * d][order]))
            }
        }
        return layout
    }

    /// `stats.yaml` in The Well's form (per field `mean`, `std`, `rms` and their `_delta`
    /// counterparts: a number for a scalar field, a list per component for a vector, a D×D
    /// nested list for a tensor), from the summed partials of a whole split.
    public static func statisticsYAML(_ sums: [Double], layout: [(group: String, name: String, components: Int)])
        -> String
    {
        var stats: [String: [(String, [Double])]] = [:]
        let keys = ["mean", "std", "rms", "mean_delta", "std_delta", "rms_delta"]
        var position = 0
        var orders: [String: String] = [:]
        for (group, name, components) in layout {
            orders[name] = group
            var columns = keys.map { _ in [Double]() }
            for _ in 0..<components {
                let s = Array(sums[position..<position + 6])
                position += 6
                for (offset, base) in [(0, 0), (3, 3)] {
                    let n = Swift.max(s[base + 2], 1)
                    let mean = s[base] / n
                    let square = s[base + 1] / n
                    columns[offset].append(mean)
                    columns[offset + 1].append(Swift.max(square - mean * mean, 0).squareRoot())
                    columns[offset + 2].append(square.squareRoot())
                }
            }
            for (key, column) in zip(keys, columns) { stats[key, default: []].append((name, column)) }
        }
        var lines: [String] = []
        for key in keys {
            lines.append("\(key):")
            for (name, column) in stats[key] ?? [] {
                let text: String
                switch orders[name] {
                case "t0_fields": text = yamlNumber(column[0])
                case "t2_fields":
                    let d = Int(Double(column.count).squareRoot().rounded())
                    text =
                        "["
                        + (0..<d).map { i in
                            "[" + column[i * d..<(i + 1) * d].map(yamlNumber).joined(separator: ", ") + "]"
                        }.joined(separator: ", ") + "]"
                default: text = "[" + column.map(yamlNumber).joined(separator: ", ") + "]"
                }
                lines.append("  \(name): \(text)")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// A float YAML 1.1 reads as a float (PyYAML wants a `.` before an exponent).
    static func yamlNumber(_ value: Double) -> String {
        guard value.isFinite else { return value.isNaN ? ".nan" : (value > 0 ? ".inf" : "-.inf") }
        var text = "\(value)"
        if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }), !text[..<e].contains(".") {
            text.insert(contentsOf: ".0", at: e)
        }
        return text
    }
}
