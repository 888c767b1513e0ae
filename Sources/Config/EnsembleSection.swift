import Settings

#if canImport(Glibc)
    import Glibc
#endif

/// How one model parameter varies across the members of an ensemble.
///
/// In TOML: a plain value is fixed; `{ uniform = [a, b] }`, `{ log_uniform = [a, b] }` and
/// `{ choice = [x, y, ...] }` draw a value; a list of these draws each entry of a list
/// parameter (`centre = [{ uniform = [0.2, 0.8] }, 0.5]`).
public indirect enum Distribution: Sendable, Equatable {
    case fixed(ConfigValue)
    case uniform(Double, Double)
    case logUniform(Double, Double)
    case choice([ConfigValue])
    case each([Distribution])

    /// Reads the distribution of `key` from its TOML value.
    init(_ value: ConfigValue, key: String) throws(ConfigError) {
        switch value {
        case .table(let table):
            guard table.count == 1, let (kind, argument) = table.first else {
                throw ConfigError(key, "must name one distribution (uniform, log_uniform or choice), got \(value)")
            }
            switch kind {
            case "uniform", "log_uniform":
                guard case .array(let bounds) = argument, bounds.count == 2, let low = bounds[0].number,
                    let high = bounds[1].number, low.isFinite, high.isFinite, low <= high
                else {
                    throw ConfigError(key, "\(kind) needs [low, high] with low ≤ high, got \(argument)")
                }
                if kind == "log_uniform" {
                    guard low > 0 else { throw ConfigError(key, "log_uniform needs positive bounds, got \(argument)") }
                    self = .logUniform(low, high)
                } else {
                    self = .uniform(low, high)
                }
            case "choice":
                guard case .array(let options) = argument, !options.isEmpty else {
                    throw ConfigError(key, "choice needs a non-empty list of values, got \(argument)")
                }
                self = .choice(options)
            default:
                throw ConfigError(key, "\"\(kind)\" is not a distribution; use uniform, log_uniform or choice")
            }
        case .array(let items) where items.contains(where: { if case .table = $0 { true } else { false } }):
            var entries: [Distribution] = []
            for (index, item) in items.enumerated() { entries.append(try Distribution(item, key: "\(key)[\(index)]")) }
            self = .each(entries)
        default:
            self = .fixed(value)
        }
    }

    /// Whether the value differs between members.
    public var varies: Bool {
        switch self {
        case .fixed: false
        case .choice(let options): options.count > 1
        case .uniform(let a, let b), .logUniform(let a, let b): a != b
        case .each(let entries): entries.contains(where: \.varies)
        }
    }

    /// A value drawn with `generator`.
    func sample(_ generator: inout SeededGenerator) -> ConfigValue {
        switch self {
        case .fixed(let value): value
        case .uniform(let low, let high): .double(generator.uniform(in: low...high))
        case .logUniform(let low, let high): .double(exp(generator.uniform(in: log(low)...log(high))))
        case .choice(let options): options[generator.integer(in: 0...(options.count - 1))]
        case .each(let entries): .array(entries.map { $0.sample(&generator) })
        }
    }
}

/// Which part of the dataset a member belongs to.
public enum Split: String, Sendable, CaseIterable {
    case train, valid, test
}

/// The `[ensemble]` section: a campaign of `members` runs of the config's model, with
/// parameters drawn per member, on groups of `ranks_per_member` ranks.
///
/// ```toml
/// [ensemble]
/// members = 64                   # runs in the campaign
/// ranks_per_member = 2           # the world's ranks split into groups of this many
/// seed = 1                       # member i's draws depend on this and i only
/// fractions = [0.8, 0.1, 0.1]    # train, valid, test (members in that order)
/// trajectories_per_file = 8      # n_trajectories of each dataset file
///
/// [ensemble.parameters]          # model parameters: fixed values or distributions
/// diffusivity = { log_uniform = [0.001, 0.01] }
/// initial = { choice = ["sine", "gaussian"] }
/// centre = [{ uniform = [0.2, 0.8] }, { uniform = [0.2, 0.8] }]
/// ```
public struct EnsembleSection: Sendable {
    public let members: Int
    public let ranksPerMember: Int
    public let seed: UInt64
    /// Train, valid and test fractions.
    public let fractions: [Double]
    public let trajectoriesPerFile: Int
    /// The model parameters set per member, by name in name order.
    public let parameters: [(name: String, distribution: Distribution)]

    /// The most members a campaign may hold.
    public static let maximumMembers = 1_000_000

    static let keys: Set<String> = [
        "members", "ranks_per_member", "seed", "fractions", "trajectories_per_file", "parameters",
    ]

    init(_ section: Section) throws(ConfigError) {
        guard let members = try section.optionalInteger("members", minimum: 1) else {
            throw ConfigError("ensemble.members", "is missing: how many runs the campaign makes")
        }
        // Each member is a folder and a run: past a million, a number like 2^63 - 1 is a slip,
        // and listing the members alone would exhaust memory before the first one ran.
        guard members <= Self.maximumMembers else {
            throw ConfigError(
                "ensemble.members",
                "\(members) is more than the \(Self.maximumMembers) a campaign may hold (each member is a folder "
                    + "and a run); split it into several campaigns")
        }
        self.members = members
        ranksPerMember = try section.optionalInteger("ranks_per_member", minimum: 1) ?? 1
        seed = UInt64(try section.optionalInteger("seed", minimum: 0) ?? 0)
        trajectoriesPerFile = try section.optionalInteger("trajectories_per_file", minimum: 1) ?? 8
        if section.table["fractions"] == nil {
            fractions = [0.8, 0.1, 0.1]
        } else {
            fractions = try section.numbers(
                "fractions", count: 3, default: 0, positive: false, each: "the fractions of train, valid and test")
            guard fractions.allSatisfy({ $0 >= 0 }), abs(fractions.reduce(0, +) - 1) < 1e-9 else {
                throw ConfigError(
                    "ensemble.fractions", "must be three non-negative fractions (train, valid, test) summing to 1")
            }
        }
        var parameters: [(String, Distribution)] = []
        if let value = section.table["parameters"] {
            guard case .table(let table) = value else {
                throw ConfigError("ensemble.parameters", "must be a table of model parameters")
            }
            for name in table.keys.sorted() {
                if name == "name" { throw ConfigError("ensemble.parameters.name", "the model cannot vary") }
                parameters.append((name, try Distribution(table[name]!, key: "ensemble.parameters.\(name)")))
            }
        }
        self.parameters = parameters
    }

    /// How many members each split has: train and valid rounded from their fractions, the
    /// rest test.
    public var counts: [Int] {
        let train = Int((Double(members) * fractions[0]).rounded())
        let valid = Swift.min(Int((Double(members) * fractions[1]).rounded()), members - train)
        return [train, valid, members - train - valid]
    }

    /// The split member `index` is in: the first members train, the next valid, the rest test.
    public func split(of index: Int) -> Split {
        let counts = self.counts
        return index < counts[0] ? .train : index < counts[0] + counts[1] ? .valid : .test
    }

    /// Member `index`'s own seed: a hash of the campaign's seed and the index alone.
    public func seed(of index: Int) -> UInt64 {
        var generator = SeededGenerator(seed: seed ^ (UInt64(index) &* 0xD1B5_4A32_D192_ED03))
        return generator.next()
    }

    /// Member `index`'s parameter values, in name order.
    public func parameters(of index: Int) -> [(name: String, value: ConfigValue)] {
        var generator = SeededGenerator(seed: seed(of: index))
        return parameters.map { ($0.name, $0.distribution.sample(&generator)) }
    }
}
