import ArgumentParser
import Runtime

struct Models: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the models and their parameters.")

    @Flag(help: "Print the models as one JSON document.")
    var json = false

    func run() throws {
        if json {
            print(try JSONReport.text(JSONReport.models))
            return
        }
        for type in catalog {
            let description = type.description
            print("\(description.name): \(description.summary)")
            let rules = description.boundaries
            print(
                "    boundaries: " + rules.accepted.map { "\"\($0)\"" }.joined(separator: ", ")
                    + " (default \"\(rules.defaultCondition)\") on axes that are not periodic")
            for parameter in description.parameters {
                let fallback = parameter.defaultValue.map { " (default \($0))" } ?? ""
                print("    \(parameter.name): \(parameter.kindDescription)\(fallback) - \(parameter.help)")
            }
        }
    }
}
