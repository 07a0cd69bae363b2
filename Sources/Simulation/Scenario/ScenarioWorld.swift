/// What the scenario runner, the checker's witnesses and the command line need from a simulated
/// world, whichever broker it models.
public protocol ScenarioWorld: Sendable {
    /// The engine's record of the run, which the members below read: the same for every world.
    var record: RunRecord { get set }
    /// fsync calls on any node so far: with `networkMessages`, what a message costs.
    var fsyncs: Int { get }
    /// Every node, in lane order: brokers, then clients.
    var allNodes: [NodeID] { get }

    mutating func perform(_ action: WorldAction)
    mutating func schedule(_ action: WorldAction, at time: Millis)
    mutating func producePaced(_ messages: [MessageID], producer: Int, every: Millis)
    /// Processes the next event due at or before `limit`; false when none is.
    mutating func step(until limit: Millis) -> Bool
    mutating func run(until time: Millis)
    /// Whether a `wait until` condition holds now.
    func holds(_ condition: Condition) -> Bool

    /// The node a role names when the step runs (`leader`, `follower`), or the node itself.
    func resolve(_ reference: NodeReference) -> NodeID?
    /// The whole run judged: what clients were told against what the system holds.
    func check() -> CheckerReport
    /// The final contents of a named queue (`dlq`), for expectations; nil if it has none.
    func finalContents(ofQueue name: String) -> [MessageID]?
    /// Gives `messages` properties for when they are published (RabbitMQ's `expiration`,
    /// `priority`; RocketMQ's delay level).
    mutating func setProperties(_ properties: MessageProperties, for messages: [MessageID])
    /// How far the consumer group is behind, for a log broker; nil for a queue broker.
    var consumerLag: Int? { get }
    /// A count only some models keep (`rebalances`, `revoked c1`); nil elsewhere.
    func measure(_ subject: Expectation.Subject) -> Int?
}

extension ScenarioWorld {
    /// Only RabbitMQ and RocketMQ have these properties; the scenario parser refuses them elsewhere.
    public mutating func setProperties(_ properties: MessageProperties, for messages: [MessageID]) {}

    public var consumerLag: Int? { nil }

    public func measure(_ subject: Expectation.Subject) -> Int? { nil }

    public var now: Millis { record.now }
    public var eventCount: Int { record.eventCount }
    /// Messages put on the network so far.
    public var networkMessages: Int { record.networkMessages }
    public var recordsTrace: Bool { record.recorder.recordsTrace }
    public var trace: [TraceEvent] { record.recorder.trace }
    /// A hash of every event noted so far: equal in two runs exactly when their traces are.
    public var traceHash: UInt64 { record.recorder.traceHash }
    public var history: History { record.recorder.history }
    /// How many messages the run has named or numbered; ids run from 0 to this, exclusive.
    public var messageCount: Int { record.recorder.messageNames.count }

    public func name(of message: MessageID) -> String { record.recorder.name(of: message) }
    public mutating func message(named name: String) -> MessageID { record.recorder.message(named: name) }
    public mutating func automaticMessages(count: Int, first: Int) -> [MessageID] {
        record.recorder.automaticMessages(count: count, first: first)
    }
    public mutating func note(_ note: Note, at node: NodeID) {
        record.recorder.note(note, at: node, time: record.now)
    }

    /// Runs until `condition` holds, or `timeout` passes; returns whether it held.
    public mutating func run(untilHolds condition: Condition, timeout: Millis) -> Bool {
        let deadline = now + timeout
        while !holds(condition) {
            guard step(until: deadline) else {
                run(until: deadline)
                return holds(condition)
            }
        }
        return true
    }
}

/// A scenario's configuration, resolved for the system it runs on.
public enum ResolvedConfig: Sendable, Equatable {
    case kafka(KafkaConfig)
    case rabbitmq(RabbitConfig)
    case rocketmq(RocketConfig)
    case activemq(ActiveMQConfig)
}

extension ResolvedConfig {
    /// A key's value in this config, as `mqproof configs` shows a default; nil for a key that is
    /// not in the broker's table, or a prefix key (`binding.<queue>`).
    public func value(of key: String) -> String? {
        func read<Config>(_ table: ConfigTable<Config>, _ config: Config) -> String? {
            table.keys.first { !$0.isPrefix && $0.name == key }.map { $0.defaultValue(config) }
        }
        switch self {
        case .kafka(let config): return read(KafkaConfig.table, config)
        case .rabbitmq(let config): return read(RabbitConfig.table, config)
        case .rocketmq(let config): return read(RocketConfig.table, config)
        case .activemq(let config): return read(ActiveMQConfig.table, config)
        }
    }
}

/// The broker a scenario models.
public enum BrokerSystem: Equatable, Sendable {
    case kafka(KafkaVersion)
    case rabbitmq(RabbitVersion)
    case rocketmq(RocketVersion)
    case activemq(ActiveMQVersion)
}
