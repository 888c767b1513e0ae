import ArgumentParser
import Runtime

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a simulation (under mpirun or srun, or as one process).",
        discussion: """
            Exit codes: 0 finished; 1 failed (the message says why); \(exitStoppedEarly) stopped early with a \
            checkpoint (on SIGTERM, SIGINT or SIGUSR1, or near the wall-clock limit): continue with --restart auto.
            """)

    @OptionGroup var input: ConfigInput

    @Flag(help: "Replace results.hdf5 if the output folder already holds one.")
    var overwrite = false

    @Option(
        help: ArgumentHelp(
            "Continue from a checkpoint: 'auto' takes the newest one that verifies (or starts afresh if there is none); a path takes that file.",
            valueName: "auto|PATH"))
    var restart: String?

    @OptionGroup var limit: WallTimeOption

    @OptionGroup var log: LogOptions

    func run() throws {
        try RunSession.main(
            config: input.config, overrides: input.overrides,
            options: RunOptions(overwrite: overwrite, restart: restart, walltime: limit.walltime))
    }
}
