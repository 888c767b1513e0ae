import Foundation
import Logging

/// An exclusive lock on an output folder for the life of the run that writes it, so that a
/// second run (a resubmitted job, a `--restart auto` or an `--overwrite` typed while the
/// first still runs) cannot replace or interleave with a live run's results and checkpoints.
///
/// The lock is `flock(2)` on `<folder>/.tessera.lock`, taken by the one process (rank 0) that
/// manages the folder. The kernel releases it when that process ends, however it ends, so a
/// crash never leaves a folder locked. The file holds the holder's host, pid, start time and
/// job, which a refused run names; a clean end empties it, so a lock file left with text in it
/// and no lock held is the trace of a run that crashed, which the next run reports and takes over.
///
/// Linux's NFS client maps `flock` to POSIX locks that the server sees from every node; Lustre
/// needs the `flock` mount option, without which the call fails with `ENOSYS` and the run goes
/// on unlocked, with a warning.
public enum OutputLock {
    /// The lock file's name in the output folder.
    public static let fileName = ".tessera.lock"

    /// Locks held by this process: the folder's path and the open descriptor holding the lock.
    nonisolated(unsafe) private static var held: [String: Int32] = [:]
    private static let guardLock = NSLock()

    /// What taking a lock found.
    public enum Outcome: Equatable, Sendable {
        /// The lock is taken; the folder was free.
        case taken
        /// The lock is taken; a run that held it before ended without releasing it (crashed
        /// or was killed), and this text described that run.
        case tookOverFrom(String)
        /// This file system does not support locks; the run is not protected.
        case unsupported(String)
    }

    /// Takes the lock on `directory` (which must exist), or throws naming the run that holds it.
    /// Taking it again in the same process does nothing.
    @discardableResult
    public static func acquire(_ directory: String) throws -> Outcome {
        guardLock.lock()
        defer { guardLock.unlock() }
        let path = (directory as NSString).appendingPathComponent(fileName)
        let key = (directory as NSString).standardizingPath
        if held[key] != nil { return .taken }
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o644)
        guard descriptor >= 0 else {
            throw LockError("cannot open the lock file \(path): \(String(cString: strerror(errno)))")
        }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            let reason = errno
            let holder = contents(of: descriptor)
            close(descriptor)
            if reason == EWOULDBLOCK {
                let who = holder.isEmpty ? "another process" : "another run (\(holder))"
                throw LockError(
                    "the output folder \(directory) is in use by \(who); wait for it to end, or choose another "
                        + "output.dir")
            }
            if reason == ENOSYS || reason == EOPNOTSUPP || reason == ENOLCK {
                return .unsupported(String(cString: strerror(reason)))
            }
            throw LockError("cannot lock \(path): \(String(cString: strerror(reason)))")
        }
        let previous = contents(of: descriptor)
        let description = holderDescription()
        guard ftruncate(descriptor, 0) == 0, pwrite(descriptor, description, description.utf8.count, 0) >= 0 else {
            let reason = String(cString: strerror(errno))
            close(descriptor)
            throw LockError("cannot write the lock file \(path): \(reason)")
        }
        held[key] = descriptor
        return previous.isEmpty ? .taken : .tookOverFrom(previous)
    }

    /// Releases the lock on `directory`, leaving its file empty (a clean end).
    public static func release(_ directory: String) {
        guardLock.lock()
        defer { guardLock.unlock() }
        let key = (directory as NSString).standardizingPath
        guard let descriptor = held.removeValue(forKey: key) else { return }
        _ = ftruncate(descriptor, 0)
        close(descriptor)  // Closing the last descriptor releases the flock.
    }

    /// Releases every lock this process holds.
    public static func releaseAll() {
        let folders = guardLock.withLock { Array(held.keys) }
        for folder in folders { release(folder) }
    }

    /// This process, as a refused run will name it.
    static func holderDescription() -> String {
        let host = ProcessInfo.processInfo.hostName
        let started = ISO8601DateFormatter().string(from: Date())
        let environment = ProcessInfo.processInfo.environment
        let job = environment["SLURM_JOB_ID"].map { ", Slurm job \($0)" } ?? ""
        return "host \(host), pid \(getpid()), started \(started)\(job)"
    }

    /// The first line of the lock file's text (at most 512 bytes, printable characters only).
    static func contents(of descriptor: Int32) -> String {
        var buffer = [UInt8](repeating: 0, count: 512)
        let count = pread(descriptor, &buffer, buffer.count, 0)
        guard count > 0 else { return "" }
        let text = String(decoding: buffer[0..<count], as: UTF8.self)
        let line = text.split(separator: "\n").first.map(String.init) ?? ""
        return String(line.unicodeScalars.filter { $0.value >= 0x20 && $0.value != 0x7F }.map(Character.init))
    }
}

/// Takes the lock on `directory` for this process and says what it found: a folder left
/// locked by a crashed run, or a file system without locks.
func lockFolder(_ directory: String, logger: Logger) throws {
    switch try OutputLock.acquire(directory) {
    case .taken: break
    case .tookOverFrom(let previous):
        logger.warning("the run that last wrote \(directory) (\(previous)) ended without releasing it; taking it over")
    case .unsupported(let reason):
        logger.warning("cannot lock \(directory) (\(reason)): nothing stops a second run from writing into it")
    }
}

/// A lock that cannot be taken.
public struct LockError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
