import Experiments
import Simulation
import Testing

/// RocketMQ delay levels (RKT-14) and consumer-side deduplication (RKT-11, RKT-12), in scenarios
/// the catalogue does not ship.
@Suite("RocketMQ delay levels and deduplication")
struct RocketMQDelayAndDedupeTests {
    @Test("A delay level past the table is clamped to level 18, two hours")
    func clampedLevel() throws {
        let run = try runInline(
            """
            name: clamp
            rocketmq: "4.9"
            consumers:
              c1: {}
            steps:
              - start c1
              - send m delay-level 40
              - wait 7190s
            expect:
              processed: []
            """)
        #expect(run.passed, "\(describe(run))")
        let texts = run.world.trace.map { $0.note.text(run.world.name(of:)) }
        #expect(texts.contains { $0.contains("at delay level 18 (2h)") })
        let later = try runInline(
            """
            name: clamp
            rocketmq: "4.9"
            consumers:
              c1: {}
            steps:
              - start c1
              - send m delay-level 40
              - wait 7201s
            expect:
              processed: [m]
            """)
        #expect(later.passed, "\(describe(later))")
    }

    @Test("A delayed message outlives a broker crash: the restarted broker's schedule delivers it when due")
    func delaySurvivesRestart() throws {
        let run = try runInline(
            """
            name: delay and crash
            rocketmq: "4.9"
            config: {flushDiskType: SYNC_FLUSH}
            consumers:
              c1: {}
            steps:
              - start c1
              - send m delay-level 2
              - wait until acknowledged m within 5s
              - crash B1
              - wait 1s
              - restart B1
              - wait 2s
              - send n
              - wait 10s
            expect:
              processed: [n, m]
              lost-write: none
            """)
        #expect(run.passed, "\(describe(run))")
    }

    @Test("'delay-level' outside RocketMQ is refused at its line")
    func delayLevelIsRocketMQs() throws {
        let text = """
            name: wrong broker
            rabbitmq: "4.1"
            nodes: 1
            steps:
              - publish m delay-level 3
            """
        guard case .failure(let problems) = ScenarioFile.parse(text, file: "x.yaml") else {
            Issue.record("a RocketMQ property was accepted in a RabbitMQ scenario")
            return
        }
        #expect(
            problems.problems.map(\.description) == [
                "x.yaml:5: 'delay-level' is a RocketMQ message property; this scenario is not RocketMQ"
            ])
    }

    @Test(
        "One send()'s retry to another broker keeps its msgId: a msgId dedupe processes the two copies once")
    func msgIdSurvivesInternalRetries() throws {
        func run(_ dedupe: String) throws -> ScenarioRun {
            try runInline(
                """
                name: retry another broker
                rocketmq: "4.9"
                nodes: 4
                config: {brokerRole: SYNC_MASTER, retryAnotherBrokerWhenNotStoreOK: true}
                consumers:
                  c1: {dedupe: \(dedupe)}
                steps:
                  - start c1
                  - wait 100ms
                  - crash B2
                  - wait 100ms
                  - send m
                  - wait 5s
                expect:
                  duplicate: [m]
                """)
        }
        let deduplicated = try run("msgid")
        #expect(deduplicated.passed, "\(describe(deduplicated))")
        #expect(deduplicated.report.messages(.processedTwice).isEmpty)
        let plain = try run("none")
        #expect(plain.report.messages(.processedTwice).count == 1)
    }
}
