import Settings
import TOMLKit

/// Reads TOML text into ``ConfigValue`` tables, so that nothing past this file depends on the
/// TOML library.
enum TOMLReader {
    static func read(_ text: String) throws(ConfigError) -> [String: ConfigValue] {
        // The TOML library hands strings over as C strings, which end at a NUL: a path with
        // one would be cut short without a word. Refused here, where the line is known.
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
        where line.unicodeScalars.contains("\0") || line.contains("\\u0000") || line.contains("\\U00000000") {
            throw ConfigError("", "line \(number + 1) holds a NUL character (\\u0000), which no name or path may hold")
        }
        let table: TOMLTable
        do {
            table = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            throw ConfigError(
                "",
                "the input is not valid TOML: \(error.description) at line \(error.source.begin.line), column \(error.source.begin.column)"
            )
        } catch {
            throw ConfigError("", "the input is not valid TOML: \(error)")
        }
        return convert(table)
    }

    /// Parses the right-hand side of a `--set key=value` override as a TOML value; text that
    /// is not a TOML value is taken as a plain string, so `--set output.dir=/scratch/run1` works.
    static func value(_ text: String) -> ConfigValue {
        if let table = try? TOMLTable(string: "v = \(text)"), let value = table["v"] { return convert(value) }
        return .string(text)
    }

    private static func convert(_ table: TOMLTable) -> [String: ConfigValue] {
        var result: [String: ConfigValue] = [:]
        for key in table.keys { if let value = table[key] { result[key] = convert(value) } }
        return result
    }

    private static func convert(_ value: TOMLValueConvertible) -> ConfigValue {
        switch value.type {
        case .int: return .int(value.int ?? 0)
        case .double: return .double(value.double ?? .nan)
        case .bool: return .bool(value.bool ?? false)
        case .string: return .string(value.string ?? "")
        case .array: return .array((value.array ?? TOMLArray()).map { convert($0) })
        case .table: return .table(convert(value.table ?? TOMLTable()))
        default: return .string(value.debugDescription)
        }
    }
}
