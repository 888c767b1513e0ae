import Foundation
import Testing

@testable import Runtime

@Suite struct ScalingProjectionTests {
    /// Worked by hand: a 10×10×10 block, stencil 1, at 1e6 cell updates per second, on 64 ranks of
    /// a network of 2 µs, 1e9 B/s and 1e6 messages per second; 26 messages of 10 kB in all.
    @Test func aStepIsComputeAndHaloAndOneReduction() {
        let network = Interconnect(name: "n", latency: 2e-6, bandwidth: 1e9, messageRate: 1e6, source: "by hand")
        let one = StepProjection.project(
            block: [10, 10, 10], width: 1, depth: 1, stages: 1, messages: 26, bytes: 10_000, ranks: 64,
            network: network, cellRate: 1e6)
        let exchange = 2e-6 + 25 / 1e6 + 10_000 / 1e9
        #expect(one.compute == 1e-3 && one.alone == 1e-3)
        #expect(abs(one.halo - exchange) < 1e-15)
        #expect(abs(one.reduction - 2 * 6 * 2e-6) < 1e-15)
        #expect(abs(one.efficiency - 1e-3 / (1e-3 + exchange + 24e-6)) < 1e-12)
        // Depth 3: the three steps of a cycle update 14³, 12³ and 10³ cells, and share one
        // exchange (of more bytes, given here); two stages exchange twice a step.
        let deep = StepProjection.project(
            block: [10, 10, 10], width: 1, depth: 3, stages: 2, messages: 26, bytes: 30_000, ranks: 64,
            network: network, cellRate: 1e6)
        #expect(abs(deep.compute - Double(14 * 14 * 14 + 12 * 12 * 12 + 1000) / 3 / 1e6) < 1e-15)
        #expect(abs(deep.halo - 2 * (2e-6 + 25 / 1e6 + 30_000 / 1e9) / 3) < 1e-15)
        // One rank: its ghosts are copies in memory, and no reduction crosses a network.
        let alone = StepProjection.project(
            block: [10, 10, 10], width: 1, depth: 1, stages: 1, messages: 0, bytes: 0, ranks: 1, network: network,
            cellRate: 1e6)
        #expect(alone.total == alone.alone && alone.efficiency == 1)
    }

    @Test func networksAreNamedOrReadFromAFileOfFigures() throws {
        #expect(try Interconnect.named("infiniband-ndr").bandwidth == 50e9)
        #expect {
            try Interconnect.named("myrinet")
        } throws: { "\($0)".contains("neither a known network (slingshot-11, infiniband-hdr, infiniband-ndr)") }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("net-\(getpid()).json").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Data(
            #"{"name": "site", "latency_seconds": 1.5e-6, "bandwidth_bytes_per_second": 2e10, "message_rate_per_second": 1e8}"#
                .utf8
        ).write(to: URL(fileURLWithPath: path))
        let site = try Interconnect.named(path)
        #expect(site.name == "site" && site.latency == 1.5e-6 && site.bandwidth == 2e10 && site.messageRate == 1e8)
        try Data(#"{"latency_seconds": -1}"#.utf8).write(to: URL(fileURLWithPath: path))
        #expect { try Interconnect.named(path) } throws: { "\($0)".contains("positive latency_seconds") }
    }
}
