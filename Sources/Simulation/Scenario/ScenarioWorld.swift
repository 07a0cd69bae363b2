/// What the scenario runner, the checker's witnesses and the command line need from a simulated
/// world, whichever broker it models.
public protocol ScenarioWorld: Sendable {
    var now: Millis { get }
    var eventCount: Int { get }
    var recordsTrace: Bool { get }
    var trace: [TraceEvent] { get }
    /// A hash of every event noted so far: equal in two runs exactly when their traces are.
    var traceHash: UInt64 { get }
    var history: History { get }
    /// How many messages the run has named or numbered; ids run from 0 to this, exclusive.
    var messageCount: Int { get }
    /// fsync calls on any node so far, and messages put on the network: what a message costs.
    var fsyncs: Int { get }
    var networkMessages: Int { get }
    /// Every node, in lane order: brokers, then clients.
    var allNodes: [NodeID] { get }

    func name(of message: MessageID) -> String
    mutating func message(named name: String) -> MessageID
    mutating func automaticMessages(count: Int, first: Int) -> [MessageID]

    mutating func perform(_ action: WorldAction)
    mutating func schedule(_ action: WorldAction, at time: Millis)
    mutating func producePaced(_ messages: [MessageID], producer: Int, every: Millis)
    mutating func note(_ note: Note, at node: NodeID)
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
}

extension ScenarioWorld {
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

/// The broker a scenario models.
public enum BrokerSystem: Equatable, Sendable {
    case kafka(KafkaVersion)
    case rabbitmq(RabbitVersion)
    case rocketmq(RocketVersion)
    case activemq(ActiveMQVersion)
}
