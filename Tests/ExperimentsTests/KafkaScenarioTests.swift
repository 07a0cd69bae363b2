import Experiments
import Simulation
import Testing

/// Runs a shipped scenario with a seed and returns the run, failing the test on parse problems.
func runShipped(_ id: String, seed: UInt64 = 1) throws -> ScenarioRun {
    let entry = try #require(ScenarioLibrary.find(id), "no scenario \(id)")
    let scenario = try ScenarioLibrary.scenario(entry).get()
    return ScenarioRunner.run(scenario, config: try scenario.resolvedConfig(), seed: seed)
}

func describe(_ run: ScenarioRun) -> String {
    run.expectations.filter { !$0.holds }.map {
        "\($0.expectation.subject): expected \($0.expectation.value), got \($0.actual)"
    }
    .joined(separator: "; ")
}

@Suite("Kafka scenarios")
struct KafkaScenarioTests {
    @Test(
        "Every shipped Kafka scenario comes out as it expects",
        arguments: ScenarioLibrary.all.filter { $0.path.hasPrefix("scenarios/kafka/") }.map(\.id))
    func shipped(id: String) throws {
        let run = try runShipped(id)
        let passed = run.passed
        #expect(passed, "\(id): \(describe(run))")
    }

    @Test(
        "delivery.timeout.ms below linger.ms + request.timeout.ms: refused when set, raised when left at its default"
    )
    func deliveryTimeoutValidation() throws {
        // K-PRD-16, as KafkaProducer.configureDeliveryTimeout does it.
        #expect(throws: ConfigProblems.self) {
            try KafkaConfig.resolve(
                version: .v37, brokers: 3,
                settings: [("delivery.timeout.ms", "20000"), ("request.timeout.ms", "30000")])
        }
        let raised = try KafkaConfig.resolve(
            version: .v37, brokers: 3, settings: [("request.timeout.ms", "200000"), ("linger.ms", "5")])
        #expect(raised.deliveryTimeoutMs == 200_005)
        let fine = try KafkaConfig.resolve(
            version: .v37, brokers: 3, settings: [("delivery.timeout.ms", "30000")])
        #expect(fine.deliveryTimeoutMs == 30_000)
    }

    @Test("Lag is the high watermark minus the committed offset: zero once the consumer catches up")
    func lagAfterCatchUp() throws {
        let run = try runInline(
            """
            name: caught up
            kafka: "3.7+"
            config: {acks: all, enable.auto.commit: false, auto.offset.reset: earliest, max.poll.records: 10}
            consumers:
              c1: {commit: after-processing, processing: sync}
            steps:
              - start c1
              - produce m1..m20
              - wait until committed 20 within 30s
            expect:
              lag: 0
            """)
        #expect(run.passed, "\(describe(run))")
        let stopped = try runInline(
            """
            name: stalled
            kafka: "3.7+"
            config: {acks: all, enable.auto.commit: false, auto.offset.reset: earliest}
            consumers:
              c1: {commit: after-processing, processing: sync}
            steps:
              - produce m1..m20
              - wait until acknowledged m20 within 10s
            expect:
              lag: 20
            """)
        #expect(stopped.passed, "\(describe(stopped))")
    }

    @Test("'lag' takes a number or a range, not a list of messages")
    func lagIsANumber() {
        let text = """
            name: lag list
            kafka: "3.7+"
            steps:
              - produce m
            expect:
              lag: [m]
            """
        guard case .failure(let problems) = ScenarioFile.parse(text, file: "x.yaml") else {
            Issue.record("a list was accepted for lag")
            return
        }
        #expect(
            problems.problems.map(\.description) == [
                "x.yaml:6: 'lag' is a number of records or a range such as 50..70"
            ])
    }

    @Test(
        "A full buffer with max.block.ms 0 fails each further send at once; an application crash fails the blocked one"
    )
    func bufferExhausted() throws {
        let run = try runInline(
            """
            name: no blocking
            kafka: "3.7+"
            config: {buffer.memory: 300, max.block.ms: 0}
            steps:
              - wait 1s
              - pause B1 for 5s
              - produce m1..m5
              - wait 10s
            expect:
              failed with BufferExhaustedException: [m4, m5]
              acknowledged: [m1, m2, m3]
            """)
        #expect(run.passed, "\(describe(run))")
        let crashed = try runInline(
            """
            name: crash while blocked
            kafka: "3.7+"
            config: {buffer.memory: 300, max.block.ms: 60000}
            steps:
              - wait 1s
              - pause B1 for 5s
              - produce m1..m5
              - wait 1s
              - crash p1
              - wait 10s
            expect:
              failed with application crashed in a blocked send(): [m4]
            """)
        #expect(crashed.passed, "\(describe(crashed))")
        // m5's send() was never called: the blocked thread died first.
        #expect(!crashed.world.history.sends.contains { crashed.world.name(of: $0.message) == "m5" })
    }

    @Test("A fetch waiting for fetch.min.bytes returns as soon as that many bytes are committed")
    func fetchMinBytesReached() throws {
        // 5 records of 100 bytes reach fetch.min.bytes=500 long before the 5 s wait runs out.
        let run = try runInline(
            """
            name: min bytes reached
            kafka: "3.7+"
            config: {acks: all, auto.offset.reset: earliest, fetch.min.bytes: 500, fetch.max.wait.ms: 5000}
            consumers:
              c1: {commit: after-processing, processing: sync}
            settle: 0
            steps:
              - start c1
              - wait 1s
              - produce m1..m5
              - wait until acknowledged m5 within 1s
              - wait 100ms
            expect:
              processed: [m1, m2, m3, m4, m5]
            """)
        #expect(run.passed, "\(describe(run))")
        let short = try runInline(
            """
            name: min bytes not reached
            kafka: "3.7+"
            config: {acks: all, auto.offset.reset: earliest, fetch.min.bytes: 500, fetch.max.wait.ms: 5000}
            consumers:
              c1: {commit: after-processing, processing: sync}
            settle: 0
            steps:
              - start c1
              - wait 1s
              - produce m1..m4
              - wait until acknowledged m4 within 1s
              - wait 100ms
            expect:
              processed: []
            """)
        #expect(short.passed, "\(describe(short))")
    }

    @Test("seek moves the position forward too (records skipped), and is Kafka's only")
    func seekForward() throws {
        // The first poll returns m1 and m2 (max.poll.records 2); the seek skips m3..m8.
        let run = try runInline(
            """
            name: skip ahead
            kafka: "3.7+"
            config: {acks: all, enable.auto.commit: false, auto.offset.reset: earliest, sim.processing.ms: 100, max.poll.records: 2}
            consumers:
              c1: {commit: after-processing, processing: sync}
            steps:
              - produce m1..m10
              - wait until acknowledged m10 within 10s
              - start c1
              - wait until c1 polled 1 within 10s
              - seek c1 to 8
              - wait 5s
            expect:
              processed: [m1, m2, m9, m10]
              never-processed: [m3, m4, m5, m6, m7, m8]
            """)
        #expect(run.passed, "\(describe(run))")
        let texts = run.world.trace.map { $0.note.text(run.world.name(of:)) }
        #expect(texts.contains("c1 seeks to offset 8: the next fetch reads from there"))
        let text = """
            name: not kafka
            rocketmq: "4.9"
            consumers:
              c1: {}
            steps:
              - seek c1 to 0
            """
        guard case .failure(let problems) = ScenarioFile.parse(text, file: "x.yaml") else {
            Issue.record("seek was accepted for RocketMQ")
            return
        }
        #expect(
            problems.problems.map(\.description) == [
                "x.yaml:6: 'seek' moves a Kafka consumer's position; this scenario is not Kafka"
            ])
    }
}
