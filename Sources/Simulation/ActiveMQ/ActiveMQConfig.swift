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
    public enum AcknowledgeMode: String, CaseIterable, Sendable {
        case auto = "AUTO_ACKNOWLEDGE"
        case client = "CLIENT_ACKNOWLEDGE"
        case dupsOK = "DUPS_OK_ACKNOWLEDGE"
        case individual = "INDIVIDUAL_ACKNOWLEDGE"
        case transacted = "SESSION_TRANSACTED"
    }

    public var version: ActiveMQVersion
    public var deliveryMode: DeliveryMode
    public var useAsyncSend: Bool
    public var alwaysSyncSend: Bool
    public var journalDiskSyncStrategy: SyncStrategy
    public var journalDiskSyncInterval: Millis
    public var acknowledgeMode: AcknowledgeMode
    public var maximumRedeliveries: Int
    public var initialRedeliveryDelay: Millis
    public var redeliveryDelay: Millis
    public var useExponentialBackOff: Bool
    public var backOffMultiplier: Int
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

    public static func resolve(version: ActiveMQVersion, nodes: Int, settings: [(key: String, value: String)])
        throws(ConfigError) -> ActiveMQConfig
    {
        guard nodes == 1 else {
            throw ConfigError(
                key: "nodes", reason: "ActiveMQ here is one broker (HA is out of scope): use 1 node")
        }
        var config = ActiveMQConfig(
            version: version, deliveryMode: .persistent, useAsyncSend: false, alwaysSyncSend: false,
            journalDiskSyncStrategy: .always, journalDiskSyncInterval: 1_000, acknowledgeMode: .auto,
            maximumRedeliveries: 6, initialRedeliveryDelay: 1_000, redeliveryDelay: 1_000,
            useExponentialBackOff: false,
            backOffMultiplier: 5, processNonPersistent: false, prefetch: 1_000, networkDelayMs: 1...3,
            fsyncMs: 5,
            processingMs: 10, osWritebackMs: 30_000, forward: false, reconnectMs: 500)
        for (key, value) in settings {
            let setting = SettingValue(key: key, value: value)
            func integer(_ range: ClosedRange<Int>) throws(ConfigError) -> Int { try setting.integer(range) }
            func choice<T: RawRepresentable<String>>(_ options: [T]) throws(ConfigError) -> T {
                try setting.choice(options)
            }
            switch key {
            case "deliveryMode": config.deliveryMode = try choice([DeliveryMode.persistent, .nonPersistent])
            case "useAsyncSend": config.useAsyncSend = try setting.boolean()
            case "alwaysSyncSend": config.alwaysSyncSend = try setting.boolean()
            case "journalDiskSyncStrategy":
                config.journalDiskSyncStrategy = try choice([SyncStrategy.always, .periodic, .never])
            case "journalDiskSyncInterval": config.journalDiskSyncInterval = try integer(1...600_000)
            case "acknowledgeMode": config.acknowledgeMode = try choice(AcknowledgeMode.allCases)
            case "maximumRedeliveries": config.maximumRedeliveries = try integer(-1...1_000)
            case "initialRedeliveryDelay": config.initialRedeliveryDelay = try integer(0...3_600_000)
            case "redeliveryDelay": config.redeliveryDelay = try integer(0...3_600_000)
            case "useExponentialBackOff": config.useExponentialBackOff = try setting.boolean()
            case "backOffMultiplier": config.backOffMultiplier = try integer(1...100)
            case "processNonPersistent": config.processNonPersistent = try setting.boolean()
            case "prefetch": config.prefetch = try integer(0...32_767)
            case "sim.network.delay.ms": config.networkDelayMs = try setting.millisecondRange()
            case "sim.fsync.ms": config.fsyncMs = try integer(0...600_000)
            case "sim.processing.ms": config.processingMs = try integer(0...3_600_000)
            case "sim.os.writeback.ms": config.osWritebackMs = try integer(1...3_600_000)
            case "sim.forward": config.forward = try setting.boolean()
            default:
                throw ConfigError(
                    key: key,
                    reason:
                        "not an ActiveMQ setting the simulator models (deliveryMode, useAsyncSend, alwaysSyncSend, journalDiskSyncStrategy, journalDiskSyncInterval, acknowledgeMode, maximumRedeliveries, initialRedeliveryDelay, redeliveryDelay, useExponentialBackOff, backOffMultiplier, processNonPersistent, prefetch, sim.*)"
                )
            }
        }
        if config.forward && config.acknowledgeMode != .transacted {
            throw ConfigError(
                key: "sim.forward", reason: "only a SESSION_TRANSACTED consumer forwards in its transaction")
        }
        return config
    }

    /// The delay before redelivery number `count` (1 for the first), per RedeliveryPolicy.
    func redeliveryDelay(before count: Int) -> Millis {
        guard count > 1 else { return initialRedeliveryDelay }
        guard useExponentialBackOff else { return redeliveryDelay }
        var delay = initialRedeliveryDelay
        for _ in 1..<count { delay *= backOffMultiplier }
        return delay
    }
}
