import Foundation
import IO
import MPI

/// What `tessera inspect` says of a checkpoint, or of a folder of them.
public enum Inspection {
    /// The checkpoint lines for `file` and whether it verifies, or nil when it is not a
    /// checkpoint.
    public static func checkpointSummary(_ file: String) -> (text: String, verifies: Bool)? {
        guard let (info, problem) = checkpoint(file) else { return nil }
        let text = """
            checkpoint: step \(info.step), time \(info.time), dt \(info.dt), model \(info.model)
            physics: \(info.physics)
            written by \(info.ranks) ranks (process grid \(info.processGrid)), tessera \(info.version), \(info.frames) results frames
            verifies: \(problem.map { "NO: \($0)" } ?? "yes, every checksum matches")
            """
        return (text, problem == nil)
    }

    /// The same facts as ``checkpointSummary(_:)`` for `inspect --json`, or nil.
    public static func checkpointFacts(_ file: String) -> [String: Any]? {
        guard let (info, problem) = checkpoint(file) else { return nil }
        return [
            "step": info.step, "time": info.time, "dt": info.dt, "model": info.model, "physics": "\(info.physics)",
            "ranks": info.ranks, "process_grid": info.processGrid, "tessera_version": info.version,
            "frames": info.frames, "verifies": problem == nil, "problem": problem as Any,
        ]
    }

    /// A checkpoint's metadata and why it does not verify (nil when it does), or nil when
    /// `file` is not a checkpoint.
    private static func checkpoint(_ file: String) -> (CheckpointInfo, problem: String?)? {
        // Not a checkpoint: no section.
        guard let info = try? guardingRead(of: file, "reading", { try Checkpoint.info(at: file) }) else { return nil }
        do {
            _ = try guardingRead(of: file, "verifying") { try Checkpoint.verify(file) }
            return (info, nil)
        } catch {
            return (info, "\(error)")
        }
    }

    /// The checkpoints in the folder at `path` (an output folder or its `checkpoints/`), each
    /// with whether it verifies, and which one `--restart auto` would take; with the number
    /// that do not verify.
    public static func folderSummary(_ path: String) -> (text: String, damaged: Int) {
        let found = folder(path)
        guard !found.entries.isEmpty else {
            return ("\(found.folder): no checkpoints; --restart auto would start from the beginning", 0)
        }
        var lines = ["\(found.folder): \(found.entries.count) checkpoints, newest first"]
        for entry in found.entries {
            if let info = entry.info {
                lines.append("  step \(entry.step)  t = \(info.time)  \(info.ranks) ranks  verifies  \(entry.path)")
            } else {
                lines.append("  step \(entry.step)  DOES NOT VERIFY (\(entry.problem ?? ""))  \(entry.path)")
            }
        }
        lines.append("--restart auto would take: \(found.chosen ?? "none (it would start from the beginning)")")
        return (lines.joined(separator: "\n"), found.damaged)
    }

    /// The same facts as ``folderSummary(_:)`` for `inspect --json`, with the number damaged.
    public static func folderFacts(_ path: String) -> (facts: [String: Any], damaged: Int) {
        let found = folder(path)
        let entries = found.entries.map { entry -> [String: Any] in
            [
                "step": entry.step, "path": entry.path, "verifies": entry.info != nil,
                "time": entry.info?.time as Any, "ranks": entry.info?.ranks as Any, "problem": entry.problem as Any,
            ]
        }
        return (["folder": found.folder, "checkpoints": entries, "restart_auto": found.chosen as Any], found.damaged)
    }

    /// The checkpoints of a folder, newest first, each verified; the one `--restart auto`
    /// would take (the newest that verifies).
    private static func folder(_ path: String) -> (
        folder: String, entries: [(step: Int, path: String, info: CheckpointInfo?, problem: String?)],
        chosen: String?, damaged: Int
    ) {
        let nested = (path as NSString).appendingPathComponent("checkpoints")
        let folder = FileManager.default.fileExists(atPath: nested) ? nested : path
        var entries: [(step: Int, path: String, info: CheckpointInfo?, problem: String?)] = []
        var chosen: String?
        for entry in Checkpoint.list(in: folder) {
            do {
                let info = try guardingRead(of: entry.path, "verifying") { try Checkpoint.verify(entry.path) }
                chosen = chosen ?? entry.path
                entries.append((entry.step, entry.path, info, nil))
            } catch {
                entries.append((entry.step, entry.path, nil, "\(error)"))
            }
        }
        return (folder, entries, chosen, entries.filter { $0.info == nil }.count)
    }

    /// The summary of any HDF5 file (``Inspector``), read under a guard against HDF5 looping
    /// on damaged metadata.
    public static func fileSummary(_ path: String) throws -> String {
        try guardingRead(of: path, "reading") { try Inspector.summary(of: path) }
    }
}

extension Inspection {
    /// The summary of any HDF5 file as JSON-ready values (``Inspector/tree(of:)``), read under
    /// the same guard.
    public static func fileFacts(_ path: String) throws -> [String: Any] {
        try guardingRead(of: path, "reading") { try Inspector.tree(of: path) }
    }
}
