import Config
import Foundation
import HDF5
import MPI
import Settings
import TestSupport
import Testing

@testable import Runtime

/// A small heat run with walls and checkpoints, in `folder`.
func heatConfig(_ folder: String, steps: Int = 40) throws -> RunConfig {
    try RunConfig(
        text: """
            [grid]
            shape = [12, 10, 8]
            periodic = [true, false, true]
            [boundary]
            condition = "neumann"
            [model]
            name = "heat"
            initial = "gaussian"
            [time]
            steps = \(steps)
            [output]
            dir = "\(folder)"
            every = 5
            [checkpoint]
            every = 20
            """)
}

/// Every floating-point dataset's values in an HDF5 file, by path (float32 read as float64,
/// which is exact).
func contents(_ path: String) throws -> [String: [Double]] {
    try usingMPI { _ in
        let file = try HDF5.File.open(path)
        var found: [String: [Double]] = [:]
        func walk(_ group: Group, _ prefix: String) throws {
            for (name, kind) in try group.members() {
                switch kind {
                case .group: try walk(group.openGroup(name), prefix + name + "/")
                case .dataset:
                    let dataset = try group.openDataset(name)
                    guard dataset.elementDescription.hasPrefix("float") else { continue }
                    let shape = try dataset.shape
                    var values = [Double](repeating: 0, count: shape.reduce(1, *))
                    try values.withUnsafeMutableBufferPointer {
                        try dataset.read(into: $0, start: shape.map { _ in 0 }, count: shape)
                    }
                    found[prefix + name] = values
                case .other: break
                }
            }
        }
        try walk(file.root, "")
        return found
    }
}

@Suite(.serialized) struct RunSessionTests {
    @Test func aSessionRunsInProcessAndARestartContinuesBitForBit() throws {
        let straight = temporaryPath("straight")
        let restarted = temporaryPath("restarted")
        defer {
            try? FileManager.default.removeItem(atPath: straight)
            try? FileManager.default.removeItem(atPath: restarted)
        }
        try usingMPI { world in
            let plan = try RunPlan(config: heatConfig(straight), ranks: 1)
            #expect(try RunSession.execute(plan, options: RunOptions(), world, started: .now) == 0)
            // Half the run, then the rest from its checkpoint at step 20.
            let first = try RunPlan(
                config: heatConfig(restarted, steps: 40).setting(("time", "steps"), to: .int(20)), ranks: 1)
            #expect(try RunSession.execute(first, options: RunOptions(), world, started: .now) == 0)
            let rest = try RunPlan(config: heatConfig(restarted), ranks: 1)
            #expect(
                try RunSession.execute(rest, options: RunOptions(restart: "auto"), world, started: .now) == 0)
        }
        let a = try contents(straight + "/results.hdf5")
        let b = try contents(restarted + "/results.hdf5")
        #expect(a.keys.sorted() == b.keys.sorted() && !a.isEmpty)
        for key in a.keys { #expect(a[key]!.map(\.bitPattern) == b[key]!.map(\.bitPattern), "\(key)") }
        #expect(a["t0_fields/temperature"]?.count == 9 * 12 * 10 * 8)
    }

    @Test func aRestartWithOtherPhysicsIsRefusedNamingWhatDiffers() throws {
        let folder = temporaryPath("physics")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try usingMPI { world in
            let plan = try RunPlan(config: heatConfig(folder, steps: 20), ranks: 1)
            #expect(try RunSession.execute(plan, options: RunOptions(), world, started: .now) == 0)
            let other = try RunPlan(
                config: heatConfig(folder).setting(("model", "diffusivity"), to: .double(0.5)), ranks: 1)
            #expect {
                _ = try RunSession.execute(other, options: RunOptions(restart: "auto"), world, started: .now)
            } throws: { error in
                let text = "\(error)"
                return text.contains("different physics") && text.contains("model.diffusivity 1.0 ≠ 0.5")
            }
        }
    }

    @Test func aCampaignsMembersAreTheConfigWithTheirDrawsAsTypedValues() throws {
        let base = try RunConfig(
            text: """
                [grid]
                shape = [16]
                [model]
                name = "burgers"
                [time]
                end_time = 0.1
                [output]
                dir = "campaign"
                every_time = 0.05
                [ensemble]
                members = 4
                ranks_per_member = 2
                seed = 7
                [ensemble.parameters]
                viscosity = { log_uniform = [0.001, 0.01] }
                """)
        let members = try Campaign.members(of: base, ranks: 4)
        #expect(members.map(\.index) == [0, 1, 2, 3])
        for member in members {
            let drawn = member.parameters.first { $0.name == "viscosity" }!.value
            #expect(member.plan.parameters.values["viscosity"] == drawn)
            #expect(member.plan.config.outputDirectory == "campaign/" + member.folder)
            // Burgers draws its random initial state from the member's own seed.
            #expect(member.plan.parameters.values["seed"] != nil)
        }
        #expect(Set(members.map { $0.plan.parameters.values["seed"]! }.map(\.description)).count == 4)
        // What a finished member records reads back equal, and another config's is not.
        let record = try JSONDecoder().decode(MemberRecord.self, from: JSONEncoder().encode(members[0].record))
        #expect(record == members[0].record && record != members[1].record)
        // Groups of 2 ranks do not divide 3.
        #expect(throws: ConfigError.self) { try Campaign.members(of: base, ranks: 3).count }
    }

    @Test func cpuListsGiveOneFlagPerCPU() {
        let flags = CPUBudget.flags(list: "0-3,8,10-11\n")
        #expect(flags.count == 4096)
        #expect((0..<16).filter { flags[$0] == 1 } == [0, 1, 2, 3, 8, 10, 11])
        #expect(CPUBudget.flags(list: "5000-6000,x").allSatisfy { $0 == 0 })
    }
}

/// The Well's boundary labels: zero gradient is an open outflow for the models that carry
/// matter or waves out through it, a wall (no flux) for diffusion; a sponge opens any face.
@Suite struct WellBoundaryLabelTests {
    func labels(_ model: String, _ condition: String, extra: String = "") throws -> [String] {
        let config = try RunConfig(
            text: """
                [grid]
                shape = [16, 16]
                periodic = [true, false]
                [boundary]
                condition = "\(condition)"
                [model]
                name = "\(model)"
                \(extra)
                [time]
                steps = 1
                [output]
                dir = "out"
                """, overrides: [])
        let plan = try RunPlan(config: config, ranks: 1)
        return plan.wellBoundaryLabels(try plan.model(for: try plan.block(rank: 0).geometry))
    }

    @Test func outflowIsOpenWallsAreWallsAndPeriodicIsPeriodic() throws {
        #expect(try labels("euler", "neumann") == ["PERIODIC", "OPEN"])
        #expect(try labels("euler", "reflecting") == ["PERIODIC", "WALL"])
        #expect(try labels("advection", "neumann") == ["PERIODIC", "OPEN"])
        #expect(try labels("burgers", "neumann") == ["PERIODIC", "OPEN"])
        #expect(try labels("burgers", "dirichlet") == ["PERIODIC", "WALL"])
        #expect(try labels("heat", "neumann") == ["PERIODIC", "WALL"])
        #expect(try labels("gray_scott", "neumann") == ["PERIODIC", "WALL"])
        #expect(try labels("wave", "neumann") == ["PERIODIC", "WALL"])
        #expect(try labels("wave", "dirichlet", extra: "sponge = 4") == ["PERIODIC", "OPEN"])
    }
}
