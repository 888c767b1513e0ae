import Config
import Engine
import Foundation
import Settings

/// The machine-readable side of `validate`, `plan`, `inspect` and `models` (`--json`): one
/// JSON document per command, holding the same facts as the text.
public enum JSONReport {
    /// `value` (dictionaries, arrays, strings, numbers, booleans, nil) as pretty-printed JSON
    /// with sorted keys. Non-finite numbers, which JSON cannot hold, become the strings
    /// `"nan"`, `"inf"` and `"-inf"`.
    public static func text(_ value: Any) throws -> String {
        let clean = sanitised(value)
        guard JSONSerialization.isValidJSONObject(clean) else {
            throw StartupError("internal error: a report holds a value JSON cannot express: \(clean)")
        }
        let data = try JSONSerialization.data(
            withJSONObject: clean, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        return String(decoding: data, as: UTF8.self)
    }

    static func sanitised(_ value: Any) -> Any {
        // An optional (`nil as Any`, or one holding a value) is null or what it holds.
        let mirror = Mirror(reflecting: value)
        if mirror.displayStyle == .optional {
            return mirror.children.first.map { sanitised($0.value) } ?? NSNull()
        }
        switch value {
        case let number as Double where !number.isFinite:
            return number.isNaN ? "nan" : number > 0 ? "inf" : "-inf"
        case let dictionary as [String: Any]: return dictionary.mapValues(sanitised)
        case let array as [Any]: return array.map(sanitised)
        default: return value
        }
    }

    /// A config value as JSON.
    public static func value(_ value: ConfigValue) -> Any {
        switch value {
        case .int(let v): v
        case .double(let v): v
        case .string(let v): v
        case .bool(let v): v
        case .array(let items): items.map(Self.value)
        case .table(let entries): entries.mapValues(Self.value)
        }
    }

    /// The problems of an invalid config: each with its key (empty for the file as a whole).
    public static func problems(_ error: any Error) -> [[String: Any]] {
        let listed = (error as? ConfigProblems)?.problems ?? [error]
        return listed.map { problem in
            if let problem = problem as? ConfigError { return ["key": problem.key, "message": problem.message] }
            return ["key": "", "message": "\(problem)"]
        }
    }

    /// Every model: name, summary, boundary conditions and parameters, for `models --json`.
    public static var models: [[String: Any]] {
        catalog.map { type in
            let description = type.description
            return [
                "name": description.name, "summary": description.summary,
                "boundaries": [
                    "accepted": description.boundaries.accepted, "default": description.boundaries.defaultCondition,
                ],
                "parameters": description.parameters.map { parameter in
                    [
                        "name": parameter.name, "kind": parameter.kindDescription, "help": parameter.help,
                        "default": parameter.defaultValue.map(Self.value) as Any,
                    ] as [String: Any]
                },
            ]
        }
    }
}

extension RunPlan {
    /// What `validate` says of the plan, as JSON: the model and its parameters, the grid and
    /// its boundaries, the process grid and block sizes, the time and output settings.
    public var facts: [String: Any] {
        let (smallest, largest) = blockExtremes
        return [
            "model": config.modelName,
            "parameters": parameters.values.mapValues(JSONReport.value),
            "grid": [
                "shape": config.grid.shape, "extent": config.grid.extent, "periodic": config.grid.periodic,
                "halo_depth": haloDepth, "ghost": ghost,
                "tiling": config.grid.tiling.map { [$0.slab, $0.width] } as Any,
            ],
            "boundaries": config.boundaries.map(\.name),
            "ranks": decomposition.rankCount,
            "process_grid": decomposition.dims,
            "blocks": ["smallest": smallest, "largest": largest],
            "time": [
                "steps": config.steps as Any, "end_time": config.endTime as Any, "cfl": config.cfl,
                "adaptive": adaptive, "max_dt_growth": config.maxDtGrowth,
            ],
            "output": [
                "dir": config.outputDirectory,
                "every": (config.outputEveryTime == nil ? config.outputEvery : nil) as Int? as Any,
                "every_time": config.outputEveryTime as Any,
                "results": (config.outputDirectory as NSString).appendingPathComponent("results.hdf5"),
            ],
        ]
    }
}
