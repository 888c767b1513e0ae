import ArgumentParser
import Config
import Runtime

struct Validate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check a config file and show how a run would be laid out, without running it.")

    @OptionGroup var input: ConfigInput

    @Option(help: "The number of ranks to lay the run out for.")
    var ranks = 1

    func run() throws {
        do {
            let plan = try RunConfig.validated(text: readConfig(input.config), overrides: input.overrides) {
                try RunPlan(config: $0, ranks: ranks)
            }
            print("\(input.config): valid")
            print(plan.summary)
        } catch {
            printError("\(error)")
            throw ExitCode(1)
        }
    }
}
