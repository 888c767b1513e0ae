import Engine
import Grid

/// A model whose time step has an exact discrete adjoint: the gradient of a receiver misfit
/// with respect to per-cell parameters (its controls), computed on the same partitioned grid.
///
/// The driver (``AdjointRun``) differentiates the step as the forward run takes it: the
/// model's update and point sources, after the halo exchange and boundary conditions. The
/// model writes the linearised step (``tangentUpdate(state:tangent:direction:into:time:dt:geometry:)``)
/// and its transpose (``adjointUpdate(state:adjoint:into:gradient:time:dt:geometry:)``) for the
/// cells it owns; the engine supplies the adjoints of the exchange
/// (``DomainCommunication/reverseExchange(_:)``) and of the boundary conditions
/// (``BoundaryFiller/applyAdjoint(to:)``). Only single-stage (forward Euler) steps are
/// differentiated.
public protocol Differentiable: Model {
    /// The per-cell parameters gradients are taken with respect to, by name (for example
    /// `squared_slowness`).
    var controls: [String] { get }

    /// Whether the initial state is a control too (its gradient is the adjoint state at t = 0).
    var initialStateIsControl: Bool { get }

    /// The work arrays a gradient run needs besides the forward run's (``Model/workArrays``),
    /// by name: the adjoint run adds them to the simulation's, after the model's own. None by
    /// default.
    var gradientWorkArrays: [String] { get }

    /// Sets the gradient run's work arrays once they are added (`work` holds the model's own
    /// arrays, then those of ``gradientWorkArrays``). Does nothing by default.
    func prepareGradient(work: [Field], geometry: Geometry)

    /// Control `index` on this rank's block: one of `work`, in the layout of the state (owned
    /// cells meaningful). The optimiser may change its owned cells; the engine then prepares
    /// again what the model derives from it (``Model/prepare(dt:work:geometry:)``).
    func control(_ index: Int, work: [Field]) -> Field

    /// The values control `index` may take (an optimiser keeps it inside them).
    func bounds(_ index: Int) -> ClosedRange<Double>

    /// Scalar parameters of the config that set the controls (for example the background
    /// velocity); the gradient with respect to each is the controls' gradient contracted with
    /// ``controlDerivative(parameter:control:geometry:into:)`` and summed over every rank.
    /// None by default.
    var globalParameters: [String] { get }

    /// Writes `∂control/∂parameter` on the owned cells of `field`, at the parameters' values
    /// in the config.
    func controlDerivative(parameter: Int, control: Int, geometry: Geometry, into field: Field)

    /// Sets the initial state (owned cells) without touching the controls.
    func initialState(_ state: [Field], work: [Field], geometry: Geometry)

    /// The linearisation of ``Model/start(_:work:dt:geometry:)``: `tangent` holds the tangent
    /// of the initial state (ghosts filled); completes it as `start` completes the state, for
    /// the control perturbation `direction`.
    func tangentStart(
        state: [Field], tangent: [Field], direction: [Field], work: [Field], dt: Double, geometry: Geometry)

    /// The transpose of ``tangentStart(state:tangent:direction:work:dt:geometry:)`` with respect
    /// to the controls: adds to `gradient` what the adjoint of the initial state owes them.
    func adjointStart(
        state: [Field], adjoint: [Field], gradient: [Field], work: [Field], dt: Double, geometry: Geometry)

    /// One step of the linearised model on the owned cells: `next` = ∂step/∂state · `tangent` +
    /// ∂step/∂controls · `direction`, for the step from `state` (ghosts filled, as are the
    /// tangent's) at `time` to `time + dt`, point sources included.
    func tangentUpdate(
        state: [Field], tangent: [Field], direction: [Field], into next: [Field], time: Double,
        dt: Double, work: [Field], geometry: Geometry)

    /// The transpose of that step. `adjoint` holds the adjoint of the state after the step on
    /// the owned cells (ghosts zero). Writes into `previous` the adjoint of the state before
    /// the step: sets its owned cells, and adds to its ghost cells (which the driver hands over
    /// zeroed) the contributions that belong to the cells they mirror. Adds ∂step/∂controls
    /// transposed to `gradient`.
    func adjointUpdate(
        state: [Field], adjoint: [Field], into previous: [Field], gradient: [Field],
        time: Double, dt: Double, work: [Field], geometry: Geometry)
}

extension Differentiable {
    public var initialStateIsControl: Bool { false }
    public var globalParameters: [String] { [] }
    public var gradientWorkArrays: [String] { [] }
    public func prepareGradient(work: [Field], geometry: Geometry) {}
    public func controlDerivative(parameter: Int, control: Int, geometry: Geometry, into field: Field) {}
}

/// What to do at each point of reversing a run: the schedule of binomial checkpointing.
public enum ReversalAction: Sendable, Equatable {
    /// Copy the live forward state into snapshot slot `slot`.
    case store(slot: Int)
    /// Make the state held in `slot` the live state.
    case restore(slot: Int)
    /// Step the live state forward until it is at step `to`.
    case advance(to: Int)
    /// Take the adjoint of the step from the live state (which is at `step`) to `step + 1`.
    case adjoint(step: Int)
}

/// Binomial checkpointing (Griewank and Walther's Revolve): reverses `steps` steps keeping at
/// most `slots` forward states at once, and recomputing the fewest steps that allows.
///
/// With `s` slots and each step recomputed at most `r` times, `C(s + r, s)` steps can be
/// reversed; the schedule places the next snapshot so that the steps after it need one slot
/// fewer and the steps before it one recomputation fewer.
public enum BinomialCheckpointing {
    /// `C(n, k)`, saturating at `Int.max / 4`.
    public static func binomial(_ n: Int, _ k: Int) -> Int {
        guard k >= 0, k <= n else { return 0 }
        var result = 1
        for i in 0..<min(k, n - k) {
            result = result * (n - i) / (i + 1)
            if result > Int.max / 8 { return Int.max / 4 }
        }
        return result
    }

    /// The actions that reverse steps `0..<steps` with `slots` snapshots (at least 1). The
    /// first action stores step 0 in slot 0; every adjoint step follows in order `steps - 1`
    /// down to 0, each with the live state at its step.
    public static func actions(steps: Int, slots: Int) -> [ReversalAction] {
        precondition(slots >= 1, "binomial checkpointing needs at least one snapshot slot")
        var actions: [ReversalAction] = [.store(slot: 0)]
        var live = 0
        var slotStep = [0]
        func bring(_ slot: Int, to step: Int) {
            if live != slotStep[slot] || live > step {
                actions.append(.restore(slot: slot))
                live = slotStep[slot]
            }
            if live < step {
                actions.append(.advance(to: step))
                live = step
            }
        }
        func reverse(_ start: Int, _ end: Int, _ slots: Int, _ slot: Int) {
            let count = end - start
            if count <= 0 { return }
            if count == 1 || slots == 1 {
                for step in (start..<end).reversed() {
                    bring(slot, to: step)
                    actions.append(.adjoint(step: step))
                }
                return
            }
            let split = optimalSplit(count, slots)
            bring(slot, to: start + split)
            let next = slotStep.count
            slotStep.append(start + split)
            actions.append(.store(slot: next))
            reverse(start + split, end, slots - 1, next)
            slotStep.removeLast()
            reverse(start, start + split, slots, slot)
        }
        reverse(0, steps, slots, 0)
        return actions
    }

    /// The fewest repetitions `r` with `C(slots + r, slots) ≥ steps`: no step need be computed
    /// more than `r` times.
    static func repetitions(_ steps: Int, _ slots: Int) -> Int {
        var r = 0
        while binomial(slots + r, slots) < steps { r += 1 }
        return r
    }

    /// The fewest forward steps that reverse `steps` steps with `slots` snapshots:
    /// `r · steps − C(slots + r, slots + 1)`, with `r` the repetitions (Griewank 1992).
    public static func optimalCost(_ steps: Int, _ slots: Int) -> Int {
        if steps <= 1 { return 0 }
        if slots <= 1 { return steps * (steps - 1) / 2 }
        let r = repetitions(steps, slots)
        return r * steps - binomial(slots + r, slots + 1)
    }

    /// Where to place the next snapshot when reversing `steps` steps with `slots` (> 1) slots:
    /// a split whose two parts, reversed with `slots` and `slots − 1` slots, cost the optimum.
    /// It lies where neither part needs more repetitions than the whole.
    static func optimalSplit(_ steps: Int, _ slots: Int) -> Int {
        let r = repetitions(steps, slots)
        let target = optimalCost(steps, slots)
        let high = min(binomial(slots + r - 1, slots), steps - 1)
        let low = max(1, steps - binomial(slots - 1 + r, slots - 1))
        for split in stride(from: high, through: low, by: -1)
        where split + optimalCost(steps - split, slots - 1) + optimalCost(split, slots) == target {
            return split
        }
        return max(low, min(high, steps / 2))
    }

    /// How many forward steps `actions` take.
    public static func cost(_ actions: [ReversalAction]) -> Int {
        var live = 0
        var slots: [Int: Int] = [:]
        var total = 0
        for action in actions {
            switch action {
            case .store(let slot): slots[slot] = live
            case .restore(let slot): live = slots[slot]!
            case .advance(let step):
                total += step - live
                live = step
            case .adjoint: break
            }
        }
        return total
    }
}
