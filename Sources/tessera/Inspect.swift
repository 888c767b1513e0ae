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
            and says which one --restart auto would take. Exits 1 when a checkpoint does not verify.
            """)

    @Argument(help: "An HDF5 file, or a folder of checkpoints.")
    var path: String

    @Flag(
        help:
            "Print the same facts as one JSON document (a file's groups, datasets and attributes, and its checkpoint facts; a folder's checkpoints)."
    )
    var json = false

    func run() throws {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else {
            printError("\(path) does not exist")
            throw ExitCode(1)
        }
        var damage: String?
        do {
            if json {
                var facts: [String: Any]
                if isFolder.boolValue {
                    let (found, damaged) = Inspection.folderFacts(path)
                    facts = found
                    if damaged > 0 { damage = "\(damaged) of the checkpoints in \(path) do not verify" }
                } else {
                    facts = try Inspection.fileFacts(path)
                    if let checkpoint = Inspection.checkpointFacts(path) {
                        facts["checkpoint"] = checkpoint
                        if checkpoint["verifies"] as? Bool != true { damage = "the checkpoint \(path) does not verify" }
                    }
                }
                print(try JSONReport.text(facts))
            } else if isFolder.boolValue {
                let (text, damaged) = Inspection.folderSummary(path)
                print(text)
                if damaged > 0 { damage = "\(damaged) of the checkpoints in \(path) do not verify" }
            } else {
                if let checkpoint = Inspection.checkpointSummary(path) {
                    print(checkpoint.text)
                    if !checkpoint.verifies { damage = "the checkpoint \(path) does not verify" }
                }
                print(try Inspection.fileSummary(path))
            }
        } catch {
            printError("cannot read \(path): \(error)")
            throw ExitCode(1)
        }
        // Damage is a finding a script must not miss: the listing is printed, and the exit is 1.
        if let damage {
            printError(damage)
            throw ExitCode(1)
        }
    }
}
