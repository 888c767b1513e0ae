import ArgumentParser
import Config
import Runtime

struct Validate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check a config file and show how a run would be laid out, without running it.")

    @OptionGroup var input: ConfigInput

    @Option(help: "The number of ranks to lay the run out for.")
    var ranks = 1

    @Flag(help: "Print one JSON document (valid or not, with every problem) instead of text.")
    var json = false

    func run() throws {
        do {
            let plan = try RunConfig.validated(text: readConfig(input.config), overrides: input.overrides) {
                try RunPlan(config: $0, ranks: ranks)
            }
            if json {
                print(try JSONReport.text(["config": input.config, "valid": true].merging(plan.facts) { $1 }))
            } else {
                print("\(input.config): valid")
                print(plan.summary)
            }
        } catch {
            if json {
                print(
                    try JSONReport.text([
                        "config": input.config, "valid": false, "problems": JSONReport.problems(error),
                    ]))
            }
            printError("\(error)")
            throw ExitCode(1)
        }
    }
}
