import Config
import Distributed
import Engine
import Foundation
import Grid
import Heat
import MPI
import Numerics
import Settings

/// The benchmarks behind `tessera bench-model` and `tessera bench`.
public enum ModelBenchmark {
    /// `tessera bench-model`: times `model` on a grid of `dims` cells with the model parameters
    /// `parameters` (values as in TOML), printing one line of rates and bounds on rank 0.
    /// Exits every rank.
    public static func main(
        model: String, shape dims: [Int], parameters: [(String, ConfigValue)], steps: Int, repeats: Int,
        haloDepth: Int = 1, tiling: Tiling? = nil, periodic: Bool = true
    )
        -> Never
    {
        withMPI { world in
            // The config as typed values: no text to write and read back.
            let table: [String: ConfigValue] = [
                "grid": .table([
                    "shape": .array(dims.map { .int($0) }), "halo_depth": .int(haloDepth), "periodic": .bool(periodic),
                ]),
                "model": .table(
                    Dictionary(parameters, uniquingKeysWith: { $1 }).merging(["name": .string(model)]) { $1 }),
                "time": .table(["steps": .int(steps)]),
                "output": .table(["dir": .string("unused")]),
            ]
            let plan = try agreed(world) {
                try RunPlan(
                    config: try RunConfig(table: table, text: "# tessera bench-model \(model)"), ranks: world.size)
            }
            let cartesian = try world.cartesian(dims: plan.decomposition.dims, periodic: plan.decomposition.periodic)
            let (geometry, halo) = try plan.block(rank: world.rank)
            let instance = try agreed(world) { try plan.model(for: geometry) }
            let simulation = Simulation(
                model: instance, geometry: geometry, plan: halo, conditions: plan.config.boundaries,
                communication: MPIDomain(cartesian: cartesian, plan: halo), haloDepth: plan.haloDepth, tiling: tiling)
            let dt = try simulation.stableTimeStep(cfl: 0.5)
            try simulation.fillGhosts()
            try simulation.prepare(dt: dt)
            instance.start(simulation.state, work: simulation.work, dt: dt, geometry: geometry)

            // The first passes of a run try tilings (Simulation.trials): taken before the timing,
            // as many on every rank (each may have its own candidates).
            let trialPasses = try world.allReduce(
                Double(simulation.trials.map { $0.candidates.count * $0.rounds } ?? 0), .max)
            var tried = 0
            for _ in 0..<Int(trialPasses) {
                let count = simulation.sweepLimit
                try simulation.advance(steps: count, dt: dt, after: tried)
                tried += count
            }
            var best = Double.infinity
            for _ in 0..<repeats {
                try world.barrier()
                let start = DispatchTime.now().uptimeNanoseconds
                // As a run takes its steps: with deep halos, a tiled sweep to each exchange.
                var step = 0
                while step < steps {
                    let count = Swift.min(simulation.sweepLimit, steps - step)
                    try simulation.advance(steps: count, dt: dt, after: step)
                    step += count
                }
                try world.barrier()
                best = Swift.min(best, Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9)
            }
            let cells = Double(dims.reduce(1, *))
            let rate = cells * Double(steps) / best

            // The kernel alone: every owned cell once, from the current state (ghosts filled by
            // the last step's exchange) into arrays of its own.
            try simulation.fillGhosts()
            // An update in place writes into the state it reads, rotated, as a run's steps do.
            let output =
                instance.updatesInPlace
                ? Simulation.inPlace(simulation.state)
                : simulation.state.map { Field(name: $0.name, layout: $0.layout) }
            let owned = Box(extent: geometry.layout.extent)
            var kernelBest = Double.infinity
            for _ in 0..<repeats {
                try world.barrier()
                let start = DispatchTime.now().uptimeNanoseconds
                // Each stage in turn: the same update for a Runge-Kutta model, each axis of a split one.
                for step in 0..<steps {
                    instance.update(
                        stage: step % instance.stages.count, from: simulation.state, into: output, box: owned, dt: dt,
                        work: simulation.work, geometry: geometry)
                }
                try world.barrier()
                kernelBest = Swift.min(kernelBest, Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9)
            }
            let kernelRate = cells * Double(steps) / kernelBest

            // The bound: every rank copies arrays of its state's size at the same time.
            let components = simulation.state.count
            let stages = instance.stages
            let combinations = stages.filter { $0.old != 0 || $0.euler != 1 }.count
            // The state read and written: an update in place writes one of its arrays.
            let kernelStreams = (instance.updatesInPlace ? components + 1 : 2 * components) + instance.auxiliaryArrays
            let streams = stages.count * kernelStreams + combinations * 3 * components
            let copied = try world.allReduce(copyRate(elements: geometry.layout.count * components), .sum)
            let bound = copied * 2 / Double(streams)
            let kernelBound = copied * 2 / Double(kernelStreams)
            // Every rank's vector units and divider work at once, each on its own cells.
            let work = instance.floatingPointWork
            let peak = FloatingPointThroughput.measure()
            // Cell updates per second of all ranks at once, were `seconds` per update all it took.
            func computeRate(_ seconds: Double) throws -> Double {
                seconds > 0 ? try world.allReduce(1 / seconds, .sum) : .infinity
            }
            let vectorBound = try computeRate(work.vectorSeconds(at: peak))
            let dividerBound = try computeRate(work.dividerSeconds(at: peak))
            if world.rank == 0 {
                print(
                    String(
                        format:
                            "%@ %@ ranks %d rate %.4g bound %.4g streams %d kernel %.4g kernel_bound %.4g kernel_streams %d "
                            + "compute_bound %.4g vector_bound %.4g divider_bound %.4g flops %g additions %g "
                            + "multiplications %g selects %g divisions %g roots %g copy %.4g peak_additions %.4g "
                            + "peak_multiplications %.4g peak_selects %.4g peak_divisions %.4g peak_roots %.4g",
                        model, dims.map(String.init).joined(separator: ","), world.size, rate, bound, streams,
                        kernelRate, kernelBound, kernelStreams, Swift.min(vectorBound, dividerBound), vectorBound,
                        dividerBound, work.total, work.additions, work.multiplications, work.selects, work.divisions,
                        work.squareRoots, copied, peak.additions, peak.multiplications, peak.selects,
                        peak.divisions, peak.squareRoots))
            }
            return 0
        }
    }

    /// Elements per second this rank copies between two arrays of `elements` doubles, with
    /// ordinary loads and stores as a kernel makes them (a library copy may bypass the cache
    /// with streaming stores, which no stencil update does).
    static func copyRate(elements: Int) -> Double {
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
            scale(source, into: target, count: count, by: Double(count % 3 + 1))
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
    /// `tessera bench`: the heat kernel on one core, a line per cube edge in `sizes`.
    public static func heatKernel(sizes: [Int], steps: Int, repeats: Int) -> [String] {
        var lines: [String] = []
        for n in sizes {
            let layout = LocalLayout(owned: Box(extent: [n, n, n]), ghost: [1, 1, 1])
            var a = Field(name: "a", layout: layout)
            var b = Field(name: "b", layout: layout)
            for i in 0..<layout.count { a.base[i] = Double(i % 97) * 0.01 }
            let c = [0.1, 0.1, 0.1]
            var best = Double.infinity
            for _ in 0..<repeats {
                let start = DispatchTime.now().uptimeNanoseconds
                for _ in 0..<steps {
                    HeatKernel.apply(from: a, into: b, box: layout.interior, coefficients: c)
                    swap(&a, &b)
                }
                best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9)
            }
            let rate = Double(n * n * n * steps) / best
            lines.append(String(format: "swift %d^3: %.4g cell updates/s (%.3f s for %d steps)", n, rate, best, steps))
        }
        return lines
    }
}
