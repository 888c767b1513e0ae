import ArgumentParser
import Runtime

@main
struct Tessera: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tessera",
        abstract: "Domain-decomposed structured-grid simulations over MPI, with results in The Well's HDF5 layout.",
        version: tesseraVersion,
        subcommands: [
            Run.self, Validate.self, Plan.self, Inspect.self, Models.self, Bench.self, BenchModel.self,
            BenchNetwork.self,
            CheckHalo.self,
            GradientCommand.self, Invert.self, CheckAdjoint.self, EnsembleCommand.self,
        ]
    )
}
