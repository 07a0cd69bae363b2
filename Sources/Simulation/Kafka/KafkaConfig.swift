// Theory of operation
//
// Scenarios and the command line speak Kafka's own config names (`min.insync.replicas`,
// `enable.idempotence`). A version profile sets the defaults that changed between releases and
// the behaviours that changed with them; explicit settings override the defaults. Names that only
// the simulator has start with `sim.`. Resolution happens once, before a run, and produces plain
// typed fields, so the hot path never looks a string up.

/// The Kafka release line whose defaults and behaviours a run follows.
public enum KafkaVersion: String, CaseIterable, Sendable {
    /// Before 0.11: truncation to the high watermark, unclean election on, retries 0, acks=1.
    case pre011 = "pre-0.11"
    /// 2.1 to 2.8: leader epochs, retries unbounded within delivery.timeout.ms, acks=1.
    case v2 = "2.x"
    /// 3.0 to 3.6: acks=all and enable.idempotence=true by default (KIP-679).
    case v30 = "3.0-3.6"
    /// 3.7 and later: the high watermark does not advance while the ISR is below
    /// min.insync.replicas, and min.insync.replicas is clamped to the replication factor (KAFKA-15583).
    case v37 = "3.7+"

    /// Accepts a profile name or a release number such as `3.9`, `2.8` or `0.10.2`.
    public init?(parsing text: String) {
        if let exact = KafkaVersion(rawValue: text) {
            self = exact
            return
        }
        let parts = text.split(separator: ".").compactMap { Int($0) }
        guard let major = parts.first, parts.count >= 2 else { return nil }
        let minor = parts[1]
        switch (major, minor) {
        case (0, let minor) where minor < 11: self = .pre011
        case (0, _), (1, _), (2, _): self = .v2
        case (3, let minor) where minor < 7: self = .v30
        case (3, _), (4, _), (5, _): self = .v37
        default: return nil
        }
    }
}

/// A fully resolved Kafka configuration: broker, topic, producer and consumer settings, plus the
/// simulator's own knobs.
public struct KafkaConfig: Sendable, Equatable {
    public var version: KafkaVersion
    public var brokers: Int

    // Topic and broker.
    public var replicationFactor: Int
    public var minInsyncReplicas: Int
    public var uncleanLeaderElectionEnable: Bool
    public var replicaLagTimeMaxMs: Millis
    public var replicaFetchWaitMaxMs: Millis
    public var replicaSocketTimeoutMs: Millis
    public var brokerSessionTimeoutMs: Millis
    public var brokerHeartbeatIntervalMs: Millis
    /// fsync after this many appended messages; Kafka's default (Long.MAX_VALUE) is never.
    public var flushMessages: Int?

    // Producer.
    public var acks: Int  // 0, 1, or -1 for all
    public var enableIdempotence: Bool
    public var retries: Int
    public var deliveryTimeoutMs: Millis
    public var requestTimeoutMs: Millis
    public var maxInFlightRequestsPerConnection: Int
    public var retryBackoffMs: Millis
    public var batchSize: Int
    public var lingerMs: Millis

    // Consumer.
    public var enableAutoCommit: Bool
    public var autoCommitIntervalMs: Millis
    public var maxPollIntervalMs: Millis
    public var sessionTimeoutMs: Millis
    public var maxPollRecords: Int
    public var autoOffsetReset: String

    // Simulator only.
    /// One-way network delay, uniform in this range.
    public var networkDelayMs: ClosedRange<Millis>
    /// The operating system writes dirty pages back to disk this often (Linux: about 5 s).
    public var osWritebackMs: Millis
    /// The size of one record, to fill batches up to batch.size.
    public var recordBytes: Int
    /// How long the application takes to process one consumed record.
    public var processingMs: Millis

    /// The version behaviours, derived from the profile.
    public var legacyHighWatermarkTruncation: Bool { version == .pre011 }
    public var highWatermarkFreezesBelowMinIsr: Bool { version == .v37 }
    public var effectiveMinInsyncReplicas: Int {
        version == .v37 ? min(minInsyncReplicas, replicationFactor) : minInsyncReplicas
    }

    /// Every config name a scenario may set, in the order `mqproof run --help` lists them.
    public static let knownKeys: [String] = [
        "replication.factor", "min.insync.replicas", "unclean.leader.election.enable",
        "replica.lag.time.max.ms",
        "replica.fetch.wait.max.ms", "replica.socket.timeout.ms", "broker.session.timeout.ms",
        "broker.heartbeat.interval.ms", "flush.messages", "acks", "enable.idempotence", "retries",
        "delivery.timeout.ms", "request.timeout.ms", "max.in.flight.requests.per.connection",
        "retry.backoff.ms",
        "batch.size", "linger.ms", "enable.auto.commit", "auto.commit.interval.ms", "max.poll.interval.ms",
        "session.timeout.ms", "max.poll.records", "auto.offset.reset", "sim.network.delay.ms",
        "sim.os.writeback.ms", "sim.record.bytes", "sim.processing.ms",
    ]

    /// The defaults of `version` with `settings` applied, checked as Kafka checks them.
    public static func resolve(version: KafkaVersion, brokers: Int, settings: [(key: String, value: String)])
        throws(ConfigError) -> KafkaConfig
    {
        let modern = version == .v30 || version == .v37
        var config = KafkaConfig(
            version: version, brokers: brokers, replicationFactor: brokers, minInsyncReplicas: 1,
            uncleanLeaderElectionEnable: version == .pre011,
            replicaLagTimeMaxMs: version == .pre011 ? 10_000 : 30_000, replicaFetchWaitMaxMs: 500,
            replicaSocketTimeoutMs: 30_000, brokerSessionTimeoutMs: 9_000, brokerHeartbeatIntervalMs: 2_000,
            flushMessages: nil, acks: modern ? -1 : 1, enableIdempotence: modern,
            retries: version == .pre011 ? 0 : Int(Int32.max), deliveryTimeoutMs: 120_000,
            requestTimeoutMs: 30_000,
            maxInFlightRequestsPerConnection: 5, retryBackoffMs: 100, batchSize: 16_384, lingerMs: 0,
            enableAutoCommit: true, autoCommitIntervalMs: 5_000, maxPollIntervalMs: 300_000,
            sessionTimeoutMs: modern ? 45_000 : 10_000, maxPollRecords: 500, autoOffsetReset: "latest",
            networkDelayMs: 1...3, osWritebackMs: 5_000, recordBytes: 100, processingMs: 1)
        var idempotenceSetExplicitly = false
        for (key, value) in settings {
            let setting = SettingValue(key: key, value: value)
            func integer(_ range: ClosedRange<Int> = 0...Int(Int32.max)) throws(ConfigError) -> Int {
                try setting.integer(range)
            }
            func boolean() throws(ConfigError) -> Bool { try setting.boolean() }
            switch key {
            case "replication.factor": config.replicationFactor = try integer(1...brokers)
            case "min.insync.replicas": config.minInsyncReplicas = try integer(1...64)
            case "unclean.leader.election.enable": config.uncleanLeaderElectionEnable = try boolean()
            case "replica.lag.time.max.ms": config.replicaLagTimeMaxMs = try integer(1...Int(Int32.max))
            case "replica.fetch.wait.max.ms": config.replicaFetchWaitMaxMs = try integer()
            case "replica.socket.timeout.ms": config.replicaSocketTimeoutMs = try integer(1...Int(Int32.max))
            case "broker.session.timeout.ms": config.brokerSessionTimeoutMs = try integer(1...Int(Int32.max))
            case "broker.heartbeat.interval.ms":
                config.brokerHeartbeatIntervalMs = try integer(1...Int(Int32.max))
            case "flush.messages": config.flushMessages = try integer(1...Int(Int32.max))
            case "acks":
                switch value {
                case "0": config.acks = 0
                case "1": config.acks = 1
                case "all", "-1": config.acks = -1
                default: throw ConfigError(key: key, reason: "expected 0, 1, all or -1, got '\(value)'")
                }
            case "enable.idempotence":
                config.enableIdempotence = try boolean()
                idempotenceSetExplicitly = true
            case "retries": config.retries = try integer()
            case "delivery.timeout.ms": config.deliveryTimeoutMs = try integer(1...Int(Int32.max))
            case "request.timeout.ms": config.requestTimeoutMs = try integer(1...Int(Int32.max))
            case "max.in.flight.requests.per.connection":
                config.maxInFlightRequestsPerConnection = try integer(1...100)
            case "retry.backoff.ms": config.retryBackoffMs = try integer()
            case "batch.size": config.batchSize = try integer(1...Int(Int32.max))
            case "linger.ms": config.lingerMs = try integer()
            case "enable.auto.commit": config.enableAutoCommit = try boolean()
            case "auto.commit.interval.ms": config.autoCommitIntervalMs = try integer(1...Int(Int32.max))
            case "max.poll.interval.ms": config.maxPollIntervalMs = try integer(1...Int(Int32.max))
            case "session.timeout.ms": config.sessionTimeoutMs = try integer(1...Int(Int32.max))
            case "max.poll.records": config.maxPollRecords = try integer(1...100_000)
            case "auto.offset.reset":
                guard ["earliest", "latest", "none"].contains(value) else {
                    throw ConfigError(key: key, reason: "expected earliest, latest or none, got '\(value)'")
                }
                config.autoOffsetReset = value
            case "sim.network.delay.ms": config.networkDelayMs = try setting.millisecondRange()
            case "sim.os.writeback.ms": config.osWritebackMs = try integer(1...Int(Int32.max))
            case "sim.record.bytes": config.recordBytes = try integer(1...1_000_000)
            case "sim.processing.ms": config.processingMs = try integer()
            default:
                let suggestion = knownKeys.min { editDistance($0, key) < editDistance($1, key) }
                throw ConfigError(
                    key: key, reason: "unknown config" + (suggestion.map { " (did you mean \($0)?)" } ?? ""))
            }
        }
        // K-PRD-02: idempotence needs acks=all, retries > 0 and at most 5 requests in flight. Unset,
        // a conflict silently turns it off; set explicitly, the producer refuses to start.
        let conflict =
            config.acks != -1
            ? "acks=all"
            : config.retries == 0
                ? "retries > 0"
                : config.maxInFlightRequestsPerConnection > 5
                    ? "max.in.flight.requests.per.connection <= 5" : nil
        if let conflict, config.enableIdempotence {
            if idempotenceSetExplicitly {
                throw ConfigError(
                    key: "enable.idempotence", reason: "ConfigException: idempotence requires \(conflict)")
            }
            config.enableIdempotence = false
        }
        if config.version == .pre011 && config.enableIdempotence {
            throw ConfigError(
                key: "enable.idempotence", reason: "the idempotent producer arrived in 0.11 (KIP-98)")
        }
        return config
    }
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
