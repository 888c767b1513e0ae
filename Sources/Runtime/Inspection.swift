import Foundation
import IO
import MPI

/// What `tessera inspect` says of a checkpoint, or of a folder of them.
public enum Inspection {
    /// The checkpoint lines for `file` and whether it verifies, or nil when it is not a
    /// checkpoint.
    public static func checkpointSummary(_ file: String) -> (text: String, verifies: Bool)? {
        // Not a checkpoint: no section.
        guard let info = try? guardingRead(of: file, "reading", { try Checkpoint.info(at: file) }) else { return nil }
        let verdict: String
        var verifies = false
        do {
            _ = try guardingRead(of: file, "verifying") { try Checkpoint.verify(file) }
            verdict = "yes, every checksum matches"
            verifies = true
        } catch {
            verdict = "NO: \(error)"
        }
        let text = """
            checkpoint: step \(info.step), time \(info.time), dt \(info.dt), model \(info.model)
            physics: \(info.physics)
            written by \(info.ranks) ranks (process grid \(info.processGrid)), tessera \(info.version), \(info.frames) results frames
            verifies: \(verdict)
            """
        return (text, verifies)
    }

    /// The checkpoints in the folder at `path` (an output folder or its `checkpoints/`), each
    /// with whether it verifies, and which one `--restart auto` would take; with the number
    /// that do not verify.
    public static func folderSummary(_ path: String) -> (text: String, damaged: Int) {
        let nested = (path as NSString).appendingPathComponent("checkpoints")
        let folder = FileManager.default.fileExists(atPath: nested) ? nested : path
        let listed = Checkpoint.list(in: folder)
        guard !listed.isEmpty else {
            return ("\(folder): no checkpoints; --restart auto would start from the beginning", 0)
        }
        var damaged = 0
        var lines = ["\(folder): \(listed.count) checkpoints, newest first"]
        // --restart auto takes the newest checkpoint that verifies.
        var chosen: String?
        for entry in listed {
            do {
                let info = try guardingRead(of: entry.path, "verifying") { try Checkpoint.verify(entry.path) }
                chosen = chosen ?? entry.path
                lines.append("  step \(entry.step)  t = \(info.time)  \(info.ranks) ranks  verifies  \(entry.path)")
            } catch {
                damaged += 1
                lines.append("  step \(entry.step)  DOES NOT VERIFY (\(error))  \(entry.path)")
            }
        }
        lines.append("--restart auto would take: \(chosen ?? "none (it would start from the beginning)")")
        return (lines.joined(separator: "\n"), damaged)
    }

    /// The summary of any HDF5 file (``Inspector``), read under a guard against HDF5 looping
    /// on damaged metadata.
    public static func fileSummary(_ path: String) throws -> String {
        try guardingRead(of: path, "reading") { try Inspector.summary(of: path) }
    }
}
