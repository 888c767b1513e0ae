import Adjoint
import Config
import Distributed
import Engine
import Foundation
import Grid
import IO
import Logging
import MPI
import Settings

/// What `gradient`, `invert` and `check-adjoint` build on each rank: the simulation, its
/// adjoint with the snapshot slots the memory budget allows, and the observed data for the
/// receivers this rank holds.
struct InversionSetup {
    let plan: RunPlan
    let setup: RankSetup
    let adjoint: AdjointRun
    /// Observed samples of this rank's receivers (zeros when no data is given and none needed).
    let observed: [[Double]]
    /// Bytes of one snapshot on the largest block.
    let snapshotBytes: Int
    let world: Communicator

    init(plan given: RunPlan, world: Communicator, needsObserved: Bool, logger: Logger) throws {
        // The adjoint's reverse exchange and its checks take ghost zones one stencil deep.
        let plan = given.withShallowHalo
        if given.haloDepth > 1 {
            logger.info("halo depth 1 for the adjoint run (grid.halo_depth = \(given.haloDepth) is for tessera run)")
        }
        self.plan = plan
        self.world = world
        setup = try RankSetup(plan: plan, world: world)
        let simulation = setup.simulation
        let schedule = setup.schedule
        let name = plan.config.modelName
        try agreed(world) {
            guard simulation.model is any Differentiable else {
                let models = catalog.filter { $0 is any Differentiable.Type }.map { $0.description.name }
                throw ConfigError(
                    "model.name",
                    "the \(name) model has no adjoint; gradients are available for \(models.joined(separator: ", "))")
            }
            guard !simulation.model.receivers.isEmpty else {
                throw ConfigError("model.receivers", "a misfit needs receivers; set model.receivers and where they lie")
            }
        }
        let components = simulation.state.count
        let snapshotBytes = Int(
            try world.allReduce(
                Double(AdjointRun.snapshotBytes(components: components, layout: setup.geometry.layout)), .max))
        self.snapshotBytes = snapshotBytes
        let steps = schedule.steps
        var slots = steps
        if let budget = plan.config.inversion.memory {
            // One snapshot's worth is kept back to sample the final state.
            slots = budget / snapshotBytes - 1
            let minimum = 2 * snapshotBytes
            let fits = slots >= 1
            try agreed(world) {
                guard fits else {
                    throw ConfigError(
                        "inversion.memory",
                        "\(byteText(budget)) per rank holds fewer than 2 snapshots of the state (\(byteText(snapshotBytes)) "
                            + "each on the largest block); allow at least \(byteText(minimum)), or use more ranks")
                }
            }
        }
        adjoint = AdjointRun(simulation: simulation, steps: steps, dt: schedule.dt, slots: slots)
        let mine = adjoint.receivers
        let times = (0...steps).map { Double($0) * schedule.dt }
        let path = plan.config.inversion.observed
        let model = simulation.model
        observed = try agreed(world) {
            guard let path else {
                if needsObserved {
                    throw ConfigError(
                        "inversion.observed", "is missing: name the results file whose receiver traces to fit")
                }
                return mine.map { _ in [Double](repeating: 0, count: steps + 1) }
            }
            let all = try Observations.read(path, receivers: model.receivers, times: times)
            return mine.map { all[$0] }
        }
        let stored = min(adjoint.slots + 1, steps + 1)
        let recompute = BinomialCheckpointing.cost(BinomialCheckpointing.actions(steps: steps, slots: adjoint.slots))
        let summary =
            "\(name): \(steps) steps of dt = \(schedule.dt); the backward pass keeps up to \(stored) of \(steps + 1) "
            + "states (\(byteText(stored * snapshotBytes)) per rank\(plan.config.inversion.memory.map { " of the \(byteText($0)) allowed" } ?? "")) "
            + "and takes \(recompute + 1) forward steps"
        logger.info("\(summary)")
    }

    /// The start of `gradient` and `invert`: reads the config, makes sure `file` may be
    /// written in the output folder, and sets up the inversion (observed data required).
    static func start(
        _ world: Communicator, config: String, overrides: [String], file: String, overwrite: Bool
    ) throws -> (RunPlan, String, InversionSetup, Logger) {
        let logger = makeLogger(world)
        let plan = try loadPlan(config, overrides: overrides, world)
        let path = try world.broadcast(
            try agreed(world) {
                world.rank == 0
                    ? try prepareOutput(
                        plan.config.outputDirectory, file: file, overwrite: overwrite, restarting: false, logger: logger
                    )
                    : ""
            })
        logger.info("tessera \(tesseraVersion), \(MPIEnvironment.libraryVersion), \(rankText(world.size))")
        return (plan, path, try InversionSetup(plan: plan, world: world, needsObserved: true, logger: logger), logger)
    }

    /// Throws on every rank alike (the misfit is a global sum) when the misfit overflowed:
    /// its gradient would be NaN, and nothing fitted to it means anything.
    func checkFinite(misfit: Double) throws {
        guard misfit.isFinite else {
            let largest = observed.joined().map(abs).max() ?? 0
            throw AgreedFailure(
                description:
                    "the misfit is \(misfit): [inversion] observed holds traces far from this model's scale (the "
                    + "largest sample on this rank is \(largest)); check that it was written by a run of this model")
        }
    }

    /// The controls' owned cells, one after another, as one vector.
    func flatten(_ fields: [Field]) -> [Double] {
        let layout = setup.geometry.layout
        var values: [Double] = []
        values.reserveCapacity(layout.interior.count * fields.count)
        for field in fields {
            layout.forEachRun(in: layout.interior) { offset, length in
                values.append(contentsOf: UnsafeBufferPointer(start: field.base + offset, count: length))
            }
        }
        return values
    }

    /// Fields holding `values` (as ``flatten(_:)`` lays them out) on the owned cells.
    func fields(_ values: [Double], names: [String]) -> [Field] {
        let layout = setup.geometry.layout
        var position = 0
        return names.map { name in
            let field = Field(name: name, layout: layout)
            layout.forEachRun(in: layout.interior) { offset, length in
                for i in 0..<length { field.base[offset + i] = values[position + i] }
                position += length
            }
            return field
        }
    }

    /// `Σ u·v` over every rank.
    func dot(_ u: [Double], _ v: [Double]) throws -> Double {
        var sum = 0.0
        for i in u.indices { sum += u[i] * v[i] }
        return try world.allReduce(sum, .sum)
    }
}

/// Peak resident memory of this process (VmHWM), in bytes, or nil where /proc is missing.
func peakMemory() -> Int? {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
    for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
        let number = line.split(separator: " ").dropFirst().first.flatMap { Int($0) }
        return number.map { $0 * 1024 }
    }
    return nil
}

/// `tessera gradient`, `invert` and `check-adjoint`.
public enum Inversions {
    /// `tessera gradient`: the misfit and its exact gradient into gradient.hdf5; `timeForward`
    /// also times `repeats` forward runs against the gradient's. Exits every rank.
    public static func gradient(config: String, overrides: [String], overwrite: Bool, timeForward: Bool, repeats: Int)
        -> Never
    {
        withMPI { world in
            try gradient(
                world, config: config, overrides: overrides, overwrite: overwrite, timeForward: timeForward,
                repeats: repeats)
        }
    }

    static func gradient(
        _ world: Communicator, config: String, overrides: [String], overwrite: Bool, timeForward: Bool, repeats: Int
    ) throws -> Int32 {
        let (plan, path, inversion, logger) = try InversionSetup.start(
            world, config: config, overrides: overrides, file: "gradient.hdf5", overwrite: overwrite)
        let adjoint = inversion.adjoint
        let clock = ContinuousClock()
        var start = clock.now
        let result = try adjoint.misfitGradient(observed: inversion.observed)
        try inversion.checkFinite(misfit: result.misfit)
        var seconds = (clock.now - start).seconds
        let counts = adjoint.counts
        if timeForward {
            // The machine may be shared: alternate, and keep the fastest of each.
            var forward = Double.infinity
            for round in 0..<max(repeats, 1) {
                if round > 0 {
                    start = clock.now
                    _ = try adjoint.misfitGradient(observed: inversion.observed)
                    seconds = min(seconds, (clock.now - start).seconds)
                }
                try world.barrier()
                start = clock.now
                _ = try adjoint.forward()
                forward = min(forward, (clock.now - start).seconds)
            }
            let ratio = String(format: "%.2f", seconds / forward)
            logger.info(
                "forward run alone: \(String(format: "%.3f", forward)) s; the gradient costs \(ratio) forward runs")
        }
        let timing = String(format: "%.3f", seconds)
        logger.info(
            "misfit \(result.misfit); gradient in \(timing) s (\(counts.forward) forward and \(counts.adjoint) adjoint steps)"
        )
        let parameters = adjoint.model.globalParameters
        let global = try adjoint.globalGradient(result.gradient)
        for (name, value) in zip(parameters, global) { logger.info("∂misfit/∂\(name) = \(value)") }
        let held = Double(adjoint.snapshotsHeld * inversion.snapshotBytes)
        let peaks = try world.allGather([Double(peakMemory() ?? 0), held])
        let peak = peaks.map { $0[0] }.max() ?? 0
        let snapshots = peaks.map { $0[1] }.max() ?? 0
        let budget = plan.config.inversion.memory.map { " (budget \(byteText($0)))" } ?? ""
        logger.info(
            "peak memory per rank \(byteText(Int(peak))), of which forward snapshots \(byteText(Int(snapshots)))\(budget)"
        )

        let model = adjoint.model
        var fields = model.controls.map { FieldSpec(name: "\($0)_gradient") }
        var state = result.gradient
        if let initial = result.initial {
            fields += initial.map { FieldSpec(name: "\($0.name)_initial_gradient") }
            state += initial
        }
        let geometry = inversion.setup.geometry
        let writer = try agreed(world) {
            try ResultsWriter(
                path: path, communicator: world, geometry: geometry, fields: fields,
                constants: model.constants + [("misfit", result.misfit)]
                    + zip(parameters, global).map { ("\($0)_gradient", $1) },
                boundaries: plan.config.boundaries, boundaryLabels: plan.wellBoundaryLabels(model),
                datasetName: "tessera_\(plan.config.modelName)_gradient",
                provenance: Provenance(
                    version: tesseraVersion, configText: plan.config.text, ranks: world.size,
                    processGrid: plan.decomposition.dims),
                overwrite: true, precision: .double)
        }
        do {
            try writer.write(
                frame: 0, time: 0, state: state, series: [], reductions: MPIReductions(communicator: world))
        } catch let error as NonFiniteState {
            throw AgreedFailure(
                description:
                    "the gradient is not finite (misfit \(result.misfit)): \(error.components.joined(separator: ", ")) "
                    + "hold NaN or infinite values; check that [inversion] observed holds traces of this model's scale")
        }
        try writer.finish()
        logger.info("wrote \(path)")
        return 0
    }

    /// `tessera invert`: L-BFGS on the controls, into inversion.hdf5. Exits every rank.
    public static func invert(config: String, overrides: [String], overwrite: Bool) -> Never {
        withMPI { world in try invert(world, config: config, overrides: overrides, overwrite: overwrite) }
    }

    static func invert(_ world: Communicator, config: String, overrides: [String], overwrite: Bool) throws -> Int32 {
        let (plan, path, inversion, logger) = try InversionSetup.start(
            world, config: config, overrides: overrides, file: "inversion.hdf5", overwrite: overwrite)
        let adjoint = inversion.adjoint
        let model = adjoint.model
        let names = model.controls
        let observed = inversion.observed
        let layout = inversion.setup.geometry.layout
        let perControl = layout.interior.count
        let bounds = names.indices.map { model.bounds($0) }
        func clamp(_ x: [Double]) -> [Double] {
            x.indices.map { i in
                min(max(x[i], bounds[i / max(perControl, 1)].lowerBound), bounds[i / max(perControl, 1)].upperBound)
            }
        }
        func misfit(at x: [Double]) throws -> Double {
            adjoint.setControls(inversion.fields(x, names: names))
            return try adjoint.misfit(adjoint.forward(), observed: observed)
        }
        func gradient(at x: [Double]) throws -> (Double, [Double]) {
            adjoint.setControls(inversion.fields(x, names: names))
            let result = try adjoint.misfitGradient(observed: observed)
            return (result.misfit, inversion.flatten(result.gradient))
        }

        let writer = try agreed(world) {
            try ResultsWriter(
                path: path, communicator: world, geometry: inversion.setup.geometry,
                fields: names.map { FieldSpec(name: $0) } + names.map { FieldSpec(name: "\($0)_gradient") },
                series: ["misfit"], constants: model.constants, boundaries: plan.config.boundaries,
                boundaryLabels: plan.wellBoundaryLabels(model),
                datasetName: "tessera_\(plan.config.modelName)_inversion",
                provenance: Provenance(
                    version: tesseraVersion, configText: plan.config.text, ranks: world.size,
                    processGrid: plan.decomposition.dims),
                overwrite: true, precision: .double)
        }
        let reductions = MPIReductions(communicator: world)
        func record(_ iteration: Int, _ x: [Double], _ g: [Double], _ value: Double) throws {
            try writer.write(
                frame: iteration, time: Double(iteration),
                state: inversion.fields(x, names: names) + inversion.fields(g, names: names.map { "\($0)_gradient" }),
                series: [value], reductions: reductions)
        }

        var x = inversion.flatten(adjoint.controlValues())
        var (value, g) = try gradient(at: x)
        try inversion.checkFinite(misfit: value)
        let initial = value
        try record(0, x, g, value)
        logger.info("iteration 0: misfit \(value)")
        var optimiser = LBFGS(memory: 5)
        var largest = 0.0
        for v in x { largest = max(largest, abs(v)) }
        largest = try world.allReduce(largest, .max)
        iterations: for iteration in 1...plan.config.inversion.iterations {
            var accepted: (x: [Double], value: Double, alpha: Double)?
            var tries = 0
            while accepted == nil {
                let steepest = optimiser.isEmpty
                var d = try optimiser.direction(g, dot: inversion.dot)
                var slope = try inversion.dot(g, d)
                if slope >= 0 {
                    optimiser.reset()
                    d = g.map { -$0 }
                    slope = try inversion.dot(g, d)
                }
                var alpha = 1.0
                if optimiser.isEmpty {
                    // Steepest descent: scale the first try to change the controls by first_step.
                    var top = 0.0
                    for v in d { top = max(top, abs(v)) }
                    top = try world.allReduce(top, .max)
                    alpha = top > 0 ? plan.config.inversion.firstStep * largest / top : 0
                }
                for _ in 0..<12 {
                    tries += 1
                    let trial = clamp(x.indices.map { x[$0] + alpha * d[$0] })
                    let moved = trial.indices.map { trial[$0] - x[$0] }
                    let trialValue = try misfit(at: trial)
                    if trialValue.isFinite, trialValue < value + 1e-4 * (try inversion.dot(g, moved)) {
                        accepted = (trial, trialValue, alpha)
                        break
                    }
                    alpha /= 2
                }
                if accepted == nil {
                    guard !steepest else {
                        logger.info("iteration \(iteration): the line search found no lower misfit; stopping")
                        break iterations
                    }
                    optimiser.reset()
                }
            }
            guard let accepted else { break }
            let (next, nextGradient) = try gradient(at: accepted.x)
            try optimiser.record(
                step: accepted.x.indices.map { accepted.x[$0] - x[$0] },
                change: g.indices.map { nextGradient[$0] - g[$0] }, dot: inversion.dot)
            (x, value, g) = (accepted.x, next, nextGradient)
            try record(iteration, x, g, value)
            let fraction = String(format: "%.3g", value / initial)
            let step = String(format: "%.3g", accepted.alpha)
            logger.info(
                "iteration \(iteration): misfit \(value) (\(fraction) of the start), step \(step), \(tries) line-search runs"
            )
        }
        try writer.finish()
        logger.info(
            "misfit fell from \(initial) to \(value), by a factor \(String(format: "%.3g", initial / value)); wrote \(path)"
        )
        return 0
    }

    /// `tessera check-adjoint`: the dot-product and Taylor tests. Exits every rank, 1 if one fails.
    public static func checkAdjoint(config: String, overrides: [String], seed: UInt64) -> Never {
        withMPI { world in try checkAdjoint(world, config: config, overrides: overrides, seed: seed) }
    }

    static func checkAdjoint(_ world: Communicator, config: String, overrides: [String], seed: UInt64) throws -> Int32 {
        let logger = makeLogger(world)
        let plan = try loadPlan(config, overrides: overrides, world)
        let inversion = try InversionSetup(plan: plan, world: world, needsObserved: false, logger: logger)
        let adjoint = inversion.adjoint
        var failures: [String] = []
        let checks = [
            ("halo exchange", try adjoint.exchangeDotProduct(seed: seed)),
            ("one step", try adjoint.stepDotProduct(seed: seed &+ 1)),
            ("linearised run", try adjoint.linearisedDotProduct(seed: seed &+ 2)),
        ]
        for (name, check) in checks {
            if world.rank == 0 {
                print(
                    "dot product \(name): ⟨Ax, y⟩ = \(check.forward), ⟨x, Aᵀy⟩ = \(check.adjoint), mismatch "
                        + String(format: "%.3e", check.mismatch))
            }
            if !(check.mismatch < 1e-12) { failures.append("the \(name) dot product mismatch is \(check.mismatch)") }
        }
        let taylor = try adjoint.taylor(observed: inversion.observed, seed: seed &+ 3)
        if world.rank == 0 {
            for (h, (first, second)) in zip(taylor.sizes, zip(taylor.first, taylor.second)) {
                print(
                    String(
                        format: "taylor h = %-9.4g first-order remainder %.6e  second-order remainder %.6e", h, first,
                        second))
            }
            print(
                String(
                    format: "taylor slopes: first order %.4f, second order %.4f", taylor.firstSlope, taylor.secondSlope)
            )
        }
        if !(abs(taylor.firstSlope - 1) < 0.1) {
            failures.append("the first-order Taylor slope is \(taylor.firstSlope)")
        }
        if !(abs(taylor.secondSlope - 2) < 0.1) {
            failures.append("the second-order Taylor slope is \(taylor.secondSlope)")
        }
        if !failures.isEmpty {
            throw AgreedFailure(description: "the adjoint check failed: \(failures.joined(separator: "; "))")
        }
        if world.rank == 0 { print("check-adjoint: the adjoint is exact to round-off on \(rankText(world.size))") }
        return 0
    }
}

/// "1 rank", "3 ranks".
public func rankText(_ count: Int) -> String { count == 1 ? "1 rank" : "\(count) ranks" }
