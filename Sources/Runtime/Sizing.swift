import Config
import Engine
import Foundation
import Grid

extension RunPlan {
    /// The scalar components written to each results frame.
    public var outputComponents: Int {
        fields.filter(\.isOutput).components(dimensions: config.grid.shape.count).count
    }

    /// What a run costs per rank and on disk, for `tessera plan`; the bandwidth frames need at
    /// `cellRate` cell updates per second per rank (for the whole step).
    public func sizing(cellRate: (rate: Double, source: String)?) throws -> [String] {
        let n = try sizingNumbers(cellRate: cellRate)
        func range(_ values: [Int], _ format: (Int) -> String) -> String {
            let low = values.min()!
            let high = values.max()!
            return low == high ? format(low) : "\(format(low)) to \(format(high))"
        }
        let ranks = n.footprint.ranks
        let total =
            n.frames.map { "\($0) frames, \(byteText(n.footprint.frameBytes, times: $0)) in all" } ?? "frames set by dt"
        var lines = [
            "process grid \(shapeText(decomposition.dims)) for \(ranks.count) ranks; "
                + "\(config.modelName) on \(shapeText(config.grid.shape)) cells, \(components) "
                + "\(components == 1 ? "field" : "fields"), \(ghost) ghost \(ghost == 1 ? "cell" : "cells")",
            "cells per rank:       \(range(ranks.map(\.cells), String.init))",
            "halo:                 \(haloText)",
            "halo messages:        \(range(ranks.map(\.haloMessages), String.init)) sent per rank per exchange, "
                + (haloDepth == 1
                    ? "every step\(stages > 1 ? " stage" : "")" : "one exchange every \(haloDepth) steps"),
            "halo bytes per step:  \(range(ranks.map(\.haloBytesPerStep), byteText)) sent per rank"
                + (haloDepth == 1 ? "" : " (one exchange's bytes over the \(haloDepth) steps it serves)"),
            "memory per rank:      \(range(ranks.map(\.memoryBytes), byteText)) "
                + "(state, next state\(stages > 1 ? ", stage" : ""), halo buffers, frame buffers)",
            "results frame:        \(byteText(n.footprint.frameBytes)) (float32); \(total)",
            "written per rank:     \(range(ranks.map(\.frameBytes), byteText)) per frame",
            "frame buffers:        \(range(ranks.map(\.outputBufferBytes), byteText)) per rank "
                + (n.buffers == 2
                    ? "(two frames, to write one while the steps go on)" : "(one frame, written between steps)"),
            "checkpoint:           \(byteText(n.footprint.checkpointBytes)) (float64); keep \(config.checkpointKeep): "
                + "\(byteText(n.footprint.checkpointBytes, times: config.checkpointKeep)) on disk",
        ]
        if let cellRate, let step = n.stepSeconds {
            let every = config.outputEvery
            let need = { (k: Int) in String(format: "%.3g GB/s", n.bandwidth(every: k)! / 1e9) }
            lines.append(
                "step time:            \(String(format: "%.3g s", step)) at \(String(format: "%.3g", cellRate.rate)) "
                    + "cell updates/s per rank (\(cellRate.source))")
            // With output.every_time the steps between frames follow the model's stable step.
            let this =
                config.outputEveryTime == nil
                ? "a frame every \(every) \(every == 1 ? "step" : "steps") needs \(need(every)) in all; " : "frames "
            lines.append(
                "frame bandwidth:      \(this)every step \(need(1)), every 10 \(need(10)), every 100 \(need(100))")
        }
        return lines
    }

    /// The same facts as ``sizing(cellRate:)``, for `plan --json`: bytes and counts as numbers,
    /// per-rank figures as their least and greatest.
    public func sizingFacts(cellRate: (rate: Double, source: String)?) throws -> [String: Any] {
        let n = try sizingNumbers(cellRate: cellRate)
        let ranks = n.footprint.ranks
        func range(_ values: [Int]) -> [String: Int] { ["min": values.min()!, "max": values.max()!] }
        var facts: [String: Any] = [
            "ranks": ranks.count, "process_grid": decomposition.dims, "model": config.modelName,
            "shape": config.grid.shape, "fields": components, "ghost": ghost, "halo_depth": haloDepth,
            "halo_messages_per_exchange_per_rank": range(ranks.map(\.haloMessages)),
            "cells_per_rank": range(ranks.map(\.cells)),
            "halo_bytes_per_step_per_rank": range(ranks.map(\.haloBytesPerStep)),
            "memory_bytes_per_rank": range(ranks.map(\.memoryBytes)),
            "frame_bytes": n.footprint.frameBytes, "frames": n.frames as Any,
            "results_bytes": n.frames.map { n.footprint.frameBytes.multipliedReportingOverflow(by: $0) }
                .flatMap { $0.overflow ? nil : $0.partialValue } as Any,
            "frame_bytes_per_rank": range(ranks.map(\.frameBytes)),
            "frame_buffers": n.buffers, "frame_buffer_bytes_per_rank": range(ranks.map(\.outputBufferBytes)),
            "checkpoint_bytes": n.footprint.checkpointBytes, "checkpoints_kept": config.checkpointKeep,
        ]
        if let cellRate, let step = n.stepSeconds {
            facts["step_seconds"] = step
            facts["cell_rate"] = ["per_rank": cellRate.rate, "source": cellRate.source]
            facts["frame_bandwidth_bytes_per_second"] = [
                "every": (config.outputEveryTime == nil ? config.outputEvery : nil) as Int? as Any,
                "needed": (config.outputEveryTime == nil ? n.bandwidth(every: config.outputEvery) : nil) as Double?
                    as Any,
                "every_step": n.bandwidth(every: 1)!, "every_10": n.bandwidth(every: 10)!,
                "every_100": n.bandwidth(every: 100)!,
            ]
        }
        return facts
    }

    private func sizingNumbers(cellRate: (rate: Double, source: String)?) throws -> SizingNumbers {
        // Two frame buffers where output may overlap the steps (what a run may hold).
        let buffers = config.outputOverlap == .never ? 1 : 2
        let footprint = try Footprint(
            decomposition: decomposition, ghost: config.grid.shape.map { _ in ghost }, fields: components,
            exchanged: exchangedComponents, stages: stages, outputs: outputComponents, frameBuffers: buffers,
            haloDepth: haloDepth,
            inPlace: updatesInPlace)
        // The slowest rank sets the pace: the one with the most cells.
        let step = cellRate.map { Double(footprint.ranks.map(\.cells).max()!) / $0.rate }
        return SizingNumbers(
            footprint: footprint, buffers: buffers, frames: config.frameCount,
            stepSeconds: step)
    }

    /// Cell updates per second of the model's update on one core here, for `plan`: a few
    /// updates of a block like one rank's, at most 2^20 cells. Nil if the model cannot be made
    /// on such a block.
    public func measuredCellRate() -> Double? {
        var shape = decomposition.ownedBox(of: 0).extent
        var axis = 0
        while shape.reduce(1, *) > 1 << 20 {
            shape[axis] = (shape[axis] + 1) / 2
            axis = (axis + 1) % shape.count
        }
        let layout = LocalLayout(owned: Box(extent: shape), ghost: shape.map { _ in ghost })
        let geometry = Geometry(
            shape: shape, extent: config.grid.extent, periodic: config.grid.periodic, layout: layout)
        guard let model = try? self.model(for: geometry) else { return nil }
        let names = model.fields.components(dimensions: shape.count)
        let state = names.map { Field(name: $0, layout: layout) }
        let next = names.map { Field(name: $0, layout: layout) }
        let work = model.workArrays.map { Field(name: $0, layout: layout) }
        model.initialize(state, work: work, geometry: geometry)
        let dt = model.stableTimeStep(state, geometry: geometry) * config.cfl
        model.prepare(dt: dt, work: work, geometry: geometry)
        let stages = Double(model.stages.count)
        var best = Double.infinity
        for stage in 0..<3 {
            let start = ContinuousClock.now
            model.update(
                stage: stage % model.stages.count, from: state, into: next, box: layout.interior, dt: dt, work: work,
                geometry: geometry)
            best = Swift.min(best, (ContinuousClock.now - start).seconds)
        }
        return Double(layout.interior.count) / (best * stages)
    }
}

/// Sizes in powers of 1000, as `ls -h --si` and `df -H` print them.
public func byteText(_ bytes: Int) -> String { byteText(Double(bytes)) }

/// `count` items of `bytes` each, as ``byteText(_:)-(Int)`` prints it: in floating point, so
/// that a product past what an Int holds (a plan of 2^50 frames) is printed, not wrapped.
public func byteText(_ bytes: Int, times count: Int) -> String { byteText(Double(bytes) * Double(count)) }

func byteText(_ bytes: Double) -> String {
    let units = ["B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"]
    var value = bytes
    var unit = 0
    while value >= 1000 && unit < units.count - 1 {
        value /= 1000
        unit += 1
    }
    return unit == 0 ? "\(Int(bytes)) B" : String(format: "%.1f %@", value, units[unit])
}

public func shapeText(_ shape: [Int]) -> String { shape.map(String.init).joined(separator: "×") }

/// How this process of `ranks` was started, from the variables each launcher sets.
func launcherName(ranks: Int, _ environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
    if let job = environment["SLURM_JOB_ID"], let step = environment["SLURM_STEP_ID"] {
        return "launched by srun (Slurm job \(job), step \(step))"
    }
    if environment["OMPI_COMM_WORLD_SIZE"] != nil { return "launched by mpirun (Open MPI)" }
    if environment["PMI_RANK"] != nil || environment["HYDRA_CONTROL_FD"] != nil { return "launched by mpiexec (Hydra)" }
    return ranks == 1 ? "started as a single process" : "launched by a launcher Tessera does not know"
}

/// What `plan` computes once for its text and its JSON.
private struct SizingNumbers {
    let footprint: Footprint
    let buffers: Int
    let frames: Int?
    let stepSeconds: Double?

    /// Bytes per second the frames need in all when one is written every `every` steps.
    func bandwidth(every: Int) -> Double? {
        stepSeconds.map { Double(footprint.frameBytes) / (Double(every) * $0) }
    }
}
