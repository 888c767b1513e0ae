import Foundation
import MPI

/// The world of this test process: MPI starts once (as a singleton, one rank, no mpirun) and
/// stays up, since it cannot start again after `MPI_Finalize`.
nonisolated(unsafe) private let world: Communicator = {
    do { return try MPIEnvironment.initialize() } catch { fatalError("MPI did not start: \(error)") }
}()

/// Serialises the tests that use MPI or HDF5: Swift Testing runs suites in parallel, across
/// test targets too, and HDF5 is not thread-safe. Recursive, so that a helper that takes it
/// may be called from a test that holds it.
private let lock = NSRecursiveLock()

/// Runs `body` with the world communicator, one test at a time.
public func usingMPI<T>(_ body: (Communicator) throws -> T) rethrows -> T {
    lock.lock()
    defer { lock.unlock() }
    return try body(world)
}

/// A path in the temporary folder, unique to this call.
public func temporaryPath(_ name: String) -> String {
    FileManager.default.temporaryDirectory.appendingPathComponent("tessera-\(UUID().uuidString)-\(name)").path
}
