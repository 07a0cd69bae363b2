// Theory of operation
//
// A RabbitMQ scenario played against a real broker, in wall-clock time, by real AMQP clients: a
// publisher connection per producer (with confirm.select when the scenario asks), a consumer
// connection per consumer (basic.qos, basic.consume with or without no-ack), and an admin
// connection that declares the topology and reads the queues at the end. One thread polls every
// connection in turn, so the clients behave as the simulator's do: a consumer processes one
// delivery at a time for `sim.processing.ms`, then settles it as the scenario says.
//
// What the clients were told is recorded in the simulator's `History`, and the queues' final
// contents are read with basic.get; each message body names the message and its copy (one per
// publish), so the same checker and expectations judge the real run.
//
// Names: every queue and exchange gets a prefix unique to the run (`mqproof.R04.1a2b.q`), so
// runs never see each other's messages and a user's own broker keeps its queues; what a run
// declared it deletes at the end. Faults a single machine can inject: kill -9 of the node and a
// restart, SIGSTOP/SIGCONT, a client's connection closed without a word (a crash) or cleanly (a
// stop). What it cannot is refused before anything starts (`RealRabbit.unsupported`).

import Simulation

#if canImport(Glibc)
    import Glibc
#endif

/// One scenario's outcome on a real broker.
public struct RealRun: Sendable {
    public struct StepTime: Sendable {
        public var text: String
        public var startedAtMs: Int
        public var timedOut: Bool
    }

    public var observed: ObservedQueueRun
    public var report: CheckerReport
    public var expectations: [ScenarioRun.ExpectationResult]
    public var steps: [StepTime]
    /// Things worth telling: how long a restart took, a connection the broker closed.
    public var notes: [String]
    public var durationMs: Int

    public var passed: Bool { expectations.allSatisfy(\.holds) }
}

/// A broker to run on: a private node mqproof started, or one the user already runs.
public final class RealRabbit {
    /// How long a real run goes on after its last step. The simulator's settle time is simulated
    /// and free; on a real broker it is wall-clock time, and a second covers every settlement.
    public static let settleMs = 1_000

    private let node: PrivateRabbitNode?
    private let address: AMQPAddress
    private let shouldStop: @Sendable () -> Bool
    private var runs = 0
    public let version: String
    public let product: String

    /// Where it runs: host:port, and the vhost when it is not `/`.
    public var location: String {
        "\(address.host):\(address.port)\(address.virtualHost == "/" ? "" : "/" + address.virtualHost)"
    }
    public var startTimesMs: [Int] { node?.startTimes ?? [] }
    /// The AMQP port it listens on.
    public var port: Int { address.port }
    public var ownsNode: Bool { node != nil }

    /// Starts a private node (3-6 s). `shouldStop` is asked while waiting: Ctrl-C.
    public static func startPrivateNode(shouldStop: @escaping @Sendable () -> Bool) throws(RealBrokerError)
        -> RealRabbit
    {
        let node = try PrivateRabbitNode()
        do {
            try node.start(shouldStop: shouldStop)
            return try RealRabbit(node: node, address: node.address, shouldStop: shouldStop)
        } catch {
            node.stop()
            throw error
        }
    }

    /// A broker the user runs, named by an amqp:// URL.
    public static func connect(url: String, shouldStop: @escaping @Sendable () -> Bool)
        throws(RealBrokerError)
        -> RealRabbit
    {
        switch AMQPAddress.parse(url) {
        case .failure(let error): throw RealBrokerError("--broker: \(error.description)")
        case .success(let address):
            return try RealRabbit(node: nil, address: address, shouldStop: shouldStop)
        }
    }

    private init(node: PrivateRabbitNode?, address: AMQPAddress, shouldStop: @escaping @Sendable () -> Bool)
        throws(RealBrokerError)
    {
        self.node = node
        self.address = address
        self.shouldStop = shouldStop
        do {
            let probe = try AMQPConnection.open(address, name: "mqproof version probe")
            version = probe.serverVersion ?? "unknown"
            product = probe.serverProduct ?? "RabbitMQ"
            probe.closeCleanly()
        } catch {
            throw RealBrokerError("cannot log in to \(address.host):\(address.port): \(error.description)")
        }
    }

    /// Stops the private node, if mqproof started one, and removes its files.
    public func close() { node?.stop() }

    /// The simulator profile that matches this broker's version.
    public var simulatorProfile: RabbitVersion? { RabbitVersion(parsing: version) }

    /// Why `scenario` cannot run here, or nil when it can.
    public func unsupported(_ scenario: Scenario) -> String? {
        RealRabbit.unsupported(scenario, canInjectBrokerFaults: node != nil)
    }

    /// Why `scenario` cannot run on one real node, or nil when it can. The reasons are for users:
    /// each says what a single machine lacks.
    public static func unsupported(_ scenario: Scenario, canInjectBrokerFaults: Bool) -> String? {
        guard scenario.rabbitmq != nil else { return "not a RabbitMQ scenario" }
        if scenario.brokers > 1 {
            return "needs a \(scenario.brokers)-node cluster; real runs start one node"
        }
        if scenario.randomFaults != nil {
            return "draws random faults from a seed, which a real broker cannot replay"
        }
        if scenario.consumers.contains(where: {
            if case .rabbitmq(_, let only, let times) = $0 { !only.isEmpty || times != nil } else { false }
        }) {
            return "a consumer settles by message ('for', 'times'), which real runs do not drive yet"
        }
        if scenario.settings.contains(where: { $0.key.hasPrefix("dlq.") }) {
            return "dlq as a retry queue (dlq.x-message-ttl) is not declared by real runs yet"
        }
        for scripted in scenario.steps {
            switch scripted.step {
            case .fault(.broker, .powerLoss), .fault(.leader, .powerLoss):
                return
                    "'\(scripted.text)': losing what is not yet fsynced needs a fault-injecting file system"
            case .fault(.broker, .diskLoss), .fault(.leader, .diskLoss):
                return "'\(scripted.text)': a lost disk cannot be injected under a running node"
            case .fault(.broker, _), .restart(.broker), .pause(.broker, _):
                if !canInjectBrokerFaults {
                    return "'\(scripted.text)': only a node mqproof started can be killed or paused"
                }
            case .fault(.leader, _), .fault(.follower, _), .fault(.controller, _), .restart(.leader),
                .restart(.follower), .restart(.controller), .pause(.leader, _), .pause(.follower, _),
                .pause(.controller, _):
                return "'\(scripted.text)': names a replica role, which needs a cluster"
            case .partition, .isolate, .heal:
                return "'\(scripted.text)': a network partition needs nodes on separate networks"
            case .drop, .delay:
                return
                    "'\(scripted.text)': dropping or delaying one message needs a proxy between client and broker"
            case .alarm:
                return
                    "'\(scripted.text)': raising an alarm needs rabbitmqctl against the node, which real runs do not drive yet"
            case .waitUntil(let condition, _):
                switch condition {
                case .acknowledged, .allCompleted, .processed, .polled: continue
                default: return "'\(scripted.text)': waits for replication state, which needs a cluster"
                }
            default: continue
            }
        }
        return nil
    }

    /// Plays `scenario` (resolved as `config`) on this broker.
    public func run(_ scenario: Scenario, config: RabbitConfig, label: String) throws(RealBrokerError)
        -> RealRun
    {
        if let reason = unsupported(scenario) {
            throw RealBrokerError("\(label) cannot run on a real broker: \(reason)")
        }
        runs += 1
        var suffix = UInt32(truncatingIfNeeded: Clock.milliseconds() &* 2_654_435_761)
        suffix ^= UInt32(truncatingIfNeeded: getpid())
        let prefix = "mqproof.\(label).\(String(suffix, radix: 36)).\(runs)."
        let player = RealRabbitPlayer(
            scenario: scenario, config: config, prefix: prefix, address: address, node: node,
            shouldStop: shouldStop)
        return try player.play()
    }
}
