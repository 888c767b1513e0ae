import Foundation
import Logging

/// How much the commands say, and where: chosen once from the command line (`--log-level`,
/// `-q`, `-v`) or `TESSERA_LOG_LEVEL` before a command starts, read by every logger it makes.
public enum LogSettings {
    /// The least severe level printed (rank 0; the other ranks print warnings and worse).
    /// Written once at start-up, before any thread that logs exists.
    nonisolated(unsafe) public static var level: Logger.Level = .info

    /// Makes the level named `name` (`trace`, `debug`, `info`, `notice`, `warning`, `error`,
    /// `critical`, in any case) the one printed; false if there is no such level.
    public static func choose(_ name: String) -> Bool {
        guard let chosen = Logger.Level(rawValue: name.lowercased()) else { return false }
        level = chosen
        return true
    }

    /// The names of the levels, least severe first.
    public static let names = Logger.Level.allCases.map(\.rawValue)
}

/// Tessera's log lines, in one format: progress and information on stdout, warnings and
/// errors on stderr, each line once with its time, its level where it is not `info`, and its
/// member (in an ensemble). On a terminal the time is shortened and the level coloured; where
/// stdout is a file or a pipe (a batch job's log), or the process was started by a launcher,
/// lines are plain, with the full UTC time.
struct LineLogHandler: LogHandler {
    var logLevel: Logger.Level
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider?

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let toError = event.level >= .warning
        let terminal = toError ? Self.terminal.error : Self.terminal.output
        var fields = metadata
        if let extra = event.metadata { fields.merge(extra) { $1 } }
        var line = Self.time(terminal: terminal) + " "
        if event.level != .info {
            let name = event.level.rawValue
            line += terminal ? "\(Self.colour(event.level))\(name)\u{1B}[0m: " : "\(name): "
        }
        if let member = fields.removeValue(forKey: "member") { line += "member \(member): " }
        line += event.message.description
        for (key, value) in fields.sorted(by: { $0.key < $1.key }) { line += " \(key)=\(value)" }
        let data = Data((line + "\n").utf8)
        (toError ? FileHandle.standardError : FileHandle.standardOutput).write(data)
    }

    /// Whether stdout and stderr are a person's terminal. Under a launcher they are not, even
    /// where a rank's output is a pseudo-terminal (Open MPI's mpirun forwards through one
    /// whatever its own output is); `NO_COLOR` asks for plain lines too.
    static let terminal: (output: Bool, error: Bool) = {
        let environment = ProcessInfo.processInfo.environment
        let launched = ["OMPI_COMM_WORLD_RANK", "PMI_RANK", "PMIX_RANK", "SLURM_PROCID"].contains {
            environment[$0] != nil
        }
        let plain = launched || environment["NO_COLOR"] != nil
        return (!plain && isatty(STDOUT_FILENO) == 1, !plain && isatty(STDERR_FILENO) == 1)
    }()

    /// The time of a line: UTC to the second in a log file, the local time of day on a terminal.
    static func time(terminal: Bool) -> String {
        var now = time_t(Date().timeIntervalSince1970)
        var parts = tm()
        if terminal { localtime_r(&now, &parts) } else { gmtime_r(&now, &parts) }
        var buffer = [CChar](repeating: 0, count: 32)
        let format = terminal ? "%H:%M:%S" : "%Y-%m-%dT%H:%M:%SZ"
        let length = strftime(&buffer, buffer.count, format, &parts)
        return String(decoding: buffer.prefix(length).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    static func colour(_ level: Logger.Level) -> String {
        switch level {
        case .trace, .debug: "\u{1B}[2m"
        case .info, .notice: "\u{1B}[1m"
        case .warning: "\u{1B}[33m"
        case .error, .critical: "\u{1B}[31m"
        }
    }
}
