import ArgumentParser
import Foundation
import Runtime

/// The input of every command that reads a config: the file and its `--set` overrides.
struct ConfigInput: ParsableArguments {
    @Argument(help: "The TOML input file.")
    var config: String

    @Option(name: .customLong("set"), help: ArgumentHelp("Override a config value.", valueName: "section.key=value"))
    var overrides: [String] = []
}

/// The wall-clock limit of a command that stops early with a checkpoint when it nears it.
struct WallTimeOption: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "The job's wall-clock limit (HH:MM:SS or D-HH:MM:SS), so the run checkpoints and stops in time; without it, SLURM_JOB_END_TIME is used where set.",
            valueName: "time"))
    var walltime: String?
}

/// How much a command logs: `--log-level`, `-q` (warnings and errors only), `-v` (debug), or
/// `TESSERA_LOG_LEVEL` in the environment (the options win). Progress and information go to
/// stdout, warnings and errors to stderr.
struct LogOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "The least severe messages shown: \(LogSettings.names.joined(separator: ", ")) (default info, or TESSERA_LOG_LEVEL).",
            valueName: "level"))
    var logLevel: String?

    @Flag(name: .shortAndLong, help: "Show only warnings and errors (--log-level warning).")
    var quiet = false

    @Flag(name: .shortAndLong, help: "Show debugging detail too (--log-level debug).")
    var verbose = false

    func validate() throws {
        let chosen = [
            logLevel.map { ("--log-level \($0)", $0) }, quiet ? ("--quiet", "warning") : nil,
            verbose ? ("--verbose", "debug") : nil,
        ].compactMap { $0 }
        guard chosen.count <= 1 else {
            throw ValidationError("give one of \(chosen.map(\.0).joined(separator: ", ")), not several")
        }
        let levels = LogSettings.names.joined(separator: ", ")
        if let (option, name) = chosen.first {
            guard LogSettings.choose(name) else {
                throw ValidationError("\(option) is not a level; levels are \(levels)")
            }
        } else if let name = ProcessInfo.processInfo.environment["TESSERA_LOG_LEVEL"], !name.isEmpty {
            guard LogSettings.choose(name) else {
                throw ValidationError("TESSERA_LOG_LEVEL=\(name) is not a level; levels are \(levels)")
            }
        }
    }
}
