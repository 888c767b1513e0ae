internal import CSignals
import Config
import Engine
import Foundation
import IO
import Logging
import MPI
import Settings

/// A campaign of runs with drawn parameters on groups of ranks, written as a dataset in The
/// Well's layout (`tessera ensemble`).
public enum Campaign {
    /// One member: its index, split, drawn parameters and the plan of its run.
    struct Member {
        let index: Int
        let split: Split
        let parameters: [(name: String, value: ConfigValue)]
        /// Its run: the campaign's config with its draws, into its own folder.
        let plan: RunPlan
        /// What its results depend on, recorded when it completes so that a restart can check
        /// that the config still gives it the same.
        var record: MemberRecord { MemberRecord(plan.config, physics: plan.physics) }
        /// The `--set` options that rerun it alone with `tessera run`, for the manifest.
        var overrides: [String] { parameters.map { "model.\($0.name)=\($0.value)" } }
        var folder: String { Self.folder(index) }
        static func folder(_ index: Int) -> String { String(format: "members/member-%06d", index) }
    }

    /// `tessera ensemble`: runs the campaign of the config at `config` and exits every rank with
    /// its exit code (0 done, 75 stopped early, 1 failed).
    public static func main(config: String, overrides: [String], options: RunOptions) throws -> Never {
        try withStoppableMPI { world, started in
            let text = try world.broadcast(try agreed(world) { world.rank == 0 ? try readConfig(config) : "" })
            let base = try agreed(world) { try RunConfig.validated(text: text, overrides: overrides) { $0 } }
            return try execute(base, options: options, world, started: started)
        }
    }

    /// The members of the campaign `base` describes, each with its plan for groups of
    /// `ranks_per_member` ranks; every member's draws are checked before any runs.
    static func members(of base: RunConfig, ranks: Int) throws -> [Member] {
        guard let ensemble = base.ensemble else {
            throw ConfigError("ensemble", "section is missing: tessera ensemble needs members and parameters")
        }
        // Members' time steps follow their draws; frames in simulated time are the same in all.
        guard base.outputEveryTime != nil else {
            throw ConfigError(
                base.steps == nil ? "output.every" : "time.steps",
                "an ensemble needs [time] end_time and [output] every_time, so that every member writes its frames "
                    + "at the same times whatever its time step (The Well's models see no time step); for example "
                    + "end_time = 1.0 and every_time = 0.05 for 21 frames")
        }
        guard ranks % ensemble.ranksPerMember == 0 else {
            throw ConfigError(
                "ensemble.ranks_per_member",
                "\(ensemble.ranksPerMember) does not divide the job's \(ranks) ranks into whole groups")
        }
        // A model with a seed gets the member's own, so that random initial states differ.
        let seeded =
            try modelType(named: base.modelName).description.parameters.contains { $0.name == "seed" }
            && !ensemble.parameters.contains { $0.name == "seed" }
        var members: [Member] = []
        for index in 0..<ensemble.members {
            var drawn = ensemble.parameters(of: index)
            if seeded { drawn.append(("seed", .int(Int(ensemble.seed(of: index) % (1 << 31))))) }
            let folder = (base.outputDirectory as NSString).appendingPathComponent(Member.folder(index))
            do {
                var config = try base.setting(("output", "dir"), to: .string(folder))
                for (name, value) in drawn { config = try config.setting(("model", name), to: value) }
                let plan = try RunPlan(config: config, ranks: ensemble.ranksPerMember)
                members.append(Member(index: index, split: ensemble.split(of: index), parameters: drawn, plan: plan))
            } catch {
                let draws = drawn.map { "model.\($0.name)=\($0.value)" }.joined(separator: " ")
                throw ConfigError(
                    "ensemble.parameters", "member \(index) drew \(draws), which the model refuses: \(error)")
            }
        }
        return members
    }

    static func execute(_ base: RunConfig, options: RunOptions, _ world: Communicator, started: ContinuousClock.Instant)
        throws -> Int32
    {
        let logger = makeLogger(world)
        if let restart = options.restart, restart != "auto" {
            throw AgreedFailure(description: "--restart takes 'auto' for an ensemble, not \(restart)")
        }
        let root = base.outputDirectory
        let members = try agreed(world) { try Self.members(of: base, ranks: world.size) }
        let ensemble = base.ensemble!
        if world.rank == 0, let line = Self.leaks(members) { logger.warning("\(line)") }
        try agreed(world) {
            guard world.rank == 0 else { return }
            try prepareCampaign(
                root, restarting: options.restart != nil, overwrite: options.overwrite, logger: logger)
        }
        // A finished member's marker holds what its results depend on: a restart whose config
        // gives it other settings must not mix two campaigns.
        try agreed(world) {
            for member in members {
                let marker = (root as NSString).appendingPathComponent(member.folder + "/complete")
                guard let done = FileManager.default.contents(atPath: marker) else { continue }
                let recorded = try? JSONDecoder().decode(MemberRecord.self, from: done)
                guard recorded == member.record else {
                    throw ConfigError(
                        "",
                        "member \(member.index) in \(root) was run with other settings than this config gives it (the "
                            + "config or its --set options changed, or an earlier Tessera ran it); continue with the "
                            + "same ones, or start afresh with --overwrite or another output.dir")
                }
            }
        }
        // Members share nodes with the other groups' members: their output threads count on
        // the CPUs of the whole job.
        let cpus = try CPUBudget(world)
        let groups = world.size / ensemble.ranksPerMember
        let group = world.rank / ensemble.ranksPerMember
        let communicator = try world.split(color: group, key: world.rank)
        let counts = ensemble.counts.map(String.init).joined(separator: "/")
        let layout = "\(groups) \(groups == 1 ? "group" : "groups") of \(rankText(ensemble.ranksPerMember))"
        logger.info("ensemble of \(members.count) members (\(counts) train/valid/test) on \(layout)")

        var outcome: (stopped: Bool, failure: String?) = (false, nil)
        var ran = 0
        let memberOptions = RunOptions(
            overwrite: false, restart: options.restart == nil ? nil : "auto", walltime: options.walltime)
        for member in members where member.index % groups == group {
            let folder = (root as NSString).appendingPathComponent(member.folder)
            let marker = (folder as NSString).appendingPathComponent("complete")
            if FileManager.default.fileExists(atPath: marker) { continue }
            // A stop asked for between members stops here, every rank of the group alike.
            if try communicator.allReduce(Int64(csignals_received()), .max) != 0 {
                outcome.stopped = true
                break
            }
            do {
                let code = try RunSession.execute(
                    member.plan, options: memberOptions, communicator, started: started, label: "\(member.index)",
                    cpus: cpus)
                if code == exitStoppedEarly {
                    outcome.stopped = true
                    break
                }
            } catch let failure as AgreedFailure {
                outcome.failure = "member \(member.index): \(failure.description)"
                break
            }
            try communicator.barrier()
            ran += 1
            if communicator.rank == 0 {
                // Done: mark it so a restart keeps it, then drop its checkpoints.
                try JSONEncoder().encode(member.record).write(to: URL(fileURLWithPath: marker), options: .atomic)
                try? FileManager.default.removeItem(atPath: (folder as NSString).appendingPathComponent("checkpoints"))
            }
        }

        // Every group agrees how the campaign went.
        let status = try world.allReduce(Int64(outcome.failure != nil ? 2 : outcome.stopped ? 1 : 0), .max)
        if status == 2 {
            let first = try world.allReduce(Int64(outcome.failure != nil ? world.rank : Int.max), .min)
            throw AgreedFailure(
                description: try world.broadcast(outcome.failure ?? "", root: Int(first))
                    + "; the members finished so far are kept")
        }
        if status == 1 {
            logger.info("stopped; the members finished so far are kept: continue with --restart auto")
            return exitStoppedEarly
        }
        try writeDataset(members, base: base, world: world, logger: logger)
        // Throughput: the members this job ran, and every byte of their results and the dataset.
        let total = try world.allReduce(Int64(communicator.rank == 0 ? ran : 0), .sum)
        let seconds = (ContinuousClock.now - started).seconds
        if world.rank == 0 {
            let bytes =
                members.reduce(0) { sum, member in
                    sum + fileSize((root as NSString).appendingPathComponent(member.folder + "/results.hdf5"))
                } + datasetBytes(root)
            let rate = String(format: "%.4g", Double(total) / seconds * 3600)
            let speed = String(format: "%.2f MB/s", Double(bytes) / max(seconds, 1e-9) / 1e6)
            logger.info(
                "ran \(total) members in \(String(format: "%.2f", seconds)) s: \(rate) trajectories per hour; wrote \(byteText(bytes)), \(speed)"
            )
        }
        return 0
    }

    /// A warning when members of different splits would run the same physics (a `choice`
    /// with fewer values than members, a constant seed): their trajectories are identical,
    /// so the validation or test split repeats training data. Nil when none do.
    static func leaks(_ members: [Member]) -> String? {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        var first: [Data: Member] = [:]
        var pairs: [(Member, Member)] = []
        for member in members {
            guard let key = try? encoder.encode(member.record) else { continue }
            if let earlier = first[key] {
                if earlier.split != member.split { pairs.append((earlier, member)) }
            } else {
                first[key] = member
            }
        }
        guard let (a, b) = pairs.first else { return nil }
        let draws = b.parameters.map { "\($0.name) = \($0.value)" }.joined(separator: ", ")
        return "\(pairs.count) \(pairs.count == 1 ? "member repeats" : "members repeat") the physics of a member of "
            + "another split, so their trajectories are identical and the splits share data: member \(b.index) "
            + "(\(b.split)) and member \(a.index) (\(a.split)) both draw \(draws); give the parameters more values "
            + "than there are members"
    }

    /// Makes the campaign folder, or refuses to run over one unless restarting or told to.
    static func prepareCampaign(_ root: String, restarting: Bool, overwrite: Bool, logger: Logger) throws {
        let manager = FileManager.default
        do {
            try manager.createDirectory(atPath: root, withIntermediateDirectories: true)
        } catch {
            throw ConfigError("output.dir", "cannot create the output folder \(root): \(whyNotAFolder(root, error))")
        }
        try lockFolder(root, logger: logger)
        let existing = ["members", "data", "stats.yaml", "manifest.json"].map {
            (root as NSString).appendingPathComponent($0)
        }
        .filter { manager.fileExists(atPath: $0) }
        if !existing.isEmpty && !restarting {
            guard overwrite else {
                throw ConfigError(
                    "output.dir",
                    "\(root) already holds a campaign; pass --restart auto to continue it, --overwrite to replace it, "
                        + "or choose another output.dir")
            }
            for path in existing { try manager.removeItem(atPath: path) }
        }
        do {
            try manager.createDirectory(
                atPath: (root as NSString).appendingPathComponent("members"), withIntermediateDirectories: true)
        } catch {
            throw ConfigError("output.dir", "cannot create \(root): \((error as NSError).localizedDescription)")
        }
    }

    /// The dataset files (each written by one rank), the statistics of the training split
    /// (partial sums per member on every rank, added in member order) and the manifest.
    static func writeDataset(_ members: [Member], base: RunConfig, world: Communicator, logger: Logger) throws {
        let ensemble = base.ensemble!
        let configText = base.text
        let root = base.outputDirectory
        let name = "tessera_\(base.modelName)"
        func results(_ member: Member) -> String {
            ((root as NSString).appendingPathComponent(member.folder) as NSString).appendingPathComponent(
                "results.hdf5")
        }
        var files: [(path: String, members: [Member])] = []
        for split in Split.allCases {
            let inSplit = members.filter { $0.split == split }
            let folder = ((root as NSString).appendingPathComponent("data") as NSString).appendingPathComponent(
                split.rawValue)
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            for (number, start) in stride(from: 0, to: inSplit.count, by: ensemble.trajectoriesPerFile).enumerated() {
                let chunk = Array(inSplit[start..<min(start + ensemble.trajectoriesPerFile, inSplit.count)])
                let file = String(format: "%@_%@_%04d.hdf5", name, split.rawValue, number)
                files.append(((folder as NSString).appendingPathComponent(file), chunk))
            }
        }
        // The parameters drawn per member, by the names the files give them: a parameter the
        // model records as a constant of another name (Gray-Scott's feed as F) by that name.
        let recordedAs = members[0].plan.modelType.description.recordedAs
        func recorded(_ name: String, _ value: ConfigValue) -> [(String, ParameterValue)] {
            ParameterValue.flatten(name, value).map { (recordedAs[$0.0] ?? $0.0, $0.1) }
        }
        var varying = Set<String>()
        for (name, distribution) in ensemble.parameters where distribution.varies {
            for member in members {
                if let value = member.parameters.first(where: { $0.name == name })?.value {
                    varying.formUnion(recorded(name, value).map(\.0))
                }
            }
        }
        if members.first?.parameters.contains(where: { $0.name == "seed" }) == true,
            !ensemble.parameters.contains(where: { $0.name == "seed" })
        {
            varying.insert("seed")
        }
        try world.barrier()
        let assembling = ContinuousClock.now
        try agreed(world) {
            for (number, file) in files.enumerated() where number % world.size == world.rank {
                try EnsembleDataset.assemble(
                    file.path,
                    members: file.members.map { member in
                        EnsembleDataset.Member(
                            results: results(member), index: member.index,
                            parameters: member.parameters.flatMap { recorded($0.name, $0.value) })
                    }, varying: varying, configText: configText)
            }
        }
        // Every rank has its files durable once the agreement above is reached.
        let assembly = (ContinuousClock.now - assembling).seconds
        if world.rank == 0 {
            let bytes = datasetBytes(root)
            let what = "\(files.count) dataset \(files.count == 1 ? "file" : "files") under \(root)/data"
            logger.info("assembled \(what): \(transferRate(bytes: Double(bytes), seconds: assembly))")
        }
        let train = members.filter { $0.split == .train }
        let statistics: String = try agreed(world) {
            guard let first = train.first else { return "" }
            let layout = try EnsembleDataset.statisticsLayout(results(first))
            var mine: [Double] = []
            for (number, member) in train.enumerated() where number % world.size == world.rank {
                mine += [Double(number)] + (try EnsembleDataset.partialSums(results(member)))
            }
            let gathered = try world.allGather(mine)
            let width = layout.reduce(0) { $0 + $1.components } * 6
            var parts = [[Double]](repeating: [], count: train.count)
            for part in gathered {
                for row in stride(from: 0, to: part.count, by: width + 1) {
                    parts[Int(part[row])] = Array(part[(row + 1)..<(row + 1 + width)])
                }
            }
            var sums = [Double](repeating: 0, count: width)
            for part in parts { for k in 0..<width { sums[k] += part[k] } }
            return EnsembleDataset.statisticsYAML(sums, layout: layout)
        }
        try agreed(world) {
            guard world.rank == 0 else { return }
            if !statistics.isEmpty {
                try Data(statistics.utf8).write(
                    to: URL(fileURLWithPath: (root as NSString).appendingPathComponent("stats.yaml")), options: .atomic)
            }
            try manifest(files, root: root, name: name, ensemble: ensemble).write(
                to: URL(fileURLWithPath: (root as NSString).appendingPathComponent("manifest.json")), options: .atomic)
        }
        let written = "\(files.count) dataset \(files.count == 1 ? "file" : "files") of \(members.count) trajectories"
        logger.info("wrote \(written) under \(root)/data, stats.yaml and manifest.json")
    }

    /// Which member is in which file, with its parameters and the overrides that rerun it.
    static func manifest(
        _ files: [(path: String, members: [Member])], root: String, name: String, ensemble: EnsembleSection
    )
        throws -> Data
    {
        var entries: [[String: Any]] = []
        for file in files {
            let relative = String(file.path.dropFirst(root.count).drop { $0 == "/" })
            for (trajectory, member) in file.members.enumerated() {
                var parameters: [String: Any] = [:]
                for (key, value) in member.parameters { parameters[key] = JSONReport.value(value) }
                entries.append([
                    "member": member.index, "split": member.split.rawValue, "file": relative,
                    "trajectory": trajectory, "seed": "\(ensemble.seed(of: member.index))", "parameters": parameters,
                    "overrides": member.overrides,
                ])
            }
        }
        entries.sort { ($0["member"] as! Int) < ($1["member"] as! Int) }
        let document: [String: Any] = [
            "dataset_name": name, "members": entries, "seed": Int(ensemble.seed),
            "splits": Dictionary(uniqueKeysWithValues: zip(Split.allCases.map(\.rawValue), ensemble.counts)),
        ]
        return try JSONSerialization.data(
            withJSONObject: document, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
    }
}

/// The size of the file at `path` in bytes (0 if there is none).
func fileSize(_ path: String) -> Int {
    ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.intValue ?? 0
}

/// The bytes of every dataset file under `<root>/data`.
func datasetBytes(_ root: String) -> Int {
    let data = (root as NSString).appendingPathComponent("data")
    let files = FileManager.default.subpaths(atPath: data) ?? []
    return files.filter { $0.hasSuffix(".hdf5") }.reduce(0) {
        $0 + fileSize((data as NSString).appendingPathComponent($1))
    }
}

/// What a finished ensemble member's results depend on: its physics, and the steps and frames
/// of its run. Written into its `complete` marker, compared on a restart.
struct MemberRecord: Codable, Equatable {
    let physics: PhysicsKey
    let steps: Int
    let cfl: Double
    let every: Int
    let endTime: Double?
    let everyTime: Double?
    let adaptive: Bool?
    let maxDtGrowth: Double?

    init(_ config: RunConfig, physics: PhysicsKey) {
        self.physics = physics
        steps = config.steps ?? 0
        cfl = config.cfl
        every = config.outputEvery
        endTime = config.endTime
        everyTime = config.outputEveryTime
        adaptive = config.adaptive
        maxDtGrowth = config.maxDtGrowth
    }
}
