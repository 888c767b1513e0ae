import Foundation
import MPI

/// An error every rank has agreed on: each rank knows the run cannot go on, so each can exit
/// cleanly; only rank 0 prints it.
struct AgreedFailure: Error, CustomStringConvertible {
    let description: String
}

/// Runs `body` on every rank, then has the ranks agree whether all succeeded. If any failed,
/// every rank throws ``AgreedFailure`` carrying the lowest failing rank's message, so the
/// error is printed once and every rank exits, none left waiting in a later collective call.
func agreed<T>(_ world: Communicator, _ body: () throws -> T) throws -> T {
    switch try attempt(world, body) {
    case .success(let value): return value
    case .failure(let failure): throw failure
    }
}

/// Runs `body` on every rank and agrees on the outcome: the value where every rank
/// succeeded, otherwise the lowest failing rank's error, the same on every rank.
func attempt<T>(_ world: Communicator, _ body: () throws -> T) throws -> Result<T, AgreedFailure> {
    var result: T?
    var message = ""
    do { result = try body() } catch { message = "\(error)" }
    let firstFailing = try world.allReduce(Int64(message.isEmpty ? Int64.max : Int64(world.rank)), .min)
    if firstFailing != Int64.max {
        return .failure(AgreedFailure(description: try world.broadcast(message, root: Int(firstFailing))))
    }
    guard let result else { return .failure(AgreedFailure(description: "internal error: no result")) }
    return .success(result)
}

/// Writes `text` to standard error.
public func printError(_ text: String) {
    FileHandle.standardError.write(Data("tessera: error: \(text)\n".utf8))
}

/// Runs an MPI command: initialises MPI, runs `body`, and on failure exits non-zero on every
/// rank within seconds. An agreed failure exits cleanly everywhere; any other failure (one
/// rank failing alone, for example a write error mid-run) aborts the whole job, because the
/// other ranks may be waiting for this one in a collective call.
func withMPI(_ body: (Communicator) throws -> Int32) -> Never {
    let world: Communicator
    do {
        world = try MPIEnvironment.initialize()
    } catch {
        printError("cannot start MPI: \(error)")
        exit(2)
    }
    do {
        let code = try body(world)
        OutputLock.releaseAll()
        try MPIEnvironment.finalize()
        exitTogether(code, rank: world.rank)
    } catch let failure as AgreedFailure {
        if world.rank == 0 { printError(failure.description) }
        OutputLock.releaseAll()
        try? MPIEnvironment.finalize()  // Best effort: the process exits non-zero either way.
        exitTogether(1, rank: world.rank)
    } catch {
        printError("rank \(world.rank): \(error); aborting every rank")
        MPIEnvironment.abort(code: 1)
    }
}

/// Exits with `code` after MPI has finished, every rank with the same code. Rank 0 goes first
/// when the code is not 0: MPICH's launcher before 4.2.3 (Hydra, as in Debian 12) can report 0
/// for a job whose ranks all exit non-zero at the same instant (pmodels/mpich#7057), and
/// then a batch script would take a stopped run for a finished one. With rank 0 ahead,
/// Hydra sees one failing rank and stops the others; other launchers see every rank's code.
func exitTogether(_ code: Int32, rank: Int) -> Never {
    if code != 0 && rank != 0 { usleep(500_000) }
    exit(code)
}
