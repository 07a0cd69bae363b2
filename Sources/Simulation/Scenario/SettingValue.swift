/// One `key: value` of a scenario's config, read as the type its key expects; a value that does
/// not fit is a `ConfigError` naming the key.
struct SettingValue {
    var key: String
    var value: String

    func integer(_ range: ClosedRange<Int> = 0...Int(Int32.max)) throws(ConfigError) -> Int {
        guard let number = Int(value), range.contains(number) else {
            throw ConfigError(
                key: key,
                reason: "expected a whole number in \(range.lowerBound)...\(range.upperBound), got '\(value)'"
            )
        }
        return number
    }

    func boolean() throws(ConfigError) -> Bool {
        switch value {
        case "true": return true
        case "false": return false
        default: throw ConfigError(key: key, reason: "expected true or false, got '\(value)'")
        }
    }

    /// One of a setting's named values, spelled as the product spells it.
    func choice<Value: RawRepresentable<String>>(_ options: [Value]) throws(ConfigError) -> Value {
        guard let chosen = options.first(where: { $0.rawValue == value }) else {
            throw ConfigError(
                key: key,
                reason: "expected \(options.map(\.rawValue).joined(separator: " or ")), got '\(value)'")
        }
        return chosen
    }

    /// Milliseconds such as `2`, or a range such as `1-3`, each at most an hour: a network
    /// delay longer than that is a partition, and a larger number would overflow the clock.
    func millisecondRange() throws(ConfigError) -> ClosedRange<Millis> {
        let pieces = value.split(separator: "-", omittingEmptySubsequences: false)
        let bounds = pieces.compactMap { Int($0) }
        guard (1...2).contains(pieces.count), bounds.count == pieces.count,
            bounds.allSatisfy({ (0...3_600_000).contains($0) }), bounds[0] <= bounds[bounds.count - 1]
        else {
            throw ConfigError(
                key: key,
                reason:
                    "expected milliseconds from 0 to 3600000, such as 2, or a range such as 1-3, got '\(value)'"
            )
        }
        return bounds[0]...bounds[bounds.count - 1]
    }
}
