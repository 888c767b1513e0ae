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
    /// The time step; with adaptive steps, the last step before it was shortened to land on
    /// a frame, which the next may grow from.
    public let dt: Double
    /// Frames in results.hdf5 when the checkpoint was taken (frame indices 0..<frames).
    public let frames: Int
    /// Steps between frames in the run that wrote it; 0 for a run of adaptive steps.
    public let outputEvery: Int
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
        step: Int, time: Double, dt: Double, frames: Int, outputEvery: Int, model: String, physics: PhysicsKey,
        configText: String, version: String, ranks: Int, processGrid: [Int], fields: [String], randomState: [Int] = []
    ) {
        self.step = step
        self.time = time
        self.dt = dt
        self.frames = frames
        self.outputEvery = outputEvery
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

    /// The step a checkpoint's file name gives, or nil for a name of another form.
    public static func step(named name: String) -> Int? {
        guard name.hasPrefix(prefix), name.hasSuffix(suffix) else { return nil }
        let digits = name.dropFirst(prefix.count).dropLast(suffix.count)
        guard !digits.isEmpty, digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber) else { return nil }
        return Int(digits)
    }

    /// Throws unless the `fields` group holds exactly the datasets the metadata names.
    static func checkMembers(of group: Group, _ info: CheckpointInfo) throws {
        let members = try group.members().map(\.name).sorted()
        guard members == info.fields.sorted() else {
            throw CheckpointError(
                "its fields group holds \(members), its metadata names \(info.fields): damaged or edited")
        }
    }

    /// Throws unless the step in the name of the file at `path` (if it is named like a
    /// checkpoint) is the step its metadata records: a renamed or copied file must not pass
    /// for another step's.
    static func checkName(_ path: String, _ info: CheckpointInfo) throws {
        let name = (path as NSString).lastPathComponent
        if let named = step(named: name), named != info.step {
            throw CheckpointError("its name says step \(named) but it holds step \(info.step): renamed or damaged")
        }
    }

    /// Committed checkpoints in `directory`, newest first: regular files (or links to them)
    /// with a checkpoint's name, so that a FIFO or a device named like one cannot block a restart.
    public static func list(in directory: String) -> [(step: Int, path: String)] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.compactMap { name -> (Int, String)? in
            guard let step = step(named: name) else { return nil }
            let path = (directory as NSString).appendingPathComponent(name)
            return HDF5.File.isRegularFile(path) ? (step, path) : nil
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
        // Every rank has closed the file (HDF5 closes it collectively). MPI-IO can lose a short
        // write on a full disk without an error (Open MPI 4.1's OMPIO does), so each rank reads
        // its block back and the checksums must match before the file may replace older ones.
        try communicator.barrier()
        let readBack = Result {
            try read(temporary, fields: state.map(\.name), layout: state[0].layout, gridShape: shape)
        }
        var message = ""
        if case .failure(let error) = readBack { message = "\(error)" }
        let failing = try communicator.allReduce(Int64(message.isEmpty ? 0 : 1), .max)
        func unreadable(_ reason: String) -> CheckpointError {
            var space = statvfs()
            let free =
                statvfs(directory, &space) == 0 ? " (\(Int(space.f_bavail) * Int(space.f_frsize)) bytes free)" : ""
            return CheckpointError(
                "the checkpoint \(temporary) does not read back as written (\(reason)): is the disk full\(free)? "
                    + "The earlier checkpoints are kept", onEveryRank: true)
        }
        guard failing == 0, case .success(let read) = readBack else {
            throw unreadable(message.isEmpty ? "on another rank" : message)
        }
        do {
            try verify(read.sums, fields: read.info.fields, communicator: communicator)
        } catch {
            throw unreadable("\(error)")
        }
        // Now make it durable and give it its final name, once.
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
        try attributes.setAttribute("output_every", .int(info.outputEvery))
        try attributes.setAttribute("model", .string(info.model), strings: .fixedLength)
        // As JSON, read back into the typed value a restart compares.
        // Keys sorted: every rank must write, and hash, the same text (a dictionary's order
        // differs from process to process).
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let physics = String(decoding: try encoder.encode(info.physics), as: UTF8.self)
        try attributes.setAttribute("physics", .string(physics), strings: .fixedLength)
        try attributes.setAttribute("tessera_config", .string(info.configText), strings: .fixedLength)
        try attributes.setAttribute("tessera_version", .string(info.version), strings: .fixedLength)
        try attributes.setAttribute("tessera_ranks", .int(info.ranks))
        try attributes.setAttribute("tessera_process_grid", .ints(info.processGrid))
        try attributes.setAttribute("field_names", .strings(info.fields), strings: .fixedLength)
        try attributes.setAttribute("rng_state", .ints(info.randomState))
        let group = try root.createGroup("fields")
        var sums: [UInt64] = []
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
            sums.append(sum)
        }
        let checksum = MetadataChecksum.of(info, physicsText: physics, fieldSums: sums)
        try attributes.setAttribute(MetadataChecksum.attribute, .int(Int(Int64(bitPattern: checksum))))
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
        guard case .int(let stored) = try a.attribute(MetadataChecksum.attribute) else {
            throw CheckpointError(
                "it has no \(MetadataChecksum.attribute) (written by a Tessera older than this one, or damaged)")
        }
        let (step, frames, ranks) = (try int("step"), try int("results_frames"), try int("tessera_ranks"))
        let (time, dt, every) = (try double("time"), try double("dt"), try int("output_every"))
        let physicsText = try string("physics")
        let info = CheckpointInfo(
            step: step, time: time, dt: dt, frames: frames, outputEvery: every,
            model: try string("model"), physics: try physics(physicsText),
            configText: try string("tessera_config"),
            version: try string("tessera_version"), ranks: ranks,
            processGrid: try ints("tessera_process_grid"), fields: fields, randomState: try ints("rng_state"))
        let group = try root.openGroup("fields")
        try checkMembers(of: group, info)
        let sums = try fields.map { try StateChecksum.stored(on: group.openDataset($0)) }
        guard MetadataChecksum.of(info, physicsText: physicsText, fieldSums: sums) == UInt64(bitPattern: Int64(stored))
        else {
            throw CheckpointError(
                "its metadata does not match its checksum (step, time, frames, settings or the fields' checksums "
                    + "were changed): damaged")
        }
        // Counts and times a run would compute with: out of range means damage, not a run to continue.
        // output_every 0 is a run of adaptive steps, whose frames do not follow from the step.
        let framesFit = every >= 1 ? frames == step / every + 1 : every == 0 && frames >= 1 && frames <= step + 1
        guard step >= 0, frames >= 0, every >= 0, ranks >= 1, time.isFinite, dt.isFinite, dt > 0, framesFit else {
            throw CheckpointError(
                "its metadata is out of range (step \(step), results_frames \(frames), output_every \(every), "
                    + "tessera_ranks \(ranks), time \(time), dt \(dt)): damaged")
        }
        return info
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
        let layout = state[0].layout
        let slab = layout.interior.count / max(layout.extent[0], 1) * MemoryLayout<Double>.stride
        let planes = max(1, min(layout.extent[0], slabBytes / max(slab, 1)))
        let buffer = UnsafeMutableBufferPointer(rebasing: scratch.storage[0..<(planes * slab / 8)])
        return try read(path, fields: state.map(\.name), layout: layout, gridShape: gridShape, buffer: buffer) {
            state[$0].unpack($1, from: $2)
        }
    }

    /// Reads this rank's block (of `layout`) of every field of the checkpoint at `path`, slab
    /// by slab into `buffer` (or a buffer of its own), handing each slab to `unpack` while it
    /// is still in cache, and returns the metadata and, per field, this rank's part of the
    /// checksum with the stored total. One process; no collective call.
    static func read(
        _ path: String, fields names: [String], layout: LocalLayout, gridShape: [Int],
        buffer given: UnsafeMutableBufferPointer<Double>? = nil,
        unpack: (_ field: Int, _ slab: Box, _ values: UnsafePointer<Double>) -> Void = { _, _, _ in }
    ) throws -> (info: CheckpointInfo, sums: [(partial: UInt64, stored: UInt64)]) {
        // Each rank opens the file on its own with HDF5's POSIX driver: a read needs no collective
        // operation, so a rank that meets damage fails alone and none waits for it.
        let file = try HDF5.File.open(path)
        let root = try file.root
        let info = try info(of: root)
        try checkName(path, info)
        guard info.fields == names else {
            throw CheckpointError("it holds the fields \(info.fields), the model has \(names)")
        }
        guard info.physics.shape == gridShape else {
            throw CheckpointError("it is a grid of \(info.physics.shape) cells, this run's grid is \(gridShape)")
        }
        // Slabs of whole planes along the first axis; the kernel's read-ahead fetches the
        // next slab while this one is unpacked and summed.
        let plane = layout.interior.count / max(layout.extent[0], 1)
        let owned =
            given == nil
            ? UnsafeMutableBufferPointer<Double>.allocate(
                capacity: min(layout.interior.count, max(plane, (4 << 20) / 8))) : nil
        defer { owned?.deallocate() }
        let buffer = given ?? owned!
        let planes = max(1, min(layout.extent[0], buffer.count / max(plane, 1)))
        let group = try root.openGroup("fields")
        var sums: [(UInt64, UInt64)] = []
        for (index, name) in names.enumerated() {
            let dataset = try group.openDataset(name)
            let shape = try dataset.shape
            guard shape == gridShape else {
                throw CheckpointError("field \(name) is a grid of \(shape) cells, this run's grid is \(gridShape)")
            }
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
                unpack(index, slab, UnsafePointer(values.baseAddress!))
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
        try checkName(path, info)
        let group = try root.openGroup("fields")
        for name in info.fields {
            let dataset = try group.openDataset(name)
            let shape = try dataset.shape
            guard shape == info.physics.shape else {
                throw CheckpointError(
                    "field \(name) is a grid of \(shape) cells, the checkpoint's is \(info.physics.shape): damaged")
            }
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

/// A checksum over everything a restart takes from a checkpoint besides the field data: the
/// step, time, dt, frames, output interval, model, physics, config, version, decomposition,
/// field names, random state and every field's ``StateChecksum``. A changed value, or fields
/// taken from another checkpoint, fails it; the field checksums in turn cover the data.
///
/// FNV-1a over a canonical text of those values (doubles by their bits), finished with
/// SplitMix64's mix: damage detection, not protection against forgery.
public enum MetadataChecksum {
    /// The root attribute holding it (a signed 64-bit integer with the checksum's bits).
    public static let attribute = "tessera_metadata_checksum"

    /// The checksum of `info`, whose physics is stored as `physicsText` (hashed as stored,
    /// so that it does not depend on how a JSON encoder formats numbers), and of the fields'
    /// checksums.
    public static func of(_ info: CheckpointInfo, physicsText: String, fieldSums: [UInt64]) -> UInt64 {
        func list<T>(_ values: [T]) -> String { values.map { "\($0)" }.joined(separator: "\u{1F}") }
        let items: [String] = [
            "step=\(info.step)", "time=\(info.time.bitPattern)", "dt=\(info.dt.bitPattern)", "frames=\(info.frames)",
            "output_every=\(info.outputEvery)", "model=\(info.model)", "physics=\(physicsText)",
            "config=\(info.configText)", "version=\(info.version)", "ranks=\(info.ranks)",
            "process_grid=\(list(info.processGrid))", "fields=\(list(info.fields))", "rng=\(list(info.randomState))",
            "sums=\(list(fieldSums))",
        ]
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for item in items {
            // Each item with its length, so that no two lists of items give the same bytes.
            for byte in "\(item.utf8.count):\(item)".utf8 {
                hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3
            }
        }
        return StateChecksum.mix(UInt64(items.count), hash)
    }
}

/// A checkpoint problem that is not HDF5's own.
public struct CheckpointError: Error, CustomStringConvertible, Sendable {
    public let description: String
    /// Whether every rank threw it alike, after agreeing (so none waits for another).
    public let onEveryRank: Bool
    public init(_ description: String, onEveryRank: Bool = false) {
        self.description = description
        self.onEveryRank = onEveryRank
    }
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
