import Testing

@testable import Settings

/// Parameters like the heat model's: a positive number and a choice, with defaults.
let heatLikeSpecs = [
    ParameterSpec("diffusivity", .number(1e-300...1e300), default: .double(1), help: "κ"),
    ParameterSpec("initial", .choice(["sine", "gaussian"]), default: .string("sine"), help: "initial condition"),
]

@Suite struct ParameterTests {
    @Test func unknownWrongTypeAndOutOfRangeParametersNameTheKey() {
        let specs = heatLikeSpecs
        #expect(throws: ConfigError.self) { try Parameters(["difusivity": .double(1)], specs: specs) }
        do { _ = try Parameters(["diffusivity": .string("x")], specs: specs) } catch {
            #expect(error.key == "model.diffusivity")
            #expect(error.message.contains("number"))
        }
        do { _ = try Parameters(["diffusivity": .double(-1)], specs: specs) } catch {
            #expect(error.key == "model.diffusivity")
        }
        do { _ = try Parameters(["initial": .string("square")], specs: specs) } catch {
            #expect(error.message.contains("\"sine\""))
        }
    }

    @Test func defaultsFillWhatIsNotGiven() throws {
        let p = try Parameters([:], specs: heatLikeSpecs)
        #expect(p.number("diffusivity") == 1)
        #expect(p.string("initial") == "sine")
    }
}
