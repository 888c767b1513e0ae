import Distributed
import Engine
import Grid
import MPI

/// Checks the halo exchange on this machine and launcher: every ghost cell must hold its owner's value.
public enum HaloCheck {
    /// `tessera check-halo`: fills `fields` fields on a grid of `shape` cells with a pattern,
    /// exchanges ghosts `ghost` wide, and checks every ghost cell. Exits every rank (1 if wrong).
    public static func main(shape dims: [Int], periodic: [Bool]?, ghost: Int, fields: Int) -> Never {
        withMPI { world in
            let wraps = periodic ?? dims.map { _ in true }
            let decomposition = try agreed(world) {
                let grid = try Decomposition.balancedDims(ranks: world.size, shape: dims, minimumBlock: ghost)
                return try Decomposition(shape: dims, dims: grid, periodic: wraps)
            }
            let cartesian = try world.cartesian(dims: decomposition.dims, periodic: decomposition.periodic)
            let plan = try HaloPlan(decomposition: decomposition, rank: world.rank, ghost: dims.map { _ in ghost })
            let pattern = GhostPattern(decomposition: decomposition)
            let state = (0..<fields).map { Field(name: "f\($0)", layout: plan.layout) }
            for (index, field) in state.enumerated() { pattern.fill(field, field: index) }
            let domain = MPIDomain(cartesian: cartesian, plan: plan)
            try domain.beginExchange(state)
            try domain.finishExchange()
            var problems: [String] = []
            for (index, field) in state.enumerated() { problems += pattern.mismatches(in: field, field: index) }
            for problem in problems.prefix(5) { printError("rank \(world.rank): \(problem)") }
            let total = try world.allReduce(Int64(problems.count), .sum)
            let ghosts = try world.allReduce(
                Int64(plan.layout.count - plan.layout.interior.count) * Int64(fields), .sum)
            let messages = try world.allReduce(Int64(plan.messages.count), .sum)
            if world.rank == 0 {
                print(
                    "check-halo: shape \(dims) periodic \(wraps) ghost \(ghost) on \(world.size) ranks (process grid \(decomposition.dims)): \(messages) messages, \(ghosts) ghost cells, \(total) wrong"
                )
            }
            if total > 0 { throw AgreedFailure(description: "\(total) ghost cells hold the wrong value") }
            return 0
        }
    }
}
