import Advection
import Burgers
import Engine
import Euler
import GrayScott
import Heat
import Settings
import Wave

/// Tessera's version, written into every file it produces.
public let tesseraVersion = "0.1.0"

/// Every model `tessera` can run, by the name used in `[model] name`.
public let catalog: [any Model.Type] = [Heat.self, Advection.self, Burgers.self, GrayScott.self, Wave.self, Euler.self]

public func modelType(named name: String) throws(ConfigError) -> any Model.Type {
    guard let type = catalog.first(where: { $0.description.name == name }) else {
        throw ConfigError(
            "model.name",
            "unknown model \"\(name)\"; known models: \(catalog.map { $0.description.name }.joined(separator: ", "))")
    }
    return type
}
