// Theory of operation
//
// RabbitMQ scenarios name their settings as AMQP 0-9-1 and RabbitMQ name them: queue arguments
// (`x-queue-type`, `x-dead-letter-exchange`), message properties (`delivery_mode`), method
// fields (`mandatory`, `prefetch-count`, `no-ack`) and channel modes (`confirm.select`). The
// topology stays small, so scenarios stay about delivery guarantees: by default the publisher
// publishes to the default exchange with `routing_key` (default `q`), which routes to the queue
// `q` by name. `exchange: orders` with `exchange.type` (direct, fanout, topic) publishes to a
// declared exchange instead, and `binding.<queue>: <keys>` binds a queue to it (declaring the
// queue; `q` is bound with the key `q` unless it has a binding of its own). `x-dead-letter-
// exchange: dlx` declares a fanout exchange `dlx` bound to a durable classic queue `dlq`. A
// message that no binding matches is unroutable.
//
// Rules: ../shared/reference/semantics.md §4 (RMQ-01 to RMQ-12), RabbitMQ 4.x.

/// The RabbitMQ release line a run follows.
public enum RabbitVersion: String, CaseIterable, Sendable {
    /// 4.0 to 4.2: quorum queues count a requeueing `basic.nack` towards the delivery limit.
    case v40 = "4.0-4.2"
    /// 4.3 and later: `basic.nack` no longer increments the delivery count (RMQ-07).
    case v43 = "4.3+"

    public init?(parsing text: String) {
        if let exact = RabbitVersion(rawValue: text) {
            self = exact
            return
        }
        let parts = text.split(separator: ".").compactMap { Int($0) }
        guard parts.count >= 2, parts[0] == 4 else { return nil }
        self = parts[1] >= 3 ? .v43 : .v40
    }
}

/// What the consumer application does with each delivery.
public enum Settlement: String, CaseIterable, Sendable {
    /// Processes it, then `basic.ack`.
    case ack
    /// `basic.reject` with `requeue=false`: dead-lettered, or dropped without a DLX.
    case reject
    /// `basic.reject` with `requeue=true`.
    case rejectRequeue = "reject-requeue"
    /// `basic.nack` with `requeue=true`.
    case nackRequeue = "nack-requeue"
}

/// How an exchange matches a routing key against its bindings (RMQ-01).
public enum ExchangeType: String, CaseIterable, Sendable {
    /// The binding key equals the routing key.
    case direct
    /// Every bound queue, whatever the key.
    case fanout
    /// Dot-separated words: `*` stands for exactly one word, `#` for zero or more.
    case topic

    /// Whether a message with `routingKey` goes through a binding with `bindingKey`.
    public func matches(routingKey: String, bindingKey: String) -> Bool {
        switch self {
        case .direct: return routingKey == bindingKey
        case .fanout: return true
        case .topic:
            return Self.topicMatches(
                routingKey.split(separator: ".", omittingEmptySubsequences: false)[...],
                bindingKey.split(separator: ".", omittingEmptySubsequences: false)[...])
        }
    }

    private static func topicMatches(_ words: ArraySlice<Substring>, _ pattern: ArraySlice<Substring>) -> Bool
    {
        guard let head = pattern.first else { return words.isEmpty }
        if head == "#" {
            // Zero words, or one word and still inside the `#`.
            return topicMatches(words, pattern.dropFirst())
                || (!words.isEmpty && topicMatches(words.dropFirst(), pattern))
        }
        guard let word = words.first, head == "*" || head == word else { return false }
        return topicMatches(words.dropFirst(), pattern.dropFirst())
    }
}

/// A queue bound to the scenario's exchange, with its binding keys.
public struct QueueBinding: Equatable, Sendable {
    public var queue: String
    public var keys: [String]
}

public struct RabbitConfig: Sendable, Equatable {
    public enum QueueType: String, Sendable { case classic, quorum }

    public var version: RabbitVersion
    public var nodes: Int
    public var queueType: QueueType
    /// The queue survives a restart (RMQ-05). Quorum queues are always durable.
    public var durable: Bool
    /// 1 transient, 2 persistent (AMQP's default when unset is transient).
    public var deliveryMode: Int
    public var publisherConfirms: Bool
    public var mandatory: Bool
    public var routingKey: String
    /// The exchange the publisher publishes to; empty for the default exchange.
    public var exchange: String
    public var exchangeType: ExchangeType
    /// Queues bound to `exchange`, in the order declared; `q` first.
    public var bindings: [QueueBinding]
    public var noAck: Bool
    /// 0 means unlimited; quorum queues cap it at 2000 (RMQ-10).
    public var prefetchCount: Int
    public var deadLetterExchange: String?
    /// Quorum queues only: returns allowed before a message is dead-lettered or dropped.
    public var deliveryLimit: Int?

    // The simulator's own knobs.
    public var networkDelayMs: ClosedRange<Millis>
    /// The classic message store's fsync batch interval ("a few hundred milliseconds", RMQ-03).
    public var storeSyncIntervalMs: Millis
    /// How long one fsync takes.
    public var fsyncMs: Millis
    /// How long the publisher waits for a confirm before it counts the publish as unknown.
    public var confirmTimeoutMs: Millis
    /// How long the consumer application works on one message.
    public var processingMs: Millis
    /// How long a client waits before it reconnects after losing its connection.
    public var reconnectMs: Millis
    /// Raft: how long a follower waits without hearing from a leader before it stands.
    public var electionTimeoutMs: Millis
    public var heartbeatMs: Millis

    public var effectivePrefetch: Int {
        if queueType == .quorum { return prefetchCount == 0 ? 2_000 : min(prefetchCount, 2_000) }
        return prefetchCount
    }

    public static func resolve(version: RabbitVersion, nodes: Int, settings: [(key: String, value: String)])
        throws(ConfigError) -> RabbitConfig
    {
        var config = RabbitConfig(
            version: version, nodes: nodes, queueType: .classic, durable: true, deliveryMode: 1,
            publisherConfirms: false, mandatory: false, routingKey: "q", exchange: "", exchangeType: .direct,
            bindings: [], noAck: false, prefetchCount: 0,
            deadLetterExchange: nil, deliveryLimit: nil, networkDelayMs: 1...3, storeSyncIntervalMs: 200,
            fsyncMs: 5, confirmTimeoutMs: 5_000, processingMs: 10, reconnectMs: 500, electionTimeoutMs: 1_000,
            heartbeatMs: 100)
        var deliveryLimitSet = false
        for (key, value) in settings {
            let setting = SettingValue(key: key, value: value)
            func integer(_ range: ClosedRange<Int>) throws(ConfigError) -> Int { try setting.integer(range) }
            func boolean() throws(ConfigError) -> Bool { try setting.boolean() }
            switch key {
            case "x-queue-type":
                guard let type = QueueType(rawValue: value) else {
                    throw ConfigError(
                        key: key,
                        reason: "expected classic or quorum, got '\(value)' (streams are out of scope)")
                }
                config.queueType = type
            case "durable": config.durable = try boolean()
            case "delivery_mode": config.deliveryMode = try integer(1...2)
            case "confirm.select": config.publisherConfirms = try boolean()
            case "mandatory": config.mandatory = try boolean()
            case "routing_key": config.routingKey = value
            case "exchange": config.exchange = value
            case "exchange.type":
                guard let type = ExchangeType(rawValue: value) else {
                    throw ConfigError(
                        key: key,
                        reason: "expected direct, fanout or topic, got '\(value)' (headers is not modelled)")
                }
                config.exchangeType = type
            case _ where key.hasPrefix("binding."):
                let queue = String(key.dropFirst("binding.".count))
                guard !queue.isEmpty, queue != "dlq", !config.bindings.contains(where: { $0.queue == queue })
                else {
                    throw ConfigError(
                        key: key, reason: "name a queue once, and not dlq (the dead-letter exchange's queue)")
                }
                let keys = value.split(separator: ",").map { String($0.filter { $0 != " " }) }
                config.bindings.append(QueueBinding(queue: queue, keys: keys.isEmpty ? [""] : keys))
            case "no-ack": config.noAck = try boolean()
            case "prefetch-count": config.prefetchCount = try integer(0...65_535)
            case "x-dead-letter-exchange": config.deadLetterExchange = value.isEmpty ? nil : value
            case "x-delivery-limit":
                config.deliveryLimit = try integer(-1...Int(Int32.max))
                deliveryLimitSet = true
            case "sim.network.delay.ms": config.networkDelayMs = try setting.millisecondRange()
            case "sim.store.sync.interval.ms": config.storeSyncIntervalMs = try integer(1...60_000)
            case "sim.fsync.ms": config.fsyncMs = try integer(0...60_000)
            case "sim.confirm.timeout.ms": config.confirmTimeoutMs = try integer(1...3_600_000)
            case "sim.processing.ms": config.processingMs = try integer(0...3_600_000)
            case "sim.reconnect.ms": config.reconnectMs = try integer(1...3_600_000)
            case "sim.election.timeout.ms": config.electionTimeoutMs = try integer(10...60_000)
            default:
                throw ConfigError(
                    key: key,
                    reason:
                        "not a RabbitMQ setting the simulator models (x-queue-type, durable, delivery_mode, confirm.select, mandatory, routing_key, exchange, exchange.type, binding.<queue>, no-ack, prefetch-count, x-dead-letter-exchange, x-delivery-limit, sim.*)"
                )
            }
        }
        if config.exchange.isEmpty {
            guard config.bindings.isEmpty else {
                throw ConfigError(
                    key: "binding.\(config.bindings[0].queue)",
                    reason:
                        "bindings need a named exchange: the default exchange binds every queue by its name")
            }
        } else if !config.bindings.contains(where: { $0.queue == "q" }) {
            config.bindings.insert(QueueBinding(queue: "q", keys: ["q"]), at: 0)
        }
        if config.queueType == .quorum && config.bindings.contains(where: { $0.queue != "q" }) {
            throw ConfigError(
                key: "x-queue-type",
                reason: "more bound queues are modelled for classic queues; q is the quorum queue")
        }
        if config.queueType == .quorum {
            guard config.durable else {
                throw ConfigError(key: "durable", reason: "quorum queues are always durable (RMQ-05)")
            }
            guard nodes >= 3 else {
                throw ConfigError(
                    key: "x-queue-type", reason: "a quorum queue here has three members: use 3 nodes")
            }
            // The default delivery limit is 20 from 4.0 (RMQ-07); -1 turns it off.
            if !deliveryLimitSet { config.deliveryLimit = 20 }
            if config.deliveryLimit == -1 { config.deliveryLimit = nil }
        } else if deliveryLimitSet {
            throw ConfigError(key: "x-delivery-limit", reason: "only quorum queues have a delivery limit")
        }
        return config
    }
}
