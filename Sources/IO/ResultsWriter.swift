import Engine
import Foundation
import Grid
import HDF5
import MPI
import Settings

/// Who wrote a file and from what, stored as root attributes of every file Tessera writes.
public struct Provenance: Sendable {
    public let version: String
    public let configText: String
    public let ranks: Int
    public let processGrid: [Int]

    public init(version: String, configText: String, ranks: Int, processGrid: [Int]) {
        self.version = version
        self.configText = configText
        self.ranks = ranks
        self.processGrid = processGrid
    }
}

/// Writes one trajectory in The Well's layout to `results.hdf5`, collectively from every rank:
/// each rank writes its own block of each frame, with no gather to rank 0.
///
/// Layout: root attributes (`dataset_name`, `grid_type`, `n_spatial_dims`, `n_trajectories`,
/// `simulation_parameters` and one attribute per parameter, plus `tessera_*` provenance);
/// `dimensions/` with `time` and cell-centre coordinates; `boundary_conditions/` one subgroup
/// per axis; `scalars/` with the model's constants and, for each conserved component, a
/// float64 time series `total_<name>` of shape `[1, T]`; `t0_fields/`, `t1_fields/`,
/// `t2_fields/` with float32 datasets of shape `[1, T, spatial...]` followed by `D` (vectors)
/// or `D, D` (tensors), whose components are the state's `name_x`, `name_y`, ... fields. The
/// time axis grows by one per frame. A model with receivers also gets a `receivers` group:
/// `coordinates` `[R, D]`, `time` `[S]` and `traces` `[R, S]` (float64), one sample per step,
/// attribute `components` naming what each receiver records. The
/// time axis grows by one per frame,
/// so a run stopped early leaves a readable file with the frames written so far. Chunks are
/// one frame of at most 2^18 cells and depend only on the grid, so the file is the same
/// whichever number of ranks wrote it.
public final class ResultsWriter: FrameWriter {
    let file: HDF5.File
    let layout: LocalLayout
    let isWriter: Bool
    /// The field datasets, each with the position of its field among the staged frame's.
    let fields: [(spec: FieldSpec, dataset: Dataset, segment: Int)]
    /// `scalars/total_<name>` for each conserved component.
    let totals: [Dataset]
    /// `receivers/traces` and `receivers/time`, and how many receivers there are.
    let receivers: (traces: Dataset, time: Dataset, count: Int)?
    let communicator: Communicator
    let time: Dataset
    let shape: [Int]
    let geometry: Geometry
    /// The fields the writer was made for, in their order.
    let specs: [FieldSpec]
    public let precision: FramePrecision
    /// Whether every frame is flushed to disk as it is written, or only at ``finish()``.
    let flushEveryFrame: Bool
    /// Whether the ranks meet in a barrier that waits asleep before each frame's collective
    /// calls: for a writer on a thread of its own, which would otherwise spin in them while
    /// the other ranks' writers catch up, taking the CPU from the steps.
    public var meetsAsleep = false
    private var times: [Double]
    /// `results.vtkhdf`, ParaView's view of the frames (rank 0 writes it), and where it goes.
    let paraView: (description: ParaViewDescription, path: String)?
    /// When results.vtkhdf was last brought up to date, and with how many frames.
    private var paraViewWritten: (at: ContinuousClock.Instant, frames: Int)?

    private init(
        file: HDF5.File, path: String, communicator: Communicator, geometry: Geometry,
        specs: [FieldSpec], fields: [(spec: FieldSpec, dataset: Dataset)], totals: [Dataset],
        receivers: (traces: Dataset, time: Dataset, count: Int)?, time: Dataset, times: [Double],
        precision: FramePrecision, flush: FlushPolicy
    ) {
        let outputs = specs.filter(\.isOutput).map(\.name)
        self.fields = fields.map { ($0.spec, $0.dataset, outputs.firstIndex(of: $0.spec.name)!) }
        self.file = file
        self.communicator = communicator
        self.receivers = receivers
        self.layout = geometry.layout
        self.isWriter = communicator.rank == 0
        self.shape = geometry.shape
        self.geometry = geometry
        self.specs = specs
        self.totals = totals
        self.time = time
        self.times = times
        self.precision = precision
        self.flushEveryFrame = flush == .everyFrame
        self.paraView =
            isWriter
            ? (
                ParaViewDescription(
                    dataFile: (path as NSString).lastPathComponent, shape: geometry.shape, spacing: geometry.spacing,
                    fields: specs.filter(\.isOutput).map { ($0.name, $0.tensorOrder) }, double: precision == .double),
                ParaViewDescription.path(describing: path)
            ) : nil
    }

    /// When the file is flushed to disk: after every frame, so that a run that dies leaves a
    /// file with every frame but the one in flight; or only when ``finish()`` is called (at
    /// checkpoints and at the end), which saves a flush per frame but may leave a file that
    /// does not open after a crash between checkpoints (restart cuts it back and rewrites).
    public enum FlushPolicy: String, Sendable, CaseIterable {
        case everyFrame = "frame"
        case atCheckpoints = "checkpoint"
    }

    /// Creates `path` (failing if it exists unless `overwrite`) and writes everything but the
    /// frames. `conserved` names the components whose totals each frame records, `series`
    /// further per-frame scalars (written after the totals). Collective: every rank of
    /// `communicator` calls it with the same arguments.
    public convenience init(
        path: String, communicator: Communicator, geometry: Geometry, fields specs: [FieldSpec],
        conserved: [String] = [], series: [String] = [], receivers: [Receiver] = [],
        constants: [(name: String, value: Double)], boundaries: [BoundaryCondition], boundaryLabels: [String]? = nil,
        datasetName: String,
        provenance: Provenance, overwrite: Bool, precision: FramePrecision = .single,
        flush: FlushPolicy = .everyFrame, tuning: FileTuning = FileTuning()
    ) throws {
        let file = try HDF5.File.create(path, communicator: communicator, overwrite: overwrite, tuning: tuning)
        let isWriter = communicator.rank == 0
        let shape = geometry.shape
        let d = geometry.dimensions
        let axes = ["x", "y", "z"].prefix(d).map { $0 }
        let root = try file.root

        let attrs = root.attributes
        try attrs.setAttribute("dataset_name", .string(datasetName))
        try attrs.setAttribute("grid_type", .string("cartesian"))
        try attrs.setAttribute("n_spatial_dims", .int(d))
        try attrs.setAttribute("n_trajectories", .int(1))
        try attrs.setAttribute("simulation_parameters", .strings(constants.map(\.name)))
        for constant in constants { try attrs.setAttribute(constant.name, .double(constant.value)) }
        try Self.record(provenance, in: attrs)

        let dimensions = try root.createGroup("dimensions")
        try dimensions.attributes.setAttribute("spatial_dims", .strings(axes))
        let time = try dimensions.createDataset("time", of: Double.self, shape: [0], maxShape: [nil], chunk: [1024])
        try time.attributes.setAttribute("sample_varying", .bool(false))
        for (axis, name) in axes.enumerated() {
            let coords = try dimensions.createDataset(name, of: Double.self, shape: [shape[axis]])
            try coords.writeAll(geometry.centres(axis: axis), writer: isWriter)
            try coords.attributes.setAttribute("sample_varying", .bool(false))
            try coords.attributes.setAttribute("time_varying", .bool(false))
        }

        let bcs = try root.createGroup("boundary_conditions")
        for (axis, name) in axes.enumerated() {
            let group = try bcs.createGroup("\(name)_\(boundaries[axis].name)")
            let label = boundaryLabels?[axis] ?? BoundaryRules.any.wellLabel(boundaries[axis])
            try group.attributes.setAttribute("bc_type", .string(label))
            try group.attributes.setAttribute("associated_dims", .strings([name]))
            try group.attributes.setAttribute("associated_fields", .strings(specs.filter(\.isOutput).map(\.name)))
            try group.attributes.setAttribute("sample_varying", .bool(false))
            try group.attributes.setAttribute("time_varying", .bool(false))
            let mask = try group.createBoolDataset("mask", shape: [shape[axis]])
            let n = shape[axis]
            try mask.writeAll((0..<n).map { Int8($0 == 0 || $0 == n - 1 ? 1 : 0) }, writer: isWriter)
            if case .dirichlet(let value) = boundaries[axis] {
                let values = try group.createDataset("values", of: Double.self, shape: [1])
                try values.writeAll([value], writer: isWriter)
            }
        }

        let scalars = try root.createGroup("scalars")
        let totalNames = conserved.map(Self.totalName) + series
        try scalars.attributes.setAttribute("field_names", .strings(constants.map(\.name) + totalNames))
        for constant in constants {
            let dataset = try scalars.createDataset(constant.name, of: Double.self, shape: [])
            try dataset.writeAll([constant.value], writer: isWriter)
            try dataset.attributes.setAttribute("sample_varying", .bool(false))
            try dataset.attributes.setAttribute("time_varying", .bool(false))
        }
        var totals: [Dataset] = []
        for name in totalNames {
            let dataset = try scalars.createDataset(
                name, of: Double.self, shape: [1, 0], maxShape: [nil, nil], chunk: [1, 1024])
            try dataset.attributes.setAttribute("sample_varying", .bool(true))
            try dataset.attributes.setAttribute("time_varying", .bool(true))
            totals.append(dataset)
        }

        var traces: (Dataset, Dataset, Int)?
        if !receivers.isEmpty {
            let group = try root.createGroup("receivers")
            try group.attributes.setAttribute("components", .strings(receivers.map(\.component)))
            let coordinates = try group.createDataset("coordinates", of: Double.self, shape: [receivers.count, d])
            try coordinates.writeAll(receivers.flatMap(\.position), writer: isWriter)
            let time = try group.createDataset("time", of: Double.self, shape: [0], maxShape: [nil], chunk: [4096])
            let samples = try group.createDataset(
                "traces", of: Double.self, shape: [receivers.count, 0], maxShape: [receivers.count, nil],
                chunk: [receivers.count, Swift.max(1, 65536 / receivers.count)])
            traces = (samples, time, receivers.count)
        }

        var made: [(FieldSpec, Dataset)] = []
        for order in 0...2 {
            let group = try root.createGroup("t\(order)_fields")
            let ofOrder = specs.filter { $0.tensorOrder == order && $0.isOutput }
            try group.attributes.setAttribute("field_names", .strings(ofOrder.map(\.name)))
            for spec in ofOrder {
                let components = Array(repeating: d, count: order)
                let extent = [1, 0] + shape + components
                // Unlimited along the trajectories too, so that an ensemble can gather several.
                let maxShape: [Int?] = [nil, nil] + shape.map { $0 } + components.map { $0 }
                let chunks =
                    [1, 1] + Self.chunk(for: shape, values: components.reduce(1, *), bytes: precision.bytes)
                    + components
                let dataset =
                    precision == .single
                    ? try group.createDataset(
                        spec.name, of: Float.self, shape: extent, maxShape: maxShape, chunk: chunks)
                    : try group.createDataset(
                        spec.name, of: Double.self, shape: extent, maxShape: maxShape, chunk: chunks)
                try dataset.attributes.setAttribute("sample_varying", .bool(true))
                try dataset.attributes.setAttribute("time_varying", .bool(true))
                try dataset.attributes.setAttribute("dim_varying", .bools(Array(repeating: true, count: d)))
                made.append((spec, dataset))
            }
        }
        self.init(
            file: file, path: path, communicator: communicator, geometry: geometry, specs: specs, fields: made,
            totals: totals,
            receivers: traces, time: time, times: [], precision: precision, flush: flush)
    }

    /// Reopens the results of an interrupted run to continue after a restart from the
    /// checkpoint at `step`: cuts every time series back to its first `frames` frames, and the
    /// receiver traces to their first `step + 1` samples (dropping what the interrupted run
    /// wrote after its checkpoint), and records this run's provenance. Collective.
    public convenience init(
        resuming path: String, frames: Int, step: Int, schedule: Schedule, communicator: Communicator,
        geometry: Geometry,
        fields specs: [FieldSpec], conserved: [String] = [], receivers: Int = 0, provenance: Provenance,
        flush: FlushPolicy = .everyFrame, tuning: FileTuning = FileTuning()
    ) throws {
        let file = try HDF5.File.open(path, readOnly: false, communicator: communicator, tuning: tuning)
        let root = try file.root
        let time = try root.openGroup("dimensions").openDataset("time")
        let stored = try time.shape[0]
        guard stored >= frames else {
            throw CheckpointError("\(path) holds \(stored) frames, fewer than the \(frames) the checkpoint expects")
        }
        var times = [Double](repeating: 0, count: frames)
        try times.withUnsafeMutableBufferPointer { buffer in
            try time.read(into: buffer, start: [0], count: [frames])
        }
        // The frames kept must be the ones this run would have written: a results file of
        // another run, or of this one at another spacing, is not continued.
        for (index, stored) in times.enumerated() where stored.bitPattern != schedule.time(ofFrame: index).bitPattern {
            throw CheckpointError(
                "\(path) does not hold the frames the checkpoint expects: frame \(index) is at t = \(stored), not "
                    + "\(schedule.time(ofFrame: index)) (results of another run?)")
        }
        try Self.record(provenance, in: root.attributes)
        try time.setExtent([frames])
        var opened: [(FieldSpec, Dataset)] = []
        for spec in specs where spec.isOutput {
            let dataset = try root.openGroup("t\(spec.tensorOrder)_fields").openDataset(spec.name)
            var extent = try dataset.shape
            extent[1] = frames
            try dataset.setExtent(extent)
            opened.append((spec, dataset))
        }
        var totals: [Dataset] = []
        for name in conserved {
            let dataset = try root.openGroup("scalars").openDataset(Self.totalName(name))
            try dataset.setExtent([1, frames])
            totals.append(dataset)
        }
        var traces: (Dataset, Dataset, Int)?
        if receivers > 0 {
            let group = try root.openGroup("receivers")
            let (samples, sampleTimes) = (try group.openDataset("traces"), try group.openDataset("time"))
            guard try sampleTimes.shape[0] >= step + 1 else {
                throw CheckpointError(
                    "\(path) holds fewer receiver samples than the checkpoint at step \(step) expects")
            }
            try samples.setExtent([receivers, step + 1])
            try sampleTimes.setExtent([step + 1])
            traces = (samples, sampleTimes, receivers)
        }
        try file.flush()
        self.init(
            file: file, path: path, communicator: communicator, geometry: geometry, specs: specs, fields: opened,
            totals: totals,
            receivers: traces, time: time, times: times,
            precision: opened.first?.1.elementDescription == "float64" ? .double : .single, flush: flush)
        try updateParaView()
    }

    /// Records who wrote the file; on a restart, the latest run's ranks and process grid.
    private static func record(_ provenance: Provenance, in attributes: Attributes) throws {
        try attributes.setAttribute("tessera_version", .string(provenance.version))
        try attributes.setAttribute("tessera_config", .string(provenance.configText))
        try attributes.setAttribute("tessera_ranks", .int(provenance.ranks))
        try attributes.setAttribute("tessera_process_grid", .ints(provenance.processGrid))
    }

    /// The `scalars` dataset holding the time series of a conserved component's total.
    static func totalName(_ component: String) -> String { "total_\(component)" }

    /// The largest chunk, in bytes: HDF5 allows 4 GiB; a quarter of that keeps every chunk
    /// well inside MPI-IO's and the readers' comfort.
    static let largestChunk = 1 << 28

    /// The chunk of one frame: the whole frame, halving the leading axes while it exceeds
    /// ``largestChunk`` (at `values` values per cell of `bytes` bytes each). Whole frames are what
    /// the readers take (The Well's loader, ParaView), and ranks' blocks fall in few chunks, each
    /// written in one piece. Chunks depend only on the grid, so the file is the same whichever
    /// number of ranks wrote it.
    static func chunk(for shape: [Int], values: Int, bytes: Int) -> [Int] {
        var chunk = shape
        for axis in chunk.indices {
            while chunk.reduce(1, *) * values * bytes > largestChunk && chunk[axis] > 1 {
                chunk[axis] = (chunk[axis] + 1) / 2
            }
        }
        return chunk
    }

    public func write(frame index: Int, time value: Double, staged: StagedFrame, totals values: [Double]) throws {
        try collectively("writing frame \(index) of \(file.path)") {
            try writeFrame(index, time: value, staged: staged, totals: values)
        }
    }

    /// Runs a part of writing the results in which every rank takes part. A failure on some
    /// ranks only (the disk full under `results.vtkhdf`, which rank 0 alone writes, or an error
    /// before a collective call) would leave the others waiting in the next collective call,
    /// and this rank waiting in the collective close of the file as the error unwound; so it
    /// ends the job at once, with the error. (A failed collective HDF5 call already does.)
    private func collectively(_ what: String, _ body: () throws -> Void) throws {
        do { try body() } catch {
            let text = "tessera: error: rank \(communicator.rank): \(what): \(error); aborting every rank\n"
            FileHandle.standardError.write(Data(text.utf8))
            MPIEnvironment.abort(code: 1)
        }
    }

    private func writeFrame(_ index: Int, time value: Double, staged: StagedFrame, totals values: [Double]) throws {
        if meetsAsleep { try communicator.barrierAsleep() }
        let frames = index + 1
        try time.setExtent([frames])
        try [value].withUnsafeBufferPointer { (buffer) throws(HDF5Error) in
            try time.write(buffer, start: [index], count: isWriter ? [1] : [0])
        }
        for (dataset, total) in zip(totals, values) {
            try dataset.setExtent([1, frames])
            try [total].withUnsafeBufferPointer { (buffer) throws(HDF5Error) in
                try dataset.write(buffer, start: [0, index], count: isWriter ? [1, 1] : [1, 0])
            }
        }
        // Each field's block, its components interleaved per cell as they lie along the
        // dataset's last axes, in one collective write.
        for entry in fields {
            let components = Array(repeating: shape.count, count: entry.spec.tensorOrder)
            try entry.dataset.setExtent([1, frames] + shape + components)
            let start = [0, index] + layout.owned.lower + components.map { _ in 0 }
            let count = [1, 1] + layout.extent + components
            switch precision {
            case .single: try entry.dataset.write(staged.single(entry.segment), start: start, count: count)
            case .double: try entry.dataset.write(staged.double(entry.segment), start: start, count: count)
            }
        }
        FaultInjection.crashIfAsked(at: "frame-write", step: index)
        if flushEveryFrame { try file.flush() }
        times.append(value)
        // results.vtkhdf lists every frame's time, so rewriting it each frame costs O(frames²)
        // over a run: rewrite it for every frame while there are few, then at most every 10 s.
        if times.count <= 64 || paraViewWritten.map({ ContinuousClock.now - $0.at > .seconds(10) }) ?? true {
            try updateParaView()
        }
    }

    /// Writes `state` (one ``Field`` per component of the writer's fields) as frame `index` at
    /// `time`, with `series` as the frame's scalars, staged here and now: for files written a
    /// frame at a time outside a run (gradients, inversions). Throws ``NonFiniteState`` on every
    /// rank, writing nothing, if a value is not finite. Collective.
    public func write(frame index: Int, time: Double, state: [Field], series: [Double], reductions: Reductions) throws {
        let statistics = FrameStatistics(fields: specs, conserved: [], geometry: geometry)
        let staged = statistics.makeFrame(precision: precision)
        var guess: [Double]?
        let (bad, _) = try statistics.stage(state, into: staged, reductions: reductions, guess: &guess)
        guard bad.isEmpty else { throw NonFiniteState(step: index, time: time, components: bad) }
        try write(frame: index, time: time, staged: staged, totals: series)
    }

    public func write(traces block: TraceBlock) throws {
        try collectively("writing receiver samples to \(file.path)") { try writeTraces(block) }
    }

    private func writeTraces(_ block: TraceBlock) throws {
        guard let receivers else { return }
        if meetsAsleep { try communicator.barrierAsleep() }
        let count = block.times.count
        // Rank 0 gathers every rank's receivers (each row led by its receiver's index).
        var rows: [Double] = []
        for (index, receiver) in block.receivers.enumerated() { rows += [Double(receiver)] + block.samples[index] }
        let gathered = try communicator.allGather(rows)
        var matrix = [Double](repeating: .nan, count: isWriter ? receivers.count * count : 0)
        if isWriter {
            for part in gathered {
                for row in stride(from: 0, to: part.count, by: count + 1) {
                    let receiver = Int(part[row])
                    for k in 0..<count { matrix[receiver * count + k] = part[row + 1 + k] }
                }
            }
        }
        let end = block.first + count
        try receivers.traces.setExtent([receivers.count, end])
        try receivers.time.setExtent([end])
        try matrix.withUnsafeBufferPointer { (buffer) throws(HDF5Error) in
            try receivers.traces.write(
                buffer, start: [0, block.first], count: isWriter ? [receivers.count, count] : [receivers.count, 0])
        }
        try block.times.withUnsafeBufferPointer { (buffer) throws(HDF5Error) in
            try receivers.time.write(buffer, start: [block.first], count: isWriter ? [count] : [0])
        }
    }

    public func finish() throws {
        try collectively("flushing \(file.path)") {
            if meetsAsleep { try communicator.barrierAsleep() }
            try file.flush()
            if paraViewWritten?.frames != times.count { try updateParaView() }
        }
    }

    private func updateParaView() throws {
        guard let paraView else { return }
        try paraView.description.write(to: paraView.path, times: times)
        paraViewWritten = (ContinuousClock.now, times.count)
    }
}
