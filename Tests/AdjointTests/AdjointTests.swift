import Testing

@testable import Adjoint

@Suite struct BinomialCheckpointingTests {
    /// The fewest forward steps that reverse `steps` steps with `slots` snapshots, by brute force.
    static func optimum(_ steps: Int, _ slots: Int, _ memo: inout [[Int?]]) -> Int {
        if steps <= 1 { return 0 }
        if slots == 1 { return steps * (steps - 1) / 2 }
        if let known = memo[steps][slots] { return known }
        var best = Int.max
        for split in 1..<steps {
            best = min(best, split + optimum(steps - split, slots - 1, &memo) + optimum(split, slots, &memo))
        }
        memo[steps][slots] = best
        return best
    }

    @Test func everyStepIsReversedOnceInOrderWithinTheSlotsAndAsCheaplyAsPossible() {
        var memo = [[Int?]](repeating: [Int?](repeating: nil, count: 8), count: 61)
        for steps in 1...60 {
            for slots in 1...7 {
                let actions = BinomialCheckpointing.actions(steps: steps, slots: slots)
                var live = 0
                var held: [Int: Int] = [:]
                var reversed: [Int] = []
                for action in actions {
                    switch action {
                    case .store(let slot):
                        #expect(slot < slots)
                        held[slot] = live
                    case .restore(let slot): live = held[slot]!
                    case .advance(let step):
                        #expect(step > live)
                        live = step
                    case .adjoint(let step):
                        #expect(step == live)
                        reversed.append(step)
                    }
                }
                #expect(reversed == Array((0..<steps).reversed()), "steps \(steps) slots \(slots)")
                let optimum = Self.optimum(steps, slots, &memo)
                #expect(BinomialCheckpointing.optimalCost(steps, slots) == optimum, "steps \(steps) slots \(slots)")
                #expect(BinomialCheckpointing.cost(actions) == optimum, "steps \(steps) slots \(slots)")
            }
        }
    }

    @Test func enoughSlotsStoreEveryStateAndRecomputeNothing() {
        let actions = BinomialCheckpointing.actions(steps: 50, slots: 50)
        #expect(BinomialCheckpointing.cost(actions) == 49)
        #expect(actions.filter { if case .restore = $0 { true } else { false } }.count == 49)
    }
}

@Suite struct LBFGSTests {
    @Test func itMinimisesAQuadraticInAsManyStepsAsItHasDimensions() {
        // f(x) = ½ xᵀ A x − bᵀ x with A diagonal and ill-conditioned; exact line searches.
        let a = [1.0, 10, 100, 1000]
        let b = [1.0, -2, 3, -4]
        func gradient(_ x: [Double]) -> [Double] { x.indices.map { a[$0] * x[$0] - b[$0] } }
        func dot(_ u: [Double], _ v: [Double]) -> Double { zip(u, v).reduce(0) { $0 + $1.0 * $1.1 } }
        var x = [Double](repeating: 0, count: 4)
        var optimiser = LBFGS(memory: 5)
        var g = gradient(x)
        for _ in 0..<4 {
            let d = optimiser.direction(g, dot: dot)
            let curvature = zip(d, a).map { $0 * $0 * $1 }.reduce(0, +)
            let alpha = -dot(g, d) / curvature
            let step = d.map { alpha * $0 }
            x = zip(x, step).map(+)
            let next = gradient(x)
            optimiser.record(step: step, change: zip(next, g).map(-), dot: dot)
            g = next
        }
        for i in x.indices { #expect(abs(x[i] - b[i] / a[i]) < 1e-10) }
    }
}
