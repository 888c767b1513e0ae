import ArgumentParser
import Runtime

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "Time the heat kernel on one rank (cell updates per second); see bench/run.sh for the comparison with C.")

    @Option(help: "Cube edge lengths to time.")
    var size: [Int] = [128, 256]

    @Option(help: "Time steps per repeat.")
    var steps = 20

    @Option(help: "Repeats; the fastest counts.")
    var repeats = 5

    func run() {
        for line in ModelBenchmark.heatKernel(sizes: size, steps: steps, repeats: repeats) { print(line) }
    }
}
