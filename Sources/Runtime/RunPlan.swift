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
    /// The model's stencil: ghost cells each step reads beyond the cells it updates.
    public let stencilWidth: Int
    /// How many stencil widths deep the ghost zone is (`grid.halo_depth`): the halo is
    /// exchanged once every this many steps. 1 for commands that run the adjoint.
    public private(set) var haloDepth: Int
    /// The ghost width: the stencil times the halo depth.
    public var ghost: Int { stencilWidth * haloDepth }
    /// The fields the model evolves.
    public let fields: [FieldSpec]
    /// The scalar components of the fields: one ``Field`` each in the state.
    public var components: Int { fields.components(dimensions: config.grid.shape.count).count }
    /// How many scalar components the model's stencil reads the ghosts of
    /// (``Model/stencilComponents``); nil, all of them.
    let stencilComponents: Int?
    /// The scalar components a step's halo exchange carries: with ghost zones one stencil deep,
    /// those the stencil reads; deeper ones need them all.
    public var exchangedComponents: Int { haloDepth == 1 ? stencilComponents ?? components : components }
    /// Stages of the model's time integrator.
    public let stages: Int
    /// Whether the model's update writes into the state it reads (``Model/updatesInPlace``).
    public let updatesInPlace: Bool
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
        stencilWidth = probe.stencilWidth
        let depth = config.grid.haloDepth
        haloDepth = depth
        fields = probe.fields
        stencilComponents = probe.stencilComponents?.count
        stages = probe.stages.count
        updatesInPlace = probe.updatesInPlace
        if depth > 1 && probe.stages.count > 1 {
            throw ConfigError(
                "grid.halo_depth",
                "the \(config.modelName) model's step has \(probe.stages.count) stages, each reading ghosts the stage before "
                    + "wrote, so it exchanges its halo every stage; deep halos are for models whose step is one "
                    + "update (heat, wave, gray_scott with integrator = \"euler\", advection with scheme = "
                    + "\"upwind\", 1-D euler). Set halo_depth = 1")
        }
        // The same pure choice on every rank and in `validate`, so the two always agree.
        decomposition = try Self.decompose(config.grid, ranks: ranks, width: probe.stencilWidth)
    }

    /// The process grid over `grid`'s cells for `ranks` ranks, each block at least as wide as
    /// the ghost zone (`width` times the halo depth).
    static func decompose(_ grid: RunConfig.GridSection, ranks: Int, width: Int) throws -> Decomposition {
        let depth = grid.haloDepth
        do {
            let dims = try Decomposition.balancedDims(
                ranks: ranks, shape: grid.shape, minimumBlock: width * depth, fixed: grid.processGrid)
            return try Decomposition(shape: grid.shape, dims: dims, periodic: grid.periodic)
        } catch {
            guard depth > 1 else { throw error }
            throw ConfigError(
                "grid.halo_depth",
                "\(depth) stencil widths make ghost zones \(width * depth) cells deep, and every rank's block must be "
                    + "at least that wide: \(error). Lower halo_depth")
        }
    }

    /// The same plan with ghost zones one stencil deep, exchanged every step: for the commands
    /// that run the adjoint, whose reverse exchange and checks assume it.
    public var withShallowHalo: RunPlan { withHaloDepth(1) }

    /// The same plan and process grid with ghost zones `depth` stencils deep: for projections
    /// of other depths (the blocks must be at least as wide as the ghost zone).
    public func withHaloDepth(_ depth: Int) -> RunPlan {
        var plan = self
        plan.haloDepth = depth
        return plan
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
            \(haloText)
            """
    }
}

extension RunPlan {
    /// How deep the ghost zones are and how often they are exchanged, in words.
    public var haloText: String {
        let cells = "\(ghost) \(ghost == 1 ? "cell" : "cells") deep"
        return haloDepth == 1
            ? "halo depth 1 (ghost zones \(cells), exchanged every step\(stages > 1 ? " stage" : ""))"
            : "halo depth \(haloDepth) (ghost zones \(cells), exchanged once every \(haloDepth) steps; the steps "
                + "between update the ghost cells still valid as well"
                + (config.grid.shape.count > 1
                    ? ", in one tiled pass over the block when the time step is fixed: \(tilingText))" : ")")
    }

    /// The tiled pass's tiling, in words: as `grid.tiling` sets it, or chosen at start-up.
    var tilingText: String {
        guard let tiling = config.grid.tiling else {
            let tried = config.grid.shape.count == 2 ? "slab heights" : "tile widths"
            return "sized for the L2 cache, the fastest of up to three \(tried) tried in the first passes"
        }
        return config.grid.shape.count == 2
            ? "slabs of \(tiling.slab) rows (grid.tiling)"
            : "slabs of \(tiling.slab) planes, tiles \(tiling.width) wide along y (grid.tiling)"
    }

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
