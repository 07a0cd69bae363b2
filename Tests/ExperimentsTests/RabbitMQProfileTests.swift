import Experiments
import Simulation
import Testing

/// RabbitMQ's 3.x profile, as measured on a real 3.10.8 node (issue #15), and Ra's pre-vote.
@Suite("RabbitMQ 3.x profile and quorum pre-vote")
struct RabbitMQProfileTests {
    private func scenario(version: String, confirms: Bool, crashAt: String?) -> String {
        """
        name: classic store
        rabbitmq: "\(version)"
        nodes: 1
        config:
          durable: true
          delivery_mode: 2
          confirm.select: \(confirms)
        steps:
          - publish m
        """
            + (crashAt.map { "\n  - wait \($0)\n  - crash B1\n  - restart B1\n  - wait 1s" }
                ?? "\n  - wait 1s")
    }

    @Test(
        "3.x writes a persistent message only when it syncs it: a process killed 50 ms after the publish loses it; 4.x keeps it"
    )
    func processCrashBeforeSync() throws {
        let old = try runInline(
            scenario(version: "3.10", confirms: false, crashAt: "50ms") + "\nexpect:\n  queue q: []\n")
        let oldPassed = old.passed
        #expect(oldPassed, "\(describe(old))")
        let new = try runInline(
            scenario(version: "4.2", confirms: false, crashAt: "50ms") + "\nexpect:\n  queue q: [m]\n")
        let newPassed = new.passed
        #expect(newPassed, "\(describe(new))")
        // After the sync (about 200 ms), 3.x keeps it too.
        let synced = try runInline(
            scenario(version: "3.10", confirms: false, crashAt: "300ms") + "\nexpect:\n  queue q: [m]\n")
        let syncedPassed = synced.passed
        #expect(syncedPassed, "\(describe(synced))")
    }

    @Test("3.x syncs as soon as the queue is idle when a confirm waits; 4.x confirms at its sync interval")
    func confirmTiming() throws {
        func confirmedAt(_ version: String) throws -> Millis? {
            let run = try runInline(scenario(version: version, confirms: true, crashAt: nil))
            return run.world.history.sends.first.flatMap { send -> Millis? in
                if case .ok(_, _, let time) = send.outcome { return time }
                return nil
            }
        }
        let old = try #require(try confirmedAt("3.10"))
        let new = try #require(try confirmedAt("4.2"))
        #expect(old < 20, "3.10 confirmed at \(old) ms")
        #expect(new >= 200, "4.2 confirmed at \(new) ms")
    }

    @Test(
        "Pre-vote: a quorum member cut off for 10 s does not raise its term, so healing it disturbs no leader"
    )
    func preVoteKeepsTerm() throws {
        let run = try runInline(
            """
            name: pre-vote
            rabbitmq: "4.2"
            config: {x-queue-type: quorum, delivery_mode: 2, confirm.select: true}
            steps:
              - publish m1
              - wait until acknowledged m1 within 5s
              - isolate B3
              - wait 10s
              - heal
              - publish m2
              - wait 3s
            expect:
              acknowledged: [m1, m2]
            """)
        let runPassed = run.passed
        #expect(runPassed, "\(describe(run))")
        let elections = run.world.trace.filter {
            if case .becameLeader = $0.note { true } else { false }
        }
        #expect(elections.isEmpty, "\(elections.count) elections: the isolated member disturbed the leader")
    }
}
