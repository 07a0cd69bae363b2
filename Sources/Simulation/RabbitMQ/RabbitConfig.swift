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
    /// 3.x, such as Debian 12's 3.10.8: quorum queues have no delivery limit unless one is set,
    /// and every requeue counts towards one (RMQ-07).
    case v3 = "3.x"
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
        guard parts.count >= 2, parts[0] == 3 || parts[0] == 4 else { return nil }
        if parts[0] == 3 {
            self = .v3
            return
        }
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

/// What a classic queue at its `x-max-length` does with one more message (RMQ-22).
public enum Overflow: String, CaseIterable, Sendable {
    /// Takes it, then drops (or dead-letters) the oldest ready message: the publisher is acked.
    case dropHead = "drop-head"
    /// Refuses it: basic.nack with confirms, silently discarded without.
    case rejectPublish = "reject-publish"
    /// Refuses it as reject-publish does, and dead-letters it.
    case rejectPublishDLX = "reject-publish-dlx"
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
    /// The dead-letter queue as a retry queue (RMQ-16): its messages expire after this TTL...
    public var retryTTLMs: Millis?
    /// ...and are dead-lettered through the default exchange with this routing key (only `q`).
    public var retryRoutingKey: String?
    /// Quorum queues only: returns allowed before a message is dead-lettered or dropped.
    public var deliveryLimit: Int?
    /// `x-message-ttl` of `q`, in ms (RMQ-13).
    public var messageTTLMs: Millis?
    /// The `expiration` property of every publish, in ms, unless a step sets its own.
    public var expirationMs: Millis?
    /// `x-max-priority` of `q`: a classic priority queue (RMQ-18).
    public var maxPriority: Int?
    /// The `priority` property of every publish, unless a step sets its own.
    public var priority: Int?
    /// `x-single-active-consumer` on `q` (RMQ-23).
    public var singleActiveConsumer: Bool
    /// The most ready messages `q` holds; nil for no limit. Unacked deliveries do not count.
    public var maxLength: Int?
    public var overflow: Overflow

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

    /// Every config key a scenario may set, with its values, default and documentation.
    public static var table: ConfigTable<RabbitConfig> {
        let docs = "https://www.rabbitmq.com/docs/"
        let simulator = ConfigTable<RabbitConfig>.simulator
        return ConfigTable(
            system: "RabbitMQ",
            keys: [
                ConfigKey(
                    "x-queue-type", values: "classic or quorum (streams are out of scope)",
                    source: docs + "quorum-queues",
                    default: { $0.queueType.rawValue },
                    apply: { config, setting throws(ConfigError) in
                        guard let type = QueueType(rawValue: setting.value) else {
                            throw ConfigError(
                                key: setting.key,
                                reason:
                                    "expected classic or quorum, got '\(setting.value)' (streams are out of scope)"
                            )
                        }
                        config.queueType = type
                    }),
                .boolean("durable", \.durable, source: docs + "queues#durability"),
                .integer("delivery_mode", \.deliveryMode, 1...2, source: docs + "persistence-conf"),
                .boolean("confirm.select", \.publisherConfirms, source: docs + "confirms#publisher-confirms"),
                .boolean("mandatory", \.mandatory, source: docs + "publishers#unroutable"),
                ConfigKey(
                    "routing_key", values: "any text",
                    source: "https://www.rabbitmq.com/tutorials/amqp-concepts",
                    default: { $0.routingKey },
                    apply: { config, setting in config.routingKey = setting.value }),
                ConfigKey(
                    "exchange", values: "an exchange name; empty: the default exchange",
                    source: "https://www.rabbitmq.com/tutorials/amqp-concepts",
                    default: { $0.exchange.isEmpty ? "(default exchange)" : $0.exchange },
                    apply: { config, setting in config.exchange = setting.value }),
                ConfigKey(
                    "exchange.type", values: "direct, fanout or topic (headers is not modelled)",
                    source: docs + "exchanges", default: { $0.exchangeType.rawValue },
                    apply: { config, setting throws(ConfigError) in
                        guard let type = ExchangeType(rawValue: setting.value) else {
                            throw ConfigError(
                                key: setting.key,
                                reason:
                                    "expected direct, fanout or topic, got '\(setting.value)' (headers is not modelled)"
                            )
                        }
                        config.exchangeType = type
                    }),
                ConfigKey(
                    "binding.", values: "binding.<queue>: binding keys, comma-separated",
                    source: "https://www.rabbitmq.com/tutorials/amqp-concepts", isPrefix: true,
                    default: { _ in "none" },
                    apply: { config, setting throws(ConfigError) in
                        let queue = String(setting.key.dropFirst("binding.".count))
                        guard !queue.isEmpty, queue != "dlq",
                            !config.bindings.contains(where: { $0.queue == queue })
                        else {
                            throw ConfigError(
                                key: setting.key,
                                reason: "name a queue once, and not dlq (the dead-letter exchange's queue)")
                        }
                        let keys = setting.value.split(separator: ",").map { String($0.filter { $0 != " " }) }
                        config.bindings.append(QueueBinding(queue: queue, keys: keys.isEmpty ? [""] : keys))
                    }),
                .boolean("no-ack", \.noAck, source: docs + "confirms#acknowledgement-modes"),
                .integer("prefetch-count", \.prefetchCount, 0...65_535, source: docs + "consumer-prefetch"),
                ConfigKey(
                    "x-dead-letter-exchange", values: "an exchange name; empty: none", source: docs + "dlx",
                    default: { $0.deadLetterExchange ?? "none" },
                    apply: { config, setting in
                        config.deadLetterExchange = setting.value.isEmpty ? nil : setting.value
                    }),
                ConfigKey(
                    "dlq.x-message-ttl",
                    values:
                        "0 to \(Int32.max) ms: dlq's own TTL (with dlq.x-dead-letter-routing-key, a retry queue)",
                    source: docs + "dlx", default: { $0.retryTTLMs.map(String.init) ?? "none" },
                    apply: { config, setting throws(ConfigError) in
                        config.retryTTLMs = try setting.integer(0...Int(Int32.max))
                    }),
                ConfigKey(
                    "dlq.x-dead-letter-routing-key",
                    values: "q: what expires in dlq goes back to q through the default exchange",
                    source: docs + "dlx", default: { $0.retryRoutingKey ?? "none" },
                    apply: { config, setting throws(ConfigError) in
                        guard setting.value == "q" else {
                            throw ConfigError(
                                key: setting.key, reason: "only q: the retry queue sends messages back to q")
                        }
                        config.retryRoutingKey = setting.value
                    }),
                ConfigKey(
                    "x-delivery-limit", values: "-1 (off) to \(Int32.max); quorum queues only",
                    source: docs + "quorum-queues#poison-message-handling",
                    default: { _ in "20 for quorum queues (4.0+); classic queues have none" },
                    apply: { config, setting throws(ConfigError) in
                        config.deliveryLimit = try setting.integer(-1...Int(Int32.max))
                    }),
                ConfigKey(
                    "x-message-ttl", values: "0 to \(Int32.max) ms for messages in q; none by default",
                    source: docs + "ttl#per-queue-message-ttl",
                    default: { $0.messageTTLMs.map(String.init) ?? "none" },
                    apply: { config, setting throws(ConfigError) in
                        config.messageTTLMs = try setting.integer(0...Int(Int32.max))
                    }),
                ConfigKey(
                    "expiration",
                    values:
                        "0 to \(Int32.max) ms: every publish's per-message TTL (a step's 'expiration 10s' wins)",
                    source: docs + "ttl#per-message-ttl-in-publishers",
                    default: { $0.expirationMs.map(String.init) ?? "none" },
                    apply: { config, setting throws(ConfigError) in
                        config.expirationMs = try setting.integer(0...Int(Int32.max))
                    }),
                ConfigKey(
                    "x-max-priority", values: "1 to 255 (1 to 4 recommended); none by default",
                    source: docs + "priority", default: { $0.maxPriority.map(String.init) ?? "none" },
                    apply: { config, setting throws(ConfigError) in
                        config.maxPriority = try setting.integer(1...255)
                    }),
                ConfigKey(
                    "priority", values: "0 to 255: every publish's priority (a step's 'priority 5' wins)",
                    source: docs + "priority", default: { $0.priority.map(String.init) ?? "none (0)" },
                    apply: { config, setting throws(ConfigError) in
                        config.priority = try setting.integer(0...255)
                    }),
                .boolean(
                    "x-single-active-consumer", \.singleActiveConsumer,
                    source: docs + "consumers#single-active-consumer"),
                ConfigKey(
                    "x-max-length", values: "0 to \(Int32.max) ready messages in q; none by default",
                    source: docs + "maxlength", default: { $0.maxLength.map(String.init) ?? "none" },
                    apply: { config, setting throws(ConfigError) in
                        config.maxLength = try setting.integer(0...Int(Int32.max))
                    }),
                ConfigKey(
                    "x-overflow", values: "drop-head, reject-publish or reject-publish-dlx",
                    source: docs + "maxlength#overflow-behaviour", default: { $0.overflow.rawValue },
                    apply: { config, setting throws(ConfigError) in
                        guard let overflow = Overflow(rawValue: setting.value) else {
                            throw ConfigError(
                                key: setting.key,
                                reason:
                                    "expected drop-head, reject-publish or reject-publish-dlx, got '\(setting.value)'"
                            )
                        }
                        config.overflow = overflow
                    }),
                .milliseconds("sim.network.delay.ms", \.networkDelayMs),
                .integer("sim.store.sync.interval.ms", \.storeSyncIntervalMs, 1...60_000, source: simulator),
                .integer("sim.fsync.ms", \.fsyncMs, 0...60_000, source: simulator),
                .integer("sim.confirm.timeout.ms", \.confirmTimeoutMs, 1...3_600_000, source: simulator),
                .integer("sim.processing.ms", \.processingMs, 0...3_600_000, source: simulator),
                .integer("sim.reconnect.ms", \.reconnectMs, 1...3_600_000, source: simulator),
                .integer("sim.election.timeout.ms", \.electionTimeoutMs, 10...60_000, source: simulator),
            ])
    }

    /// The defaults with `settings` applied; every problem is reported, and the checks across
    /// keys run once each key is valid on its own.
    public static func resolve(version: RabbitVersion, nodes: Int, settings: [(key: String, value: String)])
        throws(ConfigProblems) -> RabbitConfig
    {
        var config = RabbitConfig(
            version: version, nodes: nodes, queueType: .classic, durable: true, deliveryMode: 1,
            publisherConfirms: false, mandatory: false, routingKey: "q", exchange: "", exchangeType: .direct,
            bindings: [], noAck: false, prefetchCount: 0,
            deadLetterExchange: nil, deliveryLimit: nil, messageTTLMs: nil, expirationMs: nil,
            maxPriority: nil, priority: nil, singleActiveConsumer: false,
            maxLength: nil,
            overflow: .dropHead, networkDelayMs: 1...3, storeSyncIntervalMs: 200,
            fsyncMs: 5, confirmTimeoutMs: 5_000, processingMs: 10, reconnectMs: 500, electionTimeoutMs: 1_000,
            heartbeatMs: 100)
        let problems = table.apply(settings, to: &config)
        guard problems.isEmpty else { throw ConfigProblems(problems) }
        let deliveryLimitSet = settings.contains { $0.key == "x-delivery-limit" }
        if config.exchange.isEmpty {
            guard config.bindings.isEmpty else {
                throw ConfigProblems.one(
                    key: "binding.\(config.bindings[0].queue)",
                    reason:
                        "bindings need a named exchange: the default exchange binds every queue by its name")
            }
        } else if !config.bindings.contains(where: { $0.queue == "q" }) {
            config.bindings.insert(QueueBinding(queue: "q", keys: ["q"]), at: 0)
        }
        if config.queueType == .quorum && config.bindings.contains(where: { $0.queue != "q" }) {
            throw ConfigProblems.one(
                key: "x-queue-type",
                reason: "more bound queues are modelled for classic queues; q is the quorum queue")
        }
        if config.queueType == .quorum && (config.maxPriority != nil || config.singleActiveConsumer) {
            throw ConfigProblems.one(
                key: config.maxPriority != nil ? "x-max-priority" : "x-single-active-consumer",
                reason: "modelled for classic queues (RMQ-18, RMQ-23)")
        }
        if config.retryRoutingKey != nil || config.retryTTLMs != nil {
            if config.queueType == .quorum {
                throw ConfigProblems.one(
                    key: "dlq.x-message-ttl", reason: "a retry queue is modelled for a classic q (RMQ-16)")
            }
            if config.deadLetterExchange == nil {
                throw ConfigProblems.one(
                    key: "dlq.x-message-ttl",
                    reason: "nothing reaches dlq without x-dead-letter-exchange on q")
            }
            if config.retryRoutingKey != nil && config.retryTTLMs == nil {
                throw ConfigProblems.one(
                    key: "dlq.x-dead-letter-routing-key",
                    reason: "a retry queue needs dlq.x-message-ttl: without it nothing expires back to q")
            }
        }
        if config.queueType == .quorum && config.messageTTLMs != nil {
            throw ConfigProblems.one(
                key: "x-message-ttl", reason: "TTLs are modelled for classic queues (RMQ-13)")
        }
        if config.queueType == .quorum && (config.maxLength != nil || config.overflow != .dropHead) {
            throw ConfigProblems.one(
                key: "x-max-length", reason: "length limits are modelled for classic queues (RMQ-22)")
        }
        if config.queueType == .quorum {
            guard config.durable else {
                throw ConfigProblems.one(key: "durable", reason: "quorum queues are always durable (RMQ-05)")
            }
            guard nodes >= 3 else {
                throw ConfigProblems.one(
                    key: "x-queue-type", reason: "a quorum queue here has three members: use 3 nodes")
            }
            // The default delivery limit is 20 from 4.0 (RMQ-07); 3.x has none; -1 turns it off.
            if !deliveryLimitSet && version != .v3 { config.deliveryLimit = 20 }
            if config.deliveryLimit == -1 { config.deliveryLimit = nil }
        } else if deliveryLimitSet {
            throw ConfigProblems.one(
                key: "x-delivery-limit", reason: "only quorum queues have a delivery limit")
        }
        return config
    }
}
