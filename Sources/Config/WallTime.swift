/// Wall-clock limits as schedulers write them.
public enum WallTime {
    /// Seconds in a limit written `HH:MM:SS`, `MM:SS`, `D-HH:MM:SS` (Slurm's forms) or as
    /// plain seconds; nil if it is none of these.
    public static func seconds(in text: String) -> Double? {
        guard let total = duration(in: text), total > 0 else { return nil }
        return total
    }

    /// Seconds in a duration of those forms, zero included; nil if it is none of them.
    public static func duration(in text: String) -> Double? {
        var days = 0.0
        var rest = Substring(text)
        if let dash = rest.firstIndex(of: "-") {
            guard let d = Double(rest[..<dash]), d >= 0 else { return nil }
            days = d
            rest = rest[rest.index(after: dash)...]
        }
        let parts = rest.split(separator: ":", omittingEmptySubsequences: false).compactMap { Double($0) }
        guard (1...3).contains(parts.count),
            parts.count == rest.split(separator: ":", omittingEmptySubsequences: false).count,
            parts.allSatisfy({ $0 >= 0 })
        else { return nil }
        let total = days * 86400 + parts.reduce(0.0) { $0 * 60 + $1 }
        return total.isFinite ? total : nil
    }
}
