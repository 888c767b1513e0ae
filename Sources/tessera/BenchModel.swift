import ArgumentParser
import Config
import Distributed
import Engine
import Foundation
import Grid
import MPI

/// Times a model's whole step (halo exchange, boundaries, every stage) on the ranks it runs
/// on, and its kernel alone (one update of every owned cell, ghosts already filled), and
/// states the memory-bandwidth bound for each and the kernel's divider bound, measured in the
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
            cell update streams through memory: for the kernel, the state read and written plus \
            any coefficient arrays; for the step, that per stage plus a read of two and a write \
            of one for each Runge-Kutta combination. For a kernel that divides or takes square \
            roots, the compute bound is the rate at which the ranks, all at once, divide and take \
            square roots (vectorised, in cache), over the divisions and square roots a cell update \
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

    func run() throws {
        withMPI { world in
            let dims = shape.split(separator: ",").compactMap { Int($0) }
            let lines = parameters.map { entry -> String in
                let parts = entry.split(separator: "=", maxSplits: 1).map(String.init)
                return parts.count == 2 ? "\(parts[0]) = \(parts[1])" : entry
            }
            let text = """
                [grid]
                shape = [\(dims.map(String.init).joined(separator: ", "))]
                [model]
                name = "\(model)"
                \(lines.joined(separator: "\n"))
                [time]
                steps = \(steps)
                [output]
                dir = "unused"
                """
            let plan = try agreed(world) { try RunPlan(config: try RunConfig(text: text), ranks: world.size) }
            let cartesian = try world.cartesian(dims: plan.decomposition.dims, periodic: plan.decomposition.periodic)
            let geometry = plan.geometry(rank: world.rank)
            let halo = try HaloPlan(decomposition: plan.decomposition, rank: world.rank, ghost: geometry.layout.ghost)
            let instance = try agreed(world) { try plan.model(for: geometry) }
            let simulation = Simulation(
                model: instance, geometry: geometry, plan: halo, conditions: plan.config.boundaries,
                communication: MPIDomain(cartesian: cartesian, plan: halo))
            let dt = try simulation.stableTimeStep(cfl: 0.5)
            try simulation.fillGhosts()
            instance.start(simulation.state, dt: dt, geometry: geometry)

            var best = Double.infinity
            for _ in 0..<repeats {
                try world.barrier()
                let start = DispatchTime.now().uptimeNanoseconds
                for step in 0..<steps { try simulation.step(dt: dt, time: Double(step) * dt) }
                try world.barrier()
                best = Swift.min(best, Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9)
            }
            let cells = Double(dims.reduce(1, *))
            let rate = cells * Double(steps) / best

            // The kernel alone: every owned cell once, from the current state (ghosts filled by
            // the last step's exchange) into arrays of its own.
            try simulation.fillGhosts()
            let output = simulation.state.map { Field(name: $0.name, layout: $0.layout) }
            let owned = Box(extent: geometry.layout.extent)
            var kernelBest = Double.infinity
            for _ in 0..<repeats {
                try world.barrier()
                let start = DispatchTime.now().uptimeNanoseconds
                for _ in 0..<steps {
                    instance.update(from: simulation.state, into: output, box: owned, dt: dt, geometry: geometry)
                }
                try world.barrier()
                kernelBest = Swift.min(kernelBest, Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9)
            }
            let kernelRate = cells * Double(steps) / kernelBest

            // The bound: every rank copies arrays of its state's size at the same time.
            let components = simulation.state.count
            let stages = instance.integrator.stages
            let combinations = stages.filter { $0.old != 0 || $0.euler != 1 }.count
            let kernelStreams = 2 * components + instance.auxiliaryArrays
            let streams = stages.count * kernelStreams + combinations * 3 * components
            let copied = try world.allReduce(copyRate(elements: geometry.layout.count * components), .sum)
            let bound = copied * 2 / Double(streams)
            let kernelBound = copied * 2 / Double(kernelStreams)
            // Every rank's divider works at once, each on its own cells.
            let work = instance.dividerWork
            let divider = DividerThroughput.measure()
            let seconds = work.divisions / divider.divisions + work.squareRoots / divider.squareRoots
            let computeBound = seconds > 0 ? try world.allReduce(1 / seconds, .sum) : .infinity
            if world.rank == 0 {
                print(
                    String(
                        format:
                            "%@ %@ ranks %d rate %.4g bound %.4g streams %d kernel %.4g kernel_bound %.4g kernel_streams %d compute_bound %.4g divisions %g roots %g copy %.4g",
                        model, shape, world.size, rate, bound, streams, kernelRate, kernelBound, kernelStreams,
                        computeBound, work.divisions, work.squareRoots, copied))
            }
            return 0
        }
    }

    /// Elements per second this rank copies between two arrays of `elements` doubles, with
    /// ordinary loads and stores as a kernel makes them (a library copy may bypass the cache
    /// with streaming stores, which no stencil update does).
    func copyRate(elements: Int) -> Double {
        let count = Swift.max(elements, 1 << 20)
        let source = UnsafeMutablePointer<Double>.allocate(capacity: count)
        let target = UnsafeMutablePointer<Double>.allocate(capacity: count)
        defer {
            source.deallocate()
            target.deallocate()
        }
        source.initialize(repeating: 1, count: count)
        target.initialize(repeating: 0, count: count)
        var best = Double.infinity
        for _ in 0..<5 {
            let start = DispatchTime.now().uptimeNanoseconds
            BenchModel.scale(source, into: target, count: count, by: Double(count % 3 + 1))
            best = Swift.min(best, Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9)
        }
        return Double(count) / best
    }

    /// `target = factor · source`: STREAM's "scale", two streams like a copy, but a loop
    /// that the compiler does not turn into a call to memcpy.
    @inline(never)
    static func scale(
        _ source: UnsafePointer<Double>, into target: UnsafeMutablePointer<Double>, count: Int, by factor: Double
    ) {
        for i in 0..<count { target[i] = factor * source[i] }
    }
}
