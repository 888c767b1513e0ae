import Config
import Engine
import Foundation
import Grid

/// A step of a run projected onto a network, from what can be counted and measured on one
/// machine: the kernel's cell rate, and the halo's messages and bytes from the exchange plan.
///
/// Per step, on the rank with the most halo traffic:
///
///     compute   = cells updated / rate, the cells averaged over a cycle of k steps (the
///                 owned cells, and with halo depth k the ghost layers updated redundantly)
///     halo      = stages / k × (latency + (messages − 1) / message rate + bytes / bandwidth)
///     reduction = 2 ⌈log₂ ranks⌉ × latency (the one all-reduce a step makes: the checkpoint
///                 and stop decision, with an adaptive run's stable step)
///
/// The three add up: nothing is assumed to hide behind anything else, although the run
/// overlaps the interior's update with the exchange. It prices only the network's part of an
/// exchange, though, and checked against runs here it errs fast (docs/benchmarks.md). Weak-scaling
/// efficiency is the step on one rank (the same block, its periodic ghosts copied in memory,
/// no messages, no reduction) over the step on `ranks`.
public struct StepProjection: Sendable, Equatable {
    public let ranks: Int
    public let haloDepth: Int
    public let compute: Double
    public let halo: Double
    public let reduction: Double
    /// The projected step on one rank with the same block.
    public let alone: Double
    /// Messages and bytes one exchange sends, on the busiest rank.
    public let messages: Int
    public let bytes: Int

    public var total: Double { compute + halo + reduction }
    public var efficiency: Double { alone / total }

    /// The projection for blocks of `block` cells (with ghosts `width × depth` deep on every
    /// face but physical ones), exchanging `messages` messages of `bytes` bytes in all on the
    /// busiest rank, `stages` exchanges a step, on `ranks` ranks.
    public static func project(
        block: [Int], width: Int, depth: Int, stages: Int, messages: Int, bytes: Int, ranks: Int,
        network: Interconnect, cellRate: Double
    ) -> StepProjection {
        let owned = Double(block.reduce(1, *))
        // Each of the k steps of a cycle updates the block grown by the layers still to come.
        var grown = 0.0
        for phase in 0..<depth {
            let layers = 2 * (depth - 1 - phase) * width
            grown += Double(block.map { $0 + layers }.reduce(1, *))
        }
        let updated = grown / Double(depth)
        let compute = (ranks == 1 ? owned : updated) / cellRate
        let exchange =
            messages == 0
            ? 0
            : network.latency + Double(messages - 1) / network.messageRate + Double(bytes) / network.bandwidth
        let halo = Double(stages) * exchange / Double(depth)
        let reduction = ranks == 1 ? 0 : 2 * (log2(Double(ranks))).rounded(.up) * network.latency
        return StepProjection(
            ranks: ranks, haloDepth: depth, compute: compute, halo: halo, reduction: reduction,
            alone: owned / cellRate, messages: messages, bytes: bytes)
    }
}

extension RunPlan {
    /// This plan's step projected onto `network` at `cellRate` cell updates per second per rank
    /// (for the whole step on one rank): the busiest rank's block and halo, from the exchange
    /// plan of every rank.
    public func projection(network: Interconnect, cellRate: Double) throws -> StepProjection {
        var busiest: (bytes: Int, messages: Int, block: [Int]) = (0, 0, decomposition.ownedBox(of: 0).extent)
        let value = MemoryLayout<Double>.stride
        for rank in 0..<decomposition.rankCount {
            let plan = try HaloPlan(
                decomposition: decomposition, rank: rank, ghost: config.grid.shape.map { _ in ghost })
            let remote = plan.messages.filter(plan.isRemote)
            let bytes = remote.reduce(0) { $0 + $1.send.count } * exchangedComponents * value
            if bytes > busiest.bytes || (bytes == busiest.bytes && remote.count > busiest.messages) {
                busiest = (bytes, remote.count, plan.layout.extent)
            }
        }
        return StepProjection.project(
            block: busiest.block, width: stencilWidth, depth: haloDepth, stages: stages, messages: busiest.messages,
            bytes: busiest.bytes, ranks: decomposition.rankCount, network: network, cellRate: cellRate)
    }
}

extension RunPlan {
    /// The depths `plan --network` compares: 1 to 8 where the model has one stage and the
    /// blocks are wide enough, else this plan's own.
    var projectedDepths: [Int] {
        guard stages == 1 else { return [haloDepth] }
        let thinnest = (0..<decomposition.rankCount).map { decomposition.ownedBox(of: $0).extent.min()! }.min()!
        return (1...8).filter { $0 == haloDepth || $0 * stencilWidth <= thinnest }
    }

    /// The projection at this plan's depth, and the depth of the least projected step.
    func projections(network: Interconnect, cellRate: Double) throws -> (
        this: StepProjection, best: StepProjection
    ) {
        let all = try projectedDepths.map { try withHaloDepth($0).projection(network: network, cellRate: cellRate) }
        return (all.first { $0.haloDepth == haloDepth }!, all.min { $0.total < $1.total }!)
    }

    /// `plan --network`'s lines.
    public func projectionLines(network: Interconnect, cellRate: Double) throws -> [String] {
        let (this, best) = try projections(network: network, cellRate: cellRate)
        func time(_ seconds: Double) -> String {
            seconds >= 1 ? String(format: "%.3g s", seconds) : String(format: "%.3g ms", seconds * 1e3)
        }
        func share(_ p: StepProjection) -> String {
            "compute \(time(p.compute)), halo \(time(p.halo)), reduction \(time(p.reduction))"
        }
        var lines = [
            "network:              \(network.name): latency \(String(format: "%.3g", network.latency * 1e6)) µs, "
                + "\(String(format: "%.3g", network.bandwidth / 1e9)) GB/s, "
                + "\(String(format: "%.3g", network.messageRate / 1e6)) million messages/s (\(network.source))",
            "projected step:       \(time(this.total)) on \(this.ranks) \(this.ranks == 1 ? "rank" : "ranks") at halo "
                + "depth \(this.haloDepth) (\(share(this))); \(time(this.alone)) on one rank with the same block",
            "weak-scaling eff.:    \(String(format: "%.1f", 100 * this.efficiency)) % (projected; nothing assumed to "
                + "overlap)",
        ]
        if best.haloDepth != this.haloDepth {
            lines.append(
                "best halo depth:      \(best.haloDepth): \(time(best.total)) a step (\(share(best))), "
                    + "\(String(format: "%.1f", 100 * best.efficiency)) %")
        }
        return lines
    }

    /// `plan --network --json`'s facts.
    public func projectionFacts(network: Interconnect, cellRate: Double) throws -> [String: Any] {
        let (this, best) = try projections(network: network, cellRate: cellRate)
        func facts(_ p: StepProjection) -> [String: Any] {
            [
                "halo_depth": p.haloDepth, "step_seconds": p.total, "compute_seconds": p.compute,
                "halo_seconds": p.halo, "reduction_seconds": p.reduction, "one_rank_step_seconds": p.alone,
                "efficiency": p.efficiency, "messages_per_exchange": p.messages, "bytes_per_exchange": p.bytes,
            ]
        }
        return ["network": network.facts, "ranks": this.ranks, "this": facts(this), "best": facts(best)]
    }
}
