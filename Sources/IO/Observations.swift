import Engine
import Foundation
import HDF5
import Settings

/// Observed receiver data for an inversion: the `receivers` group of a results file, as a run
/// of the "true" model writes it (`coordinates` `[R, D]`, `time` `[S]`, `traces` `[R, S]`).
public enum Observations {
    /// Reads the traces in `path` and checks that they were recorded where and when this run
    /// records: the same receivers, and the same sample times. Returns one list of samples per
    /// receiver. Every rank may call it (the file is opened read-only, without MPI).
    public static func read(_ path: String, receivers: [Receiver], times: [Double]) throws -> [[Double]] {
        guard FileManager.default.fileExists(atPath: path) else {
            throw ConfigError(
                "inversion.observed",
                "\(path) does not exist; make it with `tessera run` on the true model (same grid, receivers and [time])"
            )
        }
        let group: Group
        do {
            group = try HDF5.File.open(path).root.openGroup("receivers")
        } catch {
            throw ConfigError(
                "inversion.observed", "\(path) holds no receiver traces (no receivers group): \(error)")
        }
        let (traces, time, coordinates) = try (
            group.openDataset("traces"), group.openDataset("time"), group.openDataset("coordinates")
        )
        let shape = try traces.shape
        guard shape.count == 2, shape[0] == receivers.count else {
            throw ConfigError(
                "inversion.observed",
                "\(path) holds traces of \(shape.first ?? 0) receivers; this model has \(receivers.count)")
        }
        guard shape[1] == times.count else {
            throw ConfigError(
                "inversion.observed",
                "\(path) holds \(shape[1]) samples per receiver; this run records \(times.count) (one per step): "
                    + "use the same [time] settings and model.velocity_max as the run that wrote it")
        }
        var recorded = [Double](repeating: 0, count: times.count)
        try recorded.withUnsafeMutableBufferPointer { try time.read(into: $0, start: [0], count: [times.count]) }
        if let step = times.indices.first(where: { abs(recorded[$0] - times[$0]) > 1e-9 * Swift.max(abs(times[$0]), 1) }
        ) {
            throw ConfigError(
                "inversion.observed",
                "\(path) was sampled at t = \(recorded[step]) where this run samples t = \(times[step]) (sample \(step)): "
                    + "use the same [time] settings and model.velocity_max as the run that wrote it")
        }
        let d = receivers.first?.position.count ?? 0
        var positions = [Double](repeating: 0, count: receivers.count * d)
        try positions.withUnsafeMutableBufferPointer {
            try coordinates.read(into: $0, start: [0, 0], count: [receivers.count, d])
        }
        for (index, receiver) in receivers.enumerated() {
            let stored = Array(positions[index * d..<(index + 1) * d])
            guard zip(stored, receiver.position).allSatisfy({ abs($0 - $1) <= 1e-12 * Swift.max(abs($1), 1) }) else {
                throw ConfigError(
                    "inversion.observed",
                    "receiver \(index) of \(path) is at \(stored), this run's is at \(receiver.position)")
            }
        }
        var values = [Double](repeating: 0, count: receivers.count * times.count)
        try values.withUnsafeMutableBufferPointer {
            try traces.read(into: $0, start: [0, 0], count: [receivers.count, times.count])
        }
        if let bad = values.firstIndex(where: { !$0.isFinite }) {
            throw ConfigError(
                "inversion.observed", "\(path) holds a non-finite sample (receiver \(bad / times.count))")
        }
        return (0..<receivers.count).map { Array(values[$0 * times.count..<($0 + 1) * times.count]) }
    }
}
