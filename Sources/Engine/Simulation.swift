import Grid
import Settings

#if canImport(Glibc)
    import Glibc
#endif

/// What the driver needs from the parallel layer: a split-phase halo exchange and global
/// reductions. Implemented over MPI by the `Distributed` target; the engine never sees MPI.
public protocol DomainCommunication: Reductions {
    /// Starts filling the ghost cells of `fields` from the neighbours. What it sends is
    /// copied before it returns: the owned cells may change at once. Ghosts beyond the faces
    /// that ``lateFaces`` does not list are filled when it returns; those beyond the faces it
    /// lists must not be read or written until ``finishExchange()`` returns.
    func beginExchange(_ fields: [Field]) throws
    /// Per axis, whether the ghosts beyond the block's low and high faces arrive only in
    /// ``finishExchange()`` (from another rank); a face with no neighbour is not late.
    var lateFaces: [(low: Bool, high: Bool)] { get }
    /// Lets the exchange in flight move on, while the caller computes: called between the
    /// pieces of a tiled pass. Nothing by default.
    func progress() throws
    /// Waits for the exchange that ``beginExchange(_:)`` started and unpacks the ghosts.
    func finishExchange() throws
    /// The adjoint of an exchange followed by unpacking: sends what each ghost cell of `fields`
    /// holds to the rank that owns the cell, adds it to the owned cell there, and zeroes the
    /// ghosts. Blocking.
    func reverseExchange(_ fields: [Field]) throws
    /// The minimum of `value` over all ranks.
    func globalMinimum(_ value: Double) throws -> Double
}

extension DomainCommunication {
    public func progress() throws {}
}

/// Where and when the run is, as the driver reports it after each step.
public struct StepReport: Sendable {
    public let step: Int
    /// The steps of the whole run (0 with adaptive steps, whose number is not known ahead).
    public let steps: Int
    public let time: Double
    /// The step just taken.
    public let dt: Double
    /// How far through the run, from 0 to 1 (by simulated time with adaptive steps).
    public let fraction: Double
}

/// Where an adaptive run is: besides the state, what its next step depends on. A
/// checkpoint holds it, so that a restart takes the same steps.
public struct StepClock: Sendable, Equatable {
    public var step: Int
    public var time: Double
    /// The last step's length before it was shortened to land on a frame (0 before the
    /// first): the next may be at most ``Schedule/Adaptive/maxGrowth`` times it.
    public var dt: Double
    /// Frames written so far.
    public var frames: Int

    public init(step: Int, time: Double, dt: Double, frames: Int) {
        self.step = step
        self.time = time
        self.dt = dt
        self.frames = frames
    }
}

/// Receiver samples of consecutive steps, for the receivers one rank holds.
public struct TraceBlock: Sendable {
    /// The step of the first sample (0 is the initial state).
    public let first: Int
    /// The time of each sample.
    public let times: [Double]
    /// Which of the model's receivers this rank holds.
    public let receivers: [Int]
    /// For each of those receivers, its samples.
    public let samples: [[Double]]
}

extension Tiling {
    /// The tiling for a sweep of `depth` steps over a block of `layout` whose update streams
    /// `arrays` arrays (read and written): the steps in flight span about `depth + slab + 2`
    /// slabs of every array, which this keeps within `cache` bytes (this core's L2). In 2-D the
    /// slab grows to fill it (up to 16 rows); in 3-D slabs are 4 planes and the tile narrows.
    public static func automatic(layout: LocalLayout, depth: Int, arrays: Int, cache: Int = level2Cache) -> Tiling {
        // Bytes of one row along the last axis, in every array.
        let row = layout.allocated[layout.dimensions - 1] * MemoryLayout<Double>.stride * Swift.max(arrays, 1)
        if layout.dimensions == 2 {
            return Tiling(slab: Swift.min(Swift.max(cache / row - depth - 2, 1), 16), width: 1)
        }
        let slab = 4
        return Tiling(slab: slab, width: Swift.max(cache / (row * (depth + slab + 2)), 4))
    }

    /// This core's level-2 cache in bytes, as the C library reports it (1 MiB when it does not).
    public static let level2Cache: Int = {
        let size = sysconf(Int32(_SC_LEVEL2_CACHE_SIZE))
        return size > 0 ? size : 1 << 20
    }()
}

/// Tilings tried pass by pass at the start of a run, the fastest kept (as Devito's autotuning
/// tries block shapes in its first steps): which tile suits a core depends on more than its L2
/// size, and the tiling never changes the bits. Each candidate is tried `rounds` times, in
/// turn, and the one with the shortest time per step in any of its passes wins.
public struct TilingTrials: Sendable {
    public let candidates: [Tiling]
    public let rounds: Int
    /// Per candidate, its shortest time per step so far.
    public private(set) var fastest: [Double]
    /// The passes recorded.
    public private(set) var passes = 0

    public init(candidates: [Tiling], rounds: Int = 2) {
        precondition(!candidates.isEmpty && rounds >= 1)
        self.candidates = candidates
        self.rounds = rounds
        self.fastest = candidates.map { _ in .infinity }
    }

    /// The automatic tiling and tiles two and four times as wide (slabs as high in 2-D), none
    /// wider than `extent` cells (the block across the tiles' axis).
    public static func around(_ base: Tiling, dimensions: Int, extent: Int) -> [Tiling] {
        var candidates: [Tiling] = []
        for factor in [1, 2, 4] {
            var tiling = base
            if dimensions == 2 {
                tiling.slab = Swift.min(base.slab * factor, Swift.max(extent, base.slab))
            } else {
                tiling.width = Swift.min(base.width * factor, Swift.max(extent, base.width))
            }
            if !candidates.contains(tiling) { candidates.append(tiling) }
        }
        return candidates
    }

    public var isDone: Bool { passes >= candidates.count * rounds }
    /// The tiling the next pass takes: each candidate in turn until all had their rounds, then
    /// the fastest.
    public var next: Tiling { isDone ? chosen : candidates[passes % candidates.count] }
    /// The candidate with the shortest time per step (the first of equals).
    public var chosen: Tiling {
        candidates[fastest.indices.min { fastest[$0] < fastest[$1] }!]
    }

    /// Records the pass just taken with ``next``: `seconds` for `steps` steps.
    public mutating func record(seconds: Double, steps: Int) {
        let index = passes % candidates.count
        fastest[index] = Swift.min(fastest[index], seconds / Double(steps))
        passes += 1
    }
}

/// What to do after a step. Every rank must reach the same decision (the control agrees
/// across ranks before answering).
public struct StepDecision: Sendable, Equatable {
    public var checkpoint: Bool
    public var stop: Bool
    /// The minimum over the ranks of the stable steps they were asked with, reduced in the
    /// same call as the decision (an adaptive run's next step needs no reduction of its own).
    public var stableStep: Double?

    public init(checkpoint: Bool, stop: Bool, stableStep: Double? = nil) {
        self.checkpoint = checkpoint
        self.stop = stop
        self.stableStep = stableStep
    }
}

/// Decides when to checkpoint and when to stop early, and writes checkpoints.
public protocol RunControl {
    /// Called after every step, once its frame (if any) is written; `last` after the run's last.
    /// With `stableStep` (this rank's stable step for the next, of an adaptive run), the
    /// decision carries its minimum over the ranks.
    func decide(after step: Int, last: Bool, stableStep: Double?) throws -> StepDecision
    /// Writes a checkpoint of `state` after `step`, at `time`, when `frames` frames have been
    /// written; `dt` is the fixed step, or the last adaptive step before it was shortened.
    func checkpoint(step: Int, time: Double, dt: Double, frames: Int, state: [Field]) throws
    /// Checkpoints fall after every this many steps, besides any the decisions ask for: a
    /// tiled sweep ends on them.
    var checkpointEvery: Int? { get }
}

extension RunControl {
    public var checkpointEvery: Int? { nil }
}

/// The state holds a NaN or an infinity: the run cannot go on, and writing it on would only
/// hide where it went wrong. Every rank throws it alike.
/// A run that cannot go on for what its model did: its message ends with the model's likely
/// causes, which the run fills in once it knows the model.
public protocol ModelFailure: Error, CustomStringConvertible {
    var causes: [String] { get set }
}

extension ModelFailure {
    /// "Likely causes, most likely first: (1) ...; (2) ...".
    var likelyCauses: String {
        "Likely causes, most likely first: "
            + causes.enumerated().map { "(\($0.offset + 1)) \($0.element)" }.joined(separator: "; ")
    }
}

public struct NonFiniteState: ModelFailure {
    public let step: Int
    public let time: Double
    /// The components that hold a non-finite value somewhere.
    public let components: [String]
    /// The likely causes, most likely first: the model's own (``ModelDescription/instabilities``)
    /// once the run knows the model.
    public var causes: [String]

    public init(step: Int, time: Double, components: [String], causes: [String] = ModelDescription.usualInstabilities) {
        self.step = step
        self.time = time
        self.components = components
        self.causes = causes
    }

    public var description: String {
        "the state is no longer finite at step \(step) (t = \(time)): \(components.joined(separator: ", ")) "
            + "hold NaN or infinite values. \(likelyCauses). Fix it and run again from the start; the frames and "
            + "checkpoints so far are kept"
    }
}

/// An adaptive run's stable step fell so far that the run could not end: to nothing, or below
/// what would take more than ``Schedule/maximumSteps`` steps to reach the end. The state is
/// finite but not one the model can step (an energy or a speed out of any physical range).
/// Every rank throws it alike (the step is a global minimum).
public struct StepCollapsed: ModelFailure {
    public let step: Int
    public let time: Double
    public let stableStep: Double
    public var causes: [String]

    public init(step: Int, time: Double, stableStep: Double, causes: [String] = ModelDescription.usualInstabilities) {
        self.step = step
        self.time = time
        self.stableStep = stableStep
        self.causes = causes
    }

    public var description: String {
        "the stable time step fell to \(stableStep) at step \(step) (t = \(time)): the run would never reach its end. "
            + "\(likelyCauses). The frames and checkpoints so far are kept"
    }
}

/// How a run ended.
public enum RunOutcome: Sendable, Equatable {
    /// Every step of the schedule was taken.
    case completed
    /// The control stopped the run early after `step`, with a checkpoint there.
    case stopped(step: Int)
}

/// How long a run goes and how often it writes.
public struct Schedule: Sendable, Equatable {
    /// Time steps to take (0 with ``adaptive`` steps, whose number follows the state).
    public let steps: Int
    /// The time step (0 with ``adaptive`` steps).
    public let dt: Double
    /// Steps between output frames (0 with ``adaptive`` steps).
    public let outputEvery: Int
    /// Simulated time between frames, when the config sets it (`output.every_time`): frame k
    /// is then at exactly k times it, whatever the time step, so that runs with different
    /// time steps (an ensemble's members) share their frame times bit for bit.
    public let frameInterval: Double?
    /// The frames written: the initial state and one per interval.
    public let frameCount: Int
    /// How adaptive steps are chosen, for a run whose every step is as long as its state
    /// allows; nil for fixed steps.
    public let adaptive: Adaptive?

    /// Each step is `cfl` times the stable step of the current state (one global minimum),
    /// at most `maxGrowth` times the step before, and shortened to land on the next frame.
    public struct Adaptive: Sendable, Equatable {
        public let cfl: Double
        public let maxGrowth: Double

        public init(cfl: Double, maxGrowth: Double) {
            self.cfl = cfl
            self.maxGrowth = maxGrowth
        }
    }

    /// Adaptive steps to `endTime`, with a frame every `everyTime` (which divides it).
    public init(adaptiveUntil endTime: Double, every everyTime: Double, rule: Adaptive) {
        steps = 0
        dt = 0
        outputEvery = 0
        frameInterval = everyTime
        frameCount = Self.intervals(endTime: endTime, every: everyTime) + 1
        adaptive = rule
    }

    /// The intervals of `everyTime` in `endTime` (the config checks that they are whole).
    static func intervals(endTime: Double, every everyTime: Double) -> Int {
        Swift.max(1, Int((endTime / everyTime).rounded()))
    }

    /// The most steps a run may take (2^50). More is a mistake in `end_time` or `cfl`: at a
    /// million steps a second it would run for 35 years. Step counts stay exact as doubles.
    public static let maximumSteps = 1 << 50

    /// A schedule of `steps` steps of `dt`, or, with `endTime`, as few equal steps as reach
    /// `endTime` without exceeding `stableDt` in a whole number of output intervals, so that
    /// frames are evenly spaced and the last one is at `endTime`. With `everyTime` (which needs
    /// `endTime`, a whole number of times it), each interval of `everyTime` takes as few equal
    /// steps as keep within `stableDt`. Throws when reaching `endTime` would take more than
    /// ``maximumSteps``, rather than let the count wrap.
    public init(
        steps: Int?, endTime: Double?, stableDt: Double, outputEvery: Int, everyTime: Double? = nil
    ) throws(ConfigError) {
        precondition(outputEvery >= 1)
        if let everyTime, let endTime {
            let intervals = Self.intervals(endTime: endTime, every: everyTime)
            let perInterval = (everyTime / stableDt).rounded(.up)
            guard perInterval.isFinite, perInterval * Double(intervals) <= Double(Self.maximumSteps) else {
                throw ConfigError(
                    "output.every_time",
                    "end_time = \(endTime) in frames every \(everyTime) at the stable step \(stableDt) (cfl times the "
                        + "model's limit) takes more than the \(Self.maximumSteps) steps a run may take: lower end_time "
                        + "or raise cfl")
            }
            let n = Swift.max(1, Int(perInterval))
            self.steps = intervals * n
            self.dt = everyTime / Double(n)
            self.outputEvery = n
            self.frameInterval = everyTime
            self.frameCount = intervals + 1
            self.adaptive = nil
            return
        }
        frameInterval = nil
        adaptive = nil
        if let endTime {
            let needed = (endTime / stableDt).rounded(.up)
            guard needed.isFinite, needed <= Double(Self.maximumSteps) else {
                throw ConfigError(
                    "time.end_time",
                    "end_time = \(endTime) at the stable step \(stableDt) (cfl times the model's limit) takes "
                        + "\(needed) steps, more than the \(Self.maximumSteps) a run may take: lower end_time or "
                        + "raise cfl")
            }
            guard Double(outputEvery) <= Swift.max(needed, 1) else {
                throw ConfigError(
                    "output.every",
                    "\(outputEvery) steps between frames is more than the whole run: end_time = \(endTime) takes "
                        + "\(Int(needed)) steps of at most \(stableDt) (cfl times the model's limit), so the run would "
                        + "be stretched to \(outputEvery) steps for one frame; choose output.every ≤ \(Int(needed)) (for "
                        + "example \(Swift.max(1, Int(needed) / 10)) for about 10 frames)")
            }
            // Whole output intervals, counted without overflow for any outputEvery.
            let intervals = (Swift.max(1, Int(needed)) - 1) / outputEvery + 1
            let (count, overflow) = intervals.multipliedReportingOverflow(by: outputEvery)
            guard !overflow, count <= Self.maximumSteps else {
                throw ConfigError(
                    "output.every",
                    "\(outputEvery) steps between frames make the run longer than the \(Self.maximumSteps) steps "
                        + "a run may take")
            }
            self.steps = count
            self.dt = endTime / Double(count)
        } else {
            self.steps = steps ?? 0
            self.dt = stableDt
        }
        self.outputEvery = outputEvery
        self.frameCount = self.steps / outputEvery + 1
    }

    /// The simulated time of frame `index`: `index` times `frameInterval` where the config
    /// sets it, else the time of its step.
    public func time(ofFrame index: Int) -> Double {
        frameInterval.map { Double(index) * $0 } ?? Double(index * outputEvery) * dt
    }
}

/// Runs a model on one rank's block: exchange, interior update overlapped with the
/// exchange, boundary conditions, boundary-shell update, output.
///
/// Only the faces whose ghosts come from other ranks are held back from the interior update:
/// ghosts from this rank itself and from boundary conditions are filled before it, so a block
/// with no remote neighbour is updated in one sweep, and the slabs left for after the exchange
/// are those beside remote neighbours.
public final class Simulation {
    public let model: any Model
    public let geometry: Geometry
    public let communication: DomainCommunication
    public let boundaries: BoundaryFiller
    /// The state at the current time.
    public private(set) var state: [Field]
    private var next: [Field]
    /// The result of the previous stage, for integrators of more than one stage.
    private var stage: [Field]
    /// The model's work arrays on this block (``Model/workArrays``), then any added for an
    /// adjoint run (``addWork(_:)``): the engine owns them and hands them to every call.
    public private(set) var work: [Field]
    /// The time step the work arrays were last prepared for (NaN: not yet, or invalidated).
    private var preparedDt = Double.nan
    /// How many stencil widths deep the ghost zone is: the halo is exchanged once every this
    /// many steps (``step(dt:time:)``).
    public let haloDepth: Int
    /// Positions in the state of the components a step exchanges and fills the ghosts of:
    /// with ghost zones one stencil deep, those the model's stencil reads
    /// (``Model/stencilComponents``); nil, all of them.
    let haloComponents: [Int]?
    /// Steps since the last halo exchange of the state, before the next step: the next step
    /// exchanges when it is 0.
    private var phase = 0
    /// The halo exchanges of the state the steps made: one every ``haloDepth`` steps (and one
    /// more after a restart, whose first step exchanges).
    public private(set) var exchanges = 0
    /// The steps this simulation took.
    public private(set) var steps = 0
    /// The tiled sweeps of more than one step it took (``advance(steps:dt:after:)``).
    public private(set) var sweeps = 0
    /// For each phase, the cells a step updates: the owned cells and, beyond the faces whose
    /// ghosts come from an exchange, the ghost layers that the steps left before the next
    /// exchange still read.
    let reach: [Box]
    /// Cells whose stencil reaches no late ghost cell, updated while the exchange is in flight.
    let interior: Box
    /// The rest of the cells an exchanging step updates, after the ghosts arrive.
    let shell: [Box]
    /// The faces whose ghosts arrive only when the exchange finishes (from other ranks), less
    /// those beyond physical boundaries: what a tiled pass that exchanges holds back.
    let late: [(low: Bool, high: Bool)]
    /// Whether boundary conditions fill ghosts that the interior update reads (the block
    /// touches a physical boundary), and so are applied before it as well as after the exchange.
    let boundariesFirst: Bool
    /// The checks and totals every frame needs, over this rank's block.
    public let statistics: FrameStatistics
    /// The receivers in this rank's block: which, the state component, the cell's offset.
    public let probes: [(receiver: Int, component: Int, offset: Int)]
    /// The probes' cells, in local coordinates.
    let probeCells: [[Int]]
    /// How a cycle of steps between exchanges is swept in one pass (temporal blocking), or
    /// nil when steps go one by one (a halo depth of 1, one dimension, or more than one stage).
    /// While ``trials`` run, the tiling of the last pass; then the fastest.
    public private(set) var tiling: Tiling?
    /// The tilings being tried in the first passes (nil once one is chosen, or when the
    /// tiling was given).
    public private(set) var trials: TilingTrials?
    /// The tilings that were tried, once the trials are over (empty when none ran).
    public private(set) var triedTilings: [Tiling] = []
    /// Samples since the last ``TraceBlock`` went to the output, one list per probe.
    private var traces: (first: Int, times: [Double], samples: [[Double]])

    /// With `haloDepth` k > 1 (for models of one stage), `plan`'s ghost zone is k stencil
    /// widths deep, the state is exchanged once every k steps, and each step between updates
    /// the ghost cells whose stencil still reaches valid cells, as their owner does: the same
    /// arithmetic on the same values, so the same bits as exchanging every step.
    public init(
        model: any Model, geometry: Geometry, plan: HaloPlan, conditions: [BoundaryCondition],
        communication: DomainCommunication, haloDepth: Int = 1, tiling: Tiling? = nil
    ) {
        precondition(haloDepth >= 1 && (haloDepth == 1 || model.stages.count == 1), "deep halos need one stage")
        precondition(haloDepth == 1 || plan.layout.ghost.allSatisfy { $0 >= model.stencilWidth * haloDepth })
        self.haloDepth = haloDepth
        self.haloComponents = haloDepth == 1 ? model.stencilComponents : nil
        self.model = model
        self.geometry = geometry
        self.communication = communication
        let names = model.fields.components(dimensions: geometry.dimensions)
        // A vector's component along an axis is the one a reflecting wall across it flips.
        let vectors = model.fields.filter { $0.tensorOrder == 1 }.map(\.name)
        let normal = (0..<geometry.dimensions).map { axis in
            Set(vectors.compactMap { names.firstIndex(of: "\($0)_\(["x", "y", "z"][axis])") })
        }
        self.boundaries = BoundaryFiller(plan: plan, conditions: conditions, normal: normal)
        self.state = names.map { Field(name: $0, layout: plan.layout) }
        precondition(!model.updatesInPlace || model.stages.count == 1, "an update in place has one stage")
        self.next =
            model.updatesInPlace ? Self.inPlace(state) : names.map { Field(name: $0, layout: plan.layout) }
        self.stage = model.stages.count > 1 ? names.map { Field(name: $0, layout: plan.layout) } : []
        self.work = model.workArrays.map { Field(name: $0, layout: plan.layout) }
        self.statistics = FrameStatistics(fields: model.fields, conserved: model.conserved, geometry: geometry)
        // Each receiver this rank holds: its probe, and its cell in local coordinates.
        let located = model.receivers.enumerated().compactMap { index, receiver in
            let cell = geometry.cell(containing: receiver.position)
            return geometry.offset(ofCell: cell).map { offset in
                (
                    probe: (receiver: index, component: names.firstIndex(of: receiver.component)!, offset: offset),
                    cell: zip(cell, plan.layout.owned.lower).map(-)
                )
            }
        }
        self.probes = located.map(\.probe)
        self.probeCells = located.map(\.cell)
        self.traces = (0, [], probes.map { _ in [] })
        self.tiling =
            haloDepth > 1 && geometry.dimensions > 1
            ? tiling
                ?? Tiling.automatic(
                    layout: plan.layout, depth: haloDepth,
                    arrays: (model.updatesInPlace ? 1 : 2) * names.count + model.auxiliaryArrays) : nil
        // Ghost zones that an exchange fills may be updated; those beyond a physical boundary
        // are filled by its condition before every step.
        let exchanged = (0..<geometry.dimensions).map { axis in
            (
                low: !plan.physicalBoundaries.contains { $0 == (axis, -1) },
                high: !plan.physicalBoundaries.contains { $0 == (axis, 1) }
            )
        }
        self.reach = (0..<haloDepth).map { phase in
            Self.grow(plan.layout.interior, by: (haloDepth - 1 - phase) * model.stencilWidth, faces: exchanged)
        }
        (self.interior, self.shell) = Self.split(
            plan.layout, width: model.stencilWidth, late: communication.lateFaces, outer: reach[0])
        self.late = zip(communication.lateFaces, exchanged).map { ($0.low && $1.low, $0.high && $1.high) }
        self.boundariesFirst = !plan.physicalBoundaries.isEmpty
        if tiling == nil, let automatic = self.tiling {
            let axis = geometry.dimensions == 2 ? 0 : 1
            let candidates = TilingTrials.around(
                automatic, dimensions: geometry.dimensions,
                extent: reach[0].extent[axis] + haloDepth * model.stencilWidth)
            if candidates.count > 1 { self.trials = TilingTrials(candidates: candidates) }
        }
        model.initialize(state, work: work, geometry: geometry)
    }

    /// Tries `candidates` in the next passes, `rounds` times each, then keeps the fastest.
    public func tryTilings(_ candidates: [Tiling], rounds: Int = 2) {
        precondition(tiling != nil, "only a tiled sweep has tilings to try")
        trials = TilingTrials(candidates: candidates, rounds: rounds)
        triedTilings = []
    }

    /// Allocates more work arrays (zeroed, in the state's layout) after the model's own and
    /// returns them: for the arrays an adjoint run needs besides the forward run's.
    @discardableResult
    public func addWork(_ names: [String]) -> [Field] {
        let added = names.map { Field(name: $0, layout: geometry.layout) }
        work += added
        return added
    }

    /// Lets the model set the work arrays that depend on the time step, when `dt` is not the
    /// one they were last set for. Every step does; an adjoint run before its linearised steps.
    public func prepare(dt: Double) throws {
        guard dt.bitPattern != preparedDt.bitPattern else { return }
        model.prepare(dt: dt, work: work, geometry: geometry)
        preparedDt = dt
        // Steps update ghost cells too with deep halos: the work arrays they read (which the
        // model sets on the owned cells) must hold the owner's values there.
        let shared = model.sharedWorkArrays.map { work[$0] }
        if haloDepth > 1 && !shared.isEmpty {
            try communication.beginExchange(shared)
            try communication.finishExchange()
        }
    }

    /// Forgets the time step the work arrays were prepared for, after the arrays they are
    /// derived from changed (an inversion's new controls): the next step prepares them again.
    public func workChanged() { preparedDt = .nan }

    /// `box` grown by `cells` beyond each face that `faces` lists.
    static func grow(_ box: Box, by cells: Int, faces: [(low: Bool, high: Bool)]) -> Box {
        var grown = box
        for axis in faces.indices {
            if faces[axis].low { grown.lower[axis] -= cells }
            if faces[axis].high { grown.upper[axis] += cells }
        }
        return grown
    }

    /// Splits `outer` (the owned cells when nil; with deep halos, they and the ghost cells a
    /// step updates) into an interior box whose stencil of `width` reaches no ghost beyond a
    /// late face (all faces when `late` is nil), and the slabs between it and `outer`'s faces
    /// (at most two per axis, disjoint).
    static func split(
        _ layout: LocalLayout, width: Int, late: [(low: Bool, high: Bool)]? = nil, outer: Box? = nil
    ) -> (Box, [Box]) {
        let n = layout.extent
        let late = late ?? n.map { _ in (true, true) }
        let outer = outer ?? Box(extent: n)
        var inner = outer
        for axis in n.indices {
            if late[axis].low { inner.lower[axis] = Swift.min(width, n[axis]) }
            if late[axis].high { inner.upper[axis] = Swift.max(n[axis] - width, inner.lower[axis]) }
        }
        let slabs = cut(outer, around: inner)
        if inner.isEmpty { inner = Box(extent: n.map { _ in 0 }) }
        return (inner, slabs)
    }

    /// The stable time step over all ranks, times `cfl`.
    /// The fixed time step for the current state: `cfl` times the stable step, less the
    /// model's ``Model/fixedStepMargin`` for the changes to come. One global minimum.
    public func stableTimeStep(cfl: Double) throws -> Double {
        try communication.globalMinimum(model.stableTimeStep(state, geometry: geometry)) * cfl / model.fixedStepMargin
    }

    /// The next state of an update in place (``Model/updatesInPlace``): field `i` named as
    /// `state[i]`, over the memory of `state[(i + 1) % n]`.
    public static func inPlace(_ state: [Field]) -> [Field] {
        state.indices.map { Field(name: state[$0].name, sharing: state[($0 + 1) % state.count]) }
    }

    /// A field's worth of memory, already allocated and touched, whose contents are free between
    /// steps (the state the next step writes into): scratch space for reading a checkpoint.
    public var scratch: Field { model.updatesInPlace ? separateScratch : next[0] }
    /// Scratch of its own where the next state is the current one's memory (an update in place).
    private lazy var separateScratch = Field(name: "scratch", layout: geometry.layout)

    /// The arrays a step writes into: the next state (of an update in place, only its first
    /// field: the others name the current state's newer levels, which it leaves alone), and the
    /// stage.
    private var written: [Field] { (model.updatesInPlace ? [next[0]] : next) + stage }

    /// The integral over the whole domain of each of the model's conserved components: the sum
    /// over every cell times the cell volume, with the same bits on any number of ranks.
    public func totals() throws -> [Double] {
        try statistics.totals(state, reductions: communication)
    }

    /// Throws ``NonFiniteState`` on every rank if any rank's state holds a NaN or an infinity.
    func checkFinite(step: Int, time: Double) throws {
        let names = try statistics.nonFinite(state, reductions: communication)
        if !names.isEmpty { throw NonFiniteState(step: step, time: time, components: names) }
    }

    /// Fills every ghost cell of the current state: exchange, then boundary conditions.
    public func fillGhosts() throws {
        try communication.beginExchange(state)
        try communication.finishExchange()
        boundaries.apply(to: state)
    }

    /// Advances the state by one step of `dt` from `time`: one Euler update per stage of the
    /// model's integrator, each after its own halo exchange and boundary conditions, then the
    /// model's point sources.
    ///
    /// With deep halos, only every ``haloDepth``-th step exchanges; the others apply the
    /// boundary conditions and update the owned cells and the ghost cells the steps before the
    /// next exchange read, all at once.
    public func step(dt: Double, time: Double = 0) throws {
        try prepare(dt: dt)
        steps += 1
        let stages = model.stages
        let updated = reach[phase]
        if phase > 0 {
            boundaries.apply(to: state)
            model.update(stage: 0, from: state, into: next, box: updated, dt: dt, work: work, geometry: geometry)
            phase = (phase + 1) % haloDepth
            swap(&state, &next)
            model.addSources(to: state, work: work, time: time, dt: dt, box: updated, geometry: geometry)
            return
        }
        exchanges += 1
        phase = 1 % haloDepth
        var input = state
        for (index, (old, euler)) in stages.enumerated() {
            try communication.beginExchange(haloComponents.map { $0.map { input[$0] } } ?? input)
            // Boundary ghosts the interior reads depend only on owned cells and on ghosts this
            // rank fills itself; applying the conditions again after the exchange gives them the
            // same values and fills the edges and corners beside remote neighbours.
            if boundariesFirst { boundaries.apply(to: input, components: haloComponents) }
            if !interior.isEmpty {
                model.update(
                    stage: index, from: input, into: next, box: interior, dt: dt, work: work, geometry: geometry)
            }
            try communication.finishExchange()
            boundaries.apply(to: input, components: haloComponents)
            for box in shell {
                model.update(stage: index, from: input, into: next, box: box, dt: dt, work: work, geometry: geometry)
            }
            let last = index == stages.count - 1
            if old != 0 || euler != 1 {
                combine(into: last ? next : stage, old, state, euler, next)
            } else if !last {
                swap(&stage, &next)
            }
            input = stage
        }
        swap(&state, &next)
        model.addSources(to: state, work: work, time: time, dt: dt, box: updated, geometry: geometry)
    }

    /// The steps the run loop hands ``advance(steps:dt:after:)`` at once: those left before
    /// the next halo exchange when the sweep is tiled (``tiling``), otherwise one, so that the
    /// control decides after every step.
    public var sweepLimit: Int { tiling == nil ? 1 : haloDepth - phase }

    /// Takes `count` steps of `dt` after step `first` (the model's time `first · dt`) and
    /// records the receivers after each.
    ///
    /// With ``tiling``, the steps (at most ``sweepLimit``) go in one pass over the block
    /// (temporal blocking): the first exchanges if the cycle starts, then a wavefront along the
    /// first axis, in tiles along the second in 3-D, updates each piece of the cells a step
    /// updates as soon as the pieces of the step before that its stencil reads are done, while
    /// they are still in cache. Each cell gets the arithmetic of the step-by-step run on the
    /// same values, so the same bits. Otherwise the steps go one by one.
    public func advance(steps count: Int, dt: Double, after first: Int) throws {
        guard var tiling, count > 1 else {
            for step in first..<(first + count) {
                try self.step(dt: dt, time: Double(step) * dt)
                sample(step: step + 1, time: Double(step + 1) * dt)
            }
            return
        }
        precondition(count <= sweepLimit, "a tiled sweep stops at the next exchange")
        try prepare(dt: dt)
        let started = trials.map { _ in ContinuousClock.now }
        if let trials { tiling = trials.next }
        var values = Array(repeating: [Double](repeating: .nan, count: probes.count), count: count)
        let boxes = Array(reach[phase..<(phase + count)])
        if phase == 0 {
            exchanges += 1
            try communication.beginExchange(state)
            if late.contains(where: { $0.low || $0.high }) {
                try overlappedSweep(boxes: boxes, dt: dt, after: first, tiling: tiling, values: &values)
            } else {
                try communication.finishExchange()
                boundaries.apply(to: state)
                sweep(boxes: boxes, dt: dt, after: first, tiling: tiling, values: &values)
            }
        } else {
            boundaries.apply(to: state)
            sweep(boxes: boxes, dt: dt, after: first, tiling: tiling, values: &values)
        }
        steps += count
        sweeps += 1
        phase = (phase + count) % haloDepth
        if let started, var trials {
            trials.record(seconds: (ContinuousClock.now - started).seconds, steps: count)
            self.tiling = trials.isDone ? trials.chosen : trials.next
            self.trials = trials.isDone ? nil : trials
            if trials.isDone { triedTilings = trials.candidates }
        }
        if count % 2 == 1 { swap(&state, &next) }
        for level in 0..<count {
            record(step: first + level + 1, time: Double(first + level + 1) * dt, values: values[level])
        }
    }

    /// A tiled pass that starts with an exchange in flight: while the messages travel, the pass
    /// over the cells whose values after each step depend on no late ghost (at step `level` + 1,
    /// those `level` + 1 stencil widths or more inside every late face), then, once the ghosts
    /// have arrived, the rest of each step's cells: in the same tiles when each step's rest is
    /// one box, else step after step.
    ///
    /// The first pass never reads a late ghost, and its step `level` + 2 overwrites only cells
    /// that the rest of step `level` + 1 does not read (they lie a stencil width further in), so
    /// every cell gets the arithmetic and the values of the pass that waits for the exchange.
    private func overlappedSweep(
        boxes: [Box], dt: Double, after first: Int, tiling: Tiling, values: inout [[Double]]
    ) throws {
        let width = model.stencilWidth
        let n = geometry.layout.extent
        let inner = boxes.indices.map { level in
            var box = boxes[level]
            for axis in n.indices {
                if late[axis].low { box.lower[axis] = (level + 1) * width }
                if late[axis].high { box.upper[axis] = n[axis] - (level + 1) * width }
            }
            return box
        }
        // Boundary ghosts beside owned cells depend on them alone: those the first pass reads
        // are right now. Those beyond late faces (edges and corners) are filled again below.
        if boundariesFirst { boundaries.apply(to: state) }
        try sweep(boxes: inner, dt: dt, after: first, tiling: tiling, values: &values, progress: communication.progress)
        try communication.finishExchange()
        if boundariesFirst {
            let whole = geometry.layout.whole
            for axis in n.indices {
                for (isLate, side) in [(late[axis].low, -1), (late[axis].high, 1)] where isLate {
                    var region = whole
                    if side < 0 { region.upper[axis] = 0 } else { region.lower[axis] = n[axis] }
                    boundaries.apply(to: state, within: region)
                }
            }
        }
        let rest = boxes.indices.map { Self.slabs(between: boxes[$0], and: inner[$0]) }
        if rest.allSatisfy({ $0.count <= 1 }) {
            // One box per step (late faces on one side of one axis, as on the end ranks of a
            // row): the same tiled pass over them.
            let bands = rest.indices.map { rest[$0].first ?? Box(lower: inner[$0].lower, upper: inner[$0].lower) }
            sweep(boxes: bands, dt: dt, after: first, tiling: tiling, values: &values)
            return
        }
        // Several: step by step, each over all its boxes before the boundary ghosts beside them.
        let arrays = [state, next]
        var region = geometry.layout.whole
        for level in rest.indices {
            let output = arrays[(level + 1) % 2]
            for box in rest[level] {
                model.update(
                    stage: 0, from: arrays[level % 2], into: output, box: box, dt: dt, work: work, geometry: geometry)
                model.addSources(
                    to: output, work: work, time: Double(first + level) * dt, dt: dt, box: box, geometry: geometry)
            }
            for box in rest[level] {
                if !boundaries.isEmpty {
                    ghostRegion(of: box, width: width, into: &region)
                    boundaries.apply(to: output, within: region)
                }
                for (index, probe) in probes.enumerated() where box.contains(probeCells[index]) {
                    values[level][index] = output[probe.component].base[probe.offset]
                }
            }
        }
    }

    /// The cells of `outer` outside `inner`, as disjoint boxes: up to two slabs per axis, each
    /// spanning what the slabs of earlier axes leave. All of `outer` when `inner` is empty.
    static func slabs(between outer: Box, and inner: Box) -> [Box] {
        if inner.isEmpty { return outer.isEmpty ? [] : [outer] }
        return cut(outer, around: inner)
    }

    /// The slabs of `outer` below and above `inner` along each axis in turn, each spanning what
    /// the slabs of earlier axes leave. `inner` has no bound past its opposite one.
    private static func cut(_ outer: Box, around inner: Box) -> [Box] {
        var slabs: [Box] = []
        var remaining = outer
        for axis in 0..<outer.dimensions {
            var low = remaining
            low.upper[axis] = inner.lower[axis]
            var high = remaining
            high.lower[axis] = inner.upper[axis]
            for slab in [low, high] where !slab.isEmpty { slabs.append(slab) }
            remaining.lower[axis] = inner.lower[axis]
            remaining.upper[axis] = inner.upper[axis]
        }
        return slabs
    }

    /// The pass of ``advance(steps:dt:after:)`` over `boxes`, the cells each step updates:
    /// step `level` + 1 writes into `[state, next]` `[(level + 1) % 2]` and reads the other, so
    /// each piece overwrites the step before the one it reads, which no piece still to come
    /// needs (pieces of a later step lag one stencil width per step behind, and tiles go in
    /// order). Stores the receivers' values after each step in `values`.
    /// `progress`, when given, is called after every tile (every slab in 2-D).
    private func sweep(
        boxes: [Box], dt: Double, after first: Int, tiling: Tiling, values: inout [[Double]],
        progress: (() throws -> Void)? = nil
    ) rethrows {
        let arrays = [state, next]
        let width = model.stencilWidth
        let dimensions = geometry.layout.dimensions
        // Along an axis, the pieces of step `level` + 1 are those of the first step moved back
        // by `level` stencil widths, cut to the cells that step updates: they start at `start`
        // and reach `end` once moved back.
        var (start, end) = ([Int.max, Int.max], [Int.min, Int.min])
        for (level, box) in boxes.enumerated() where !box.isEmpty {
            for axis in 0..<2 {
                start[axis] = Swift.min(start[axis], box.lower[axis] + level * width)
                end[axis] = Swift.max(end[axis], box.upper[axis] + level * width)
            }
        }
        guard start[0] < end[0] else { return }
        let tileWidth = dimensions == 3 ? tiling.width : Int.max / 4
        let tiles = dimensions == 3 ? (end[1] - start[1] + tileWidth - 1) / tileWidth : 1
        let slabs = (end[0] - start[0] + tiling.slab - 1) / tiling.slab
        // One box per step, cut anew for each piece: mutated in place, never reallocated.
        var piece = boxes[0]
        var region = piece
        for tile in 0..<tiles {
            for slab in 0..<slabs {
                for level in boxes.indices {
                    let back = level * width
                    let whole = boxes[level]
                    for axis in 0..<dimensions {
                        piece.lower[axis] = whole.lower[axis]
                        piece.upper[axis] = whole.upper[axis]
                    }
                    piece.lower[0] = Swift.max(piece.lower[0], start[0] + slab * tiling.slab - back)
                    piece.upper[0] = Swift.min(piece.upper[0], start[0] + (slab + 1) * tiling.slab - back)
                    if dimensions == 3 {
                        piece.lower[1] = Swift.max(piece.lower[1], start[1] + tile * tileWidth - back)
                        piece.upper[1] = Swift.min(piece.upper[1], start[1] + (tile + 1) * tileWidth - back)
                    }
                    guard (0..<dimensions).allSatisfy({ piece.lower[$0] < piece.upper[$0] }) else { continue }
                    let (input, output) = (arrays[level % 2], arrays[(level + 1) % 2])
                    model.update(
                        stage: 0, from: input, into: output, box: piece, dt: dt, work: work, geometry: geometry)
                    model.addSources(
                        to: output, work: work, time: Double(first + level) * dt, dt: dt, box: piece, geometry: geometry
                    )
                    if !boundaries.isEmpty {
                        ghostRegion(of: piece, width: width, into: &region)
                        boundaries.apply(to: output, within: region)
                    }
                    for (index, probe) in probes.enumerated() where piece.contains(probeCells[index]) {
                        values[level][index] = output[probe.component].base[probe.offset]
                    }
                }
                if dimensions == 2 { try progress?() }
            }
            if dimensions == 3 { try progress?() }
        }
    }

    /// The ghost cells beyond physical boundaries that a tiled sweep fills once `piece` is
    /// updated: those beside it (`width` layers, all a step reads) whose cells inside are all
    /// updated by then. Across a low face, those are the first `width` layers, done once the
    /// piece holds the last of them (pieces go up each axis); across a high face, once the piece
    /// holds the last cell.
    private func ghostRegion(of piece: Box, width: Int, into region: inout Box) {
        for axis in 0..<piece.dimensions {
            region.lower[axis] = piece.lower[axis]
            region.upper[axis] = piece.upper[axis]
        }
        let n = geometry.layout.extent
        for (axis, side) in boundaries.plan.physicalBoundaries {
            if side < 0, piece.lower[axis] <= width - 1, piece.upper[axis] > width - 1 {
                region.lower[axis] = -width
            } else if side > 0, piece.upper[axis] == n[axis] {
                region.upper[axis] = n[axis] + width
            }
        }
    }

    /// Records the receivers' values in the current state, at `step` and `time`.
    private func sample(step: Int, time: Double) {
        record(step: step, time: time, values: probes.map { state[$0.component].base[$0.offset] })
    }

    /// Records receiver values (one per probe) taken at `step` and `time`.
    private func record(step: Int, time: Double, values: [Double]) {
        if traces.times.isEmpty { traces.first = step }
        traces.times.append(time)
        for index in probes.indices { traces.samples[index].append(values[index]) }
    }

    /// Hands the samples recorded since the last call to `output`. Collective when the model
    /// has receivers: every rank has the same number of samples.
    private func flushTraces(to output: FrameOutput) throws {
        guard !model.receivers.isEmpty, !traces.times.isEmpty else { return }
        try output.write(
            traces: TraceBlock(
                first: traces.first, times: traces.times, receivers: probes.map(\.receiver), samples: traces.samples))
        traces = (0, [], probes.map { _ in [] })
    }

    /// `target = a · x + b · y` on the owned cells, field by field (ghosts are refilled by the
    /// next exchange). Written out so that no multiply and add are fused: every CPU gives the
    /// same bits.
    private func combine(into target: [Field], _ a: Double, _ x: [Field], _ b: Double, _ y: [Field]) {
        for index in target.indices {
            let t = target[index].base
            let u = UnsafePointer(x[index].base)
            let v = UnsafePointer(y[index].base)
            target[index].layout.forEachRun(in: target[index].layout.interior) { offset, length in
                for k in offset..<(offset &+ length) { t[k] = a * u[k] + b * v[k] }
            }
        }
    }

    /// Starts a run from the initial state: ghosts, the work arrays and the model's start for
    /// the first step of `dt`, and frame 0.
    private func begin(dt: Double, output: FrameOutput) throws {
        try fillGhosts()
        try prepare(dt: dt)
        model.start(state, work: work, dt: dt, geometry: geometry)
        sample(step: 0, time: 0)
        try flushTraces(to: output)
        try output.write(frame: 0, step: 0, time: 0, state: state)
    }

    /// Writes a checkpoint after `step`, once the results file holds every frame and trace up
    /// to it.
    private func checkpoint(
        _ control: RunControl, step: Int, time: Double, dt: Double, frames: Int, output: FrameOutput
    ) throws {
        // A frame found not finite before now is the first failure: drain says so.
        try output.drain()
        try checkFinite(step: step, time: time)
        try flushTraces(to: output)
        // The results file holds every frame and trace up to here before the checkpoint says so.
        try output.drain()
        try control.checkpoint(step: step, time: time, dt: dt, frames: frames, state: state)
    }

    /// Runs `schedule` from step `start` (0, or the step of the checkpoint the state came
    /// from), writing frames to `output`, asking `control` after every step, and reporting.
    /// The model's time is always `step * dt`, so a restarted run computes the same times;
    /// frames carry ``Schedule/time(ofFrame:)``.
    ///
    /// With overlapped output, a frame's state is read while the next step runs; before each
    /// step the driver waits until no frame reads the arrays the step writes into, and before a
    /// checkpoint until every frame so far is written.
    ///
    /// A NaN or an infinity stops the run with ``NonFiniteState`` on every rank: at the first
    /// frame that holds or totals it, or else at the next checkpoint or the end.
    public func run(
        _ schedule: Schedule, from start: Int = 0, output: FrameOutput, control: RunControl? = nil,
        report: (StepReport) -> Void
    ) throws -> RunOutcome {
        precondition(schedule.adaptive == nil, "adaptive schedules run with run(_:resuming:output:control:report:)")
        if start == 0 { try begin(dt: schedule.dt, output: output) }
        var step = start
        while step < schedule.steps {
            // A tiled sweep ends where a frame, a checkpoint by steps, or the run's end falls.
            var count = Swift.min(sweepLimit, schedule.steps - step, schedule.outputEvery - step % schedule.outputEvery)
            if let every = control?.checkpointEvery { count = Swift.min(count, every - step % every) }
            // Overlapped output stages a frame from the state while the next step writes into
            // the other array; a pass writes into both, so the step after a frame goes alone.
            if output.mode == .overlapped && step % schedule.outputEvery == 0 { count = 1 }
            // A sweep of more than one step writes into the state too.
            try output.release(written + (count > 1 ? state : []))
            try advance(steps: count, dt: schedule.dt, after: step)
            step += count
            let time = Double(step) * schedule.dt
            if step % schedule.outputEvery == 0 {
                let frame = step / schedule.outputEvery
                try flushTraces(to: output)
                try output.write(frame: frame, step: step, time: schedule.time(ofFrame: frame), state: state)
            }
            report(
                StepReport(
                    step: step, steps: schedule.steps, time: time, dt: schedule.dt,
                    fraction: Double(step) / Double(schedule.steps)))
            if let control {
                let decision = try control.decide(after: step, last: step == schedule.steps, stableStep: nil)
                if decision.checkpoint || decision.stop {
                    try checkpoint(
                        control, step: step, time: time, dt: schedule.dt, frames: step / schedule.outputEvery + 1,
                        output: output)
                }
                if decision.stop && step < schedule.steps {
                    return .stopped(step: step)
                }
            }
        }
        try flushTraces(to: output)
        try output.drain()
        // Frames check only what they hold and total; the rest of the state is checked here.
        try checkFinite(step: step, time: Double(step) * schedule.dt)
        return .completed
    }

    /// Runs an adaptive `schedule` from `clock` (nil: from the initial state), as
    /// ``run(_:from:output:control:report:)`` does a fixed one. Each step is the schedule's
    /// `cfl` times the stable step of the current state, the minimum over every rank (exact,
    /// so the steps are the same on any number of ranks), at most `maxGrowth` times the step
    /// before, and shortened to end exactly on the next frame's time, where the clock is set to
    /// that time. What the next step depends on is in the clock, which checkpoints hold.
    public func run(
        _ schedule: Schedule, resuming clock: StepClock?, output: FrameOutput, control: RunControl? = nil,
        report: (StepReport) -> Void
    ) throws -> RunOutcome {
        guard let rule = schedule.adaptive, schedule.frameInterval != nil else {
            preconditionFailure("a fixed schedule runs with run(_:from:output:control:report:)")
        }
        var clock = clock ?? StepClock(step: 0, time: 0, dt: 0, frames: 1)
        let end = schedule.time(ofFrame: schedule.frameCount - 1)
        if clock.step == 0 { try begin(dt: try stableTimeStep(cfl: rule.cfl), output: output) }
        // The stable step of the current state: reduced on its own before the first step, then
        // in the control's reduction after each step.
        var reduced: Double? = nil
        while clock.frames < schedule.frameCount {
            try output.release(written)
            let limit = try reduced ?? communication.globalMinimum(model.stableTimeStep(state, geometry: geometry))
            let stable = limit * rule.cfl
            // Only a state that is no longer finite, or no longer physical, has no usable step.
            guard stable.isFinite, stable > 0, stable * Double(Schedule.maximumSteps) >= end else {
                try checkFinite(step: clock.step, time: clock.time)
                throw StepCollapsed(step: clock.step, time: clock.time, stableStep: stable)
            }
            let wanted = clock.dt > 0 ? Swift.min(stable, rule.maxGrowth * clock.dt) : stable
            let target = schedule.time(ofFrame: clock.frames)
            // Land on the frame when the step reaches it, or would leave a sliver of a step.
            let lands = clock.time + wanted * (1 + 1e-12) >= target
            let dt = lands ? target - clock.time : wanted
            try self.step(dt: dt, time: clock.time)
            clock.step += 1
            clock.time = lands ? target : clock.time + dt
            clock.dt = wanted
            sample(step: clock.step, time: clock.time)
            if lands {
                try flushTraces(to: output)
                try output.write(frame: clock.frames, step: clock.step, time: clock.time, state: state)
                clock.frames += 1
            }
            let last = clock.frames == schedule.frameCount
            report(
                StepReport(
                    step: clock.step, steps: 0, time: clock.time, dt: dt, fraction: Swift.min(clock.time / end, 1)))
            guard let control else {
                reduced = nil
                continue
            }
            let decision = try control.decide(
                after: clock.step, last: last, stableStep: model.stableTimeStep(state, geometry: geometry))
            reduced = decision.stableStep
            if decision.checkpoint || decision.stop {
                try checkpoint(
                    control, step: clock.step, time: clock.time, dt: clock.dt, frames: clock.frames, output: output)
            }
            if decision.stop && !last { return .stopped(step: clock.step) }
        }
        try flushTraces(to: output)
        try output.drain()
        try checkFinite(step: clock.step, time: clock.time)
        return .completed
    }
}
