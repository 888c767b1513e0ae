import ArgumentParser
import Runtime

struct Models: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the models and their parameters.")

    func run() {
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
