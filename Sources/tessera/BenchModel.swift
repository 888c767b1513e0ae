import ArgumentParser
import Config
import Engine
import Runtime
import Settings

/// Times a model's whole step (halo exchange, boundaries, every stage) on the ranks it runs
/// on, and its kernel alone (one update of every owned cell, ghosts already filled), and
/// states the memory-bandwidth bound for each and the kernel's compute bound, measured in the
/// same process.
struct BenchModel: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-model",
        abstract:
            "Time a model's step and its kernel under MPI (cell updates per second) beside their memory-bandwidth bounds.",
        discussion: """
            The step is what a run takes: the halo exchange, the boundary conditions, every \
            stage and its combination. The kernel is the model's update of every owned cell once, \
            with the ghosts already filled (one stage, no exchange). A bound is the rate at which \
            the ranks, all at once, copy arrays as large as the state, divided by the arrays each \
            cell update streams through memory: for the kernel, the state read and written (one \
            array of it written, for a leapfrog that updates in place) plus any coefficient \
            arrays; for the step, that per stage plus a read of two and a write of one for each \
            Runge-Kutta combination. For a kernel that states its floating-point \
            work (Model.floatingPointWork: additions, multiplications, selects, divisions and \
            square roots per cell update, counted from its code), the compute bound is this \
            core's peak rate for each kind (four lanes wide, from registers or the L1 cache), \
            measured in the same process on all ranks at once: a cell update takes the time of its \
            additions, multiplications and selects, which share the vector units, or of its \
            divisions and square roots, which the divider does beside them, whichever is longer. \
            The line states both shares (vector_bound, divider_bound) and the counts a cell update \
            makes. bench/models.sh runs every model on 1 and 2 ranks.
            """)

    @Argument(help: "The model, as in [model] name.")
    var model: String

    @Option(help: "Grid shape, for example 512,512.")
    var shape: String

    @Option(name: .customLong("set"), help: ArgumentHelp("A model parameter.", valueName: "key=value"))
    var parameters: [String] = []

    @Option(help: "Time steps per repeat.")
    var steps = 20

    @Option(help: "Repeats; the fastest counts.")
    var repeats = 3

    @Option(help: "Whether every axis wraps around; false puts the model's default walls on every side.")
    var periodic = true

    @Option(help: "Ghost zones this many stencils deep, exchanged once per as many steps, swept in one tiled pass.")
    var haloDepth = 1

    @Option(
        help: ArgumentHelp(
            "The tiled sweep's slab and tile width (default: chosen for the cache).", valueName: "slab,width"))
    var tiling: String?

    @OptionGroup var log: LogOptions

    func run() throws {
        ModelBenchmark.main(
            model: model, shape: shape.split(separator: ",").compactMap { Int($0) },
            parameters: parameters.map { entry in
                let parts = entry.split(separator: "=", maxSplits: 1).map(String.init)
                return (parts[0], parts.count == 2 ? RunConfig.value(parts[1]) : .string(""))
            }, steps: steps, repeats: repeats, haloDepth: haloDepth,
            tiling: try tiling.map { text in
                let parts = text.split(separator: ",").compactMap { Int($0) }
                guard parts.count == 2, parts.allSatisfy({ $0 >= 1 }) else {
                    throw ValidationError("--tiling wants two positive whole numbers, slab,width; got \(text)")
                }
                return Tiling(slab: parts[0], width: parts[1])
            }, periodic: periodic)
    }
}
