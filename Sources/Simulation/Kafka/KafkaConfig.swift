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

/// The consumer's partition assignor (K-GRP-02): range, roundrobin and sticky rebalance eagerly,
/// cooperative-sticky incrementally. Kafka 3.x's default list [range, cooperative-sticky]
/// rebalances eagerly with range.
public enum AssignmentStrategy: String, CaseIterable, Sendable {
    case range
    case roundrobin
    case sticky
    case cooperativeSticky = "cooperative-sticky"

    /// Whether members keep their partitions through a rebalance (K-GRP-04).
    public var isCooperative: Bool { self == .cooperativeSticky }
}

/// What happens to a partition's old records: deleted by retention, compacted, or both (K-LOG-09).
public enum CleanupPolicy: String, CaseIterable, Sendable {
    case delete
    case compact
    case compactDelete = "compact,delete"

    public var deletes: Bool { self != .compact }
    public var compacts: Bool { self != .delete }
}

/// What a consumer's fetch may return (K-TXN-05, K-TXN-06).
public enum IsolationLevel: String, CaseIterable, Sendable {
    case readUncommitted = "read_uncommitted"
    case readCommitted = "read_committed"
}

/// What a produce request waits for before the leader answers (`acks`).
public enum Acks: String, Sendable, Equatable {
    /// acks=0: no answer at all; the producer counts the send as done once it is on the wire.
    case none = "0"
    /// acks=1: the leader's own append.
    case leader = "1"
    /// acks=all (-1): every replica in the current ISR.
    case all

    /// As a config file or `--set` spells it: 0, 1, all or -1.
    public init?(setting: String) {
        if setting == "-1" {
            self = .all
        } else {
            self.init(rawValue: setting)
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
    public var acks: Acks
    public var enableIdempotence: Bool
    public var retries: Int
    public var deliveryTimeoutMs: Millis
    public var requestTimeoutMs: Millis
    public var maxInFlightRequestsPerConnection: Int
    public var retryBackoffMs: Millis
    public var batchSize: Int
    public var lingerMs: Millis
    /// The record accumulator's bytes, unsent and unanswered batches alike (K-PRD-15).
    public var bufferMemory = 33_554_432
    /// How long send() may block waiting for buffer space (K-PRD-15).
    public var maxBlockMs: Millis = 60_000

    // Consumer.
    public var enableAutoCommit: Bool
    public var autoCommitIntervalMs: Millis
    public var maxPollIntervalMs: Millis
    public var sessionTimeoutMs: Millis
    public var maxPollRecords: Int
    /// The broker answers a consumer's fetch once it has this many bytes... (K-CON-11)
    public var fetchMinBytes = 1
    /// ...or once the fetch has waited this long.
    public var fetchMaxWaitMs: Millis = 500
    public var autoOffsetReset: String

    // The partitioned-topic model (KafkaTopicWorld): set num.partitions or transactional.id.
    /// The topic's partition count; nil runs the one-partition replication model.
    public var numPartitions: Int?
    public var assignmentStrategy: AssignmentStrategy = .range
    /// An empty group's first rebalance waits this long for more members (K-GRP-01).
    public var groupInitialRebalanceDelayMs: Millis = 3_000
    public var heartbeatIntervalMs: Millis = 3_000
    /// How often clients refresh the topic's partition count (K-PART-04, K-PART-05).
    public var metadataMaxAgeMs: Millis = 300_000
    public var transactionalID: String?
    public var transactionTimeoutMs: Millis = 60_000
    /// The transaction coordinator's abort check (K-TXN-07).
    public var transactionAbortCheckIntervalMs: Millis = 10_000
    public var isolationLevel: IsolationLevel = .readUncommitted
    public var cleanupPolicy: CleanupPolicy = .delete
    /// -1: no time limit.
    public var retentionMs: Millis = 604_800_000
    /// -1: no size limit (per partition, K-LOG-03).
    public var retentionBytes = -1
    public var segmentBytes = 1_073_741_824
    public var segmentMs: Millis = 604_800_000
    public var logRetentionCheckIntervalMs: Millis = 300_000
    /// The first retention check runs this long after start-up.
    public var logInitialTaskDelayMs: Millis = 30_000
    public var minCleanableDirtyRatio = 0.5
    public var logCleanerBackoffMs: Millis = 15_000
    public var deleteRetentionMs: Millis = 86_400_000
    public var minCompactionLagMs: Millis = 0

    /// Whether the scenario runs on the partitioned-topic model.
    public var isPartitionedTopic: Bool { numPartitions != nil || transactionalID != nil }

    /// The topic keys that only the partitioned-topic model uses: setting one selects it too.
    public static let partitionedTopicKeys: Set<String> = [
        "num.partitions", "transactional.id", "cleanup.policy", "retention.ms", "retention.bytes",
        "segment.bytes",
        "segment.ms", "min.cleanable.dirty.ratio", "delete.retention.ms", "min.compaction.lag.ms",
        "log.retention.check.interval.ms", "log.initial.task.delay.ms", "log.cleaner.backoff.ms",
    ]

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

    /// Where Kafka documents each kind of config key.
    enum Documentation {
        static func producer(_ key: String) -> String {
            "https://kafka.apache.org/documentation/#producerconfigs_\(key)"
        }
        static func consumer(_ key: String) -> String {
            "https://kafka.apache.org/documentation/#consumerconfigs_\(key)"
        }
        static func topic(_ key: String) -> String {
            "https://kafka.apache.org/documentation/#topicconfigs_\(key)"
        }
        static func broker(_ key: String) -> String {
            "https://kafka.apache.org/documentation/#brokerconfigs_\(key)"
        }
    }

    /// Every config key a scenario may set, with its values, default and documentation.
    public static var table: ConfigTable<KafkaConfig> {
        let (producer, consumer, topic, broker) = (
            Documentation.producer, Documentation.consumer, Documentation.topic, Documentation.broker
        )
        let most = Int(Int32.max)
        return ConfigTable(
            system: "Kafka",
            keys: [
                ConfigKey(
                    "replication.factor", values: "1 to the number of brokers",
                    source: "https://kafka.apache.org/documentation/#replication",
                    default: { String($0.replicationFactor) },
                    apply: { config, setting throws(ConfigError) in
                        config.replicationFactor = try setting.integer(1...config.brokers)
                    }),
                .integer(
                    "min.insync.replicas", \.minInsyncReplicas, 1...64, source: topic("min.insync.replicas")),
                .boolean(
                    "unclean.leader.election.enable", \.uncleanLeaderElectionEnable,
                    source: topic("unclean.leader.election.enable")),
                .integer(
                    "replica.lag.time.max.ms", \.replicaLagTimeMaxMs, 1...most,
                    source: broker("replica.lag.time.max.ms")),
                .integer(
                    "replica.fetch.wait.max.ms", \.replicaFetchWaitMaxMs, 0...most,
                    source: broker("replica.fetch.wait.max.ms")),
                .integer(
                    "replica.socket.timeout.ms", \.replicaSocketTimeoutMs, 1...most,
                    source: broker("replica.socket.timeout.ms")),
                .integer(
                    "broker.session.timeout.ms", \.brokerSessionTimeoutMs, 1...most,
                    source: broker("broker.session.timeout.ms")),
                .integer(
                    "broker.heartbeat.interval.ms", \.brokerHeartbeatIntervalMs, 1...most,
                    source: broker("broker.heartbeat.interval.ms")),
                ConfigKey(
                    "flush.messages", values: "1 to \(most) (unset: the OS flushes)",
                    source: topic("flush.messages"),
                    default: { $0.flushMessages.map(String.init) ?? "unset" },
                    apply: { config, setting throws(ConfigError) in
                        config.flushMessages = try setting.integer(1...most)
                    }),
                ConfigKey(
                    "acks", values: "0, 1, all or -1", source: producer("acks"),
                    default: { $0.acks.rawValue },
                    apply: { config, setting throws(ConfigError) in
                        guard let acks = Acks(setting: setting.value) else {
                            throw ConfigError(
                                key: setting.key, reason: "expected 0, 1, all or -1, got '\(setting.value)'")
                        }
                        config.acks = acks
                    }),
                .boolean("enable.idempotence", \.enableIdempotence, source: producer("enable.idempotence")),
                .integer("retries", \.retries, 0...most, source: producer("retries")),
                .integer(
                    "delivery.timeout.ms", \.deliveryTimeoutMs, 1...most,
                    source: producer("delivery.timeout.ms")),
                .integer(
                    "request.timeout.ms", \.requestTimeoutMs, 1...most, source: producer("request.timeout.ms")
                ),
                .integer(
                    "max.in.flight.requests.per.connection", \.maxInFlightRequestsPerConnection, 1...100,
                    source: producer("max.in.flight.requests.per.connection")),
                .integer(
                    "retry.backoff.ms", \.retryBackoffMs, 0...most, source: producer("retry.backoff.ms")),
                .integer("batch.size", \.batchSize, 1...most, source: producer("batch.size")),
                .integer("linger.ms", \.lingerMs, 0...most, source: producer("linger.ms")),
                .integer("buffer.memory", \.bufferMemory, 1...most, source: producer("buffer.memory")),
                .integer("max.block.ms", \.maxBlockMs, 0...most, source: producer("max.block.ms")),
                .boolean("enable.auto.commit", \.enableAutoCommit, source: consumer("enable.auto.commit")),
                .integer(
                    "auto.commit.interval.ms", \.autoCommitIntervalMs, 1...most,
                    source: consumer("auto.commit.interval.ms")),
                .integer(
                    "max.poll.interval.ms", \.maxPollIntervalMs, 1...most,
                    source: consumer("max.poll.interval.ms")),
                .integer(
                    "session.timeout.ms", \.sessionTimeoutMs, 1...most, source: consumer("session.timeout.ms")
                ),
                .integer(
                    "max.poll.records", \.maxPollRecords, 1...100_000, source: consumer("max.poll.records")),
                .integer("fetch.min.bytes", \.fetchMinBytes, 1...most, source: consumer("fetch.min.bytes")),
                .integer(
                    "fetch.max.wait.ms", \.fetchMaxWaitMs, 0...most, source: consumer("fetch.max.wait.ms")),
                ConfigKey(
                    "auto.offset.reset", values: "earliest, latest or none",
                    source: consumer("auto.offset.reset"),
                    default: { $0.autoOffsetReset },
                    apply: { config, setting throws(ConfigError) in
                        guard ["earliest", "latest", "none"].contains(setting.value) else {
                            throw ConfigError(
                                key: setting.key,
                                reason: "expected earliest, latest or none, got '\(setting.value)'")
                        }
                        config.autoOffsetReset = setting.value
                    }),
                .milliseconds("sim.network.delay.ms", \.networkDelayMs),
                .integer(
                    "sim.os.writeback.ms", \.osWritebackMs, 1...most,
                    source: ConfigTable<KafkaConfig>.simulator),
                .integer(
                    "sim.record.bytes", \.recordBytes, 1...1_000_000,
                    source: ConfigTable<KafkaConfig>.simulator),
                .integer(
                    "sim.processing.ms", \.processingMs, 0...most, source: ConfigTable<KafkaConfig>.simulator),
            ] + partitionedTopicConfigKeys)
    }

    /// The defaults of `version` with `settings` applied, checked as Kafka checks them. Every
    /// problem is reported; the checks across keys run once each key is valid on its own.
    public static func resolve(version: KafkaVersion, brokers: Int, settings: [(key: String, value: String)])
        throws(ConfigProblems) -> KafkaConfig
    {
        var config = defaults(version: version, brokers: brokers)
        let problems = table.apply(settings, to: &config)
        guard problems.isEmpty else { throw ConfigProblems(problems) }
        if !config.isPartitionedTopic,
            let key = settings.first(where: { partitionedTopicKeys.contains($0.key) })?.key
        {
            throw ConfigProblems([
                ConfigError(
                    key: key,
                    reason:
                        "retention and compaction are modelled on the partitioned topic: set num.partitions too"
                )
            ])
        }
        // K-PRD-16: delivery.timeout.ms (2.1+) must cover linger.ms + request.timeout.ms. Set
        // explicitly lower, the producer refuses to start; left at the default, it is raised.
        if config.version != .pre011 && config.deliveryTimeoutMs < config.lingerMs + config.requestTimeoutMs {
            if settings.contains(where: { $0.key == "delivery.timeout.ms" }) {
                throw ConfigProblems([
                    ConfigError(
                        key: "delivery.timeout.ms",
                        reason:
                            "ConfigException: delivery.timeout.ms should be equal to or larger than linger.ms + request.timeout.ms (\(config.lingerMs) + \(config.requestTimeoutMs))"
                    )
                ])
            }
            config.deliveryTimeoutMs = config.lingerMs + config.requestTimeoutMs
        }
        let idempotenceSetExplicitly = settings.contains { $0.key == "enable.idempotence" }
        // K-PRD-02: idempotence needs acks=all, retries > 0 and at most 5 requests in flight. Unset,
        // a conflict silently turns it off; set explicitly, the producer refuses to start.
        let conflict =
            config.acks != .all
            ? "acks=all"
            : config.retries == 0
                ? "retries > 0"
                : config.maxInFlightRequestsPerConnection > 5
                    ? "max.in.flight.requests.per.connection <= 5" : nil
        if let conflict, config.enableIdempotence {
            if idempotenceSetExplicitly {
                throw ConfigProblems([
                    ConfigError(
                        key: "enable.idempotence", reason: "ConfigException: idempotence requires \(conflict)"
                    )
                ])
            }
            config.enableIdempotence = false
        }
        if config.version == .pre011 && config.enableIdempotence {
            throw ConfigProblems([
                ConfigError(
                    key: "enable.idempotence", reason: "the idempotent producer arrived in 0.11 (KIP-98)")
            ])
        }
        return config
    }

    /// What `version` does when nothing is set.
    public static func defaults(version: KafkaVersion, brokers: Int) -> KafkaConfig {
        let modern = version == .v30 || version == .v37
        return KafkaConfig(

            version: version, brokers: brokers, replicationFactor: brokers, minInsyncReplicas: 1,
            uncleanLeaderElectionEnable: version == .pre011,
            replicaLagTimeMaxMs: version == .pre011 ? 10_000 : 30_000, replicaFetchWaitMaxMs: 500,
            replicaSocketTimeoutMs: 30_000, brokerSessionTimeoutMs: 9_000, brokerHeartbeatIntervalMs: 2_000,
            flushMessages: nil, acks: modern ? .all : .leader, enableIdempotence: modern,
            retries: version == .pre011 ? 0 : Int(Int32.max), deliveryTimeoutMs: 120_000,
            requestTimeoutMs: 30_000,
            maxInFlightRequestsPerConnection: 5, retryBackoffMs: 100, batchSize: 16_384, lingerMs: 0,
            enableAutoCommit: true, autoCommitIntervalMs: 5_000, maxPollIntervalMs: 300_000,
            sessionTimeoutMs: modern ? 45_000 : 10_000, maxPollRecords: 500, autoOffsetReset: "latest",
            networkDelayMs: 1...3, osWritebackMs: 5_000, recordBytes: 100, processingMs: 1)
    }
}
