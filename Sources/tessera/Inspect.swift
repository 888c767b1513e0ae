import ArgumentParser
import Foundation
import IO
import Runtime

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
                print(Inspection.folderSummary(path))
            } else {
                if let checkpoint = Inspection.checkpointSummary(path) { print(checkpoint) }
                print(try Inspector.summary(of: path))
            }
        } catch {
            printError("cannot read \(path): \(error)")
            throw ExitCode(1)
        }
    }
}
