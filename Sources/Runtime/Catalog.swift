import Advection
import Burgers
import Engine
import Euler
import GrayScott
import Heat
import Settings
import Wave

/// Tessera's release, as CHANGELOG.md lists it.
public let tesseraRelease = "0.1.0"

/// Tessera's version with the commit it was built from (semantic versioning's build metadata:
/// `0.1.0+1a2b3c4d5e6f`, `.dirty` when the tree had changes): in `--version`, the start-up log
/// and every file it writes, so that a dataset says which code made it.
public let tesseraVersion = "\(tesseraRelease)+\(tesseraBuildCommit)"

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
