import Settings

/// A run's input, validated: every field holds a usable value, or parsing threw an error
/// naming the key.
///
/// ```toml
/// [grid]
/// shape = [64, 64, 64]          # cells per axis, 1 to 3 axes
/// extent = [1.0, 1.0, 1.0]      # physical length per axis (default 1)
/// periodic = [true, true, true] # per axis, or one boolean for all (default true)
/// process_grid = [0, 0, 0]      # ranks per axis, 0 = choose (default: all chosen)
/// halo_depth = 1                # ghost zones this many stencil widths deep, exchanged once
///                               # every halo_depth steps (single-stage models; default 1)
/// tiling = [4, 32]              # halo_depth > 1, 2-D and 3-D: the tiled pass's slab (planes,
///                               # or rows in 2-D) and tile width along y (3-D only); default:
///                               # sized for the L2 cache, widths tried in the first passes
///
/// [boundary]                    # for axes that are not periodic
/// condition = "dirichlet"       # "dirichlet", "neumann" or "reflecting", or a list per axis
///                               # (default: the model's; `tessera models` lists what each takes)
/// value = 0.0                   # Dirichlet value
///
/// [model]
/// name = "heat"                 # see `tessera models`
/// diffusivity = 1.0             # model parameters
///
/// [time]
/// steps = 100                   # or end_time = 0.01 (exactly one of the two)
/// cfl = 0.9                     # fraction of the stable time step, in (0, 1]
/// adaptive = true               # steps that follow the state (default: where the model's
///                               # stable step does, with output.every_time)
/// max_dt_growth = 1.1           # adaptive: the most a step may grow over the one before
///
/// [output]
/// dir = "output"                # results.hdf5 and results.vtkhdf go here
/// every = 10                    # steps between frames, or every_time = 0.01: simulated time
///                               # between frames (needs end_time, a whole number of them)
/// overlap = "auto"              # write frames while the simulation steps on: true, false, or
///                               # "auto" (the default), where each rank has a CPU to spare
/// flush = "frame"               # flush results.hdf5 after every frame, or at "checkpoint"s
/// hints = { cb_nodes = 4 }      # MPI-IO hints; and alignment, as in FileSettings
///
/// [checkpoint]                  # optional
/// every = 1000                  # steps between checkpoints
/// interval = "30m"              # and/or wall time between checkpoints ("90s", "1h30m")
/// keep = 2                      # checkpoints kept (default 2)
///
/// [inversion]                   # for `tessera gradient` and `tessera invert`
/// observed = "true/results.hdf5" # receiver traces to fit (another run's results)
/// memory = "512 MB"             # per rank for forward snapshots (default: keep all)
/// iterations = 10               # invert: optimiser iterations
/// first_step = 0.05             # invert: the first step's largest change, relative to the control
/// ```
public struct RunConfig: Sendable {
    public struct GridSection: Sendable, Equatable {
        public let shape: [Int]
        public let extent: [Double]
        public let periodic: [Bool]
        /// Ranks per axis; 0 entries are chosen at start-up.
        public let processGrid: [Int]
        /// How many stencil widths deep the ghost zone is: the halo is exchanged once every
        /// `haloDepth` steps, and the steps between update the ghosts still valid redundantly.
        public let haloDepth: Int
        /// The tiled pass's slab and tile width (`grid.tiling`), or nil for the engine to
        /// choose: sized for the cache, then the fastest of a few widths tried in the first
        /// passes.
        public let tiling: Tiling?
    }

    /// The input file's text, with any overrides appended as comments.
    public let text: String
    public let grid: GridSection
    /// One condition per axis (``BoundaryCondition/periodic`` on periodic axes).
    public let boundaries: [BoundaryCondition]
    /// The `[boundary] condition` named for each axis, nil where the config names none (the
    /// model's default applies: ``withBoundaryDefault(_:)``).
    public let boundaryNames: [String?]
    /// The model's name.
    public let modelName: String
    /// The `[model]` table without `name`, for the model to validate.
    public let modelTable: [String: ConfigValue]
    public let steps: Int?
    public let endTime: Double?
    public let cfl: Double
    /// `time.adaptive`: true or false where the config says, nil for the model's default.
    public let adaptive: Bool?
    /// The most an adaptive step may grow over the step before.
    public let maxDtGrowth: Double
    public let outputDirectory: String
    /// Steps between frames (1 when `output.every_time` sets the spacing instead).
    public let outputEvery: Int
    /// Simulated time between frames, if set: each interval then takes a whole number of equal
    /// steps, so frames fall exactly on its multiples whatever the time step.
    public let outputEveryTime: Double?
    /// Steps between checkpoints, if set.
    public let checkpointEvery: Int?
    /// Wall-clock seconds between checkpoints, if set.
    public let checkpointInterval: Double?
    /// How many committed checkpoints to keep.
    public let checkpointKeep: Int
    /// The shortest wait for other ranks (seconds) after which the job is ended as hung
    /// (`[run] watchdog`, default 300); nil when turned off (`watchdog = false`).
    public let watchdog: Double?
    /// Whether frames are written while the simulation steps on.
    public let outputOverlap: Overlap

    /// When output overlaps the steps (`[output] overlap`).
    public enum Overlap: String, Sendable, Equatable {
        /// Where every rank on a node has a CPU to spare for the output's threads (the default).
        case auto
        /// Always, where MPI allows threads (`true`).
        case always
        /// Never: frames are written between steps (`false`).
        case never
    }
    /// When results.hdf5 is flushed to disk: `"frame"` (after every frame) or `"checkpoint"`.
    public let outputFlush: String
    /// How results.hdf5 and the checkpoints meet the file system.
    public let outputFiles: FileSettings
    public let checkpointFiles: FileSettings

    /// MPI-IO hints and HDF5 alignment for one kind of file (`[output]` or `[checkpoint]`):
    ///
    /// ```toml
    /// hints = { striping_factor = 8, striping_unit = 4194304, romio_cb_write = "enable" }
    /// alignment = "4 MiB"               # objects start on multiples of this (the stripe size)
    /// alignment_threshold = "64 KiB"    # for objects at least this large (default 64 KiB)
    /// ```
    public struct FileSettings: Sendable, Equatable {
        /// MPI-IO hints, as MPI takes them: text values.
        public let hints: [String: String]
        /// The alignment boundary in bytes, if set.
        public let alignment: Int?
        /// Objects at least this large are aligned.
        public let alignmentThreshold: Int

        public init(hints: [String: String] = [:], alignment: Int? = nil, alignmentThreshold: Int = 65536) {
            self.hints = hints
            self.alignment = alignment
            self.alignmentThreshold = alignmentThreshold
        }

        static let keys: Set<String> = ["hints", "alignment", "alignment_threshold"]

        init(_ section: Section) throws(ConfigError) {
            var hints: [String: String] = [:]
            if let value = section.table["hints"] {
                guard case .table(let table) = value else {
                    throw ConfigError(
                        "\(section.name).hints",
                        "must be a table of MPI-IO hints, such as { striping_factor = 8, cb_nodes = 4 }")
                }
                for (key, item) in table {
                    switch item {
                    case .string(let text): hints[key] = text
                    case .int(let number): hints[key] = String(number)
                    case .bool(let flag): hints[key] = flag ? "true" : "false"
                    default:
                        throw ConfigError(
                            "\(section.name).hints.\(key)", "must be text or an integer, got a \(item.typeName)")
                    }
                }
            }
            self.hints = hints
            alignment = try section.optionalBytes("alignment")
            alignmentThreshold = try section.optionalBytes("alignment_threshold") ?? 65536
        }
    }

    /// The `[inversion]` section: what `tessera gradient` and `tessera invert` fit, and how.
    public struct InversionSection: Sendable, Equatable {
        /// The results file whose receiver traces are the observed data.
        public let observed: String?
        /// Bytes per rank for the forward states the backward pass needs; nil keeps them all.
        public let memory: Int?
        public let iterations: Int
        public let firstStep: Double
    }

    public let inversion: InversionSection
    /// The `[ensemble]` section, for `tessera ensemble`.
    public let ensemble: EnsembleSection?

    static let sections: [String: Set<String>] = [
        "inversion": ["observed", "memory", "iterations", "first_step"],
        "ensemble": EnsembleSection.keys,
        "grid": ["shape", "extent", "periodic", "process_grid", "halo_depth", "tiling"],
        "boundary": ["condition", "value"],
        "model": [],
        "time": ["steps", "end_time", "cfl", "adaptive", "max_dt_growth"],
        "output": Set(["dir", "every", "every_time", "overlap", "flush"]).union(FileSettings.keys),
        "checkpoint": Set(["every", "interval", "keep"]).union(FileSettings.keys),
        "run": ["watchdog"],
    ]

    /// Every section and key as read (overrides applied), for configs derived from this one
    /// (``setting(_:to:)``) without reading text again.
    public let table: [String: ConfigValue]

    /// Parses and validates `text`, after applying `overrides` of the form `section.key=value`.
    public init(text: String, overrides: [String] = []) throws(ConfigError) {
        let (root, provenance) = try Self.read(text: text, overrides: overrides)
        try self.init(table: root, text: provenance)
    }

    /// Reads `text` and applies `overrides`: the table to validate, and the text to record as
    /// the config's provenance (with the overrides as comments).
    static func read(text: String, overrides: [String]) throws(ConfigError) -> ([String: ConfigValue], String) {
        var root = try TOMLReader.read(text)
        for override in overrides {
            guard let equals = override.firstIndex(of: "=") else {
                throw ConfigError("", "--set \(override): expected section.key=value")
            }
            let path = override[..<equals].split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            guard path.count >= 2, path.allSatisfy({ !$0.isEmpty }) else {
                throw ConfigError(
                    "",
                    "--set \(override): expected section.key=value (or section.table.key=value, as "
                        + "ensemble.parameters.diffusivity=...)")
            }
            root = try Self.setting(
                root, path: path, TOMLReader.value(String(override[override.index(after: equals)...])))
        }
        return (root, text + overrides.map { "\n# --set \($0)" }.joined())
    }

    /// Validates the config `text` (after `overrides`) with `check`, the checks that need more
    /// than the config alone (the model's parameters and boundaries, the decomposition), and
    /// reports every problem at once: after each error it sets aside the key the error names
    /// and validates again, until the rest is valid, an error names no key it can set aside,
    /// or one follows only from a key set aside (a required key, now missing, or its section
    /// incomplete). One problem is thrown as it is; several as one ``ConfigProblems``.
    public static func validated<T>(text: String, overrides: [String] = [], _ check: (RunConfig) throws -> T)
        throws -> T
    {
        let (root, provenance) = try read(text: text, overrides: overrides)
        var table = root
        var problems: [any Error] = []
        var setAside: Set<String> = []
        while problems.count < 20 {
            do {
                let result = try check(RunConfig(table: table, text: provenance))
                if problems.isEmpty { return result }
                break
            } catch let error as ConfigError {
                // An error about a key set aside, or about the section or key it belonged to
                // ("give one of steps and end_time" once steps is set aside), is its echo.
                let echoes = setAside.contains {
                    $0 == error.key || $0.hasPrefix(error.key + ".") || error.key.hasPrefix($0 + ".")
                }
                if echoes { break }
                problems.append(error)
                guard !error.key.isEmpty,
                    let rest = removing(error.key.split(separator: ".").map(String.init), from: table)
                else { break }
                setAside.insert(error.key)
                table = rest
            } catch {
                problems.append(error)
                break
            }
        }
        if problems.count == 1 { throw problems[0] }
        throw ConfigProblems(problems: problems)
    }

    /// `table` without the value at `path`, or nil when there is none.
    static func removing(_ path: [String], from table: [String: ConfigValue]) -> [String: ConfigValue]? {
        guard let first = path.first, let value = table[first] else { return nil }
        var table = table
        if path.count == 1 {
            table[first] = nil
            return table
        }
        guard case .table(let inner) = value, let rest = removing(Array(path.dropFirst()), from: inner) else {
            return nil
        }
        table[first] = .table(rest)
        return table
    }

    /// The condition axes get when `[boundary] condition` is absent: the model's default.
    public let boundaryDefault: String

    /// This config with `name` as the condition of the axes the config gives none: what a
    /// model's own default (``BoundaryRules``) makes of it.
    public func withBoundaryDefault(_ name: String) throws(ConfigError) -> RunConfig {
        name == boundaryDefault ? self : try RunConfig(table: table, text: text, boundaryDefault: name)
    }

    /// The value `text` stands for in a `--set` option: a TOML value (`0.5`, `[1, 2]`,
    /// `"text"`), or the text itself when it is not one.
    public static func value(_ text: String) -> ConfigValue { TOMLReader.value(text) }

    /// This config with `key` of `section` set to `value`, validated again: for an ensemble's
    /// members and for benchmarks, which change a config by typed values, not by text. The
    /// text (for provenance only) records the change as a comment.
    public func setting(_ path: (section: String, key: String), to value: ConfigValue) throws(ConfigError) -> RunConfig
    {
        try RunConfig(
            table: Self.setting(table, path.section, path.key, value),
            text: text + "\n# --set \(path.section).\(path.key)=\(value)", boundaryDefault: boundaryDefault)
    }

    /// `root` with `section.key` set to `value`.
    static func setting(_ root: [String: ConfigValue], _ section: String, _ key: String, _ value: ConfigValue)
        throws(ConfigError) -> [String: ConfigValue]
    {
        try setting(root, path: [section, key], value)
    }

    /// `root` with the key at `path` (tables, then the key) set to `value`; missing tables
    /// are made, and a value in the way of a table is an error naming it.
    static func setting(_ root: [String: ConfigValue], path: [String], _ value: ConfigValue, at prefix: String = "")
        throws(ConfigError) -> [String: ConfigValue]
    {
        var root = root
        let name = path[0]
        guard path.count > 1 else {
            root[name] = value
            return root
        }
        var entries: [String: ConfigValue] = [:]
        if let existing = root[name] {
            guard case .table(let t) = existing else {
                throw ConfigError(
                    prefix + name, "holds a value of type \(existing.typeName), not a table, so it has no keys to set")
            }
            entries = t
        }
        root[name] = .table(try setting(entries, path: Array(path.dropFirst()), value, at: prefix + name + "."))
        return root
    }

    /// Validates a config read into `root`; `text` is what it was read from (provenance).
    public init(table root: [String: ConfigValue], text: String, boundaryDefault: String = "dirichlet")
        throws(ConfigError)
    {
        self.table = root
        self.text = text
        self.boundaryDefault = boundaryDefault

        for key in root.keys.sorted() where Self.sections[key] == nil {
            throw ConfigError(
                key,
                "is not a section Tessera knows; sections are \(Self.sections.keys.sorted().joined(separator: ", "))")
        }
        func section(_ name: String, required: Bool) throws(ConfigError) -> Section {
            guard let value = root[name] else {
                if required { throw ConfigError(name, "section is missing") }
                return Section(name: name, table: [:])
            }
            guard case .table(let table) = value else {
                throw ConfigError(name, "must be a section (a table), got a \(value.typeName)")
            }
            let allowed = Self.sections[name]!
            if !allowed.isEmpty, let unknown = table.keys.sorted().first(where: { !allowed.contains($0) }) {
                throw ConfigError(
                    "\(name).\(unknown)",
                    "is not a key of [\(name)]; keys are \(allowed.sorted().joined(separator: ", "))")
            }
            return Section(name: name, table: table)
        }

        let gridSection = try section("grid", required: true)
        let shape = try gridSection.integers("shape", minimum: 1)
        guard GridSize.cells(shape) != nil else {
            throw ConfigError(
                "grid.shape",
                "\(shape) is more than \(GridSize.maximumCells) cells (2^50), more than Tessera can address")
        }
        let rank = shape.count
        let extent = try gridSection.numbers("extent", count: rank, default: 1.0, positive: true)
        let periodic = try gridSection.booleans("periodic", count: rank, default: true)
        let processGrid =
            try gridSection.optionalIntegers("process_grid", count: rank, minimum: 0)
            ?? Array(repeating: 0, count: rank)
        let haloDepth = try gridSection.optionalInteger("halo_depth", minimum: 1) ?? 1
        let tiling = try gridSection.optionalIntegers("tiling", count: 2, minimum: 1).map {
            Tiling(slab: $0[0], width: $0[1])
        }
        if tiling != nil && (haloDepth == 1 || rank == 1) {
            throw ConfigError(
                "grid.tiling",
                "sets the tiled pass that halo_depth > 1 takes in 2-D and 3-D; this grid has \(rank) "
                    + "\(rank == 1 ? "axis" : "axes") and halo_depth = \(haloDepth). Remove it, or set halo_depth")
        }
        grid = GridSection(
            shape: shape, extent: extent, periodic: periodic, processGrid: processGrid, haloDepth: haloDepth,
            tiling: tiling)

        let boundary = try section("boundary", required: false)
        let allowed = ["dirichlet", "neumann", "reflecting"]
        let names = try boundary.strings("condition", count: rank, default: boundaryDefault, allowed: allowed)
        boundaryNames = boundary.table["condition"] == nil ? names.map { _ in nil } : names
        let value = try boundary.number("value", default: 0)
        boundaries = (0..<rank).map { a in
            switch names[a] {
            case _ where periodic[a]: .periodic
            case "neumann": .neumann
            case "reflecting": .reflecting
            default: .dirichlet(value)
            }
        }

        let model = try section("model", required: true)
        guard let nameValue = model.table["name"] else {
            throw ConfigError("model.name", "is missing (see `tessera models`)")
        }
        guard case .string(let name) = nameValue else {
            throw ConfigError("model.name", "must be a string, got a \(nameValue.typeName)")
        }
        modelName = name
        modelTable = model.table.filter { $0.key != "name" }

        let time = try section("time", required: true)
        steps = try time.optionalInteger("steps", minimum: 0)
        endTime = try time.optionalNumber("end_time", positive: true)
        if (steps == nil) == (endTime == nil) {
            throw ConfigError("time", "give exactly one of steps and end_time")
        }
        cfl = try time.number("cfl", default: 0.9)
        guard cfl > 0, cfl <= 1 else { throw ConfigError("time.cfl", "must lie in (0, 1], got \(cfl)") }
        switch time.table["adaptive"] {
        case nil: adaptive = nil
        case .bool(let on): adaptive = on
        case let value?: throw ConfigError("time.adaptive", "must be true or false, got \(value)")
        }
        maxDtGrowth = try time.number("max_dt_growth", default: 1.1)
        guard maxDtGrowth >= 1, maxDtGrowth.isFinite else {
            throw ConfigError(
                "time.max_dt_growth", "must be at least 1 (1: steps never grow), got \(maxDtGrowth)")
        }

        let output = try section("output", required: true)
        outputDirectory = try output.string("dir", default: "output")
        outputEvery = try output.optionalInteger("every", minimum: 1) ?? 1
        outputEveryTime = try output.optionalNumber("every_time", positive: true)
        if let everyTime = outputEveryTime {
            guard output.table["every"] == nil else {
                throw ConfigError(
                    "output.every_time", "give one of output.every (steps) and output.every_time, not both")
            }
            guard let endTime else {
                throw ConfigError(
                    "output.every_time",
                    "needs time.end_time (frames every \(everyTime) of simulated time up to it); with time.steps give "
                        + "output.every")
            }
            let intervals = (endTime / everyTime).rounded()
            guard intervals >= 1, abs(intervals * everyTime - endTime) <= 1e-9 * endTime else {
                let below = Swift.max(1, (endTime / everyTime).rounded(.down))
                throw ConfigError(
                    "output.every_time",
                    "\(everyTime) does not divide time.end_time = \(endTime) into whole intervals: the last frame would "
                        + "miss the end; choose for example every_time = \(endTime / below) (\(Int(below)) intervals)")
            }
        }
        switch output.table["overlap"] {
        case nil, .string("auto"): outputOverlap = .auto
        case .bool(true): outputOverlap = .always
        case .bool(false): outputOverlap = .never
        case let value?:
            throw ConfigError("output.overlap", "must be true, false or \"auto\", got \(value)")
        }
        outputFlush = try output.choice("flush", default: "frame", allowed: ["frame", "checkpoint"])
        outputFiles = try FileSettings(output)
        let checkpoint = try section("checkpoint", required: false)
        checkpointEvery = try checkpoint.optionalInteger("every", minimum: 1)
        checkpointInterval = try checkpoint.optionalDuration("interval")
        checkpointKeep = try checkpoint.optionalInteger("keep", minimum: 1) ?? 2
        checkpointFiles = try FileSettings(checkpoint)
        let run = try section("run", required: false)
        if case .bool(let on) = run.table["watchdog"] {
            watchdog = on ? 300 : nil
        } else {
            watchdog = try run.optionalDuration("watchdog") ?? 300
        }

        let inversionSection = try section("inversion", required: false)
        inversion = InversionSection(
            observed: inversionSection.table["observed"] == nil
                ? nil : try inversionSection.string("observed", default: ""),
            memory: try inversionSection.optionalBytes("memory"),
            iterations: try inversionSection.optionalInteger("iterations", minimum: 1) ?? 10,
            firstStep: try inversionSection.optionalNumber("first_step", positive: true) ?? 0.05)

        ensemble = root["ensemble"] == nil ? nil : try EnsembleSection(section("ensemble", required: false))

        if let steps, steps % outputEvery != 0 {
            throw ConfigError(
                "output.every",
                "\(outputEvery) does not divide time.steps = \(steps): the last \(steps % outputEvery) steps would never be written; make steps a multiple of every"
            )
        }
    }
}

extension RunConfig {
    /// The frames a run writes, where the config alone says (not for `end_time` with
    /// `output.every`, where the step count follows the model's stable step).
    public var frameCount: Int? {
        if let steps { return steps / outputEvery + 1 }
        if let everyTime = outputEveryTime, let endTime { return Int((endTime / everyTime).rounded()) + 1 }
        return nil
    }

    /// How frames are spaced, in words: "a frame every 10 steps" or "a frame every 0.01 of
    /// simulated time".
    public var frameSpacing: String {
        outputEveryTime.map { "a frame every \($0) of simulated time" }
            ?? "a frame every \(outputEvery) \(outputEvery == 1 ? "step" : "steps")"
    }
}

/// One section's table, with typed getters whose errors name `section.key`.
struct Section {
    let name: String
    let table: [String: ConfigValue]

    private func key(_ k: String) -> String { "\(name).\(k)" }

    func integers(_ k: String, minimum: Int) throws(ConfigError) -> [Int] {
        guard let value = table[k] else { throw ConfigError(key(k), "is missing") }
        return try integerList(k, value, count: nil, minimum: minimum)
    }

    func optionalIntegers(_ k: String, count: Int, minimum: Int) throws(ConfigError) -> [Int]? {
        guard let value = table[k] else { return nil }
        return try integerList(k, value, count: count, minimum: minimum)
    }

    private func integerList(_ k: String, _ value: ConfigValue, count: Int?, minimum: Int) throws(ConfigError) -> [Int]
    {
        guard case .array(let items) = value else {
            throw ConfigError(key(k), "must be a list of integers like [64, 64], got a \(value.typeName) (\(value))")
        }
        var result: [Int] = []
        for item in items {
            guard case .int(let v) = item else {
                throw ConfigError(key(k), "must be a list of integers, but holds a \(item.typeName) (\(item))")
            }
            guard v >= minimum else { throw ConfigError(key(k), "entries must be at least \(minimum), got \(v)") }
            result.append(v)
        }
        if let count, result.count != count {
            throw ConfigError(key(k), "needs \(count) entries, one per axis of grid.shape, got \(result.count)")
        }
        guard (1...3).contains(result.count) else {
            throw ConfigError(key(k), "needs 1 to 3 entries, got \(result.count)")
        }
        return result
    }

    /// The value of a per-axis key as one item per axis: a list of `count` items, or a single
    /// value that stands for every axis; nil when the key is absent.
    private func perAxis(_ k: String, count: Int, each: String) throws(ConfigError) -> [ConfigValue]? {
        guard let value = table[k] else { return nil }
        guard case .array(let items) = value else { return Array(repeating: value, count: count) }
        guard items.count == count else {
            throw ConfigError(key(k), "needs \(count) entries, \(each), got \(items.count)")
        }
        return items
    }

    func numbers(
        _ k: String, count: Int, default fallback: Double, positive: Bool, each: String = "one per axis of grid.shape"
    ) throws(ConfigError) -> [Double] {
        guard let items = try perAxis(k, count: count, each: each) else {
            return Array(repeating: fallback, count: count)
        }
        return try items.map { (item) throws(ConfigError) -> Double in
            guard let v = item.number, v.isFinite else {
                throw ConfigError(key(k), "must hold numbers, got a \(item.typeName) (\(item))")
            }
            if positive && v <= 0 { throw ConfigError(key(k), "must be positive, got \(v)") }
            return v
        }
    }

    func booleans(_ k: String, count: Int, default fallback: Bool) throws(ConfigError) -> [Bool] {
        guard let items = try perAxis(k, count: count, each: "one per axis of grid.shape") else {
            return Array(repeating: fallback, count: count)
        }
        return try items.map { (item) throws(ConfigError) -> Bool in
            guard case .bool(let v) = item else {
                throw ConfigError(key(k), "must hold true or false, got a \(item.typeName) (\(item))")
            }
            return v
        }
    }

    func strings(_ k: String, count: Int, default fallback: String, allowed: [String]) throws(ConfigError) -> [String] {
        guard let items = try perAxis(k, count: count, each: "one per axis of grid.shape") else {
            return Array(repeating: fallback, count: count)
        }
        return try items.map { (item) throws(ConfigError) -> String in
            guard case .string(let v) = item, allowed.contains(v) else {
                throw ConfigError(
                    key(k), "must be one of \(allowed.map { "\"\($0)\"" }.joined(separator: ", ")), got \(item)")
            }
            return v
        }
    }

    func number(_ k: String, default fallback: Double) throws(ConfigError) -> Double {
        try optionalNumber(k, positive: false) ?? fallback
    }

    func optionalNumber(_ k: String, positive: Bool) throws(ConfigError) -> Double? {
        guard let value = table[k] else { return nil }
        guard let v = value.number, v.isFinite else {
            throw ConfigError(key(k), "must be a number, got a \(value.typeName) (\(value))")
        }
        if positive && v <= 0 { throw ConfigError(key(k), "must be positive, got \(v)") }
        return v
    }

    func choice(_ k: String, default fallback: String, allowed: [String]) throws(ConfigError) -> String {
        guard let value = table[k] else { return fallback }
        guard case .string(let v) = value, allowed.contains(v) else {
            throw ConfigError(
                key(k), "must be one of \(allowed.map { "\"\($0)\"" }.joined(separator: ", ")), got \(value)")
        }
        return v
    }

    func optionalInteger(_ k: String, minimum: Int) throws(ConfigError) -> Int? {
        guard let value = table[k] else { return nil }
        guard case .int(let v) = value else {
            throw ConfigError(key(k), "must be an integer, got a \(value.typeName) (\(value))")
        }
        guard v >= minimum else { throw ConfigError(key(k), "must be at least \(minimum), got \(v)") }
        return v
    }

    /// A wall-clock duration: a number of seconds, or text such as "90s", "30m", "2h", "1h30m".
    func optionalDuration(_ k: String) throws(ConfigError) -> Double? {
        guard let value = table[k] else { return nil }
        if let seconds = value.number, seconds > 0 { return seconds }
        guard case .string(let text) = value, let seconds = Self.duration(text), seconds > 0 else {
            throw ConfigError(key(k), "must be a duration such as \"90s\", \"30m\" or \"1h30m\", got \(value)")
        }
        return seconds
    }

    /// A size in bytes: an integer, or text such as "512 MB", "1.5 GB", "256 MiB", "2GiB".
    func optionalBytes(_ k: String) throws(ConfigError) -> Int? {
        guard let value = table[k] else { return nil }
        if case .int(let bytes) = value, bytes > 0 { return bytes }
        guard case .string(let text) = value, let bytes = Self.bytes(text), bytes > 0 else {
            throw ConfigError(key(k), "must be a size such as \"512 MB\", \"2 GiB\" or a number of bytes, got \(value)")
        }
        return bytes
    }

    /// Bytes in text such as "512 MB", "1.5GB", "256 MiB" (SI and binary units); nil if it is not.
    static func bytes(_ text: String) -> Int? {
        let compact = String(text.filter { $0 != " " })
        let units: [(String, Double)] = [
            ("KiB", 1024), ("MiB", 1024 * 1024), ("GiB", 1024 * 1024 * 1024), ("TiB", 1024 * 1024 * 1024 * 1024),
            ("kB", 1e3), ("KB", 1e3), ("MB", 1e6), ("GB", 1e9), ("TB", 1e12), ("B", 1),
        ]
        for (unit, factor) in units where compact.hasSuffix(unit) {
            guard let number = Double(compact.dropLast(unit.count)), number > 0 else { return nil }
            return Int(number * factor)
        }
        return Int(compact)
    }

    /// Seconds in text such as "1h30m", "45s", "2h"; nil if it is not such text.
    static func duration(_ text: String) -> Double? {
        var total = 0.0
        var number = ""
        for character in text.lowercased() where character != " " {
            if character.isNumber || character == "." {
                number.append(character)
                continue
            }
            guard let value = Double(number) else { return nil }
            switch character {
            case "h": total += value * 3600
            case "m": total += value * 60
            case "s": total += value
            default: return nil
            }
            number = ""
        }
        return number.isEmpty && total > 0 ? total : nil
    }

    func string(_ k: String, default fallback: String) throws(ConfigError) -> String {
        guard let value = table[k] else { return fallback }
        guard case .string(let v) = value, !v.isEmpty else {
            throw ConfigError(key(k), "must be a non-empty string, got \(value)")
        }
        // A C string (a path handed to the system) would silently end at the first NUL.
        guard !v.unicodeScalars.contains("\0") else {
            throw ConfigError(key(k), "contains a NUL character (\\u0000), which no name or path may hold")
        }
        return v
    }
}

/// Several problems of one config, found at once (``RunConfig/validated(text:overrides:_:)``);
/// described as their count, then each on its own line.
public struct ConfigProblems: Error, CustomStringConvertible, Sendable {
    public let problems: [any Error]

    public var description: String {
        "\(problems.count) problems:\n" + problems.map { "  \($0)" }.joined(separator: "\n")
    }
}
