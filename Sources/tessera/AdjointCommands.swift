import ArgumentParser
import Runtime

struct GradientCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gradient",
        abstract: "Compute the receiver misfit against observed traces and its exact gradient.",
        discussion: """
            Runs CONFIG's model forward, compares its receiver traces with those in [inversion] \
            observed (a results file of another run, for example of the true model), and runs the \
            exact discrete adjoint backward. Writes <output.dir>/gradient.hdf5 in The Well's layout: \
            the gradient with respect to each of the model's controls as a t0 field \
            (<control>_gradient, float64), and the misfit ½ Σ (d − d_obs)² as a scalar. The forward \
            states the backward pass needs are kept within [inversion] memory per rank and \
            recomputed from snapshots (binomial checkpointing); the gradient has the same bits \
            whatever the budget.
            """)

    @OptionGroup var input: ConfigInput

    @OptionGroup var log: LogOptions

    @Flag(help: "Replace gradient.hdf5 if the output folder already holds one.")
    var overwrite = false

    @Flag(help: "Also time one forward run, and report the gradient's cost relative to it.")
    var timeForward = false

    @Option(
        help:
            "With --time-forward: time the gradient and the forward run this many times each, alternately, and take the fastest of each."
    )
    var repeats = 1

    func run() throws {
        Inversions.gradient(
            config: input.config, overrides: input.overrides, overwrite: overwrite, timeForward: timeForward,
            repeats: repeats)
    }
}

struct Invert: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Fit the model's controls to observed receiver traces with L-BFGS.",
        discussion: """
            Starts from CONFIG's model and takes [inversion] iterations of L-BFGS with a backtracking \
            line search, each with an exact gradient, keeping each control within the range the model \
            allows. Logs the misfit per iteration and writes <output.dir>/inversion.hdf5: the controls \
            and their gradients at every iteration as t0 fields (the time axis counts iterations) and \
            the misfit as the scalar series `misfit`.
            """)

    @OptionGroup var input: ConfigInput

    @OptionGroup var log: LogOptions

    @Flag(help: "Replace inversion.hdf5 if the output folder already holds one.")
    var overwrite = false

    func run() throws {
        Inversions.invert(config: input.config, overrides: input.overrides, overwrite: overwrite)
    }
}

struct CheckAdjoint: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-adjoint",
        abstract: "Check that the model's adjoint is exact: dot-product tests and the Taylor test.",
        discussion: """
            On CONFIG's model and ranks: the dot-product test ⟨A x, y⟩ = ⟨x, Aᵀ y⟩ with random x and y \
            for the halo exchange with boundary conditions, for one linearised step, and for the whole \
            linearised run from the controls to the receiver traces; then the Taylor test of the \
            misfit's gradient in a random direction (against [inversion] observed, or zero traces). \
            Exits 1 if a mismatch exceeds 1e-12 or a Taylor slope is off by more than 0.1.
            """)

    @OptionGroup var input: ConfigInput

    @OptionGroup var log: LogOptions

    @Option(help: "Seed of the random vectors.")
    var seed: UInt64 = 1

    func run() throws {
        Inversions.checkAdjoint(config: input.config, overrides: input.overrides, seed: seed)
    }
}
