import Config
import Engine
import Foundation
import Grid
import IO

/// A run's configuration resolved against a rank count: the model, the process grid, the
/// decomposition. Pure: `validate` builds it for any rank count without MPI, and `run` builds
/// it on every rank alike, so every rank reaches the same verdict.
struct RunPlan {
    let config: RunConfig
    let modelType: any Model.Type
    let parameters: Parameters
    let decomposition: Decomposition
    /// The ghost width: the model's stencil.
    let ghost: Int

    init(config: RunConfig, ranks: Int) throws {
        self.config = config
        modelType = try Tessera.modelType(named: config.modelName)
        parameters = try Parameters(config.modelTable, specs: modelType.description.parameters)
        let shape = config.grid.shape
        // A throwaway geometry lets the model check its parameters against the grid and say
        // how wide its stencil is, before any rank's block is known.
        let probe = try modelType.init(
            parameters: parameters,
            geometry: Geometry(
                shape: shape, extent: config.grid.extent, periodic: config.grid.periodic,
                layout: LocalLayout(owned: Box(extent: shape), ghost: shape.map { _ in 0 })))
        ghost = probe.stencilWidth
        // The same pure choice on every rank and in `validate`, so the two always agree.
        let dims = try Decomposition.balancedDims(
            ranks: ranks, shape: shape, minimumBlock: ghost, fixed: config.grid.processGrid)
        decomposition = try Decomposition(shape: shape, dims: dims, periodic: config.grid.periodic)
    }

    /// The model instance for one rank's block.
    func model(for geometry: Geometry) throws -> any Model {
        try modelType.init(parameters: parameters, geometry: geometry)
    }

    func geometry(rank: Int) -> Geometry {
        Geometry(
            shape: config.grid.shape, extent: config.grid.extent, periodic: config.grid.periodic,
            layout: LocalLayout(owned: decomposition.ownedBox(of: rank), ghost: config.grid.shape.map { _ in ghost }))
    }

    /// What a restart must share with the run that wrote its checkpoint: the model and its
    /// parameters, the grid and the boundaries. (Output and checkpoint settings may change.)
    var physics: String {
        let grid = config.grid
        return """
            model \(config.modelName) \(parameters.values.keys.sorted().map { "\($0)=\(parameters.values[$0]!)" }.joined(separator: " "))
            shape \(grid.shape) extent \(grid.extent) periodic \(grid.periodic) boundaries \(config.boundaries)
            """
    }

    /// A few lines on what the run will do, for `validate` and the start of `run`.
    var summary: String {
        let blocks = (0..<decomposition.rankCount).map { decomposition.ownedBox(of: $0).extent }
        let cells = blocks.map { $0.reduce(1, *) }
        func shapeText(_ s: [Int]) -> String { s.map(String.init).joined(separator: "×") }
        let smallest = blocks[cells.firstIndex(of: cells.min()!)!]
        let largest = blocks[cells.firstIndex(of: cells.max()!)!]
        let time = config.steps.map { "\($0) steps" } ?? "until t = \(config.endTime!)"
        return """
            model \(config.modelName): \(parameters.values.keys.sorted().map { "\($0) = \(parameters.values[$0]!)" }.joined(separator: ", "))
            grid \(shapeText(config.grid.shape)) cells, extent \(config.grid.extent), boundaries \(config.boundaries.map(\.name))
            \(decomposition.rankCount) ranks, process grid \(shapeText(decomposition.dims)), blocks \(shapeText(smallest)) to \(shapeText(largest)) cells
            \(time), cfl \(config.cfl), a frame every \(config.outputEvery) steps into \(config.outputDirectory)/results.hdf5
            """
    }
}

extension Tessera {
    static func modelType(named name: String) throws(ConfigError) -> any Model.Type {
        try tessera.modelType(named: name)
    }
}

/// Reads a config file, with an error that names the file and the reason.
func readConfig(_ path: String) throws -> String {
    guard FileManager.default.fileExists(atPath: path) else {
        throw ConfigError("", "config file \(path) does not exist")
    }
    guard let data = FileManager.default.contents(atPath: path) else {
        throw ConfigError("", "config file \(path) cannot be read (permissions?)")
    }
    guard let text = String(data: data, encoding: .utf8) else {
        throw ConfigError("", "config file \(path) is not UTF-8 text")
    }
    return text
}

/// Makes the output folder and its checkpoints folder, and checks that results can go there
/// without destroying any: an existing results.hdf5 is an error unless `overwrite`, or unless
/// the run is a restart (which continues it).
func prepareOutput(_ directory: String, overwrite: Bool, restarting: Bool) throws -> String {
    let manager = FileManager.default
    do {
        try manager.createDirectory(
            atPath: (directory as NSString).appendingPathComponent("checkpoints"), withIntermediateDirectories: true)
    } catch {
        throw ConfigError(
            "output.dir", "cannot create the output folder \(directory): \((error as NSError).localizedDescription)")
    }
    Checkpoint.removeLeftovers(in: (directory as NSString).appendingPathComponent("checkpoints"))
    guard manager.isWritableFile(atPath: directory) else {
        throw ConfigError("output.dir", "the output folder \(directory) is not writable")
    }
    let results = (directory as NSString).appendingPathComponent("results.hdf5")
    if manager.fileExists(atPath: results) && !overwrite && !restarting {
        throw ConfigError(
            "output.dir",
            "\(results) already exists; pass --restart auto to continue that run, --overwrite to replace it, or choose another output.dir"
        )
    }
    return results
}
