/// What kind of value a model parameter takes, with its allowed range.
public enum ParameterKind: Sendable {
    /// A float in the closed range.
    case number(ClosedRange<Double>)
    /// An integer in the closed range.
    case integer(ClosedRange<Int>)
    /// One of the listed strings.
    case choice([String])
    /// A list of up to three floats, one per axis.
    case numbers
    /// A list of up to three non-negative integers, one per axis.
    case integers
}

/// One parameter a model takes: its name, kind, default and meaning.
public struct ParameterSpec: Sendable {
    public let name: String
    public let kind: ParameterKind
    public let defaultValue: ConfigValue?
    public let help: String
    /// Whether the parameter may be left out with no default (the model then works it out).
    public let isOptional: Bool

    public init(
        _ name: String, _ kind: ParameterKind, default defaultValue: ConfigValue?, optional: Bool = false, help: String
    ) {
        self.name = name
        self.kind = kind
        self.defaultValue = defaultValue
        self.isOptional = optional
        self.help = help
    }

    /// Checks `value` against the kind and range; the error names `section.name`.
    func validate(_ value: ConfigValue, section: String) throws(ConfigError) -> ConfigValue {
        let key = "\(section).\(name)"
        switch kind {
        case .number(let range):
            guard let v = value.number else {
                throw ConfigError(key, "must be a number, got a \(value.typeName) (\(value))")
            }
            guard v.isFinite, range.contains(v) else {
                throw ConfigError(key, "must lie in \(range.lowerBound)...\(range.upperBound), got \(v)")
            }
            return .double(v)
        case .integer(let range):
            guard case .int(let v) = value else {
                throw ConfigError(key, "must be an integer, got a \(value.typeName) (\(value))")
            }
            guard range.contains(v) else {
                throw ConfigError(key, "must lie in \(range.lowerBound)...\(range.upperBound), got \(v)")
            }
            return value
        case .choice(let options):
            guard case .string(let v) = value else {
                throw ConfigError(key, "must be a string, got a \(value.typeName) (\(value))")
            }
            guard options.contains(v) else {
                throw ConfigError(
                    key, "must be one of \(options.map { "\"\($0)\"" }.joined(separator: ", ")), got \"\(v)\"")
            }
            return value
        case .numbers:
            guard case .array(let items) = value, (1...3).contains(items.count),
                items.allSatisfy({ $0.number?.isFinite == true })
            else { throw ConfigError(key, "must be a list of 1 to 3 numbers, got \(value)") }
            return .array(items.map { .double($0.number!) })
        case .integers:
            guard case .array(let items) = value, (1...3).contains(items.count),
                items.allSatisfy({ if case .int(let v) = $0 { v >= 0 } else { false } })
            else { throw ConfigError(key, "must be a list of 1 to 3 non-negative integers, got \(value)") }
            return value
        }
    }

    /// The kind in words, for `tessera models`.
    public var kindDescription: String {
        switch kind {
        case .number(let r): "number in \(r.lowerBound)...\(r.upperBound)"
        case .integer(let r): "integer in \(r.lowerBound)...\(r.upperBound)"
        case .choice(let o): "one of " + o.joined(separator: ", ")
        case .numbers: "list of numbers, one per axis"
        case .integers: "list of integers, one per axis"
        }
    }
}

/// A model's validated parameters: every declared parameter has a value of its kind.
public struct Parameters: Sendable, Equatable {
    public let values: [String: ConfigValue]

    /// Validates `table` (the `[model]` section without `name`) against `specs`: unknown keys,
    /// wrong types, values out of range and missing required values are errors.
    public init(_ table: [String: ConfigValue], specs: [ParameterSpec], section: String = "model") throws(ConfigError) {
        let known = Set(specs.map(\.name))
        if let unknown = table.keys.sorted().first(where: { !known.contains($0) }) {
            throw ConfigError(
                "\(section).\(unknown)",
                "is not a parameter of this model; it takes: \(specs.map(\.name).joined(separator: ", "))")
        }
        var values: [String: ConfigValue] = [:]
        for spec in specs {
            if let given = table[spec.name] {
                values[spec.name] = try spec.validate(given, section: section)
            } else if let fallback = spec.defaultValue {
                values[spec.name] = fallback
            } else if !spec.isOptional {
                throw ConfigError("\(section).\(spec.name)", "is required (\(spec.help))")
            }
        }
        self.values = values
    }

    public func number(_ name: String) -> Double { values[name]?.number ?? .nan }
    public func integer(_ name: String) -> Int {
        if case .int(let v) = values[name] { v } else { 0 }
    }
    public func string(_ name: String) -> String {
        if case .string(let v) = values[name] { v } else { "" }
    }
    public func numbers(_ name: String) -> [Double] {
        if case .array(let v) = values[name] { v.compactMap(\.number) } else { [] }
    }
    public func integers(_ name: String) -> [Int] {
        if case .array(let v) = values[name] {
            v.compactMap { if case .int(let i) = $0 { i } else { nil } }
        } else {
            []
        }
    }
}
