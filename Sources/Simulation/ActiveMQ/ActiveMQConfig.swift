// Theory of operation
//
// ActiveMQ Classic scenarios name their settings as the product does: the JMS delivery mode and
// acknowledge mode, the connection factory's `useAsyncSend` and `alwaysSyncSend`, KahaDB's
// `journalDiskSyncStrategy`, the `RedeliveryPolicy` fields and the dead-letter strategy's
// `processNonPersistent`. One broker (B1) with the queue `q`, the shared dead-letter queue
// `ActiveMQ.DLQ` (`dlq` in expectations) and a queue `out` for what a transacted consumer sends.
//
// Rules: ../shared/reference/semantics.md §6 (AMQ-01 to AMQ-07), ActiveMQ Classic 5.18. HA
// (shared storage, JDBC master/slave) and networks of brokers are out of scope.

/// The ActiveMQ release line a run follows.
public enum ActiveMQVersion: String, CaseIterable, Sendable {
    /// ActiveMQ Classic 5.x with KahaDB (the rules hold for 5.15 to 5.18 and Classic 6.x).
    case classic = "5.x"

    public init?(parsing text: String) {
        if text == "5.x" || text.hasPrefix("5.") || text.hasPrefix("6.") || text == "classic" {
            self = .classic
        } else {
            return nil
        }
    }
}

/// What the application's `MessageListener.onMessage` does with each message.
public enum ListenerOutcome: String, CaseIterable, Sendable {
    /// Returns normally: AUTO acks; CLIENT calls `message.acknowledge()`; a transacted session commits.
    case returns
    /// Throws a RuntimeException (AMQ-04: a redelivery in AUTO, DUPS_OK and INDIVIDUAL modes).
    case `throws`
    /// Calls `session.rollback()` (transacted sessions).
    case rollback
    /// Rolls back the first delivery and commits the redelivery.
    case rollbackFirst = "rollback-first"
}

public struct ActiveMQConfig: Sendable, Equatable {
    public enum DeliveryMode: String, Sendable {
        case persistent = "PERSISTENT"
        case nonPersistent = "NON_PERSISTENT"
    }
    public enum SyncStrategy: String, Sendable { case always, periodic, never }

    /// When the client redelivers a message its session rolled back, and when it gives up
    /// (org.apache.activemq.RedeliveryPolicy, set on the connection factory).
    public struct RedeliveryPolicy: Equatable, Sendable {
        public var maximumRedeliveries = 6
        public var initialRedeliveryDelay: Millis = 1_000
        public var redeliveryDelay: Millis = 1_000
        public var useExponentialBackOff = false
        public var backOffMultiplier = 5

        /// The delay before redelivery number `count` (1 for the first).
        func delay(before count: Int) -> Millis {
            guard count > 1 else { return initialRedeliveryDelay }
            guard useExponentialBackOff else { return redeliveryDelay }
            var delay = initialRedeliveryDelay
            for _ in 1..<count { delay *= backOffMultiplier }
            return delay
        }
    }
    public enum AcknowledgeMode: String, CaseIterable, Sendable {
        case auto = "AUTO_ACKNOWLEDGE"
        case client = "CLIENT_ACKNOWLEDGE"
        case dupsOK = "DUPS_OK_ACKNOWLEDGE"
        case individual = "INDIVIDUAL_ACKNOWLEDGE"
        case transacted = "SESSION_TRANSACTED"
    }

    public var version: ActiveMQVersion
    // The producer: whether the broker stores the message, and whether send() waits for it.
    public var deliveryMode: DeliveryMode
    public var useAsyncSend: Bool
    public var alwaysSyncSend: Bool
    /// KahaDB: when the journal is fsynced.
    public var journalDiskSyncStrategy: SyncStrategy
    public var journalDiskSyncInterval: Millis
    // The consumer's session.
    public var acknowledgeMode: AcknowledgeMode
    public var redelivery: RedeliveryPolicy
    public var processNonPersistent: Bool
    /// Queue prefetch (AMQ-07).
    public var prefetch: Int

    // The simulator's own knobs.
    public var networkDelayMs: ClosedRange<Millis>
    public var fsyncMs: Millis
    public var processingMs: Millis
    /// How long the operating system leaves a dirty page before writing it back (`never`).
    public var osWritebackMs: Millis
    /// A transacted consumer sends `<message>-out` to the queue `out` for every message it handles.
    public var forward: Bool
    public var reconnectMs: Millis

    /// Whether the producer waits for the broker's receipt (AMQ-02).
    public var sendsSynchronously: Bool {
        alwaysSyncSend || (deliveryMode == .persistent && !useAsyncSend)
    }

    /// Every config key a scenario may set, with its values, default and documentation.
    public static var table: ConfigTable<ActiveMQConfig> {
        ConfigTable(
            system: "ActiveMQ",
            keys: [
                .choice(
                    "deliveryMode", \.deliveryMode, [DeliveryMode.persistent, .nonPersistent],
                    source:
                        "https://jakarta.ee/specifications/messaging/3.1/apidocs/jakarta.messaging/jakarta/jms/deliverymode"
                ),
                .boolean(
                    "useAsyncSend", \.useAsyncSend,
                    source: "https://activemq.apache.org/components/classic/documentation/async-sends"),
                .boolean(
                    "alwaysSyncSend", \.alwaysSyncSend,
                    source: "https://activemq.apache.org/components/classic/documentation/async-sends"),
                .choice(
                    "journalDiskSyncStrategy", \.journalDiskSyncStrategy,
                    [SyncStrategy.always, .periodic, .never],
                    source: "https://activemq.apache.org/components/classic/documentation/kahadb"),
                .integer(
                    "journalDiskSyncInterval", \.journalDiskSyncInterval, 1...600_000,
                    source: "https://activemq.apache.org/components/classic/documentation/kahadb"),
                .choice(
                    "acknowledgeMode", \.acknowledgeMode, AcknowledgeMode.allCases,
                    source:
                        "https://jakarta.ee/specifications/messaging/3.1/apidocs/jakarta.messaging/jakarta/jms/session"
                ),
                .integer(
                    "maximumRedeliveries", \.redelivery.maximumRedeliveries, -1...1_000,
                    source: "https://activemq.apache.org/components/classic/documentation/redelivery-policy"),
                .integer(
                    "initialRedeliveryDelay", \.redelivery.initialRedeliveryDelay, 0...3_600_000,
                    source: "https://activemq.apache.org/components/classic/documentation/redelivery-policy"),
                .integer(
                    "redeliveryDelay", \.redelivery.redeliveryDelay, 0...3_600_000,
                    source: "https://activemq.apache.org/components/classic/documentation/redelivery-policy"),
                .boolean(
                    "useExponentialBackOff", \.redelivery.useExponentialBackOff,
                    source: "https://activemq.apache.org/components/classic/documentation/redelivery-policy"),
                .integer(
                    "backOffMultiplier", \.redelivery.backOffMultiplier, 1...100,
                    source: "https://activemq.apache.org/components/classic/documentation/redelivery-policy"),
                .boolean(
                    "processNonPersistent", \.processNonPersistent,
                    source:
                        "https://activemq.apache.org/components/classic/documentation/message-redelivery-and-dlq-handling"
                ),
                .integer(
                    "prefetch", \.prefetch, 0...32_767,
                    source:
                        "https://activemq.apache.org/components/classic/documentation/what-is-the-prefetch-limit-for"
                ),
                .milliseconds("sim.network.delay.ms", \.networkDelayMs),
                .integer(
                    "sim.fsync.ms", \.fsyncMs, 0...600_000, source: ConfigTable<ActiveMQConfig>.simulator),
                .integer(
                    "sim.processing.ms", \.processingMs, 0...3_600_000,
                    source: ConfigTable<ActiveMQConfig>.simulator),
                .integer(
                    "sim.os.writeback.ms", \.osWritebackMs, 1...3_600_000,
                    source: ConfigTable<ActiveMQConfig>.simulator),
                .boolean("sim.forward", \.forward, source: ConfigTable<ActiveMQConfig>.simulator),
            ])
    }

    /// The defaults with `settings` applied; every problem is reported, and the checks across
    /// keys run once each key is valid on its own.
    public static func resolve(version: ActiveMQVersion, nodes: Int, settings: [(key: String, value: String)])
        throws(ConfigProblems) -> ActiveMQConfig
    {
        guard nodes == 1 else {
            throw ConfigProblems.one(
                key: "nodes", reason: "ActiveMQ here is one broker (HA is out of scope): use 1 node")
        }
        var config = ActiveMQConfig(
            version: version, deliveryMode: .persistent, useAsyncSend: false, alwaysSyncSend: false,
            journalDiskSyncStrategy: .always, journalDiskSyncInterval: 1_000, acknowledgeMode: .auto,
            redelivery: RedeliveryPolicy(), processNonPersistent: false, prefetch: 1_000,
            networkDelayMs: 1...3,
            fsyncMs: 5,
            processingMs: 10, osWritebackMs: 30_000, forward: false, reconnectMs: 500)
        let problems = table.apply(settings, to: &config)
        guard problems.isEmpty else { throw ConfigProblems(problems) }
        if config.forward && config.acknowledgeMode != .transacted {
            throw ConfigProblems.one(
                key: "sim.forward", reason: "only a SESSION_TRANSACTED consumer forwards in its transaction")
        }
        return config
    }
}
