import Engine
import Foundation
import IO
import Logging
import MPI

extension RunSession {
    /// Loads the checkpoint `choice` names into the simulation's state: `auto` tries the
    /// committed checkpoints newest first and takes the first that every rank reads and
    /// verifies, warning about each it skips; a path must verify. Returns nil when `auto`
    /// finds none (a fresh start).
    static func resume(
        from choice: String, into simulation: Simulation, checkpoints: String, _ world: Communicator, _ logger: Logger
    ) throws -> CheckpointInfo? {
        let listed = world.rank == 0 ? Checkpoint.list(in: checkpoints).map(\.path).joined(separator: "\n") : ""
        let candidates =
            choice == "auto" ? try world.broadcast(listed).split(separator: "\n").map(String.init) : [choice]
        for candidate in candidates {
            let start = ContinuousClock.now
            let outcome = try attempt(world) {
                try guardingRead(of: candidate, "reading the checkpoint") {
                    try Checkpoint.read(
                        candidate, into: simulation.state, scratch: simulation.scratch,
                        gridShape: simulation.geometry.shape)
                }
            }.flatMap { read in
                // Every rank read its block; now check the checksums over all of them.
                Result { try Checkpoint.verify(read.sums, fields: read.info.fields, communicator: world) }
                    .map { read.info }.mapError { AgreedFailure(description: "\($0)") }
            }
            switch outcome {
            case .success(let info):
                let seconds = (ContinuousClock.now - start).seconds
                let bytes = Double(simulation.geometry.shape.reduce(1, *) * info.fields.count * 8)
                logger.info(
                    "restarting from \(candidate) (read and verified \(transferRate(bytes: bytes, seconds: seconds)))"
                )
                return info
            case .failure(let failure):
                guard choice == "auto" else {
                    throw AgreedFailure(description: "cannot restart from \(candidate): \(failure.description)")
                }
                if world.rank == 0 {
                    logger.warning("skipping checkpoint \(candidate): it does not verify (\(failure.description))")
                }
            }
        }
        logger.info(
            candidates.isEmpty
                ? "no checkpoint in \(checkpoints): starting from the beginning"
                : "no checkpoint in \(checkpoints) verifies: starting from the beginning")
        return nil
    }
}
