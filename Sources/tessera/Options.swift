import ArgumentParser

/// The input of every command that reads a config: the file and its `--set` overrides.
struct ConfigInput: ParsableArguments {
    @Argument(help: "The TOML input file.")
    var config: String

    @Option(name: .customLong("set"), help: ArgumentHelp("Override a config value.", valueName: "section.key=value"))
    var overrides: [String] = []
}

/// The wall-clock limit of a command that stops early with a checkpoint when it nears it.
struct WallTimeOption: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "The job's wall-clock limit (HH:MM:SS or D-HH:MM:SS), so the run checkpoints and stops in time; without it, SLURM_JOB_END_TIME is used where set.",
            valueName: "time"))
    var walltime: String?
}
