import Experiments
import Simulation
import Testing

/// A RabbitMQ scenario written inline, in the scenario file format users write.
func runInline(_ text: String, seed: UInt64 = 1) throws -> ScenarioRun {
    let scenario = try ScenarioFile.parse(text, file: "inline.yaml").get()
    return ScenarioRunner.run(scenario, config: try scenario.resolvedConfig(), seed: seed)
}

@Suite("RabbitMQ scenarios")
struct RabbitMQScenarioTests {
    @Test(
        "Every shipped RabbitMQ scenario comes out as it expects",
        arguments: ScenarioLibrary.all.filter { $0.path.hasPrefix("scenarios/rabbitmq/") }.map(\.id))
    func shipped(id: String) throws {
        let run = try runShipped(id)
        #expect(run.passed, "\(id): \(describe(run))")
    }

    @Test(
        "Confirms on an unroutable mandatory message: basic.return, then basic.ack, and the publisher knows")
    func unroutableMandatory() throws {
        // RMQ-01: a confirm says the broker took responsibility, not that a queue has it; with
        // mandatory the return came first, so the send is a failure, not a lost write (RMQ-27).
        let run = try runInline(
            """
            name: unroutable
            rabbitmq: "4.2"
            nodes: 1
            config: {confirm.select: true, mandatory: true, routing_key: nowhere, delivery_mode: 2}
            steps:
              - publish m
              - wait 1s
            expect:
              returned: [m]
              acknowledged: none
              lost-write: none
            """)
        #expect(run.passed, "\(describe(run))")
        #expect(
            run.world.history.sends.map(\.outcome) == [.fail(error: "basic.return (312 NO_ROUTE)", time: 4)])
        let kinds = run.world.trace.map(\.note.kind)
        let returned = try #require(kinds.firstIndex(of: "returned"))
        let confirmed = try #require(kinds.firstIndex(of: "confirmed"))
        #expect(returned < confirmed)
    }

    @Test("A paused publisher gets its confirm when the pause ends: a client pauses as a broker does")
    func pausedPublisher() throws {
        let run = try runInline(
            """
            name: paused publisher
            rabbitmq: "4.2"
            nodes: 1
            config: {confirm.select: true}
            steps:
              - publish m
              - pause p1 for 2s
              - wait 10s
            expect:
              acknowledged: [m]
            """)
        #expect(run.passed, "\(describe(run))")
        let confirmed = try #require(run.world.trace.first { $0.note.kind == "confirmed" })
        #expect(confirmed.time >= 2_000)
    }

    @Test("Without confirms a message published to a node that is down fails at once")
    func publishToDownNode() throws {
        let run = try runInline(
            """
            name: down
            rabbitmq: "4.2"
            nodes: 1
            steps:
              - crash B1
              - publish m
            expect:
              failed: [m]
            """)
        #expect(run.passed, "\(describe(run))")
    }

    @Test("Requeue puts a rejected message back at its original position, marked redelivered")
    func requeueKeepsPosition() throws {
        let run = try runInline(
            """
            name: requeue
            rabbitmq: "4.2"
            nodes: 1
            config: {prefetch-count: 1, confirm.select: true}
            consumers:
              c1: {settle: reject-requeue}
            steps:
              - publish a b
              - wait until acknowledged a b within 5s
              - start c1
              - wait until c1 polled 2 within 5s
              - stop c1
              - wait 1s
            expect:
              queue q: [a, b]
            """)
        #expect(run.passed, "\(describe(run))")
        let redelivered = run.world.trace.contains {
            if case .queue(.delivered(_, _, _, _, let redelivered, _)) = $0.note { return redelivered }
            return false
        }
        #expect(redelivered)
    }

    @Test("A quorum queue needs three nodes, and classic queues have no delivery limit")
    func configErrors() throws {
        #expect(throws: ConfigProblems.self) {
            try RabbitConfig.resolve(version: .v40, nodes: 1, settings: [("x-queue-type", "quorum")])
        }
        #expect(throws: ConfigProblems.self) {
            try RabbitConfig.resolve(version: .v40, nodes: 1, settings: [("x-delivery-limit", "5")])
        }
        #expect(throws: ConfigProblems.self) {
            try RabbitConfig.resolve(version: .v40, nodes: 1, settings: [("acks", "all")])
        }
        let quorum = try RabbitConfig.resolve(version: .v43, nodes: 3, settings: [("x-queue-type", "quorum")])
        #expect(quorum.deliveryLimit == 20)
        #expect(quorum.effectivePrefetch == 2_000)
    }

    @Test(
        "Topic bindings: * is exactly one word, # is zero or more",
        arguments: [
            ("order.created", "order.*", true), ("order.created.eu", "order.*", false),
            ("order.created.eu", "order.#", true), ("order", "order.#", true), ("order", "#", true),
            ("order.created", "*.created", true), ("created", "*.created", false),
            ("created", "#.created", true), ("order.eu.created", "order.#.created", true),
            ("order.created", "order.#.created", true), ("order.created.eu", "order.#.created", false),
            ("order.created", "order.created", true), ("order.created", "order.deleted", false),
        ])
    func topicMatching(routingKey: String, bindingKey: String, matches: Bool) {
        #expect(ExchangeType.topic.matches(routingKey: routingKey, bindingKey: bindingKey) == matches)
    }

    @Test("A direct exchange routes only to the queues whose binding key equals the routing key")
    func directExchange() throws {
        let run = try runInline(
            """
            name: direct
            rabbitmq: "4.2"
            nodes: 1
            config: {exchange: orders, exchange.type: direct, binding.q: "eu, us", binding.audit: asia, routing_key: us}
            steps:
              - publish m
              - wait 1s
            expect:
              queue q: [m]
              queue audit: []
            """)
        #expect(run.passed, "\(describe(run))")
    }

    @Test("Exchange settings that cannot work are refused with the key and the reason")
    func exchangeConfigErrors() {
        #expect(throws: ConfigProblems.self) {
            try RabbitConfig.resolve(version: .v40, nodes: 1, settings: [("binding.audit", "#")])
        }
        #expect(throws: ConfigProblems.self) {
            try RabbitConfig.resolve(version: .v40, nodes: 1, settings: [("exchange.type", "headers")])
        }
        #expect(throws: ConfigProblems.self) {
            try RabbitConfig.resolve(
                version: .v40, nodes: 3,
                settings: [("x-queue-type", "quorum"), ("exchange", "events"), ("binding.audit", "#")])
        }
    }

    @Test("Quorum queue with confirms: no single node failure loses a confirmed message (200 seeds)")
    func quorumSweep() throws {
        let entry = try #require(ScenarioLibrary.find("R06"))
        let scenario = try ScenarioLibrary.scenario(entry).get()
        let config = try scenario.resolvedConfig()
        var tested = 0
        for seed in UInt64(1)...200 {
            let run = ScenarioRunner.run(scenario, config: config, seed: seed, recordTrace: false)
            #expect(run.report.messages(.lostWrite).isEmpty, "seed \(seed) lost a confirmed message")
            if run.report.acknowledged > 0 { tested += 1 }
        }
        // A fault on the leader before the first confirm can leave a seed with nothing confirmed
        // (the queue was unavailable, which is allowed); most seeds must still test something.
        #expect(tested >= 150, "only \(tested) of 200 seeds confirmed anything")
    }

    @Test("The same seed gives the same RabbitMQ trace; the trace hash does not depend on recording")
    func deterministic() throws {
        let entry = try #require(ScenarioLibrary.find("R06"))
        let scenario = try ScenarioLibrary.scenario(entry).get()
        let config = try scenario.resolvedConfig()
        let first = ScenarioRunner.run(scenario, config: config, seed: 9)
        let again = ScenarioRunner.run(scenario, config: config, seed: 9)
        let untraced = ScenarioRunner.run(scenario, config: config, seed: 9, recordTrace: false)
        #expect(first.world.traceHash == again.world.traceHash)
        #expect(first.world.traceHash == untraced.world.traceHash)
        let others = (10...14).map { ScenarioRunner.run(scenario, config: config, seed: $0).world.traceHash }
        #expect(others.contains { $0 != first.world.traceHash })
    }
}

@Suite("Fault rules speak the broker's own messages")
struct MessageKindScopeTests {
    @Test("A RabbitMQ scenario cannot name a Kafka message kind; its own kinds pass")
    func rabbitScenarioRefusesKafkaKinds() {
        let text = """
            name: wrong kind
            rabbitmq: "4.2"
            nodes: 1
            steps:
              - drop 50% of fetch
              - publish m
            """
        guard case .failure(let problems) = ScenarioFile.parse(text, file: "inline.yaml") else {
            Issue.record("drop fetch in a RabbitMQ scenario must be refused")
            return
        }
        #expect(
            problems.problems.contains {
                $0.line == 5
                    && $0.reason.hasPrefix("'fetch' is not a message this broker sends (it sends: publish")
            })
        let own = text.replacingOccurrences(of: "of fetch", with: "of confirm")
        #expect((try? ScenarioFile.parse(own, file: "inline.yaml").get()) != nil)
    }

    @Test("Every kind is sent by at least one broker, and the four lists cover them all")
    func kindsCovered() {
        let systems: [BrokerSystem] = [.kafka(.v37), .rabbitmq(.v40), .rocketmq(.v4), .activemq(.classic)]
        for kind in MessageKind.allCases {
            #expect(systems.contains { kind.isSent(in: $0) }, "\(kind.rawValue) belongs to no broker")
        }
    }
}

extension MessageKindScopeTests {
    @Test("A consumer speaks its broker's words: Kafka's commit, the queue brokers' settle")
    func consumerFieldsPerBroker() {
        let rabbit = """
            name: kafka words in a rabbit
            rabbitmq: "4.2"
            nodes: 1
            consumers:
              c1: {commit: after-processing}
            steps:
              - publish m
            """
        guard case .failure(let problems) = ScenarioFile.parse(rabbit, file: "inline.yaml") else {
            Issue.record("a RabbitMQ consumer with commit must be refused")
            return
        }
        #expect(
            problems.problems.contains {
                $0.line == 5 && $0.reason == "a consumer here takes settle, for and times, not commit"
            })
        let kafka = try? ScenarioFile.parse(
            """
            name: settle in kafka
            kafka: "3.7"
            brokers: 3
            consumers:
              c1: {commit: auto, settle: ack}
            steps:
              - produce m
            """, file: "inline.yaml"
        ).get()
        #expect(kafka == nil)
        let good = try? ScenarioFile.parse(
            rabbit.replacingOccurrences(of: "commit: after-processing", with: "settle: reject"),
            file: "inline.yaml"
        ).get()
        #expect(good?.consumers == [.rabbitmq(.reject)])
    }
}

/// TTLs and length limits on classic queues (RMQ-13, RMQ-14, RMQ-22), beyond the catalogue's
/// experiments: the rules users' own scenarios will lean on.
@Suite("RabbitMQ TTL, length limits, priorities and single active consumer")
struct RabbitMQLimitTests {
    func run(_ config: String, consumers: String = "", steps: [String], expect: [String]) throws
        -> ScenarioRun
    {
        let text = """
            name: inline
            rabbitmq: "4.2"
            nodes: 1
            config: {durable: true, delivery_mode: 2, confirm.select: true, \(config)}
            \(consumers.isEmpty ? "" : "consumers: {\(consumers)}")
            steps:
            \(steps.map { "  - " + $0 }.joined(separator: "\n"))
            expect:
            \(expect.map { "  " + $0 }.joined(separator: "\n"))
            """
        return try runInline(text)
    }

    @Test("A delivery awaiting its ack never expires: processed after its TTL ran out, it is not lost")
    func unackedDoesNotExpire() throws {
        let result = try run(
            "x-message-ttl: 1000, sim.processing.ms: 3000", consumers: "c1: {settle: ack}",
            steps: ["start c1", "publish m", "wait 5s"], expect: ["lost-write: none", "queue q: []"])
        #expect(result.passed, "\(result.expectations)")
        #expect(result.world.history.processed.map(\.message) == [MessageID(0)])
    }

    @Test("TTL 0: delivered when a consumer can take it at once, else expired on arrival")
    func ttlZero() throws {
        let taken = try run(
            "x-message-ttl: 0", consumers: "c1: {settle: ack}",
            steps: ["start c1", "wait 100ms", "publish m", "wait 1s"],
            expect: ["lost-write: none"])
        #expect(taken.passed, "\(taken.expectations)")
        let expired = try run(
            "x-message-ttl: 0, x-dead-letter-exchange: dlx", steps: ["publish m", "wait 1s"],
            expect: ["queue q: []", "queue dlq: [m]"])
        #expect(expired.passed, "\(expired.expectations)")
    }

    @Test("A requeued message keeps its original expiry")
    func requeueKeepsExpiry() throws {
        // Rejected back at 600 ms with 1 s of TTL from its enqueue at ~0: it expires at ~1 s,
        // not 1 s after the requeue, so a consumer that starts at 1.5 s never gets it again.
        let result = try run(
            "x-message-ttl: 1000, x-dead-letter-exchange: dlx, sim.processing.ms: 600",
            consumers: "c1: {settle: reject-requeue}, c2: {settle: ack}",
            steps: ["start c1", "publish m", "wait 700ms", "stop c1", "wait 800ms", "start c2", "wait 1s"],
            // c1 gets it twice (its own reject-requeue), c2 never: it expired at ~1 s in q.
            expect: ["queue dlq: [m]", "deliveries: [m, m]", "deliveries c2: []"])
        #expect(result.passed, "\(result.expectations)")
    }

    @Test("Only ready messages count towards x-max-length: an unacked delivery does not")
    func onlyReadyCount() throws {
        let result = try run(
            "x-max-length: 1, prefetch-count: 1, sim.processing.ms: 60000", consumers: "c1: {settle: ack}",
            steps: [
                "start c1", "publish m1", "wait 100ms", "publish m2", "wait 100ms", "publish m3", "wait 1s",
            ],
            expect: ["lost-write: [m2]", "deliveries: [m1]", "queue q: [m1, m3]"])
        #expect(result.passed, "\(result.expectations)")
    }

    @Test("reject-publish: the full queue nacks, while another queue the publish reached keeps its copy")
    func rejectWithAnotherQueue() throws {
        let result = try run(
            "exchange: events, exchange.type: fanout, binding.q: \"\", binding.audit: \"\", x-max-length: 1, x-overflow: reject-publish",
            steps: ["publish m1 m2", "wait 1s"],
            expect: [
                "acknowledged: [m1]", "failed: [m2]", "queue q: [m1]", "queue audit: [m1, m2]",
                "lost-write: none",
            ])
        #expect(result.passed, "\(result.expectations)")
    }

    @Test("reject-publish-dlx refuses the new message and dead-letters it; drop-head dead-letters the oldest")
    func overflowsDeadLetter() throws {
        let rejected = try run(
            "x-max-length: 1, x-overflow: reject-publish-dlx, x-dead-letter-exchange: dlx",
            steps: ["publish m1 m2", "wait 1s"], expect: ["failed: [m2]", "queue q: [m1]", "queue dlq: [m2]"])
        #expect(rejected.passed, "\(rejected.expectations)")
        let dropped = try run(
            "x-max-length: 1, x-dead-letter-exchange: dlx", steps: ["publish m1 m2", "wait 1s"],
            expect: ["acknowledged: [m1, m2]", "queue q: [m2]", "queue dlq: [m1]", "lost-write: none"])
        #expect(dropped.passed, "\(dropped.expectations)")
    }

    @Test(
        "Priorities: above the maximum counts as the maximum, and a queue without x-max-priority ignores them"
    )
    func priorities() throws {
        let capped = try run(
            "x-max-priority: 3, prefetch-count: 1", consumers: "c1: {settle: ack}",
            steps: [
                "publish m1 priority 3", "publish m2 priority 200", "publish m3 priority 2",
                "wait until all completed within 5s", "start c1", "wait until c1 processed 3 within 5s",
            ],
            // m2's 200 counts as 3: a tie with m1, which came first.
            expect: ["deliveries c1: [m1, m2, m3]"])
        #expect(capped.passed, "\(capped.expectations.map(\.actual))")
        let plain = try run(
            "prefetch-count: 1", consumers: "c1: {settle: ack}",
            steps: [
                "publish m1 priority 1", "publish m2 priority 9", "wait until all completed within 5s",
                "start c1",
                "wait until c1 processed 2 within 5s",
            ],
            expect: ["deliveries c1: [m1, m2]"])
        #expect(plain.passed, "\(plain.expectations.map(\.actual))")
    }

    @Test("A single active consumer that stops cleanly hands over too, and the idle one got nothing before")
    func singleActiveHandOver() throws {
        let result = try run(
            "x-single-active-consumer: true, prefetch-count: 1, sim.processing.ms: 100",
            consumers: "c1: {settle: ack}, c2: {settle: ack}",
            steps: [
                "start c1", "wait 50ms", "start c2", "wait 50ms", "publish m1..m4",
                "wait until c1 processed 2 within 5s",
                "stop c1", "wait until c2 processed 2 within 5s",
            ],
            expect: [
                "deliveries c1: [m1, m2]", "deliveries c2: [m3, m4]", "reordered: none",
                "lost-write: none",
            ])
        #expect(result.passed, "\(result.expectations.map(\.actual))")
    }

    @Test("Quorum queues and expiration outside RabbitMQ are refused with the reason")
    func refused() throws {
        let quorum = ScenarioFile.parse(
            """
            name: q
            rabbitmq: "4.2"
            nodes: 3
            config: {x-queue-type: quorum, x-message-ttl: 1000}
            steps: ["publish m"]
            """, file: "inline.yaml")
        guard case .failure(let quorumProblems) = quorum else {
            Issue.record("a quorum queue with x-message-ttl parsed")
            return
        }
        #expect("\(quorumProblems)".contains("TTLs are modelled for classic queues"))
        let kafka = ScenarioFile.parse(
            """
            name: k
            steps: ["produce m expiration 1s"]
            """, file: "inline.yaml")
        guard case .failure(let problems) = kafka else {
            Issue.record("a Kafka scenario with expiration parsed")
            return
        }
        #expect("\(problems)".contains("'expiration' and 'priority' are RabbitMQ message properties"))
    }

    @Test("failed with <error> names the sends whose error says so, for any broker")
    func failedWith() throws {
        let nacked = try run(
            "x-max-length: 1, x-overflow: reject-publish", steps: ["publish m1 m2", "wait 1s"],
            expect: ["failed with basic.nack: [m2]", "failed with NO_ROUTE: none"])
        #expect(nacked.passed, "\(nacked.expectations.map(\.actual))")
        let kafka = try runInline(
            """
            name: not enough replicas
            brokers: 3
            config: {acks: all, min.insync.replicas: 3, retries: 0, enable.idempotence: false}
            steps:
              - crash B3
              - wait 15s
              - produce m
              - produce n by p1
              - wait until all completed within 10s
            expect:
              failed with NOT_ENOUGH_REPLICAS: [m, n]
              failed with TimeoutException: none
            """)
        #expect(kafka.passed, "\(kafka.expectations.map(\.actual))")
    }
}
