import Advection
import ArgumentParser
import Burgers
import Engine
import Euler
import GrayScott
import Heat
import Wave

/// Tessera's version, written into every file it produces.
let tesseraVersion = "0.1.0"

/// Every model `tessera` can run, by the name used in `[model] name`.
let catalog: [any Model.Type] = [Heat.self, Advection.self, Burgers.self, GrayScott.self, Wave.self, Euler.self]

func modelType(named name: String) throws(ConfigError) -> any Model.Type {
    guard let type = catalog.first(where: { $0.description.name == name }) else {
        throw ConfigError(
            "model.name",
            "unknown model \"\(name)\"; known models: \(catalog.map { $0.description.name }.joined(separator: ", "))")
    }
    return type
}

@main
struct Tessera: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tessera",
        abstract: "Domain-decomposed structured-grid simulations over MPI, with results in The Well's HDF5 layout.",
        version: tesseraVersion,
        subcommands: [
            Run.self, Validate.self, Plan.self, Inspect.self, Models.self, Bench.self, BenchModel.self, CheckHalo.self,
            GradientCommand.self, Invert.self, CheckAdjoint.self, EnsembleCommand.self,
        ]
    )
}
