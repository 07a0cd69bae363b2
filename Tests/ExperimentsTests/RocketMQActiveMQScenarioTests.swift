import Experiments
import Simulation
import Testing

@Suite("RocketMQ and ActiveMQ scenarios")
struct RocketMQActiveMQScenarioTests {
    @Test(
        "Every shipped RocketMQ and ActiveMQ scenario comes out as it expects",
        arguments: ScenarioLibrary.all.filter {
            $0.path.hasPrefix("scenarios/rocketmq/") || $0.path.hasPrefix("scenarios/activemq/")
        }.map(\.id))
    func shipped(id: String) throws {
        let run = try runShipped(id)
        #expect(run.passed, "\(id): \(describe(run))")
    }

    @Test("The shipped catalogue has the RocketMQ and ActiveMQ experiments the issue lists")
    func catalogue() {
        let ids = ExperimentCatalogue.ids
        for id in ["Q01", "Q02", "Q03", "Q04", "Q05", "A01", "A02", "A04", "A06"] {
            #expect(ids.contains(id), "missing \(id)")
        }
    }

    @Test(
        "The slave's status overwrites the flush status: slave down and a slow disk give SLAVE_NOT_AVAILABLE")
    func replicaStatusWins() throws {
        let run = try runInline(
            """
            name: combined status
            rocketmq: "4.9"
            nodes: 2
            config: {brokerRole: SYNC_MASTER, flushDiskType: SYNC_FLUSH, sim.fsync.ms: 6000, sendMsgTimeout: 10000}
            steps:
              - wait 100ms
              - crash B2
              - wait 100ms
              - send m
              - wait 8s
            expect:
              acknowledged: [m]
            """)
        #expect(run.passed, "\(describe(run))")
        let texts = run.world.trace.map { $0.note.text(run.world.name(of:)) }
        #expect(texts.contains { $0.contains("returns SLAVE_NOT_AVAILABLE") })
        #expect(!texts.contains { $0.contains("returns FLUSH_DISK_TIMEOUT") })
    }

    @Test(
        "retryAnotherBrokerWhenNotStoreOK re-sends a SLAVE_NOT_AVAILABLE message to the other group: two copies"
    )
    func retryAnotherBroker() throws {
        let text = """
            name: retry another broker
            rocketmq: "4.9"
            nodes: 4
            config: {brokerRole: SYNC_MASTER, retryAnotherBrokerWhenNotStoreOK: RETRY}
            steps:
              - wait 100ms
              - crash B2
              - wait 100ms
              - send m
              - wait 5s
            """
        let retrying = try runInline(text.replacingOccurrences(of: "RETRY", with: "true"))
        #expect(retrying.report.messages(.duplicate).count == 1)
        #expect(retrying.world.finalContents(ofQueue: "q")?.count == 2)
        let plain = try runInline(text.replacingOccurrences(of: "RETRY", with: "false"))
        #expect(plain.report.messages(.duplicate).isEmpty)
        #expect(plain.world.finalContents(ofQueue: "q")?.count == 1)
    }

    @Test("A sync send to a broker group that is down goes to the next group at once")
    func failoverToAnotherGroup() throws {
        let run = try runInline(
            """
            name: failover
            rocketmq: "4.9"
            nodes: 4
            steps:
              - crash B1
              - send m1..m4
              - wait 2s
            expect:
              acknowledged: [m1, m2, m3, m4]
              failed: none
            """)
        #expect(run.passed, "\(describe(run))")
    }

    @Test("RocketMQ SYNC_FLUSH + SYNC_MASTER: no single node failure loses a SEND_OK message (200 seeds)")
    func rocketSweep() throws {
        try sweep("Q06", seeds: 200)
    }

    @Test(
        "ActiveMQ persistent sync sends: no crash, power loss, isolation or pause loses a sent message (200 seeds)"
    )
    func activeSweep() throws {
        try sweep("A07", seeds: 200)
    }

    private func sweep(_ id: String, seeds: UInt64) throws {
        let entry = try #require(ScenarioLibrary.find(id))
        let scenario = try ScenarioLibrary.scenario(entry).get()
        let config = try scenario.resolvedConfig()
        var tested = 0
        for seed in 1...seeds {
            let run = ScenarioRunner.run(scenario, config: config, seed: seed, recordTrace: false)
            #expect(
                run.report.messages(.lostWrite).isEmpty, "\(id) seed \(seed) lost an acknowledged message")
            if run.report.acknowledged > 0 { tested += 1 }
        }
        #expect(tested >= seeds * 3 / 4, "only \(tested) of \(seeds) seeds acknowledged anything")
    }

    @Test(
        "ActiveMQ CLIENT_ACKNOWLEDGE: a listener that throws neither acks nor redelivers, so the messages stay queued"
    )
    func clientAckAcksEverythingConsumed() throws {
        // AMQ-04: in CLIENT mode an exception from onMessage does not roll back; the next message
        // is delivered, and without acknowledge() both stay unacked on the broker.
        let run = try runInline(
            """
            name: client ack
            activemq: "5.18"
            nodes: 1
            config: {acknowledgeMode: CLIENT_ACKNOWLEDGE}
            consumers:
              c1: {settle: throws}
            steps:
              - start c1
              - send m1 m2
              - wait 1s
            expect:
              deliveries: [m1, m2]
              queue q: [m1, m2]
            """)
        #expect(run.passed, "\(describe(run))")
    }

    @Test("Configuration errors name the key and the reason")
    func configErrors() throws {
        #expect(throws: ConfigProblems.self) {
            try RocketConfig.resolve(version: .v4, nodes: 2, settings: [("brokerRole", "SLAVE")])
        }
        #expect(throws: ConfigProblems.self) {
            try RocketConfig.resolve(version: .v4, nodes: 2, settings: [("flushDiskType", "SOMETIMES")])
        }
        #expect(throws: ConfigProblems.self) {
            try ActiveMQConfig.resolve(version: .classic, nodes: 2, settings: [])
        }
        #expect(throws: ConfigProblems.self) {
            try ActiveMQConfig.resolve(version: .classic, nodes: 1, settings: [("sim.forward", "true")])
        }
        let defaults = try RocketConfig.resolve(version: .v4, nodes: 2, settings: [])
        #expect(
            defaults.replication.brokerRole == .asyncMaster && defaults.flush.flushDiskType == .asyncFlush)
        #expect(
            defaults.transactionCheck.transactionCheckInterval == 60_000
                && defaults.consumer.effectiveMaxReconsumeTimes == 16)
        let activemq = try ActiveMQConfig.resolve(version: .classic, nodes: 1, settings: [])
        #expect(activemq.send.sendsSynchronously && activemq.redelivery.maximumRedeliveries == 6)
        let problems = ScenarioFile.parse(
            """
            name: wrong answer
            rocketmq: "4.9"
            consumers:
              c1: {settle: ack}
            """, file: "x.yaml")
        guard case .failure(let failure) = problems else {
            Issue.record("a RabbitMQ answer in a RocketMQ scenario parsed")
            return
        }
        #expect(failure.description.contains("x.yaml:4: settle must be CONSUME_SUCCESS, RECONSUME_LATER"))
    }

    @Test("The same seed gives the same RocketMQ and ActiveMQ traces; the hash does not depend on recording")
    func deterministic() throws {
        for id in ["Q06", "A07"] {
            let entry = try #require(ScenarioLibrary.find(id))
            let scenario = try ScenarioLibrary.scenario(entry).get()
            let config = try scenario.resolvedConfig()
            let first = ScenarioRunner.run(scenario, config: config, seed: 9)
            let untraced = ScenarioRunner.run(scenario, config: config, seed: 9, recordTrace: false)
            #expect(first.world.traceHash == untraced.world.traceHash, "\(id)")
            let others = (10...14).map {
                ScenarioRunner.run(scenario, config: config, seed: $0).world.traceHash
            }
            #expect(others.contains { $0 != first.world.traceHash }, "\(id)")
        }
    }

    @Test(
        "compare: the same table for the same seed; the safest profiles lose nothing and end with every message acknowledged"
    )
    func compare() throws {
        let workload = ComparisonWorkload(messages: 100)
        let rows = try Comparison.run(workload)
        #expect(rows == (try Comparison.run(workload)))
        #expect(rows.count == 8)
        for row in rows where row.profile == .safest {
            #expect(row.lost == 0, "\(row.system) safest lost \(row.lost)")
            #expect(
                row.neverAcknowledged == 0,
                "\(row.system) safest left \(row.neverAcknowledged) unacknowledged")
        }
        let rabbit = try #require(rows.first { $0.system == .rabbitmq && $0.profile == .common })
        #expect(rabbit.lost > 0, "classic queue without confirms should lose the unsynced batch")
        let activemq = try #require(rows.first { $0.system == .activemq && $0.profile == .common })
        #expect(
            activemq.lost == 0 && activemq.rejectedOrTimedOut > 0, "one broker: nothing lost, sends refused")
        let kafka = try #require(rows.first { $0.system == .kafka && $0.profile == .common })
        #expect(kafka.fsyncsPerMessage == 0)
    }
}

@Suite("Config key tables")
struct ConfigTableTests {
    @Test("Every problem is reported, each naming its key, not just the first")
    func everyProblem() {
        do {
            _ = try KafkaConfig.resolve(
                version: .v37, brokers: 3,
                settings: [("acks", "2"), ("min.insync.replicas", "0"), ("retries", "x"), ("linger.ms", "5")])
            Issue.record("three bad settings must be refused")
        } catch {
            #expect(error.problems.map(\.key) == ["acks", "min.insync.replicas", "retries"])
        }
    }

    @Test("Did you mean: only for a near name")
    func nearNamesOnly() {
        do {
            _ = try KafkaConfig.resolve(
                version: .v37, brokers: 3, settings: [("min.insync.replica", "2"), ("colour", "blue")])
            Issue.record("unknown keys must be refused")
        } catch {
            #expect(error.problems[0].reason.hasSuffix("(did you mean min.insync.replicas?)"))
            #expect(!error.problems[1].reason.contains("did you mean"))
            #expect(error.problems[1].reason.contains("mqproof configs kafka lists them"))
        }
    }

    @Test("Each broker's table names every key once, with a source and a default")
    func tablesAreComplete() throws {
        let kafka = KafkaConfig.defaults(version: .v37, brokers: 3)
        let tables: [(String, [String], [String])] = [
            (
                "Kafka", KafkaConfig.table.keys.map(\.name),
                KafkaConfig.table.keys.map { $0.defaultValue(kafka) }
            ),
            ("RabbitMQ", RabbitConfig.table.keys.map(\.name), RabbitConfig.table.keys.map(\.source)),
            ("RocketMQ", RocketConfig.table.keys.map(\.name), RocketConfig.table.keys.map(\.source)),
            ("ActiveMQ", ActiveMQConfig.table.keys.map(\.name), ActiveMQConfig.table.keys.map(\.source)),
        ]
        for (system, names, other) in tables {
            #expect(Set(names).count == names.count, "\(system): a key listed twice")
            #expect(!other.contains(""), "\(system): an empty source or default")
        }
        #expect(KafkaConfig.table.key(named: "acks")?.defaultValue(kafka) == "all")
        #expect(
            KafkaConfig.table.key(named: "acks")?.defaultValue(KafkaConfig.defaults(version: .v2, brokers: 3))
                == "1")
        #expect(RabbitConfig.table.key(named: "binding.audit") != nil)
    }
}
