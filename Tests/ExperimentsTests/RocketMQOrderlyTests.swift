import Experiments
import Simulation
import Testing

/// Orderly consumption (RKT-19) and per-message listener failures, in scenarios the catalogue
/// does not ship.
@Suite("RocketMQ orderly consumption")
struct RocketMQOrderlyTests {
    @Test(
        "The queue waits suspendCurrentQueueTimeMillis before the retry, and nothing behind it runs meanwhile"
    )
    func suspension() throws {
        let run = try runInline(
            """
            name: suspension
            rocketmq: "4.9"
            settle: 0
            config: {suspendCurrentQueueTimeMillis: 5000}
            consumers:
              c1: {listener: orderly, settle: SUSPEND_CURRENT_QUEUE_A_MOMENT, for: [m1], times: 2}
            steps:
              - start c1
              - send m1 m2
              - wait 9s
            expect:
              processed: []
            """)
        #expect(run.passed, "\(describe(run))")
        let later = try runInline(
            """
            name: suspension
            rocketmq: "4.9"
            settle: 0
            config: {suspendCurrentQueueTimeMillis: 5000}
            consumers:
              c1: {listener: orderly, settle: SUSPEND_CURRENT_QUEUE_A_MOMENT, for: [m1], times: 2}
            steps:
              - start c1
              - send m1 m2
              - wait 11s
            expect:
              processed: [m1, m2]
            """)
        #expect(later.passed, "\(describe(later))")
    }

    @Test("'times' counts deliveries of each named message: a concurrent retry carries its reconsumeTimes")
    func timesAcrossBrokerRetries() throws {
        // Two failures: the first retry (10 s) fails too, the second (30 s later) succeeds.
        let run = try runInline(
            """
            name: two failures
            rocketmq: "4.9"
            settle: 0
            consumers:
              c1: {settle: RECONSUME_LATER, for: m1, times: 2}
            steps:
              - start c1
              - send m1
              - wait 39s
            expect:
              processed: []
            """)
        #expect(run.passed, "\(describe(run))")
        let texts = run.world.trace.map { $0.note.text(run.world.name(of:)) }
        #expect(texts.filter { $0.contains("RECONSUME_LATER for m1") }.count == 2)
    }

    @Test("'times' must be a positive count, at the consumer's line")
    func badTimes() {
        let text = """
            name: bad times
            rocketmq: "4.9"
            consumers:
              c1: {settle: RECONSUME_LATER, times: 0}
            steps:
              - send m
            """
        guard case .failure(let problems) = ScenarioFile.parse(text, file: "x.yaml") else {
            Issue.record("times: 0 was accepted")
            return
        }
        #expect(
            problems.problems.map(\.description) == [
                "x.yaml:4: 'times' is how many deliveries fail before one succeeds, 1 to 1000"
            ])
    }

    @Test("Each listener interface returns its own status: a mismatch is refused")
    func statusMatchesListener() {
        for (consumer, reason) in [
            (
                "{listener: orderly, settle: RECONSUME_LATER}",
                "an orderly listener fails with SUSPEND_CURRENT_QUEUE_A_MOMENT, not RECONSUME_LATER"
            ),
            (
                "{settle: SUSPEND_CURRENT_QUEUE_A_MOMENT}",
                "SUSPEND_CURRENT_QUEUE_A_MOMENT is an orderly listener's: add listener: orderly, or use RECONSUME_LATER"
            ),
        ] {
            let text = """
                name: mismatch
                rocketmq: "4.9"
                consumers:
                  c1: \(consumer)
                steps:
                  - send m
                """
            guard case .failure(let problems) = ScenarioFile.parse(text, file: "x.yaml") else {
                Issue.record("\(consumer) was accepted")
                continue
            }
            #expect(problems.problems.map(\.description) == ["x.yaml:4: \(reason)"])
        }
    }
}
