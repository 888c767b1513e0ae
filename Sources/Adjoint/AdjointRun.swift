import Engine
import Grid

/// Runs a ``Differentiable`` model forward and backward on one rank's block: receiver samples,
/// tangent-linear samples, and the exact discrete gradient of a function of the samples with
/// respect to the model's controls, keeping at most `slots` forward states in memory.
///
/// The backward pass takes the adjoint of every forward operation in reverse order: the
/// model's step (``Differentiable/adjointUpdate(state:adjoint:into:gradient:time:dt:geometry:)``),
/// then the boundary conditions (``BoundaryFiller/applyAdjoint(to:)``), then the halo exchange
/// (``DomainCommunication/reverseExchange(_:)``). The forward states it needs are recomputed from
/// snapshots on the binomial schedule of ``BinomialCheckpointing``; recomputation gives the
/// same bits, so the gradient does not depend on `slots`.
public final class AdjointRun {
    public let simulation: Simulation
    public let model: any Differentiable
    public let steps: Int
    public let dt: Double
    /// Snapshot slots for forward states.
    public let slots: Int
    var state: [Field] { simulation.state }
    var geometry: Geometry { simulation.geometry }
    private var snapshots: [[Field]] = []
    /// The step each snapshot slot holds.
    private var snapshotSteps: [Int] = []
    /// What the last run did: forward steps taken (recomputation included) and adjoint steps.
    public private(set) var counts = (forward: 0, adjoint: 0)

    public init(simulation: Simulation, steps: Int, dt: Double, slots: Int) {
        precondition(simulation.model is any Differentiable, "the model has no adjoint")
        precondition(simulation.model.stages.count == 1, "only single-stage steps are differentiated")
        self.simulation = simulation
        self.model = simulation.model as! any Differentiable
        self.steps = steps
        self.dt = dt
        self.slots = max(1, min(slots, max(steps, 1)))
        // The arrays only gradients need (a control the forward run takes as uniform, the
        // adjoint's scratch): the engine owns them like the model's own.
        simulation.addWork(model.gradientWorkArrays)
        model.prepareGradient(work: simulation.work, geometry: simulation.geometry)
    }

    /// The model's work arrays on this block, the gradient's included.
    var work: [Field] { simulation.work }

    /// Bytes of one snapshot of the state on this rank.
    public static func snapshotBytes(components: Int, layout: LocalLayout) -> Int { components * layout.count * 8 }

    /// The receivers this rank holds, as indices into the model's receivers.
    public var receivers: [Int] { simulation.probes.map(\.receiver) }

    /// New fields in the state's layout, zeroed, one per name.
    func fields(_ names: [String]) -> [Field] { names.map { Field(name: $0, layout: geometry.layout) } }

    /// The controls' current values, one field per control (owned cells).
    public func controlValues() -> [Field] {
        let copies = fields(model.controls)
        for (index, field) in copies.enumerated() {
            field.storage.baseAddress!.update(from: model.control(index, work: work).base, count: geometry.layout.count)
        }
        return copies
    }

    /// Sets the controls' owned cells to `values` (one field per control).
    public func setControls(_ values: [Field]) {
        let layout = geometry.layout
        for (index, field) in values.enumerated() {
            let target = model.control(index, work: work).base
            layout.forEachRun(in: layout.interior) { offset, length in
                (target + offset).update(from: field.base + offset, count: length)
            }
        }
        simulation.workChanged()
    }

    /// Puts the initial state (plus `offset` on the owned cells, if given) in place, fills its
    /// ghosts and lets the model complete it, as a run that starts from the beginning does.
    private func begin(offset: [Field]?) throws {
        for field in state { field.storage.update(repeating: 0) }
        model.initialState(state, work: work, geometry: geometry)
        if let offset { add(offset, to: state, scale: 1) }
        try simulation.fillGhosts()
        try simulation.prepare(dt: dt)
        model.start(state, work: work, dt: dt, geometry: geometry)
    }

    /// `target += scale · source` on the owned cells.
    func add(_ source: [Field], to target: [Field], scale: Double) {
        let layout = geometry.layout
        for (s, t) in zip(source, target) {
            let u = UnsafePointer(s.base)
            let v = t.base
            layout.forEachRun(in: layout.interior) { offset, length in
                for k in offset..<(offset &+ length) { v[k] += scale * u[k] }
            }
        }
    }

    private func sample(_ fields: [Field], into samples: inout [[Double]], step: Int) {
        for (index, probe) in simulation.probes.enumerated() {
            samples[index][step] = fields[probe.component].base[probe.offset]
        }
    }

    private func blankSamples() -> [[Double]] {
        simulation.probes.map { _ in [Double](repeating: .nan, count: steps + 1) }
    }

    /// Runs from the initial state (plus `offset`) to the end; returns this rank's receiver
    /// samples, one list of `steps + 1` per receiver it holds.
    public func forward(offset: [Field]? = nil) throws -> [[Double]] {
        try begin(offset: offset)
        var samples = blankSamples()
        sample(state, into: &samples, step: 0)
        for step in stride(from: 1, through: steps, by: 1) {
            try simulation.step(dt: dt, time: Double(step - 1) * dt)
            sample(state, into: &samples, step: step)
        }
        counts = (steps, 0)
        return samples
    }

    /// Fills the ghosts of tangent (or other linearised) fields: the exchange, then the
    /// boundary conditions without their constant part.
    public func fillLinearGhosts(_ fields: [Field]) throws {
        try simulation.communication.beginExchange(fields)
        try simulation.communication.finishExchange()
        simulation.boundaries.apply(to: fields, homogeneous: true)
    }

    /// The adjoint of ``fillLinearGhosts(_:)``: moves what the ghosts hold to the owned cells
    /// they were filled from, on this rank or its neighbours, and zeroes them.
    public func reverseLinearGhosts(_ fields: [Field]) throws {
        simulation.boundaries.applyAdjoint(to: fields)
        try simulation.communication.reverseExchange(fields)
    }

    /// The tangent-linear run: the receiver samples of the derivative of the run in the
    /// direction `direction` (one field per control) and `initial` (the initial state's, when
    /// it is a control).
    public func tangent(direction: [Field], initial: [Field]?) throws -> [[Double]] {
        try begin(offset: nil)
        let names = state.map(\.name)
        var tangent = fields(names)
        var next = fields(names)
        if let initial { add(initial, to: tangent, scale: 1) }
        // `begin` ran `start` on the state already; its tangent needs the initial state's
        // ghosts, which `start` leaves as they were.
        try fillLinearGhosts(tangent)
        try simulation.prepare(dt: dt)
        model.tangentStart(state: state, tangent: tangent, direction: direction, work: work, dt: dt, geometry: geometry)
        var samples = blankSamples()
        sample(tangent, into: &samples, step: 0)
        for step in 0..<steps {
            try simulation.fillGhosts()
            try fillLinearGhosts(tangent)
            model.tangentUpdate(
                state: state, tangent: tangent, direction: direction, into: next, time: Double(step) * dt, dt: dt,
                work: work, geometry: geometry)
            try simulation.step(dt: dt, time: Double(step) * dt)
            swap(&tangent, &next)
            sample(tangent, into: &samples, step: step + 1)
        }
        return samples
    }

    /// The gradient, with respect to the controls (and the initial state when it is one), of a
    /// function of the receiver samples. `sensitivity` gets this rank's samples once the
    /// forward run has made them all, and returns the function's derivative with respect to
    /// each (the residuals, for a least-squares misfit).
    public func gradient(
        sensitivity: ([[Double]]) throws -> [[Double]]
    ) throws -> (samples: [[Double]], gradient: [Field], initial: [Field]?) {
        let actions = BinomialCheckpointing.actions(steps: steps, slots: slots)
        try begin(offset: nil)
        let names = state.map(\.name)
        var adjoint = fields(names)
        var previous = fields(names)
        let gradient = fields(model.controls.map { "\($0)_gradient" })
        var samples = blankSamples()
        sample(state, into: &samples, step: 0)
        var live = 0
        var reached = 0
        var sources: [[Double]]?
        /// The slot an adjoint step reads its forward state from, when not the live state.
        var restored: Int?
        var taken = (forward: 0, adjoint: 0)
        func inject(_ sources: [[Double]], step: Int, into fields: [Field]) {
            for (index, probe) in simulation.probes.enumerated() {
                fields[probe.component].base[probe.offset] += sources[index][step]
            }
        }
        func stepForward() throws {
            try simulation.step(dt: dt, time: Double(live) * dt)
            live += 1
            taken.forward += 1
            if live > reached {
                sample(state, into: &samples, step: live)
                reached = live
            }
        }
        if steps == 0 {
            sources = try sensitivity(samples)
            inject(sources!, step: 0, into: adjoint)
        }
        for action in actions {
            switch action {
            case .store(let slot):
                copy(state, toSlot: slot)
                snapshotSteps[slot] = live
            case .restore(let slot):
                // Copied into the live state only if it is to be stepped on; an adjoint step
                // reads the snapshot where it is.
                restored = slot
                live = snapshotSteps[slot]
            case .advance(let target):
                if let slot = restored { copy(fromSlot: slot, to: state) }
                restored = nil
                while live < target { try stepForward() }
            case .adjoint(let step):
                precondition(live == step)
                if sources == nil {
                    // The first adjoint step is the last forward one: take it once more to
                    // sample the final state, keeping the state it starts from.
                    precondition(reached == steps - 1 && step == steps - 1)
                    let spare = fields(names)
                    for (s, t) in zip(state, spare) {
                        t.storage.baseAddress!.update(from: s.base, count: s.layout.count)
                    }
                    try stepForward()
                    for (s, t) in zip(spare, state) {
                        t.storage.baseAddress!.update(from: s.base, count: s.layout.count)
                    }
                    live = step
                    sources = try sensitivity(samples)
                    inject(sources!, step: steps, into: adjoint)
                }
                let forward = restored.map { snapshots[$0] } ?? state
                try simulation.communication.beginExchange(forward)
                try simulation.communication.finishExchange()
                simulation.boundaries.apply(to: forward)
                // `previous` is zero in its ghosts: fresh, or last used as `adjoint`, whose
                // ghosts the reverse exchange and boundary adjoint zeroed.
                model.adjointUpdate(
                    state: forward, adjoint: adjoint, into: previous, gradient: gradient, time: Double(step) * dt,
                    dt: dt,
                    work: work, geometry: geometry)
                try reverseLinearGhosts(previous)
                inject(sources!, step: step, into: previous)
                swap(&adjoint, &previous)
                taken.adjoint += 1
            }
        }
        // The adjoint state is now that of the completed initial state: undo `start`.
        copy(fromSlot: 0, to: state)
        try simulation.fillGhosts()
        model.adjointStart(state: state, adjoint: adjoint, gradient: gradient, work: work, dt: dt, geometry: geometry)
        counts = taken
        return (samples, gradient, model.initialStateIsControl ? adjoint : nil)
    }

    private func copy(_ fields: [Field], toSlot slot: Int) {
        while snapshots.count <= slot {
            snapshots.append(self.fields(fields.map(\.name)))
            snapshotSteps.append(-1)
        }
        for (s, t) in zip(fields, snapshots[slot]) {
            t.storage.baseAddress!.update(from: s.base, count: s.layout.count)
        }
    }

    private func copy(fromSlot slot: Int, to fields: [Field]) {
        for (s, t) in zip(snapshots[slot], fields) {
            t.storage.baseAddress!.update(from: s.base, count: s.layout.count)
        }
    }

    /// Snapshot slots allocated so far (the memory the backward pass holds for forward states).
    public var snapshotsHeld: Int { snapshots.count }
}
