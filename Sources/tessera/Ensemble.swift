import ArgumentParser
import Runtime

struct EnsembleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ensemble",
        abstract: "Run a campaign of simulations with drawn parameters and write it as a The Well dataset.",
        discussion: """
            Splits the ranks into groups of [ensemble] ranks_per_member; each group runs members \
            i ≡ group (mod groups) one after another, domain-decomposed inside the group, each into \
            <output.dir>/members/member-NNNNNN/. Member i's parameters depend only on [ensemble] seed \
            and i. When every member is done, writes <output.dir>/data/{train,valid,test}/*.hdf5 (The \
            Well's layout, trajectories_per_file trajectories each), <output.dir>/stats.yaml (over \
            the training split) and <output.dir>/manifest.json (which member is where, with its \
            parameters). Exit codes as for run: 0 done, 1 failed, \(exitStoppedEarly) stopped early \
            (continue with --restart auto: finished members are kept, interrupted ones continue \
            from their checkpoints).
            """)

    @OptionGroup var input: ConfigInput

    @Flag(help: "Replace a campaign already in the output folder.")
    var overwrite = false

    @Option(help: ArgumentHelp("Continue a stopped campaign: 'auto'.", valueName: "auto"))
    var restart: String?

    @OptionGroup var limit: WallTimeOption

    @OptionGroup var log: LogOptions

    func run() throws {
        try Campaign.main(
            config: input.config, overrides: input.overrides,
            options: RunOptions(overwrite: overwrite, restart: restart, walltime: limit.walltime))
    }
}
