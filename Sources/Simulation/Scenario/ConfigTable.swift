/// One config key a scenario may set: its name, the values it takes, its default, and the source
/// that says what it does. Each broker's keys form one table (`KafkaConfig.table`, ...): the
/// resolver, `mqproof configs` and "did you mean" all read it.
public struct ConfigKey<Config> {
    public let name: String
    /// The values it takes, in words: "0, 1, all or -1", "1 to 64", "true or false".
    public let values: String
    /// Where the rule comes from: the product's documentation, or the simulator's own knob.
    public let source: String
    /// The default, read from a freshly resolved config of the scenario's version.
    public let defaultValue: (Config) -> String
    /// Sets the key; a prefix key (`binding.` in RabbitMQ) takes its suffix from the setting.
    let apply: (inout Config, SettingValue) throws(ConfigError) -> Void
    /// For keys written `binding.<queue>`.
    let isPrefix: Bool

    init(
        _ name: String, values: String, source: String, isPrefix: Bool = false,
        default defaultValue: @escaping (Config) -> String,
        apply: @escaping (inout Config, SettingValue) throws(ConfigError) -> Void
    ) {
        self.name = name
        self.values = values
        self.source = source
        self.isPrefix = isPrefix
        self.defaultValue = defaultValue
        self.apply = apply
    }

    static func integer(
        _ name: String, _ field: WritableKeyPath<Config, Int>, _ range: ClosedRange<Int>, source: String
    ) -> ConfigKey {
        ConfigKey(
            name, values: "\(range.lowerBound) to \(range.upperBound)", source: source,
            default: { String($0[keyPath: field]) },
            apply: { config, setting throws(ConfigError) in
                config[keyPath: field] = try setting.integer(range)
            })
    }

    static func boolean(_ name: String, _ field: WritableKeyPath<Config, Bool>, source: String) -> ConfigKey {
        ConfigKey(
            name, values: "true or false", source: source, default: { String($0[keyPath: field]) },
            apply: { config, setting throws(ConfigError) in config[keyPath: field] = try setting.boolean() })
    }

    static func choice<Value: RawRepresentable<String>>(
        _ name: String, _ field: WritableKeyPath<Config, Value>, _ options: [Value], source: String
    ) -> ConfigKey {
        ConfigKey(
            name, values: options.map(\.rawValue).joined(separator: " or "), source: source,
            default: { $0[keyPath: field].rawValue },
            apply: { config, setting throws(ConfigError) in
                config[keyPath: field] = try setting.choice(options)
            })
    }

    static func milliseconds(_ name: String, _ field: WritableKeyPath<Config, ClosedRange<Millis>>)
        -> ConfigKey
    {
        ConfigKey(
            name, values: "milliseconds, or a range such as 1-3", source: ConfigTable<Config>.simulator,
            default: { range in
                let value = range[keyPath: field]
                return value.lowerBound == value.upperBound
                    ? "\(value.lowerBound)" : "\(value.lowerBound)-\(value.upperBound)"
            },
            apply: { config, setting throws(ConfigError) in
                config[keyPath: field] = try setting.millisecondRange()
            })
    }
}

/// A broker's config keys, and how settings are applied: every problem is reported, not just the
/// first, and "did you mean" is offered only for a name close to a real one.
public struct ConfigTable<Config> {
    public let system: String
    public let keys: [ConfigKey<Config>]

    /// The source of the simulator's own knobs (`sim.*`): they stand for timings a real
    /// deployment has, and docs/SEMANTICS.md says what each models.
    static var simulator: String { "the simulator (docs/SEMANTICS.md)" }

    public func key(named name: String) -> ConfigKey<Config>? {
        keys.first { $0.isPrefix ? name.hasPrefix($0.name) : $0.name == name }
    }

    /// Applies `settings` in order; the problems of all of them.
    func apply(_ settings: [(key: String, value: String)], to config: inout Config) -> [ConfigError] {
        var problems: [ConfigError] = []
        for (name, value) in settings {
            guard let key = key(named: name) else {
                problems.append(ConfigError(key: name, reason: unknown(name)))
                continue
            }
            do {
                try key.apply(&config, SettingValue(key: name, value: value))
            } catch {
                problems.append(error)
            }
        }
        return problems
    }

    func unknown(_ name: String) -> String {
        let near = keys.map { (key: $0.name, distance: editDistance($0.name, name)) }
            .filter { $0.distance <= max(2, name.count / 4) }
            .min { ($0.distance, $0.key) < ($1.distance, $1.key) }
        return "not a \(system) config the simulator models"
            + (near.map { " (did you mean \($0.key)?)" }
                ?? "; mqproof configs \(system.lowercased()) lists them")
    }
}

/// Every problem with a scenario's config, each naming its key.
public struct ConfigProblems: Error, Equatable, Sendable, CustomStringConvertible {
    public var problems: [ConfigError]

    public init(_ problems: [ConfigError]) { self.problems = problems }

    public var description: String { problems.map(\.description).joined(separator: "\n") }
}

/// Levenshtein distance, for "did you mean" on config names.
func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a.utf8)
    let b = Array(b.utf8)
    if a.isEmpty { return b.count }
    var previous = Array(0...b.count)
    var current = previous
    for i in 1...a.count {
        current[0] = i
        for j in stride(from: 1, through: b.count, by: 1) {
            current[j] = min(
                previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
        }
        swap(&previous, &current)
    }
    return previous[b.count]
}

extension ConfigProblems {
    /// A check across keys that failed: one problem.
    static func one(key: String, reason: String) -> ConfigProblems {
        ConfigProblems([ConfigError(key: key, reason: reason)])
    }
}
