import ArgumentParser
import Config
import Distributed
import Engine
import Foundation
import Grid
import IO
import Logging
import MPI

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a simulation (under mpirun or srun, or as one process).")

    @Argument(help: "The TOML input file.")
    var config: String

    @Option(name: .customLong("set"), help: ArgumentHelp("Override a config value.", valueName: "section.key=value"))
    var overrides: [String] = []

    @Flag(help: "Replace results.hdf5 if the output folder already holds one.")
    var overwrite = false

    func run() throws {
        withMPI { world in try execute(world) }
    }

    func execute(_ world: Communicator) throws {
        var logger = Logger(label: "tessera")
        logger.logLevel = world.rank == 0 ? .info : .warning

        // Rank 0 reads the file once and shares its text, so every rank parses the same input
        // and reaches the same verdict on it.
        let text = try agreed(world) { world.rank == 0 ? try readConfig(config) : "" }
        let shared = try world.broadcast(text)
        let plan = try agreed(world) {
            let parsed = try RunConfig(text: shared, overrides: overrides)
            return try RunPlan(config: parsed, ranks: world.size)
        }
        let resultsPath = try agreed(world) {
            world.rank == 0 ? try prepareOutput(plan.config.outputDirectory, overwrite: overwrite) : ""
        }
        let path = try world.broadcast(resultsPath)

        let decomposition = plan.decomposition
        let cartesian = try world.cartesian(dims: decomposition.dims, periodic: decomposition.periodic)
        let coords = try cartesian.coordinates(of: cartesian.communicator.rank)
        guard coords == decomposition.coordinates(of: world.rank) else {
            throw DecompositionError(
                "MPI placed rank \(world.rank) at \(coords), not where the decomposition expects it")
        }
        let geometry = plan.geometry(rank: world.rank)
        let haloPlan = try HaloPlan(decomposition: decomposition, rank: world.rank, ghost: geometry.layout.ghost)
        let model = try agreed(world) { try plan.model(for: geometry) }
        let domain = MPIDomain(cartesian: cartesian, plan: haloPlan)
        let simulation = Simulation(
            model: model, geometry: geometry, plan: haloPlan, conditions: plan.config.boundaries, communication: domain)
        let stable = try simulation.stableTimeStep(cfl: plan.config.cfl)
        let schedule = Schedule(
            steps: plan.config.steps, endTime: plan.config.endTime, stableDt: stable,
            outputEvery: plan.config.outputEvery)

        logger.info("tessera \(tesseraVersion), \(MPIEnvironment.libraryVersion)")
        for line in plan.summary.split(separator: "\n") { logger.info("\(line)") }
        logger.info("dt = \(schedule.dt), \(schedule.steps) steps, \(schedule.frameCount) frames")

        let writer = try agreed(world) {
            try ResultsWriter(
                path: path, communicator: world, geometry: geometry, fields: model.fields, constants: model.constants,
                boundaries: plan.config.boundaries, datasetName: "tessera_\(plan.config.modelName)",
                provenance: Provenance(
                    version: tesseraVersion, configText: plan.config.text, ranks: world.size,
                    processGrid: decomposition.dims),
                overwrite: overwrite)
        }
        let cells = Double(plan.config.grid.shape.reduce(1, *))
        var progress = ProgressReporter(steps: schedule.steps, cells: cells)
        try simulation.run(schedule, sink: writer) { report in
            if world.rank == 0, let line = progress.line(for: report) { logger.info("\(line)") }
        }
        logger.info("wrote \(schedule.frameCount) frames to \(path)")
    }
}

/// Turns step reports into progress lines, at most one every two seconds plus the last step.
struct ProgressReporter {
    let steps: Int
    let cells: Double
    let start = Date()
    var lastPrinted = Date()

    init(steps: Int, cells: Double) {
        self.steps = steps
        self.cells = cells
    }

    mutating func line(for report: StepReport) -> String? {
        let now = Date()
        guard now.timeIntervalSince(lastPrinted) >= 2 || report.step == steps else { return nil }
        let elapsed = now.timeIntervalSince(start)
        let rate = Double(report.step) / Swift.max(elapsed, 1e-9)
        let remaining = Double(steps - report.step) / Swift.max(rate, 1e-9)
        lastPrinted = now
        let percent = steps > 0 ? 100 * report.step / steps : 100
        let numbers = String(
            format: "t = %.6g  %.1f steps/s  %.3g cell updates/s", report.time, rate, rate * cells)
        return "step \(report.step)/\(steps) (\(percent)%)  \(numbers)  \(duration(remaining)) left"
    }

    func duration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return s >= 3600 ? "\(s / 3600)h\(s % 3600 / 60)m" : s >= 60 ? "\(s / 60)m\(s % 60)s" : "\(s)s"
    }
}
