import Experiments
import Simulation
import Testing

/// RabbitMQ resource alarms (RMQ-21), in scenarios the catalogue does not ship.
@Suite("RabbitMQ resource alarms")
struct RabbitMQAlarmTests {
    @Test("Publishes wait until the last alarm clears: a disk alarm still in force keeps them blocked")
    func lastAlarmReleases() throws {
        func script(clearDisk: Bool) -> String {
            """
            name: two alarms
            rabbitmq: "4.1"
            nodes: 1
            config: {confirm.select: true}
            consumers:
              c1: {}
            steps:
              - start c1
              - alarm B1 memory
              - alarm B1 disk
              - publish m
              - wait 1s
              - clear alarm B1 memory
            \(clearDisk ? "  - clear alarm B1 disk\n" : "")  - wait 2s
            expect:
              processed: \(clearDisk ? "[m]" : "[]")
            """
        }
        let blocked = try runInline(script(clearDisk: false))
        #expect(blocked.passed, "\(describe(blocked))")
        let released = try runInline(script(clearDisk: true))
        #expect(released.passed, "\(describe(released))")
    }

    @Test("An alarm on one node blocks publishing connections to every node")
    func clusterWide() throws {
        let run = try runInline(
            """
            name: cluster-wide
            rabbitmq: "4.1"
            nodes: 3
            config: {confirm.select: true, x-queue-type: quorum}
            consumers:
              c1: {}
            steps:
              - wait 3s
              - start c1
              - alarm B3 disk
              - publish m
              - wait 2s
            expect:
              processed: []
            """)
        #expect(run.passed, "\(describe(run))")
        let texts = run.world.trace.map { $0.note.text(run.world.name(of:)) }
        #expect(texts.contains { $0.contains("the publish of m waits unread") })
    }

    @Test("Alarm steps are RabbitMQ's, and a real run refuses them with the reason")
    func rabbitOnly() throws {
        let text = """
            name: wrong broker
            kafka: "3.7+"
            steps:
              - alarm B1 memory
            """
        guard case .failure(let problems) = ScenarioFile.parse(text, file: "x.yaml") else {
            Issue.record("an alarm was accepted in a Kafka scenario")
            return
        }
        #expect(
            problems.problems.map(\.description) == [
                "x.yaml:4: resource alarms are RabbitMQ's; this scenario is not RabbitMQ"
            ])
        guard
            case .failure(let bad) = ScenarioFile.parse(
                text.replacingOccurrences(of: "memory", with: "cpu"), file: "x.yaml")
        else {
            Issue.record("an unknown alarm was accepted")
            return
        }
        #expect(bad.problems.first?.reason == "write: alarm B1 memory (or disk), and clear alarm B1 memory")
    }
}
