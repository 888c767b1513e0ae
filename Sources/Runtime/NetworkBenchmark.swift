import Foundation
import MPI
import Settings

/// What a weak-scaling projection needs to know of a network: how long a small message takes
/// to arrive, how fast a large one streams, and how many messages a rank can start a second.
public struct Interconnect: Sendable, Equatable {
    /// A name for the figures (`slingshot-11`, or `measured` for `bench-network`'s).
    public let name: String
    /// One-way time of a small message, MPI to MPI (half a ping-pong's round trip), seconds.
    public let latency: Double
    /// Bytes per second one rank's messages stream at, one way.
    public let bandwidth: Double
    /// Messages per second one rank can start (one over the gap between two of them).
    public let messageRate: Double
    /// Where the figures come from.
    public let source: String

    public init(name: String, latency: Double, bandwidth: Double, messageRate: Double, source: String) {
        self.name = name
        self.latency = latency
        self.bandwidth = bandwidth
        self.messageRate = messageRate
        self.source = source
    }

    /// Interconnects of today's large machines, one rank per network interface (one per GPU on
    /// Frontier, Perlmutter, Alps, JUPITER). Bandwidths are the links' signalling rates;
    /// latencies are round figures for an MPI message across a large system's switches, and
    /// message rates the adapters' published ones: a projection's inputs, not measurements.
    /// A site's own OSU figures go in a file (``named(_:)``).
    public static let catalogue = [
        Interconnect(
            name: "slingshot-11", latency: 2.0e-6, bandwidth: 25e9, messageRate: 1e8,
            source:
                "HPE Slingshot-11: 200 Gb/s per Cassini NIC (HPE); about 2 µs across a dragonfly's up to three "
                + "switch hops (round figure); 1e8 messages/s (assumed, no published figure)"),
        Interconnect(
            name: "infiniband-hdr", latency: 1.2e-6, bandwidth: 25e9, messageRate: 2.15e8,
            source:
                "InfiniBand HDR: 200 Gb/s per ConnectX-6 port, 215 million messages/s (NVIDIA); about 1.2 µs "
                + "across a fat tree (round figure)"),
        Interconnect(
            name: "infiniband-ndr", latency: 1.0e-6, bandwidth: 50e9, messageRate: 3.3e8,
            source:
                "InfiniBand NDR: 400 Gb/s per ConnectX-7 port, 330 million messages/s (NVIDIA); about 1 µs "
                + "across a fat tree (round figure)"),
    ]

    /// The catalogue's interconnect called `name`, or the figures in the JSON file at that path
    /// (what `tessera bench-network --json` writes, or a site's own).
    public static func named(_ name: String) throws -> Interconnect {
        if let known = catalogue.first(where: { $0.name == name }) { return known }
        guard FileManager.default.fileExists(atPath: name) else {
            throw ConfigError(
                "--network",
                "\(name) is neither a known network (\(catalogue.map(\.name).joined(separator: ", "))) nor a file "
                    + "of figures such as `tessera bench-network --json` writes")
        }
        guard let data = FileManager.default.contents(atPath: name),
            let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
            let latency = object["latency_seconds"] as? Double, latency > 0,
            let bandwidth = object["bandwidth_bytes_per_second"] as? Double, bandwidth > 0,
            let rate = object["message_rate_per_second"] as? Double, rate > 0
        else {
            throw ConfigError(
                "--network",
                "\(name) is not a JSON object with positive latency_seconds, bandwidth_bytes_per_second and "
                    + "message_rate_per_second")
        }
        return Interconnect(
            name: object["name"] as? String ?? name, latency: latency, bandwidth: bandwidth, messageRate: rate,
            source: object["source"] as? String ?? name)
    }

    /// The figures as `bench-network --json` writes them.
    public var facts: [String: Any] {
        [
            "name": name, "latency_seconds": latency, "bandwidth_bytes_per_second": bandwidth,
            "message_rate_per_second": messageRate, "source": source,
        ]
    }
}

/// `tessera bench-network`: a ping-pong between ranks 0 and 1, the figures a weak-scaling
/// projection takes (``Interconnect``).
public enum NetworkBenchmark {
    /// Measures, between ranks 0 and 1 (the others wait): the latency (half the round trip of
    /// one 8-byte message, the best of 5 rounds of 2000), the bandwidth (4 MiB each way, the
    /// best of 5 rounds of 20) and the message rate (windows of 64 8-byte messages, each
    /// answered by one, the best of 5 rounds of 100 windows). Prints them, as JSON with `json`.
    public static func main(json: Bool) -> Never {
        withMPI { world in
            guard world.size >= 2 else {
                throw AgreedFailure(description: "bench-network needs 2 ranks: mpirun -n 2 tessera bench-network")
            }
            let figures = try measure(world)
            if world.rank == 0, let figures {
                if json {
                    print(try JSONReport.text(figures.facts))
                } else {
                    print(
                        String(
                            format: "latency %.3g µs, bandwidth %.3g GB/s, message rate %.3g million/s (ranks 0 and 1)",
                            figures.latency * 1e6, figures.bandwidth / 1e9, figures.messageRate / 1e6))
                }
            }
            return 0
        }
    }

    /// The figures, on rank 0 (nil on the others).
    static func measure(_ world: Communicator) throws -> Interconnect? {
        let me = world.rank
        let partner = 1 - me
        let large = 1 << 19
        let buffer = UnsafeMutablePointer<Double>.allocate(capacity: large)
        buffer.initialize(repeating: 1, count: large)
        defer { buffer.deallocate() }
        /// The best of `rounds` rounds of `body` repeated `count` times, in seconds per repeat.
        func best(rounds: Int = 5, count: Int, _ body: () throws -> Void) throws -> Double {
            var fastest = Double.infinity
            for _ in 0..<rounds {
                try world.barrier()
                let start = DispatchTime.now().uptimeNanoseconds
                for _ in 0..<count { try body() }
                fastest = min(fastest, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 / Double(count))
            }
            return fastest
        }
        func pingPong(_ count: Int) throws {
            var requests: [Request] = []
            if me == 0 {
                requests.append(try world.isend(UnsafePointer(buffer), count: count, to: partner, tag: 1))
                try Request.waitAll(&requests)
                requests.append(try world.irecv(buffer, count: count, from: partner, tag: 2))
                try Request.waitAll(&requests)
            } else if me == 1 {
                requests.append(try world.irecv(buffer, count: count, from: partner, tag: 1))
                try Request.waitAll(&requests)
                requests.append(try world.isend(UnsafePointer(buffer), count: count, to: partner, tag: 2))
                try Request.waitAll(&requests)
            }
        }
        let window = 64
        func burst() throws {
            var requests: [Request] = []
            if me == 0 {
                for k in 0..<window {
                    requests.append(try world.isend(UnsafePointer(buffer + k), count: 1, to: partner, tag: 3))
                }
                try Request.waitAll(&requests)
                requests.append(try world.irecv(buffer + window, count: 1, from: partner, tag: 4))
                try Request.waitAll(&requests)
            } else if me == 1 {
                for k in 0..<window { requests.append(try world.irecv(buffer + k, count: 1, from: partner, tag: 3)) }
                try Request.waitAll(&requests)
                requests.append(try world.isend(UnsafePointer(buffer + window), count: 1, to: partner, tag: 4))
                try Request.waitAll(&requests)
            }
        }
        try pingPong(1)
        let latency = try best(count: 2000) { try pingPong(1) } / 2
        let streaming = try best(count: 20) { try pingPong(large) } / 2
        let windows = try best(count: 100) { try burst() }
        guard me == 0 else { return nil }
        // A large message's time less the latency is its bytes at the bandwidth.
        let bytes = Double(large * MemoryLayout<Double>.stride)
        return Interconnect(
            name: "measured", latency: latency, bandwidth: bytes / max(streaming - latency, 1e-12),
            messageRate: Double(window) / max(windows - 2 * latency, 1e-12),
            source: "tessera bench-network, ranks 0 and 1 on \(ProcessInfo.processInfo.hostName)")
    }
}
