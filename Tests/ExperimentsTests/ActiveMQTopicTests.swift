import Experiments
import Simulation
import Testing

/// Topics with durable and non-durable subscribers (AMQ-10) and per-message listener outcomes,
/// in scenarios the catalogue does not ship.
@Suite("ActiveMQ topics and acknowledge modes")
struct ActiveMQTopicTests {
    @Test("Each subscriber of a topic gets its own copy: processed once by each is not processed twice")
    func everySubscriberGetsACopy() throws {
        let run = try runInline(
            """
            name: two subscribers
            activemq: "5.18"
            config: {sim.destination: topic}
            consumers:
              c1: {subscription: durable}
              c2: {subscription: non-durable}
            steps:
              - start c1
              - start c2
              - wait 100ms
              - send m1 m2
              - wait 1s
            expect:
              processed c1: [m1, m2]
              processed c2: [m1, m2]
              processed-twice: none
              duplicate: none
              lost-write: none
            """)
        #expect(run.passed, "\(describe(run))")
    }

    @Test("A non-durable subscriber's prefetched, unprocessed messages end with its connection")
    func nonDurablePrefetchedAreGone() throws {
        // m2 waits in c1's prefetch buffer while m1 is processed (2 s); c1 stops at 1 s. A
        // queue would redeliver m2; a non-durable subscription ends and m2 with it.
        let run = try runInline(
            """
            name: non-durable stop
            activemq: "5.18"
            config: {sim.destination: topic, sim.processing.ms: 2000}
            consumers:
              c1: {}
            steps:
              - start c1
              - wait 100ms
              - send m1 m2
              - wait 1s
              - stop c1
              - wait 100ms
              - start c1
              - wait 5s
            expect:
              processed c1: []
              lost-write: [m1, m2]
            """)
        #expect(run.passed, "\(describe(run))")
    }

    @Test("A durable subscriber's unacked messages come back on reconnect, redelivered, in order")
    func durableRedelivers() throws {
        let run = try runInline(
            """
            name: durable stop
            activemq: "5.18"
            config: {sim.destination: topic, sim.processing.ms: 2000}
            consumers:
              c1: {subscription: durable}
            steps:
              - start c1
              - wait 100ms
              - send m1 m2
              - wait 1s
              - stop c1
              - wait 100ms
              - start c1
              - wait 6s
            expect:
              deliveries c1: [m1, m1, m2]
              processed c1: [m1, m2]
              lost-write: none
            """)
        #expect(run.passed, "\(describe(run))")
        let texts = run.world.trace.map { $0.note.text(run.world.name(of:)) }
        #expect(texts.contains { $0.contains("m2 to c1 (tag 2, redelivered, delivery-count 2)") })
    }

    @Test("A persistent message on a topic with no durable subscription is not stored: a crash loses it")
    func noDurableSubscriptionNoStore() throws {
        let run = try runInline(
            """
            name: not stored
            activemq: "5.18"
            config: {sim.destination: topic, sim.processing.ms: 2000}
            consumers:
              c1: {}
            steps:
              - start c1
              - wait 100ms
              - send m1 m2
              - wait until acknowledged m2 within 5s
              - crash B1
              - restart B1
              - wait 5s
            expect:
              acknowledged: [m1, m2]
              lost-write: [m1, m2]
            """)
        #expect(run.passed, "\(describe(run))")
    }

    @Test(
        "A non-persistent message for an away durable subscriber is kept in memory: delivered on reconnect, gone after a restart"
    )
    func nonPersistentForAwayDurable() throws {
        func script(restart: Bool) -> String {
            """
            name: non-persistent
            activemq: "5.18"
            config: {sim.destination: topic, deliveryMode: NON_PERSISTENT}
            consumers:
              c1: {subscription: durable}
            steps:
              - start c1
              - wait 100ms
              - stop c1
              - wait 100ms
              - send m
              - wait 100ms
            \(restart ? "  - crash B1\n  - restart B1\n" : "")  - start c1
              - wait 1s
            expect:
              processed c1: \(restart ? "[]" : "[m]")
            """
        }
        let kept = try runInline(script(restart: false))
        #expect(kept.passed, "\(describe(kept))")
        let lost = try runInline(script(restart: true))
        #expect(lost.passed, "\(describe(lost))")
    }

    @Test("`for` limits the listener's outcome to the named messages; the rest return normally")
    func listenerForSomeMessages() throws {
        let run = try runInline(
            """
            name: for
            activemq: "5.18"
            consumers:
              c1: {settle: throws, for: [m2]}
            config: {maximumRedeliveries: 1, redeliveryDelay: 100, initialRedeliveryDelay: 100}
            steps:
              - start c1
              - wait 100ms
              - send m1 m2 m3
              - wait 2s
            expect:
              deliveries: [m1, m2, m2, m3]
              processed: [m1, m3]
              queue dlq: [m2]
            """)
        #expect(run.passed, "\(describe(run))")
    }

    @Test("A durable subscription on a queue is refused, at the consumer's line")
    func durableNeedsATopic() throws {
        let text = """
            name: durable on a queue
            activemq: "5.18"
            consumers:
              c1: {subscription: durable}
            steps:
              - send m
            """
        guard case .failure(let problems) = ScenarioFile.parse(text, file: "x.yaml") else {
            Issue.record("a durable subscription on a queue was accepted")
            return
        }
        #expect(
            problems.problems.map(\.description) == [
                "x.yaml:4: a durable subscription is a topic's: set sim.destination: topic"
            ])
    }
}
