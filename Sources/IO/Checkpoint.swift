import Engine
import Foundation
import Grid
import HDF5
import MPI
import Settings

/// What a checkpoint records besides the fields: enough to continue exactly.
public struct CheckpointInfo: Sendable, Equatable {
    /// Steps taken.
    public let step: Int
    /// Simulated time reached.
    public let time: Double
    /// The time step.
    public let dt: Double
    /// Frames in results.hdf5 when the checkpoint was taken (frame indices 0..<frames).
    public let frames: Int
    /// The model's name.
    public let model: String
    /// The physics a restart must share: model, parameters, grid and boundaries.
    public let physics: PhysicsKey
    /// The config text of the run that wrote it.
    public let configText: String
    public let version: String
    /// Ranks and process grid of the run that wrote it.
    public let ranks: Int
    public let processGrid: [Int]
    /// The fields, in the model's order.
    public let fields: [String]
    /// The random generator's state (empty: no model draws random numbers yet).
    public let randomState: [Int]

    public init(
        step: Int, time: Double, dt: Double, frames: Int, model: String, physics: PhysicsKey, configText: String,
        version: String, ranks: Int, processGrid: [Int], fields: [String], randomState: [Int] = []
    ) {
        self.step = step
        self.time = time
        self.dt = dt
        self.frames = frames
        self.model = model
        self.physics = physics
        self.configText = configText
        self.version = version
        self.ranks = ranks
        self.processGrid = processGrid
        self.fields = fields
        self.randomState = randomState
    }
}

/// Checkpoints: one HDF5 file each in `<output.dir>/checkpoints/`, named by step, holding the
/// full state in float64 as global arrays without ghosts (so any decomposition can read it),
/// every dataset with a ``StateChecksum`` that every restart verifies.
///
/// A checkpoint is written collectively under a temporary name, closed, flushed to disk with
/// `fsync`, and only then renamed to its final name (and the folder synced), so a file with a
/// final name is always complete. Older checkpoints beyond `keep` are removed only after a
/// newer one is committed.
public enum Checkpoint {
    static let prefix = "checkpoint-"
    static let suffix = ".hdf5"

    /// The file name for the checkpoint at `step`.
    public static func fileName(step: Int) -> String {
        prefix + String(format: "%010d", step) + suffix
    }

    /// Committed checkpoints in `directory`, newest first.
    public static func list(in directory: String) -> [(step: Int, path: String)] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.compactMap { name -> (Int, String)? in
            guard name.hasPrefix(prefix), name.hasSuffix(suffix),
                let step = Int(name.dropFirst(prefix.count).dropLast(suffix.count))
            else { return nil }
            return (step, (directory as NSString).appendingPathComponent(name))
        }.sorted { $0.0 > $1.0 }
    }

    /// Removes checkpoints that a crash left half-written (never valid; never read).
    public static func removeLeftovers(in directory: String) {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        for name in names where name.hasPrefix(".\(prefix)") && name.hasSuffix(".partial") {
            try? FileManager.default.removeItem(atPath: (directory as NSString).appendingPathComponent(name))
        }
    }

    /// Writes a checkpoint of `state` into `directory` and commits it; collective. Returns the
    /// committed path and the bytes of field data written.
    public static func write(
        _ info: CheckpointInfo, state: [Field], shape: [Int], directory: String, communicator: Communicator,
        keep: Int, tuning: FileTuning = FileTuning()
    ) throws -> (path: String, bytes: Int) {
        let final = (directory as NSString).appendingPathComponent(fileName(step: info.step))
        let temporary = (directory as NSString).appendingPathComponent(".\(fileName(step: info.step)).partial")
        try writeContents(
            info, state: state, shape: shape, path: temporary, communicator: communicator, tuning: tuning)
        // Every rank has closed the file (HDF5 closes it collectively); now make it durable
        // and give it its final name, once.
        try communicator.barrier()
        if communicator.rank == 0 {
            FaultInjection.crashIfAsked(at: "checkpoint-before-commit", step: info.step)
            try syncFile(temporary)
            guard rename(temporary, final) == 0 else {
                throw CheckpointError("cannot rename \(temporary) to \(final): \(String(cString: strerror(errno)))")
            }
            try syncFile(directory)
            for old in list(in: directory).dropFirst(keep) {
                try? FileManager.default.removeItem(atPath: old.path)  // A leftover is harmless.
            }
        }
        try communicator.barrier()
        return (final, shape.reduce(1, *) * 8 * state.count)
    }

    private static func writeContents(
        _ info: CheckpointInfo, state: [Field], shape: [Int], path: String, communicator: Communicator,
        tuning: FileTuning
    ) throws {
        let file = try HDF5.File.create(
            path, communicator: communicator, overwrite: true, checksummedMetadata: true, tuning: tuning)
        let root = try file.root
        let attributes = root.attributes
        try attributes.setAttribute("step", .int(info.step))
        try attributes.setAttribute("time", .double(info.time))
        try attributes.setAttribute("dt", .double(info.dt))
        try attributes.setAttribute("results_frames", .int(info.frames))
        try attributes.setAttribute("model", .string(info.model))
        // As JSON, read back into the typed value a restart compares.
        let physics = String(decoding: try JSONEncoder().encode(info.physics), as: UTF8.self)
        try attributes.setAttribute("physics", .string(physics))
        try attributes.setAttribute("tessera_config", .string(info.configText))
        try attributes.setAttribute("tessera_version", .string(info.version))
        try attributes.setAttribute("tessera_ranks", .int(info.ranks))
        try attributes.setAttribute("tessera_process_grid", .ints(info.processGrid))
        try attributes.setAttribute("field_names", .strings(info.fields))
        try attributes.setAttribute("rng_state", .ints(info.randomState))
        let group = try root.createGroup("fields")
        for field in state {
            let layout = field.layout
            // Contiguous, not chunked: parallel HDF5 1.10 writes chunked data (with or without
            // a Fletcher32 filter) at a third of the contiguous rate here; see docs/benchmarks.md.
            let dataset = try group.createDataset(field.name, of: Double.self, shape: shape)
            try dataset.write(
                UnsafeBufferPointer(field.storage), start: layout.owned.lower, count: layout.extent,
                memory: MemoryBlock(shape: layout.allocated, start: layout.ghost))
            let sum = try communicator.allReduce(StateChecksum.partial(field, shape: shape), .sum)
            try dataset.attributes.setAttribute(StateChecksum.attribute, .int(Int(Int64(bitPattern: sum))))
        }
        try file.flush()
    }

    /// Reads the metadata of the checkpoint at `path` (one process, no field data).
    public static func info(at path: String) throws -> CheckpointInfo {
        try info(of: HDF5.File.open(path).root)
    }

    static func info(of root: Group) throws -> CheckpointInfo {
        let a = root.attributes
        func int(_ name: String) throws -> Int {
            guard case .int(let v) = try a.attribute(name) else {
                throw CheckpointError("attribute \(name) is missing")
            }
            return v
        }
        func double(_ name: String) throws -> Double {
            guard case .double(let v) = try a.attribute(name) else {
                throw CheckpointError("attribute \(name) is missing")
            }
            return v
        }
        func string(_ name: String) throws -> String {
            guard case .string(let v) = try a.attribute(name) else {
                throw CheckpointError("attribute \(name) is missing")
            }
            return v
        }
        func ints(_ name: String) throws -> [Int] {
            switch try a.attribute(name) {
            case .ints(let v): return v
            case .int(let v): return [v]
            default: throw CheckpointError("attribute \(name) is missing")
            }
        }
        func physics(_ text: String) throws -> PhysicsKey {
            do { return try JSONDecoder().decode(PhysicsKey.self, from: Data(text.utf8)) } catch {
                throw CheckpointError(
                    "attribute physics cannot be read (a checkpoint of an earlier Tessera, or damaged): \(error)")
            }
        }
        guard case .strings(let fields) = try a.attribute("field_names") else {
            throw CheckpointError("attribute field_names is missing")
        }
        // Counts and times a run would compute with: out of range means damage, not a run to continue.
        let (step, frames, ranks) = (try int("step"), try int("results_frames"), try int("tessera_ranks"))
        let (time, dt) = (try double("time"), try double("dt"))
        guard step >= 0, frames >= 0, ranks >= 1, time.isFinite, dt.isFinite, dt > 0 else {
            throw CheckpointError(
                "its metadata is out of range (step \(step), results_frames \(frames), tessera_ranks \(ranks), "
                    + "time \(time), dt \(dt)): damaged")
        }
        return CheckpointInfo(
            step: step, time: time, dt: dt, frames: frames,
            model: try string("model"), physics: try physics(string("physics")),
            configText: try string("tessera_config"),
            version: try string("tessera_version"), ranks: ranks,
            processGrid: try ints("tessera_process_grid"), fields: fields, randomState: try ints("rng_state"))
    }

    /// Reads this rank's block of every field from the checkpoint at `path` into `state`.
    /// Each rank opens the file on its own; there is no collective call inside.
    /// Every rank must call it; the reads are independent, so a rank that meets damage fails
    /// alone, and the caller agrees on the outcome afterwards. Returns the metadata and, per
    /// field, this rank's part of the checksum with the stored total, for ``verify(_:fields:communicator:)``.
    ///
    /// `scratch` is memory of the same layout whose contents may be overwritten (the state the
    /// next step writes into): each field is read into it contiguously, a slab of about
    /// `slabBytes` at a time, then unpacked and summed while the slab is still in cache.
    /// Measured here on a cold cache, reading straight into the field's owned cells among its
    /// ghosts took twice as long, and one read of the whole block ran at half the rate of slabs.
    public static func read(
        _ path: String, into state: [Field], scratch: Field, gridShape: [Int], slabBytes: Int = 4 << 20
    ) throws -> (info: CheckpointInfo, sums: [(partial: UInt64, stored: UInt64)]) {
        // Each rank opens the file on its own with HDF5's POSIX driver: a read needs no collective
        // operation, so a rank that meets damage fails alone and none waits for it.
        let file = try HDF5.File.open(path)
        let root = try file.root
        let info = try info(of: root)
        guard info.fields == state.map(\.name) else {
            throw CheckpointError("it holds the fields \(info.fields), the model has \(state.map(\.name))")
        }
        let group = try root.openGroup("fields")
        var sums: [(UInt64, UInt64)] = []
        for field in state {
            let layout = field.layout
            let dataset = try group.openDataset(field.name)
            let shape = try dataset.shape
            guard shape == gridShape else {
                throw CheckpointError(
                    "field \(field.name) is a grid of \(shape) cells, this run's grid is \(gridShape)")
            }
            // Slabs of whole planes along the first axis; the kernel's read-ahead fetches the
            // next slab while this one is unpacked and summed.
            let plane = layout.interior.count / max(layout.extent[0], 1)
            let planes = max(1, min(layout.extent[0], slabBytes / max(plane * MemoryLayout<Double>.stride, 1)))
            let buffer = UnsafeMutableBufferPointer(rebasing: scratch.storage[0..<(planes * plane)])
            var partial: UInt64 = 0
            for first in stride(from: 0, to: layout.extent[0], by: planes) {
                var slab = layout.interior
                slab.lower[0] = first
                slab.upper[0] = min(first + planes, layout.extent[0])
                let global = Box(
                    lower: zip(slab.lower, layout.owned.lower).map(+), upper: zip(slab.upper, layout.owned.lower).map(+)
                )
                let values = UnsafeMutableBufferPointer(rebasing: buffer[0..<slab.count])
                try dataset.read(into: values, start: global.lower, count: global.extent)
                field.unpack(slab, from: UnsafePointer(values.baseAddress!))
                partial &+= StateChecksum.partial(UnsafeBufferPointer(values), block: global, shape: shape)
            }
            sums.append((partial, try StateChecksum.stored(on: dataset)))
        }
        return (info, sums)
    }

    /// Checks the checksums ``read(_:into:)`` returned, over all ranks:
    /// throws on every rank alike if any field's data does not add up to its stored checksum.
    public static func verify(_ sums: [(partial: UInt64, stored: UInt64)], fields: [String], communicator: Communicator)
        throws
    {
        var totals = sums.map(\.partial)
        try communicator.allReduce(&totals, .sum)
        for (index, total) in totals.enumerated() where total != sums[index].stored {
            throw CheckpointError("the data of field \(fields[index]) does not match its checksum")
        }
    }

    /// Reads every field of the checkpoint at `path` in full on one process, so that every
    /// checksum is checked. Throws what is wrong; returns the metadata when all is well.
    public static func verify(_ path: String) throws -> CheckpointInfo {
        let root = try HDF5.File.open(path).root
        let info = try info(of: root)
        let group = try root.openGroup("fields")
        for name in info.fields {
            let dataset = try group.openDataset(name)
            let shape = try dataset.shape
            // Read whole, so its size must be one a run could have written: damage otherwise.
            guard let cells = GridSize.cells(shape) else {
                throw CheckpointError("field \(name) claims \(shape) cells, more than any grid: damaged")
            }
            var data = [Double](repeating: 0, count: cells)
            try data.withUnsafeMutableBufferPointer { buffer in
                try dataset.read(into: buffer, start: shape.map { _ in 0 }, count: shape)
            }
            let sum = data.withUnsafeBufferPointer {
                StateChecksum.partial($0, block: Box(extent: shape), shape: shape)
            }
            guard sum == (try StateChecksum.stored(on: dataset)) else {
                throw CheckpointError("the data of field \(name) does not match its checksum")
            }
        }
        return info
    }

    /// Flushes a file or folder to stable storage.
    static func syncFile(_ path: String) throws {
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else {
            throw CheckpointError("cannot open \(path) to sync it: \(String(cString: strerror(errno)))")
        }
        defer { close(descriptor) }
        guard fsync(descriptor) == 0 else {
            throw CheckpointError("fsync of \(path) failed: \(String(cString: strerror(errno)))")
        }
    }
}

/// A checksum of a global array that does not depend on how the array is split over ranks:
/// the wrapping sum, over every element, of a 64-bit mix of its global index and its bits.
/// Each rank sums its own block and one reduction adds the parts. A changed bit, a moved
/// element or a missing block changes the sum, except with probability about 2^-64.
///
/// Checkpoints use this rather than HDF5's Fletcher32 filter, which needs chunked storage:
/// parallel HDF5 1.10 writes chunked data at a third of the contiguous rate on this machine.
public enum StateChecksum {
    /// The attribute each checkpoint dataset carries its checksum in (as a signed 64-bit
    /// integer with the checksum's bits).
    public static let attribute = "tessera_checksum"

    /// This block's part of the checksum of a global array of `shape`; `values` hold the
    /// block's elements in C order.
    public static func partial(_ values: UnsafeBufferPointer<Double>, block: Box, shape: [Int]) -> UInt64 {
        var position = 0
        return sumRows(of: block, shape: shape) { _, length in
            defer { position &+= length }
            return UnsafePointer(values.baseAddress! + position)
        }
    }

    /// This rank's part of the checksum of a field: its owned cells, read in place.
    public static func partial(_ field: Field, shape: [Int]) -> UInt64 {
        let layout = field.layout
        return sumRows(of: layout.owned, shape: shape) { start, _ in
            UnsafePointer(field.base + layout.offset(zip(start, layout.owned.lower).map(-)))
        }
    }

    /// Sums the mixed elements of `block` (global indices) row by row along the last axis;
    /// `row` gives the memory of the row starting at a global point.
    private static func sumRows(
        of block: Box, shape: [Int], _ row: (_ start: [Int], _ length: Int) -> UnsafePointer<Double>
    ) -> UInt64 {
        guard !block.isEmpty else { return 0 }
        let last = block.dimensions - 1
        let length = block.extent[last]
        var rows = block
        rows.upper[last] = block.lower[last] + 1
        var sum: UInt64 = 0
        rows.forEachPoint { start in
            var flat = 0
            for axis in start.indices { flat = flat &* shape[axis] &+ start[axis] }
            let values = row(start, length)
            for i in 0..<length { sum = sum &+ mix(UInt64(flat &+ i), values[i].bitPattern) }
        }
        return sum
    }

    /// The checksum stored on `dataset`.
    static func stored(on dataset: Dataset) throws -> UInt64 {
        guard case .int(let value) = try dataset.attributes.attribute(attribute) else {
            throw CheckpointError("a field has no checksum")
        }
        return UInt64(bitPattern: Int64(value))
    }

    /// SplitMix64's finaliser over the index and the bits.
    @inline(__always)
    static func mix(_ index: UInt64, _ bits: UInt64) -> UInt64 {
        var z = bits ^ (index &* 0x9E37_79B9_7F4A_7C15)
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// A checkpoint problem that is not HDF5's own.
public struct CheckpointError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Crashes this process at a named point when `TESSERA_FAULT` asks for it, so tests can check
/// what a crash at exactly that instant leaves behind. `TESSERA_FAULT=checkpoint-before-commit@200`
/// kills rank 0 with SIGKILL after the checkpoint of step 200 is written but before it is
/// renamed into place; `frame-write@7` kills every rank after it has written its block of
/// frame 7 into results.hdf5 and before the file is flushed. Unset in normal runs; costs one
/// environment lookup per checkpoint and per frame.
public enum FaultInjection {
    static func crashIfAsked(at point: String, step: Int) {
        guard let spec = ProcessInfo.processInfo.environment["TESSERA_FAULT"], spec == "\(point)@\(step)" else {
            return
        }
        kill(getpid(), SIGKILL)
    }
}
