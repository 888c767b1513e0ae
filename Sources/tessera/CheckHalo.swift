import ArgumentParser
import Runtime

struct CheckHalo: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-halo",
        abstract: "Check the halo exchange on this machine: every ghost cell must hold its owner's value.")

    @Option(help: "Grid shape, for example 7,5,3.")
    var shape: String

    @Option(help: "Periodic flag per axis, for example true,false,true (default: all true).")
    var periodic: String?

    @Option(help: "Ghost width.")
    var ghost = 1

    @Option(help: "Fields exchanged together.")
    var fields = 2

    @OptionGroup var log: LogOptions

    func run() throws {
        HaloCheck.main(
            shape: shape.split(separator: ",").compactMap { Int($0) },
            periodic: periodic.map { $0.split(separator: ",").map { $0 == "true" } }, ghost: ghost, fields: fields)
    }
}
