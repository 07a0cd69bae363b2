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
    /// Throws on the first delivery and returns normally on a redelivery.
    case throwsFirst = "throws-first"
}

/// A JMS consumer application: what its listener does, and to which messages.
public struct ActiveMQConsumerSpec: Equatable, Sendable {
    /// On a topic (AMQ-10): a durable subscription keeps messages while its consumer is away; a
    /// non-durable one exists only while its consumer is connected.
    public enum Subscription: String, CaseIterable, Sendable {
        case durable
        case nonDurable = "non-durable"
    }

    public var listener: ListenerOutcome
    /// The messages the listener's outcome applies to (`for: [m1]`); the others return normally.
    /// Empty: every message.
    public var only: [String]
    public var subscription: Subscription

    public init(listener: ListenerOutcome, only: [String] = [], subscription: Subscription = .nonDurable) {
        self.listener = listener
        self.only = only
        self.subscription = subscription
    }
}

public struct ActiveMQConfig: Sendable, Equatable {
    public enum DeliveryMode: String, Sendable {
        case persistent = "PERSISTENT"
        case nonPersistent = "NON_PERSISTENT"
    }
    public enum SyncStrategy: String, Sendable { case always, periodic, never }

    public enum AcknowledgeMode: String, CaseIterable, Sendable {
        case auto = "AUTO_ACKNOWLEDGE"
        case client = "CLIENT_ACKNOWLEDGE"
        case dupsOK = "DUPS_OK_ACKNOWLEDGE"
        case individual = "INDIVIDUAL_ACKNOWLEDGE"
        case transacted = "SESSION_TRANSACTED"
    }

    public var version: ActiveMQVersion

    /// The producer: whether the broker stores the message (the JMS delivery mode), and whether
    /// send() waits for the broker's receipt (the connection factory's flags).
    public struct Send: Equatable, Sendable {
        public var deliveryMode = DeliveryMode.persistent
        public var useAsyncSend = false
        public var alwaysSyncSend = false

        /// Whether the producer waits for the broker's receipt (AMQ-02).
        public var sendsSynchronously: Bool {
            alwaysSyncSend || (deliveryMode == .persistent && !useAsyncSend)
        }
    }
    public var send = Send()

    /// KahaDB: when the journal is fsynced.
    public struct Journal: Equatable, Sendable {
        public var journalDiskSyncStrategy = SyncStrategy.always
        public var journalDiskSyncInterval: Millis = 1_000
    }
    public var journal = Journal()

    /// The consumer's session and its prefetch (AMQ-07).
    public struct Consumer: Equatable, Sendable {
        public var acknowledgeMode = AcknowledgeMode.auto
        public var prefetch = 1_000
    }
    public var consumer = Consumer()

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
    public var redelivery = RedeliveryPolicy()

    /// The dead-letter strategy's flag: whether a non-persistent poison message goes to the DLQ.
    public var processNonPersistent = false
    // The simulator's own knobs.
    public var networkDelayMs: ClosedRange<Millis> = 1...3
    public var fsyncMs: Millis = 5
    public var processingMs: Millis = 10
    /// How long the operating system leaves a dirty page before writing it back (`never`).
    public var osWritebackMs: Millis = 30_000
    /// A transacted consumer sends `<message>-out` to the queue `out` for every message it handles.
    public var forward = false
    /// Where producers send and consumers subscribe: a queue, or a topic (publish-subscribe).
    public var destination = Destination.queue
    public enum Destination: String, CaseIterable, Sendable { case queue, topic }
    public var reconnectMs: Millis = 500

    /// Every config key a scenario may set, with its values, default and documentation.
    public static var table: ConfigTable<ActiveMQConfig> {
        ConfigTable(
            system: "ActiveMQ",
            keys: [
                .choice(
                    "deliveryMode", \.send.deliveryMode, [DeliveryMode.persistent, .nonPersistent],
                    source:
                        "https://jakarta.ee/specifications/messaging/3.1/apidocs/jakarta.messaging/jakarta/jms/deliverymode"
                ),
                .boolean(
                    "useAsyncSend", \.send.useAsyncSend,
                    source: "https://activemq.apache.org/components/classic/documentation/async-sends"),
                .boolean(
                    "alwaysSyncSend", \.send.alwaysSyncSend,
                    source: "https://activemq.apache.org/components/classic/documentation/async-sends"),
                .choice(
                    "journalDiskSyncStrategy", \.journal.journalDiskSyncStrategy,
                    [SyncStrategy.always, .periodic, .never],
                    source: "https://activemq.apache.org/components/classic/documentation/kahadb"),
                .integer(
                    "journalDiskSyncInterval", \.journal.journalDiskSyncInterval, 1...600_000,
                    source: "https://activemq.apache.org/components/classic/documentation/kahadb"),
                .choice(
                    "acknowledgeMode", \.consumer.acknowledgeMode, AcknowledgeMode.allCases,
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
                    "prefetch", \.consumer.prefetch, 0...32_767,
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
                .choice(
                    "sim.destination", \.destination, [Destination.queue, .topic],
                    source:
                        "https://activemq.apache.org/components/classic/documentation/how-do-durable-queues-and-topics-work"
                ),
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
        var config = ActiveMQConfig(version: version)
        let problems = table.apply(settings, to: &config)
        guard problems.isEmpty else { throw ConfigProblems(problems) }
        if config.forward && config.consumer.acknowledgeMode != .transacted {
            throw ConfigProblems.one(
                key: "sim.forward", reason: "only a SESSION_TRANSACTED consumer forwards in its transaction")
        }
        return config
    }
}
