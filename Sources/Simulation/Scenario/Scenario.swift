/// AMQP message properties a publish step may set (RabbitMQ only).
public struct MessageProperties: Equatable, Sendable {
    /// The `expiration` property: a per-message TTL in ms (RMQ-13).
    public var expirationMs: Millis?
    /// The `priority` property, 0-255; a queue without `x-max-priority` ignores it (RMQ-18).
    public var priority: Int?
    /// RocketMQ's `delayTimeLevel`, 1-18 of messageDelayLevel; above 18 is clamped (RKT-14).
    public var delayLevel: Int?
    /// Kafka's record key, which picks the partition (K-PART-01).
    public var key: String?
    /// `keys 8`: the step's messages take keys k0..k7 in turn.
    public var keyCycle: Int?
    /// Kafka: a keyed record with a null value, which deletes its key on compaction (K-LOG-07).
    public var tombstone = false

    public init(expirationMs: Millis? = nil, priority: Int? = nil, delayLevel: Int? = nil, key: String? = nil)
    {
        self.expirationMs = expirationMs
        self.priority = priority
        self.delayLevel = delayLevel
        self.key = key
    }

    public var isEmpty: Bool {
        expirationMs == nil && priority == nil && delayLevel == nil && key == nil && keyCycle == nil
    }
}

/// A node as a scenario names it: a broker by id or by role, the controller, or a client.
public enum NodeReference: Equatable, Sendable, CustomStringConvertible {
    case broker(BrokerID)
    /// The partition's leader when the step runs.
    case leader
    /// The first in-sync follower, in assignment order, when the step runs.
    case follower
    case controller
    case producer(Int)
    case consumer(Int)

    public var description: String {
        switch self {
        case .broker(let id): id.description
        case .leader: "leader"
        case .follower: "follower"
        case .controller: "controller"
        case .producer(let index): "p\(index)"
        case .consumer(let index): "c\(index)"
        }
    }
}

/// What a `wait until` step waits for.
public enum Condition: Equatable, Sendable {
    case acknowledged([String])
    /// Every send so far has an outcome (ok, fail or info).
    case allCompleted
    case isr([BrokerID])
    case leaderIs(BrokerID)
    case offline
    case replicated(message: String, on: BrokerID)
    case processed(consumer: Int, count: Int)
    case polled(consumer: Int, count: Int)
    /// The group's committed offset has reached at least this.
    case committed(Int)
}

/// One step of a scenario script.
public enum Step: Equatable, Sendable {
    /// `produce m n`, `produce m1..m5`, `produce 1000` (named #1, #2, ...), optionally paced;
    /// RabbitMQ: `publish m expiration 10s priority 5` sets message properties.
    case produce(names: [String], producer: Int, everyMs: Millis?, properties: MessageProperties = .init())
    case wait(Millis)
    case waitUntil(Condition, timeoutMs: Millis)
    case fault(NodeReference, Fault)
    case restart(NodeReference)
    case pause(NodeReference, Millis)
    case partition([NodeReference], [NodeReference], oneWay: Bool)
    case isolate(NodeReference)
    case heal
    case drop(MessageKind?, from: NodeReference?, to: NodeReference?, effect: DropRule.Effect)
    case delay(MessageKind?, from: NodeReference?, to: NodeReference?, milliseconds: ClosedRange<Millis>)
    case resendUnacknowledged(producer: Int)
    case startConsumer(Int)
    case stopConsumer(Int)
    /// RabbitMQ: `alarm B1 memory` raises a resource alarm on a node; `clear alarm B1 memory`
    /// clears it (RMQ-21).
    case alarm(NodeReference, ResourceAlarm, raised: Bool)
    /// Kafka: `seek c1 to 0`, the application moves the consumer's position (K-CON-13).
    case seek(consumer: Int, offset: Int)
    /// Kafka's partitioned topic: `add partitions 4` (K-PART-04).
    case addPartitions(Int)
    /// Kafka's transactional producer: `begin p1`, `commit p1`, `abort p1`.
    case transaction(producer: Int, TransactionAction)
}

/// A RabbitMQ resource alarm: memory above `vm_memory_high_watermark`, or free disk below
/// `disk_free_limit` (RMQ-21).
public enum ResourceAlarm: String, CaseIterable, Sendable {
    case memory
    case disk
}

/// A step as written, with where it was written, for messages and traces.
public struct ScriptStep: Equatable, Sendable {
    public var line: Int
    public var text: String
    public var step: Step

    public init(line: Int, text: String, step: Step) {
        self.line = line
        self.text = text
        self.step = step
    }
}

/// Faults drawn from the seed, on top of the script: each one hits a random broker at a random
/// time in the window, and is undone `recoverAfterMs` later.
public struct RandomFaults: Equatable, Sendable {
    public enum Kind: String, CaseIterable, Sendable {
        case crash
        case powerLoss = "power-loss"
        case diskLoss = "disk-loss"
        case isolate
        case pause
    }

    public var count: Int
    public var kinds: [Kind]
    public var windowMs: ClosedRange<Millis>
    public var recoverAfterMs: Millis

    public init(count: Int, kinds: [Kind], windowMs: ClosedRange<Millis>, recoverAfterMs: Millis) {
        self.count = count
        self.kinds = kinds
        self.windowMs = windowMs
        self.recoverAfterMs = recoverAfterMs
    }
}

/// What a scenario expects the checker to find.
public struct Expectation: Equatable, Sendable {
    public enum Subject: Equatable, Sendable {
        case anomaly(AnomalyKind)
        /// The final log, in order.
        case log
        /// A queue broker's named queue at the end (`q`, `dlq`), in order.
        case queue(String)
        /// Every delivery to a consumer, in order.
        case deliveries
        /// The deliveries to one consumer (`deliveries c2`), in order.
        case deliveriesTo(consumer: Int)
        /// Every message whose side effect ran, in the order it ran (`processed`).
        case processed
        /// What one consumer processed (`processed c2`), in order.
        case processedBy(consumer: Int)
        /// The group's lag at the end: the leader's high watermark minus the committed offset.
        case lag
        /// Completed group rebalances (generations) in the run (partitioned topic).
        case rebalances
        /// Partitions revoked from one consumer over the run (`revoked c1`).
        case revoked(consumer: Int)
        /// How many times a client raised an exception whose name contains this (`raised
        /// CommitFailedException`): what the application's catch block would see.
        case raised(String)
        case acknowledged
        /// Mandatory publishes the broker returned as unroutable (basic.return).
        case returned
        /// Sends that failed or ended in doubt with an error naming this (`failed with
        /// NOT_ENOUGH_REPLICAS`, `failed with basic.nack`, `failed with SLAVE_NOT_AVAILABLE`).
        case failedWith(String)
        case failed
        case indeterminate
    }

    public enum Value: Equatable, Sendable {
        case messages([String])
        case count(Int)
        /// `5..15`: how many varies with the seed's timing, within these bounds on every seed.
        case countBetween(ClosedRange<Int>)
    }

    public var subject: Subject
    public var value: Value
    public var line: Int

    public init(subject: Subject, value: Value, line: Int) {
        self.subject = subject
        self.value = value
        self.line = line
    }
}

/// The consumer application a scenario runs.
public enum ConsumerSpec: Equatable, Sendable {
    /// When offsets are committed, whether processing is handed to another thread, and the
    /// static member's group.instance.id (partitioned topic).
    case kafka(commit: CommitPolicy, processing: ProcessingMode, instance: String? = nil)
    /// What the application answers to each delivery; `only` and `times` narrow it to some
    /// messages and their first deliveries (the rest are acked).
    case rabbitmq(Settlement, only: [String] = [], times: Int? = nil)
    /// What the listener returns.
    case rocketmq(RocketConsumerSpec)
    /// What onMessage does, and on a topic, the kind of subscription.
    case activemq(ActiveMQConsumerSpec)

    /// The consumer a scenario gets when its file says nothing of it, for `system`.
    public static func plain(for system: BrokerSystem) -> ConsumerSpec {
        switch system {
        case .kafka: .kafka(commit: .auto, processing: .sync)
        case .rabbitmq: .rabbitmq(.ack)
        case .rocketmq: .rocketmq(RocketConsumerSpec(status: .success))
        case .activemq: .activemq(ActiveMQConsumerSpec(listener: .returns))
        }
    }
}

/// A what-if: a cluster, its configuration, a script of steps and faults, and what to expect.
public struct Scenario: Equatable, Sendable {
    public var name: String
    public var claim: String?
    public var version: KafkaVersion
    /// Set for a RabbitMQ scenario; nil for Kafka.
    public var rabbitmq: RabbitVersion?
    public var rocketmq: RocketVersion?
    public var activemq: ActiveMQVersion?
    public var brokers: Int
    /// Config in Kafka's own names, in the order written; `--set` appends to it.
    public var settings: [Setting]
    public var producers: Int
    /// Kafka's partitioned topic: a producer's own transactional.id (`producers: {p1:
    /// {transactional.id: tx-a}, p2: {}}`), by producer from p1; nil takes the config's.
    public var producerTransactionalIDs: [String?] = []
    public var consumers: [ConsumerSpec]
    public var steps: [ScriptStep]
    public var randomFaults: RandomFaults?
    public var expectations: [Expectation]
    /// How long the world keeps running after the last step before the checker looks.
    public var settleMs: Millis

    public struct Setting: Equatable, Sendable {
        public var key: String
        public var value: String

        public init(key: String, value: String) {
            self.key = key
            self.value = value
        }
    }

    public init(
        name: String, claim: String? = nil, version: KafkaVersion = .v37, brokers: Int = 3,
        settings: [Setting] = [],
        producers: Int = 1, consumers: [ConsumerSpec] = [], steps: [ScriptStep] = [],
        randomFaults: RandomFaults? = nil,
        expectations: [Expectation] = [], settleMs: Millis = 5_000
    ) {
        self.name = name
        self.claim = claim
        self.version = version
        self.brokers = brokers
        self.settings = settings
        self.producers = producers
        self.consumers = consumers
        self.steps = steps
        self.randomFaults = randomFaults
        self.expectations = expectations
        self.settleMs = settleMs
    }

    /// The scenario's config for its broker, or every problem with it.
    public func resolvedConfig() throws(ConfigProblems) -> ResolvedConfig {
        let pairs = settings.map { ($0.key, $0.value) }
        if let rabbitmq {
            return .rabbitmq(try RabbitConfig.resolve(version: rabbitmq, nodes: brokers, settings: pairs))
        }
        if let rocketmq {
            return .rocketmq(try RocketConfig.resolve(version: rocketmq, nodes: brokers, settings: pairs))
        }
        if let activemq {
            return .activemq(try ActiveMQConfig.resolve(version: activemq, nodes: brokers, settings: pairs))
        }
        return .kafka(try KafkaConfig.resolve(version: version, brokers: brokers, settings: pairs))
    }

    /// The system the scenario runs on, as the trace and the run header name it.
    public var system: BrokerSystem {
        if let rabbitmq { return .rabbitmq(rabbitmq) }
        if let rocketmq { return .rocketmq(rocketmq) }
        if let activemq { return .activemq(activemq) }
        return .kafka(version)
    }
}
