/// A value read from the input file, independent of the TOML library that parsed it.
public indirect enum ConfigValue: Sendable, Equatable, Codable, CustomStringConvertible {
    case int(Int)
    case double(Double)
    case string(String)
    case bool(Bool)
    case array([ConfigValue])
    case table([String: ConfigValue])

    /// The TOML name of this value's type, for error messages.
    public var typeName: String {
        switch self {
        case .int: "integer"
        case .double: "float"
        case .string: "string"
        case .bool: "boolean"
        case .array: "array"
        case .table: "table"
        }
    }

    public var description: String {
        switch self {
        case .int(let v): "\(v)"
        case .double(let v): "\(v)"
        case .string(let v): "\"\(v)\""
        case .bool(let v): "\(v)"
        case .array(let v): "[" + v.map(\.description).joined(separator: ", ") + "]"
        case .table(let v): "{" + v.keys.sorted().map { "\($0) = \(v[$0]!)" }.joined(separator: ", ") + "}"
        }
    }

    /// A number, accepting TOML integers where a float is expected.
    public var number: Double? {
        switch self {
        case .int(let v): Double(v)
        case .double(let v): v
        default: nil
        }
    }
}

/// A problem with the input: names the key and says what is wrong.
public struct ConfigError: Error, CustomStringConvertible, Sendable {
    /// The key, for example `grid.shape`; empty for the file as a whole.
    public let key: String
    public let message: String

    public init(_ key: String, _ message: String) {
        self.key = key
        self.message = message
    }

    public var description: String { key.isEmpty ? message : "[\(key)] \(message)" }
}
