import Foundation
import MPI
import Settings

/// The memory a job may still use on this node: the kernel's `MemAvailable`, or less where
/// the job's control group (Slurm's `ConstrainRAMSpace`, a container's limit) allows less.
/// Both cgroup v2 (`memory.max`) and v1 (`memory.limit_in_bytes`) are read, at the process's
/// group and every group above it.
public struct NodeMemory: Sendable, Equatable {
    public let bytes: Int
    /// Where the figure comes from, for messages.
    public let source: String

    /// Measures now; nil where neither /proc/meminfo nor a cgroup limit can be read.
    public static func available() -> NodeMemory? {
        var best: NodeMemory?
        func consider(_ bytes: Int, _ source: String) {
            if best.map({ bytes < $0.bytes }) ?? true { best = NodeMemory(bytes: max(bytes, 0), source: source) }
        }
        if let meminfo = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8),
            let kilobytes = value(of: "MemAvailable", in: meminfo)
        {
            consider(kilobytes * 1024, "MemAvailable in /proc/meminfo")
        }
        let groups = (try? String(contentsOfFile: "/proc/self/cgroup", encoding: .utf8)) ?? ""
        for line in groups.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count == 3 else { continue }
            let path = String(parts[2])
            if parts[0] == "0" && parts[1].isEmpty {
                for root in ["/sys/fs/cgroup", "/sys/fs/cgroup/unified"] {
                    for folder in ancestors(root, path) {
                        if let limit = number(folder + "/memory.max"), let used = number(folder + "/memory.current") {
                            consider(limit - used, "the memory limit of cgroup \(folder)")
                        }
                    }
                }
            } else if parts[1].split(separator: ",").contains("memory") {
                for folder in ancestors("/sys/fs/cgroup/memory", path) {
                    if let limit = number(folder + "/memory.limit_in_bytes"),
                        let used = number(folder + "/memory.usage_in_bytes")
                    {
                        consider(limit - used, "the memory limit of cgroup \(folder)")
                    }
                }
            }
        }
        return best
    }

    /// `root` + `path` and each folder above it up to `root`.
    static func ancestors(_ root: String, _ path: String) -> [String] {
        var folders: [String] = []
        var current = path
        while true {
            folders.append(current == "/" || current.isEmpty ? root : root + current)
            guard current != "/" && !current.isEmpty else { break }
            current = (current as NSString).deletingLastPathComponent
        }
        return folders
    }

    /// A limit file's number; nil for "max", a missing file, or a limit so large it means none.
    static func number(_ path: String) -> Int? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8),
            let value = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)), value < 1 << 60
        else { return nil }
        return value
    }

    /// The number after `key:` in /proc/meminfo's text.
    static func value(of key: String, in text: String) -> Int? {
        for line in text.split(separator: "\n") where line.hasPrefix(key + ":") {
            return Int(line.dropFirst(key.count + 1).split(separator: " ").first ?? "")
        }
        return nil
    }
}

/// Refuses to start where the ranks on a node would need more memory than the node has left,
/// before anything is allocated: an error with both numbers instead of "failed to allocate"
/// (exit 134) or the out-of-memory killer mid-run. Collective over `world`.
func checkMemory(_ bytes: Int, what: String, _ world: Communicator) throws {
    let node = try world.node()
    let need = try node.allReduce(Int64(bytes), .sum)
    let largest = try node.allReduce(Int64(bytes), .max)
    try agreed(world) {
        guard node.rank == 0, let available = NodeMemory.available(), need > available.bytes else { return }
        let host = (try? MPIEnvironment.processorName()) ?? "this node"
        let ranks = node.size == 1 ? "1 rank" : "\(node.size) ranks of up to \(byteText(Int(largest))) each"
        throw ConfigError(
            "grid.shape",
            "this run needs at least \(byteText(Int(need))) on \(host) (\(ranks): \(what)), more than the "
                + "\(byteText(available.bytes)) it has available (\(available.source)); use more nodes, or a "
                + "smaller grid")
    }
}
