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

    /// Milliseconds such as `2`, or a range such as `1-3`.
    func millisecondRange() throws(ConfigError) -> ClosedRange<Millis> {
        let bounds = value.split(separator: "-").compactMap { Int($0) }
        guard (1...2).contains(bounds.count), bounds.allSatisfy({ $0 >= 0 }),
            bounds[0] <= bounds[bounds.count - 1]
        else {
            throw ConfigError(
                key: key, reason: "expected milliseconds such as 2 or a range such as 1-3, got '\(value)'")
        }
        return bounds[0]...bounds[bounds.count - 1]
    }
}
