import Config
import Engine
import Foundation
import Grid
import HDF5
import Settings

/// A run's configuration resolved against a rank count: the model, the process grid, the
/// decomposition. Pure: `validate` builds it for any rank count without MPI, and `run` builds
/// it on every rank alike, so every rank reaches the same verdict.
public struct RunPlan {
    public let config: RunConfig
    public let modelType: any Model.Type
    public let parameters: Parameters
    public let decomposition: Decomposition
    /// The ghost width: the model's stencil.
    public let ghost: Int
    /// The fields the model evolves.
    public let fields: [FieldSpec]
    /// The scalar components of the fields: one ``Field`` each in the state.
    public var components: Int { fields.components(dimensions: config.grid.shape.count).count }
    /// Stages of the model's time integrator.
    public let stages: Int
    /// Whether the run takes adaptive steps (``Schedule/Adaptive``): where the config says,
    /// else where the model's stable step follows its state and frames are spaced in time.
    public let adaptive: Bool

    public init(config: RunConfig, ranks: Int) throws {
        modelType = try Runtime.modelType(named: config.modelName)
        let rules = modelType.description.boundaries
        for (axis, name) in config.boundaryNames.enumerated() where !config.grid.periodic[axis] {
            guard let name, !rules.accepted.contains(name) else { continue }
            let axes = config.grid.shape.count > 1 ? " (axis \(["x", "y", "z"][axis]))" : ""
            throw ConfigError(
                "boundary.condition",
                "the \(config.modelName) model does not take \"\(name)\" boundaries\(axes): \(rules.refusal). It takes "
                    + rules.accepted.map { "\"\($0)\"" }.joined(separator: " or ")
                    + " (default \"\(rules.defaultCondition)\")")
        }
        self.config = try config.withBoundaryDefault(rules.defaultCondition)
        if let steps = config.steps, steps > Schedule.maximumSteps {
            throw ConfigError(
                "time.steps",
                "\(steps) is more than the \(Schedule.maximumSteps) steps (2^50) a run may take; at a million steps a "
                    + "second that would run for 35 years")
        }
        let follows = modelType.description.adaptive
        switch config.adaptive {
        case true?:
            guard follows else {
                throw ConfigError(
                    "time.adaptive",
                    "the \(config.modelName) model's stable step does not change as it runs, so its fixed steps are "
                        + "already as long as they can be; with output.every_time its frames fall on the interval's "
                        + "multiples (adaptive steps are for euler and burgers)")
            }
            guard config.outputEveryTime != nil else {
                throw ConfigError(
                    "time.adaptive",
                    "adaptive steps need time.end_time and output.every_time: the steps are shortened to land on its "
                        + "multiples, where the frames are")
            }
            adaptive = true
        case false?: adaptive = false
        case nil: adaptive = follows && config.outputEveryTime != nil
        }
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
        fields = probe.fields
        stages = probe.stages.count
        // The same pure choice on every rank and in `validate`, so the two always agree.
        let dims = try Decomposition.balancedDims(
            ranks: ranks, shape: shape, minimumBlock: ghost, fixed: config.grid.processGrid)
        decomposition = try Decomposition(shape: shape, dims: dims, periodic: config.grid.periodic)
    }

    /// The model instance for one rank's block.
    public func model(for geometry: Geometry) throws -> any Model {
        try modelType.init(parameters: parameters, geometry: geometry)
    }

    /// Rank `rank`'s block: its geometry and its halo plan, which share the one layout (owned
    /// cells and ghosts as wide as the stencil).
    public func block(rank: Int) throws -> (geometry: Geometry, halo: HaloPlan) {
        let halo = try HaloPlan(decomposition: decomposition, rank: rank, ghost: config.grid.shape.map { _ in ghost })
        let geometry = Geometry(
            shape: config.grid.shape, extent: config.grid.extent, periodic: config.grid.periodic, layout: halo.layout)
        return (geometry, halo)
    }

    /// What a restart must share with the run that wrote its checkpoint: the model and its
    /// parameters, the grid and the boundaries. (Output and checkpoint settings may change.)
    public var physics: PhysicsKey {
        let grid = config.grid
        return PhysicsKey(
            model: config.modelName, parameters: parameters.values, shape: grid.shape, extent: grid.extent,
            periodic: grid.periodic, boundaries: config.boundaries)
    }

    /// The Well's `bc_type` of each axis for `model` (this plan's model on some block).
    public func wellBoundaryLabels(_ model: any Model) -> [String] {
        config.boundaries.map {
            modelType.description.boundaries.wellLabel($0, absorbing: model.absorbsAtBoundaries)
        }
    }

    /// Bytes of one results frame: every output field over the whole grid in float32.
    public var frameBytes: Int {
        StagedFrame.bytes(
            fields: fields, dimensions: config.grid.shape.count, cells: config.grid.shape.reduce(1, *),
            precision: .single)
    }

    /// A few lines on what the run will do, for `validate` and the start of `run`.
    /// The extents of the ranks' blocks with the fewest and with the most cells.
    public var blockExtremes: (smallest: [Int], largest: [Int]) {
        let blocks = (0..<decomposition.rankCount).map { decomposition.ownedBox(of: $0).extent }
        let cells = blocks.map { $0.reduce(1, *) }
        return (blocks[cells.firstIndex(of: cells.min()!)!], blocks[cells.firstIndex(of: cells.max()!)!])
    }

    public var summary: String {
        let (smallest, largest) = blockExtremes
        let time =
            config.steps.map { "\($0) steps" }
            ?? "until t = \(config.endTime!) in "
            + (adaptive
                ? "adaptive steps (each cfl × the state's stable step, growing at most \(config.maxDtGrowth)× a step)"
                : "fixed steps")
        return """
            model \(config.modelName): \(parameters.values.keys.sorted().map { "\($0) = \(parameters.values[$0]!)" }.joined(separator: ", "))
            grid \(shapeText(config.grid.shape)) cells, extent \(config.grid.extent), boundaries \(config.boundaries.map(\.name))
            \(rankText(decomposition.rankCount)), process grid \(shapeText(decomposition.dims)), blocks \(shapeText(smallest)) to \(shapeText(largest)) cells
            \(time), cfl \(config.cfl), \(config.frameSpacing) into \(config.outputDirectory)/results.hdf5
            """
    }
}

extension RunPlan {
    /// How the ranks landed: launcher, nodes, process grid and each rank's block (listed up to
    /// `listed` ranks), for the start of a run. `hosts` holds each rank's node name.
    public func layout(hosts: [String], launcher: String, listed: Int = 32) -> [String] {
        var nodes: [String: Int] = [:]
        for host in hosts { nodes[host, default: 0] += 1 }
        let perNode = nodes.keys.sorted().prefix(8).map { "\($0): \(nodes[$0]!)" }.joined(separator: ", ")
        var lines = [
            "\(launcher): \(hosts.count) \(hosts.count == 1 ? "rank" : "ranks") on \(nodes.count) "
                + "\(nodes.count == 1 ? "node" : "nodes") (\(perNode)\(nodes.count > 8 ? ", ..." : "")), "
                + "process grid \(shapeText(decomposition.dims))"
        ]
        guard hosts.count <= listed else {
            lines.append("(the block of each rank is listed for up to \(listed) ranks)")
            return lines
        }
        for (rank, host) in hosts.enumerated() {
            let block = decomposition.ownedBox(of: rank)
            let ranges = zip(block.lower, block.upper).map { "\($0)..<\($1)" }.joined(separator: ", ")
            lines.append("rank \(rank) on \(host): cells [\(ranges)], \(shapeText(block.extent))")
        }
        return lines
    }
}

extension RunConfig.FileSettings {
    /// The settings as HDF5 takes them.
    var tuning: FileTuning {
        FileTuning(
            hints: hints,
            alignment: alignment.map { FileTuning.Alignment(threshold: alignmentThreshold, boundary: $0) })
    }
}
