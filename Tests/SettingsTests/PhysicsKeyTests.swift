import Foundation
import Testing

@testable import Settings

@Suite struct PhysicsKeyTests {
    /// What a checkpoint stores as JSON reads back equal to the last bit of every number, and a
    /// change anywhere is named.
    @Test func jsonRoundTripsExactlyAndDifferencesNameTheKey() throws {
        let key = PhysicsKey(
            model: "euler",
            parameters: [
                "gamma": .double(1.4), "tiny": .double(0.1 + 0.2), "huge": .double(.greatestFiniteMagnitude),
                "gravity": .array([.double(0), .double(-9.81)]), "limiter": .string("vanleer"),
                "modes": .array([.int(1), .int(3)]), "seed": .int(Int.max),
            ],
            shape: [400, 400], extent: [1, 1.0 / 3], periodic: [false, true],
            boundaries: [.dirichlet(-0.0), .periodic])
        let back = try JSONDecoder().decode(PhysicsKey.self, from: JSONEncoder().encode(key))
        #expect(back == key)
        #expect(back.differences(from: key).isEmpty)
        let third = try #require(back.extent.last)
        #expect(third.bitPattern == (1.0 / 3).bitPattern)
        var parameters = key.parameters
        parameters["tiny"] = .double(0.3)  // one bit below 0.1 + 0.2
        let other = PhysicsKey(
            model: "euler", parameters: parameters, shape: [400, 401], extent: key.extent, periodic: key.periodic,
            boundaries: [.reflecting, .periodic])
        let differences = other.differences(from: key)
        #expect(differences.count == 3, "\(differences)")
        #expect(differences.contains { $0.hasPrefix("grid.shape") })
        #expect(differences.contains { $0.hasPrefix("boundaries") })
    }
}
