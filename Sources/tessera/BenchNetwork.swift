import ArgumentParser
import Runtime

struct BenchNetwork: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-network",
        abstract:
            "Measure the network between ranks 0 and 1: latency, bandwidth and message rate, for `plan --network`.",
        discussion: """
            Run with two ranks, placed where the run's neighbours will be (two nodes, or one): \
            mpirun -n 2 tessera bench-network --json > network.json, then \
            tessera plan CONFIG --ranks N --network network.json projects a step on N ranks.
            """)

    @Flag(help: "Print the figures as one JSON document, the form `plan --network FILE` reads.")
    var json = false

    @OptionGroup var log: LogOptions

    func run() {
        NetworkBenchmark.main(json: json)
    }
}
