import ArgumentParser
import Config
import Distributed
import Engine
import Foundation
import Grid
import Heat
import IO
import MPI

struct Validate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check a config file and show how a run would be laid out, without running it.")

    @OptionGroup var input: ConfigInput

    @Option(help: "The number of ranks to lay the run out for.")
    var ranks = 1

    func run() throws {
        do {
            let parsed = try RunConfig(text: readConfig(input.config), overrides: input.overrides)
            let plan = try RunPlan(config: parsed, ranks: ranks)
            print("\(input.config): valid")
            print(plan.summary)
        } catch {
            printError("\(error)")
            throw ExitCode(1)
        }
    }
}

struct Plan: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Size a job before submitting it: process grid, cells, halo traffic, memory and file sizes.",
        discussion: """
            Works out, without MPI and without allocating the grid, what a run of CONFIG on --ranks \
            ranks would use: the process grid, cells per rank, halo bytes each rank sends per step, \
            memory per rank, and the size of each results frame and checkpoint.
            """)

    @OptionGroup var input: ConfigInput

    @Option(help: "The number of ranks the job will have.")
    var ranks: Int

    @Option(
        help: ArgumentHelp(
            "Cell updates per second per rank for the whole step (from a run's progress line on the target machine, divided by its ranks); without it, the model's update is timed here on one core.",
            valueName: "rate"))
    var stepRate: Double?

    func run() throws {
        do {
            let parsed = try RunConfig(text: readConfig(input.config), overrides: input.overrides)
            guard ranks >= 1 else { throw ConfigError("", "--ranks must be at least 1, not \(ranks)") }
            if let stepRate, !(stepRate > 0 && stepRate.isFinite) {
                throw ConfigError(
                    "", "--step-rate must be a positive number of cell updates per second, not \(stepRate)")
            }
            let plan = try RunPlan(config: parsed, ranks: ranks)
            let rate =
                stepRate.map { ($0, "as given") }
                ?? plan.measuredCellRate().map { ($0, "the model's update timed here on one core; --step-rate to set") }
            for line in try plan.sizing(cellRate: rate) { print(line) }
        } catch {
            printError("\(error)")
            throw ExitCode(1)
        }
    }
}

struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Summarise an HDF5 file that Tessera wrote, or list the checkpoints in a folder.",
        discussion: """
            On a checkpoint, says its step, time and model, how many ranks wrote it, and whether every \
            checksum verifies. On a folder (an output folder or its checkpoints/), lists the checkpoints \
            and says which one --restart auto would take.
            """)

    @Argument(help: "An HDF5 file, or a folder of checkpoints.")
    var path: String

    func run() throws {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else {
            printError("\(path) does not exist")
            throw ExitCode(1)
        }
        do {
            if isFolder.boolValue {
                print(folderSummary())
            } else {
                if let checkpoint = checkpointSummary(path) { print(checkpoint) }
                print(try Inspector.summary(of: path))
            }
        } catch {
            printError("cannot read \(path): \(error)")
            throw ExitCode(1)
        }
    }

    /// The checkpoint lines for `file`, or nil when it is not a checkpoint.
    func checkpointSummary(_ file: String) -> String? {
        guard let info = try? Checkpoint.info(at: file) else { return nil }  // Not a checkpoint: no section.
        let verdict: String
        do {
            _ = try Checkpoint.verify(file)
            verdict = "yes, every checksum matches"
        } catch {
            verdict = "NO: \(error)"
        }
        return """
            checkpoint: step \(info.step), time \(info.time), dt \(info.dt), model \(info.model)
            written by \(info.ranks) ranks (process grid \(info.processGrid)), tessera \(info.version), \(info.frames) results frames
            verifies: \(verdict)
            """
    }

    func folderSummary() -> String {
        let nested = (path as NSString).appendingPathComponent("checkpoints")
        let folder = FileManager.default.fileExists(atPath: nested) ? nested : path
        let listed = Checkpoint.list(in: folder)
        guard !listed.isEmpty else { return "\(folder): no checkpoints; --restart auto would start from the beginning" }
        var lines = ["\(folder): \(listed.count) checkpoints, newest first"]
        // --restart auto takes the newest checkpoint that verifies.
        var chosen: String?
        for entry in listed {
            do {
                let info = try Checkpoint.verify(entry.path)
                chosen = chosen ?? entry.path
                lines.append("  step \(entry.step)  t = \(info.time)  \(info.ranks) ranks  verifies  \(entry.path)")
            } catch {
                lines.append("  step \(entry.step)  DOES NOT VERIFY (\(error))  \(entry.path)")
            }
        }
        lines.append("--restart auto would take: \(chosen ?? "none (it would start from the beginning)")")
        return lines.joined(separator: "\n")
    }
}

struct Models: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the models and their parameters.")

    func run() {
        for type in catalog {
            let description = type.description
            print("\(description.name): \(description.summary)")
            for parameter in description.parameters {
                let fallback = parameter.defaultValue.map { " (default \($0))" } ?? ""
                print("    \(parameter.name): \(parameter.kindDescription)\(fallback) - \(parameter.help)")
            }
        }
    }
}

struct CheckHalo: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-halo",
        abstract: "Check the halo exchange on this machine: every ghost cell must hold its owner's value.")

    @Option(help: "Grid shape, for example 7,5,3.")
    var shape: String

    @Option(help: "Periodic flag per axis, for example true,false,true (default: all true).")
    var periodic: String?

    @Option(help: "Ghost width.")
    var ghost = 1

    @Option(help: "Fields exchanged together.")
    var fields = 2

    func run() throws {
        withMPI { world in
            let dims = shape.split(separator: ",").compactMap { Int($0) }
            let wraps = periodic.map { $0.split(separator: ",").map { $0 == "true" } } ?? dims.map { _ in true }
            let decomposition = try agreed(world) {
                let grid = try Decomposition.balancedDims(ranks: world.size, shape: dims, minimumBlock: ghost)
                return try Decomposition(shape: dims, dims: grid, periodic: wraps)
            }
            let cartesian = try world.cartesian(dims: decomposition.dims, periodic: decomposition.periodic)
            let plan = try HaloPlan(decomposition: decomposition, rank: world.rank, ghost: dims.map { _ in ghost })
            let pattern = GhostPattern(decomposition: decomposition)
            let state = (0..<fields).map { Field(name: "f\($0)", layout: plan.layout) }
            for (index, field) in state.enumerated() { pattern.fill(field, field: index) }
            let domain = MPIDomain(cartesian: cartesian, plan: plan)
            try domain.beginExchange(state)
            try domain.finishExchange()
            var problems: [String] = []
            for (index, field) in state.enumerated() { problems += pattern.mismatches(in: field, field: index) }
            for problem in problems.prefix(5) { printError("rank \(world.rank): \(problem)") }
            let total = try world.allReduce(Int64(problems.count), .sum)
            let ghosts = try world.allReduce(
                Int64(plan.layout.count - plan.layout.interior.count) * Int64(fields), .sum)
            let messages = try world.allReduce(Int64(plan.messages.count), .sum)
            if world.rank == 0 {
                print(
                    "check-halo: shape \(dims) periodic \(wraps) ghost \(ghost) on \(world.size) ranks (process grid \(decomposition.dims)): \(messages) messages, \(ghosts) ghost cells, \(total) wrong"
                )
            }
            if total > 0 { throw AgreedFailure(description: "\(total) ghost cells hold the wrong value") }
            return 0
        }
    }
}

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "Time the heat kernel on one rank (cell updates per second); see bench/run.sh for the comparison with C.")

    @Option(help: "Cube edge lengths to time.")
    var size: [Int] = [128, 256]

    @Option(help: "Time steps per repeat.")
    var steps = 20

    @Option(help: "Repeats; the fastest counts.")
    var repeats = 5

    func run() {
        for n in size {
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
            print(String(format: "swift %d^3: %.4g cell updates/s (%.3f s for %d steps)", n, rate, best, steps))
        }
    }
}
