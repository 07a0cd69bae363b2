// Theory of operation
//
// `mqproof compare` runs one workload and one fault schedule against the four brokers, each in
// its common default configuration and in its safest one, and reads every run with the same
// checker. The workload: one consumer running throughout, a producer sending N messages at a
// steady pace, a power loss of B1 (the Kafka partition's first leader, the RabbitMQ queue's
// node or quorum leader, the RocketMQ master of group a, the ActiveMQ broker) partway through,
// and B1's restart two seconds later. In the safest profile the application also does what
// at-least-once needs from it: it re-sends whatever was never acknowledged.
//
// The costs are counted, not estimated: fsync calls and messages put on the network, divided
// by the messages sent. Absolute speed is out of scope (semantics.md S-05); the counts explain
// where throughput goes.

public enum ComparedSystem: String, CaseIterable, Sendable {
    case kafka = "Kafka"
    case rabbitmq = "RabbitMQ"
    case rocketmq = "RocketMQ"
    case activemq = "ActiveMQ"
}

public enum ComparisonProfile: String, CaseIterable, Sendable {
    /// What a team gets without tuning for durability.
    case common = "default"
    /// The product's strongest documented setting, plus an application that re-sends.
    case safest
}

public struct ComparisonWorkload: Equatable, Sendable {
    public var messages: Int
    public var everyMs: Millis
    public var faultAtMs: Millis
    public var downMs: Millis
    public var seed: UInt64

    public init(
        messages: Int = 200, everyMs: Millis = 5, faultAtMs: Millis = 300, downMs: Millis = 2_000,
        seed: UInt64 = 1
    ) {
        self.messages = messages
        self.everyMs = everyMs
        self.faultAtMs = faultAtMs
        self.downMs = downMs
        self.seed = seed
    }
}

public struct ComparisonRow: Equatable, Sendable {
    public var system: ComparedSystem
    public var profile: ComparisonProfile
    /// The configuration, in the product's own names.
    public var setup: String
    public var sent: Int
    /// Acknowledged to the producer, then gone.
    public var lost: Int
    /// Stored or processed more than once.
    public var duplicated: Int
    public var reordered: Int
    /// Sends that failed or never got an answer: the availability paid.
    public var rejectedOrTimedOut: Int
    /// Messages no send of which was ever acknowledged, at the end.
    public var neverAcknowledged: Int
    public var fsyncsPerMessage: Double
    /// Network messages per message sent, halved: request and response make one round trip.
    public var roundTripsPerMessage: Double
    public var events: Int
}

public enum Comparison {
    public static func run(_ workload: ComparisonWorkload) throws(ConfigProblems) -> [ComparisonRow] {
        var rows: [ComparisonRow] = []
        for system in ComparedSystem.allCases {
            for profile in ComparisonProfile.allCases {
                let scenario = self.scenario(system, profile, workload)
                let run = ScenarioRunner.run(
                    scenario, config: try scenario.resolvedConfig(), seed: workload.seed, recordTrace: false)
                let report = run.report
                let history = run.world.history
                let duplicated = Set(report.messages(.duplicate) + report.messages(.processedTwice))
                let sent = max(1, workload.messages)
                rows.append(
                    ComparisonRow(
                        system: system, profile: profile,
                        setup: scenario.settings.map { "\($0.key)=\($0.value)" }.joined(separator: " "),
                        sent: workload.messages,
                        lost: report.messages(.lostWrite).count, duplicated: duplicated.count,
                        reordered: report.messages(.reordered).count,
                        rejectedOrTimedOut: report.failed + report.indeterminate,
                        neverAcknowledged: Set(history.sends.map(\.message)).filter {
                            !history.isAcknowledged($0)
                        }.count,
                        fsyncsPerMessage: Double(run.world.fsyncs) / Double(sent),
                        roundTripsPerMessage: Double(run.world.networkMessages) / 2 / Double(sent),
                        events: run.world.eventCount))
            }
        }
        return rows
    }

    /// The scenario for one system and profile, as a user could write it.
    public static func scenario(
        _ system: ComparedSystem, _ profile: ComparisonProfile, _ workload: ComparisonWorkload
    ) -> Scenario {
        let safest = profile == .safest
        var scenario = Scenario(name: "compare: \(system.rawValue), \(profile.rawValue)")
        func set(_ pairs: [(String, String)]) {
            scenario.settings = pairs.map { Scenario.Setting(key: $0.0, value: $0.1) }
        }
        switch system {
        case .kafka:
            scenario.brokers = 3
            // 3.0+ producer defaults: acks=all and idempotence on; the broker's min ISR is 1.
            set(
                safest
                    ? [("acks", "all"), ("min.insync.replicas", "2")]
                    : [("acks", "all"), ("min.insync.replicas", "1")])
            scenario.consumers = [.kafka(commit: safest ? .afterProcessing : .auto, processing: .sync)]
        case .rabbitmq:
            scenario.rabbitmq = .v40
            scenario.brokers = 3
            set(
                safest
                    ? [("x-queue-type", "quorum"), ("confirm.select", "true"), ("delivery_mode", "2")]
                    : [("x-queue-type", "classic"), ("durable", "true"), ("delivery_mode", "2")])
            scenario.consumers = [.rabbitmq(.ack)]
        case .rocketmq:
            scenario.rocketmq = .v4
            scenario.brokers = 4
            set(
                safest
                    ? [("brokerRole", "SYNC_MASTER"), ("flushDiskType", "SYNC_FLUSH")]
                    : [("brokerRole", "ASYNC_MASTER"), ("flushDiskType", "ASYNC_FLUSH")])
            scenario.consumers = [.rocketmq(RocketConsumerSpec(status: .success))]
        case .activemq:
            scenario.activemq = .classic
            scenario.brokers = 1
            // The default already syncs every persistent send; the safest adds the re-send.
            set([("deliveryMode", "PERSISTENT"), ("journalDiskSyncStrategy", "always")])
            scenario.consumers = [.activemq(ActiveMQConsumerSpec(listener: .returns))]
        }
        var steps: [Step] = [
            .startConsumer(1),
            .produce(names: ["\(workload.messages)"], producer: 1, everyMs: workload.everyMs),
            .wait(workload.faultAtMs),
            .fault(.broker(BrokerID(1)), .powerLoss),
            .wait(workload.downMs),
            .restart(.broker(BrokerID(1))),
            .wait(max(3_000, workload.messages * workload.everyMs)),
            // Every send gets its answer first: a Kafka request to a leader that lost power is only
            // given up after request.timeout.ms (30 s), and then retried.
            .waitUntil(.allCompleted, timeoutMs: 180_000),
        ]
        if safest { steps += [.resendUnacknowledged(producer: 1), .wait(5_000)] }
        scenario.steps = steps.enumerated().map {
            ScriptStep(line: $0.offset + 1, text: "\($0.element)", step: $0.element)
        }
        scenario.settleMs = 10_000
        return scenario
    }
}
