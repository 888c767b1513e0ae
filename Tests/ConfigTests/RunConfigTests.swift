import Testing

@testable import Config
@testable import Settings

let minimal = """
    [grid]
    shape = [16, 8]
    [model]
    name = "heat"
    [time]
    steps = 10
    [output]
    dir = "out"
    """

@Suite struct RunConfigTests {
    @Test func minimalConfigGetsDefaults() throws {
        let c = try RunConfig(text: minimal)
        #expect(c.grid.shape == [16, 8])
        #expect(c.grid.extent == [1, 1])
        #expect(c.grid.periodic == [true, true])
        #expect(c.boundaries == [.periodic, .periodic])
        #expect(c.steps == 10 && c.endTime == nil)
        #expect(c.cfl == 0.9)
        #expect(c.outputEvery == 1)
        #expect(c.grid.haloDepth == 1)
    }

    @Test func haloDepthIsAWholeNumberOfStencilsFromOne() throws {
        #expect(try RunConfig(text: minimal, overrides: ["grid.halo_depth=4"]).grid.haloDepth == 4)
        #expect {
            try RunConfig(text: minimal, overrides: ["grid.halo_depth=0"])
        } throws: { "\($0)".contains("[grid.halo_depth] must be at least 1, got 0") }
        #expect {
            try RunConfig(text: minimal, overrides: ["grid.halo_depth=2.5"])
        } throws: { "\($0)".contains("[grid.halo_depth] must be an integer") }
    }

    @Test func aTilingIsTwoWholeNumbersForTheTiledPassOfDeepHalos() throws {
        let deep = ["grid.halo_depth=4"]
        #expect(try RunConfig(text: minimal).grid.tiling == nil)
        #expect(
            try RunConfig(text: minimal, overrides: deep + ["grid.tiling=[4, 32]"]).grid.tiling
                == Tiling(slab: 4, width: 32))
        #expect {
            try RunConfig(text: minimal, overrides: ["grid.tiling=[4, 32]"])
        } throws: { "\($0)".contains("[grid.tiling] sets the tiled pass that halo_depth > 1 takes") }
        #expect {
            try RunConfig(text: minimal, overrides: deep + ["grid.tiling=[4]"])
        } throws: { "\($0)".contains("[grid.tiling]") }
        #expect {
            try RunConfig(text: minimal, overrides: deep + ["grid.tiling=[0, 8]"])
        } throws: { "\($0)".contains("[grid.tiling] entries must be at least 1") }
    }

    @Test func overridesApplyAndAreRecorded() throws {
        let c = try RunConfig(
            text: minimal,
            overrides: ["time.steps=3", "output.dir=/tmp/x y", "grid.periodic=[true, false]", "model.diffusivity=2"])
        #expect(c.steps == 3)
        #expect(c.outputDirectory == "/tmp/x y")
        #expect(c.boundaries == [.periodic, .dirichlet(0)])
        #expect(c.modelTable["diffusivity"] == .int(2))
        #expect(c.text.contains("# --set time.steps=3"))
    }

    @Test(arguments: [
        ("grid.shape", "shape = [16, -8]", "at least 1"),
        ("grid.shape", "shape = \"big\"", "list of integers"),
        ("grid.shape", "shape = [16.5, 8]", "float"),
        ("grid.extent", "shape = [16, 8]\nextent = [1.0]", "2 entries"),
        ("grid.periodic", "shape = [16, 8]\nperiodic = [1, 0]", "true or false"),
        ("grid.colour", "shape = [16, 8]\ncolour = 1", "not a key"),
    ])
    func badGridValuesNameTheKey(key: String, grid: String, fragment: String) {
        let text = minimal.replacingOccurrences(of: "shape = [16, 8]", with: grid)
        do {
            _ = try RunConfig(text: text)
            Issue.record("accepted \(grid)")
        } catch {
            #expect(error.key == key, "\(error)")
            #expect(error.message.contains(fragment), "\(error)")
        }
    }

    @Test func missingSectionsAndKeysAreNamed() {
        for (drop, key) in [
            ("[grid]\nshape = [16, 8]\n", "grid"), ("name = \"heat\"\n", "model.name"), ("steps = 10\n", "time"),
        ] {
            do {
                _ = try RunConfig(text: minimal.replacingOccurrences(of: drop, with: drop.hasPrefix("[") ? "" : "\n"))
                Issue.record("accepted a config without \(key)")
            } catch {
                #expect(error.key == key, "\(error)")
            }
        }
    }

    @Test func stepsAndEndTimeAreExclusiveAndCflBounded() {
        #expect(throws: ConfigError.self) { try RunConfig(text: minimal + "\n", overrides: ["time.end_time=1.0"]) }
        #expect(throws: ConfigError.self) { try RunConfig(text: minimal, overrides: ["time.cfl=1.5"]) }
        #expect(throws: ConfigError.self) { try RunConfig(text: minimal, overrides: ["time.steps=-1"]) }
        #expect(throws: ConfigError.self) { try RunConfig(text: minimal, overrides: ["output.every=0"]) }
        do {
            _ = try RunConfig(text: minimal, overrides: ["output.every=3"])
            Issue.record("accepted steps = 10 with every = 3")
        } catch {
            #expect(error.key == "output.every" && error.message.contains("last 1 steps"), "\(error)")
        }
    }

    @Test func framesEveryIntervalOfSimulatedTimeNeedAnEndTimeTheyDivide() throws {
        let timed = minimal.replacingOccurrences(of: "steps = 10", with: "end_time = 1.0")
        let config = try RunConfig(text: timed, overrides: ["output.every_time=0.25"])
        #expect(config.outputEveryTime == 0.25 && config.frameCount == 5)
        #expect(config.frameSpacing == "a frame every 0.25 of simulated time")
        // 0.1 does not land on 1.0 exactly in floating point, but within rounding it does.
        #expect(try RunConfig(text: timed, overrides: ["output.every_time=0.1"]).frameCount == 11)
        let cases: [(String, [String], String)] = [
            (minimal, ["output.every_time=0.1"], "needs time.end_time"),
            (timed, ["output.every_time=0.3"], "does not divide time.end_time = 1.0"),
            (timed, ["output.every_time=2.0"], "does not divide time.end_time = 1.0"),
            (timed, ["output.every_time=0.25", "output.every=2"], "not both"),
            (timed, ["output.every_time=-1.0"], "must be positive"),
        ]
        for (text, overrides, message) in cases {
            do {
                _ = try RunConfig(text: text, overrides: overrides)
                Issue.record("accepted \(overrides)")
            } catch {
                #expect(error.key == "output.every_time" && error.message.contains(message), "\(error)")
            }
        }
    }

    @Test func adaptiveStepsAreAChoiceWithABoundedGrowth() throws {
        let plain = try RunConfig(text: minimal, overrides: [])
        #expect(plain.adaptive == nil && plain.maxDtGrowth == 1.1)
        let set = try RunConfig(text: minimal, overrides: ["time.adaptive=false", "time.max_dt_growth=1.5"])
        #expect(set.adaptive == false && set.maxDtGrowth == 1.5)
        for (override, message) in [
            ("time.adaptive=1", "must be true or false"), ("time.max_dt_growth=0.9", "must be at least 1"),
        ] {
            #expect(throws: ConfigError.self, "\(message)") { try RunConfig(text: minimal, overrides: [override]) }
        }
    }

    @Test func unknownSectionsAndBrokenTOMLAreReported() {
        do { _ = try RunConfig(text: minimal + "\n[physics]\nx = 1") } catch { #expect(error.key == "physics") }
        do {
            _ = try RunConfig(text: "[grid\nshape = [1]")
            Issue.record("accepted broken TOML")
        } catch {
            #expect(error.message.contains("not valid TOML"))
            #expect(error.message.contains("line 1"))
        }
    }

    @Test func checkpointSectionReadsDurationsAndDefaults() throws {
        let none = try RunConfig(text: minimal)
        #expect(none.checkpointEvery == nil && none.checkpointInterval == nil && none.checkpointKeep == 2)
        let c = try RunConfig(text: minimal + "\n[checkpoint]\nevery = 5\ninterval = \"1h30m\"\nkeep = 3")
        #expect(c.checkpointEvery == 5 && c.checkpointInterval == 5400 && c.checkpointKeep == 3)
        #expect(try RunConfig(text: minimal, overrides: ["checkpoint.interval=90"]).checkpointInterval == 90)
        #expect(Section.duration("45s") == 45 && Section.duration("2h") == 7200 && Section.duration("10") == nil)
        for bad in ["checkpoint.interval=\"soon\"", "checkpoint.keep=0", "checkpoint.every=1.5"] {
            #expect(throws: ConfigError.self) { try RunConfig(text: minimal, overrides: [bad]) }
        }
    }

    @Test func wallTimesInSlurmsForms() {
        #expect(WallTime.seconds(in: "01:30:00") == 5400)
        #expect(WallTime.seconds(in: "2-00:00:10") == 172_810)
        #expect(WallTime.seconds(in: "05:00") == 300)
        #expect(WallTime.seconds(in: "90") == 90)
        for bad in ["", "soon", "1:x:3", "1:2:3:4", "00:00:00", "-1"] {
            #expect(WallTime.seconds(in: bad) == nil, "\(bad)")
        }
    }
}

@Suite struct EnsembleSectionTests {
    let campaign =
        minimal + """

            [ensemble]
            members = 10
            seed = 3
            [ensemble.parameters]
            diffusivity = { log_uniform = [0.001, 0.1] }
            width = { uniform = [0.1, 0.2] }
            initial = { choice = ["sine", "gaussian"] }
            centre = [{ uniform = [0.2, 0.8] }, 0.5]
            amplitude = 2.0
            """

    @Test func membersDrawFromTheirDistributionsByTheSeedAndIndexAlone() throws {
        let ensemble = try #require(try RunConfig(text: campaign).ensemble)
        #expect(ensemble.parameters.map(\.name) == ["amplitude", "centre", "diffusivity", "initial", "width"])
        #expect(!ensemble.parameters[0].distribution.varies && ensemble.parameters[1].distribution.varies)
        var seen: Set<String> = []
        for member in 0..<ensemble.members {
            let drawn = Dictionary(uniqueKeysWithValues: ensemble.parameters(of: member).map { ($0.name, $0.value) })
            #expect(drawn["amplitude"] == .double(2))
            let diffusivity = try #require(drawn["diffusivity"]?.number)
            #expect((0.001...0.1).contains(diffusivity))
            #expect((0.1...0.2).contains(try #require(drawn["width"]?.number)))
            #expect(drawn["initial"] == .string("sine") || drawn["initial"] == .string("gaussian"))
            guard case .array(let centre) = drawn["centre"] else {
                Issue.record("centre is not a list")
                continue
            }
            #expect((0.2...0.8).contains(try #require(centre[0].number)) && centre[1] == .double(0.5))
            seen.insert("\(diffusivity)")
            // The same member draws the same, however often it is asked.
            #expect("\(ensemble.parameters(of: member).map(\.value))" == "\(drawn.keys.sorted().map { drawn[$0]! })")
        }
        #expect(seen.count == ensemble.members)
        // Another campaign seed draws otherwise.
        let other = try #require(
            try RunConfig(text: campaign.replacingOccurrences(of: "seed = 3", with: "seed = 4")).ensemble)
        #expect("\(other.parameters(of: 0).map(\.value))" != "\(ensemble.parameters(of: 0).map(\.value))")
    }

    @Test func log_uniformDrawsAreUniformInTheLogarithm() throws {
        let ensemble = try #require(
            try RunConfig(
                text: minimal
                    + "\n[ensemble]\nmembers = 4000\n[ensemble.parameters]\nk = { log_uniform = [0.01, 100.0] }"
            ).ensemble)
        var below = 0
        for member in 0..<ensemble.members where ensemble.parameters(of: member)[0].value.number! < 1 { below += 1 }
        // Half the draws lie below the geometric mean, 1.
        #expect(abs(Double(below) / 4000 - 0.5) < 0.03)
    }

    @Test func splitsFollowTheFractionsInMemberOrder() throws {
        let ensemble = try #require(
            try RunConfig(text: minimal + "\n[ensemble]\nmembers = 7\nfractions = [0.6, 0.2, 0.2]").ensemble)
        #expect(ensemble.counts == [4, 1, 2])
        #expect((0..<7).map { ensemble.split(of: $0) } == [.train, .train, .train, .train, .valid, .test, .test])
    }

    @Test(arguments: [
        ("members = 0", "ensemble.members", "at least 1"),
        ("members = 4\nfractions = [0.5, 0.5, 0.5]", "ensemble.fractions", "summing to 1"),
        ("members = 4\n[ensemble.parameters]\nk = { uniform = [2.0, 1.0] }", "ensemble.parameters.k", "low ≤ high"),
        (
            "members = 4\n[ensemble.parameters]\nk = { gamma = [2.0, 1.0] }", "ensemble.parameters.k",
            "not a distribution"
        ),
        ("members = 4\n[ensemble.parameters]\nk = { choice = [] }", "ensemble.parameters.k", "non-empty"),
        ("members = 4\nsize = 3", "ensemble.size", "not a key"),
    ])
    func badEnsembleSectionsNameTheKey(lines: String, key: String, message: String) {
        do {
            _ = try RunConfig(text: minimal + "\n[ensemble]\n" + lines)
            Issue.record("accepted \(lines)")
        } catch {
            #expect(error.key == key && error.message.contains(message), "\(error)")
        }
    }
}

@Suite struct ManyProblemsTests {
    func problems(_ text: String, check: (RunConfig) throws -> Void = { _ in }) -> String {
        do {
            try RunConfig.validated(text: text, check)
            return ""
        } catch {
            return "\(error)"
        }
    }

    @Test func everyIndependentProblemIsListedOnceInTheOrderFound() {
        let text =
            minimal.replacingOccurrences(of: "steps = 10", with: "steps = 10\ncfl = 3\nstesp = 1")
            + "\nevry = 2\n[grdi]\nx = 1"
        let found = problems(text)
        #expect(found.hasPrefix("4 problems:\n"), "\(found)")
        for key in ["[grdi]", "[time.cfl]", "[time.stesp]", "[output.evry]"] {
            #expect(found.components(separatedBy: key).count == 2, "\(key) in \(found)")
        }
    }

    @Test func whatFollowsFromASetAsideKeyIsNotAProblemOfItsOwn() {
        // Setting aside the bad steps leaves [time] with neither steps nor end_time.
        let found = problems(minimal.replacingOccurrences(of: "steps = 10", with: "steps = 1.5"))
        #expect(found.hasPrefix("[time.steps]") && !found.contains("end_time"), "\(found)")
        let shape = problems(minimal.replacingOccurrences(of: "[16, 8]", with: "[\"a\"]"))
        #expect(shape.hasPrefix("[grid.shape]") && !shape.contains("missing"), "\(shape)")
    }

    @Test func checksBeyondTheConfigJoinInAndAValidConfigPasses() throws {
        let found = problems(minimal + "\nevry = 1") { config in
            if config.table["model"].map({ "\($0)".contains("diffusivity") }) != true {
                throw ConfigError("model.diffusivity", "is required here")
            }
        }
        #expect(found.hasPrefix("2 problems:") && found.contains("[model.diffusivity] is required here"))
        let config = try RunConfig.validated(text: minimal) { $0 }
        #expect(config.grid.shape == [16, 8])
        #expect(RunConfig.removing(["time", "steps"], from: config.table)?["time"] == .table([:]))
        #expect(RunConfig.removing(["time", "nothing"], from: config.table) == nil)
    }
}
