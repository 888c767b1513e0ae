import ArgumentParser
import Config
import Runtime
import Settings

struct Plan: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Size a job before submitting it: process grid, cells, halo traffic, memory and file sizes.",
        discussion: """
            Works out, without MPI and without allocating the grid, what a run of CONFIG on --ranks \
            ranks would use: the process grid, cells per rank, halo bytes each rank sends per step, \
            memory per rank, and the size of each results frame and checkpoint.
            """)

    @OptionGroup var input: ConfigInput

    @Option(help: "The number of ranks the job will have.")
    var ranks: Int

    @Option(
        help: ArgumentHelp(
            "Cell updates per second per rank for the whole step (from a run's progress line on the target machine, divided by its ranks); without it, the model's update is timed here on one core.",
            valueName: "rate"))
    var stepRate: Double?

    @Option(
        help: ArgumentHelp(
            "Project the step onto a network, and its weak-scaling efficiency against one rank with the same block: slingshot-11, infiniband-hdr, infiniband-ndr, or a file of figures as `tessera bench-network --json` writes.",
            valueName: "name"))
    var network: String?

    @Flag(help: "Print the same figures as one JSON document (bytes and counts as numbers).")
    var json = false

    func run() throws {
        do {
            guard ranks >= 1 else { throw ConfigError("", "--ranks must be at least 1, not \(ranks)") }
            if let stepRate, !(stepRate > 0 && stepRate.isFinite) {
                throw ConfigError(
                    "", "--step-rate must be a positive number of cell updates per second, not \(stepRate)")
            }
            let plan = try RunConfig.validated(text: readConfig(input.config), overrides: input.overrides) {
                try RunPlan(config: $0, ranks: ranks)
            }
            let rate =
                stepRate.map { ($0, "as given") }
                ?? plan.measuredCellRate().map { ($0, "the model's update timed here on one core; --step-rate to set") }
            let interconnect = try network.map { try Interconnect.named($0) }
            guard interconnect == nil || rate != nil else {
                throw ConfigError("--network", "a projection needs the step's rate: give --step-rate")
            }
            if json {
                var facts = try plan.sizingFacts(cellRate: rate)
                if let interconnect, let rate {
                    facts["projection"] = try plan.projectionFacts(network: interconnect, cellRate: rate.0)
                }
                print(try JSONReport.text(facts))
            } else {
                for line in try plan.sizing(cellRate: rate) { print(line) }
                if let interconnect, let rate {
                    for line in try plan.projectionLines(network: interconnect, cellRate: rate.0) { print(line) }
                }
            }
        } catch {
            printError("\(error)")
            throw ExitCode(1)
        }
    }
}
