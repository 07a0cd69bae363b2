import Experiments
import Simulation
import Testing

/// The partitioned-topic Kafka model (num.partitions, transactional.id): partitioning, group
/// rebalances, static membership and transactions, in scenarios the catalogue does not ship.
@Suite("Kafka partitioned topic")
struct KafkaTopicTests {
    private func texts(_ run: ScenarioRun) -> [String] {
        run.world.trace.map { $0.note.text(run.world.name(of:)) }
    }

    @Test("A key goes to murmur2(key) % partitions: user-4 to t-1 of 3")
    func keyedPartition() throws {
        let run = try runInline(
            """
            name: keyed
            config: {num.partitions: 3}
            steps:
              - produce m1 m2 key user-4
              - wait 1s
            expect:
              partition t-1: [m1, m2]
              partition t-0: []
            """)
        let runPassed = run.passed
        #expect(runPassed, "\(describe(run))")
    }

    @Test(
        "A static member that restarts within session.timeout.ms gets its partitions back with no rebalance")
    func staticMemberRestart() throws {
        func scenario(_ instance: String) -> String {
            """
            name: static
            config: {num.partitions: 2, auto.offset.reset: earliest}
            consumers:
              c1: {commit: after-processing\(instance)}
              c2: {commit: after-processing}
            steps:
              - start c1
              - start c2
              - wait 8s
              - stop c1
              - wait 5s
              - start c1
              - wait 10s
            """
        }
        let staticRun = try runInline(
            scenario(", group.instance.id: worker-1") + "\nexpect:\n  rebalances: 1\n")
        let staticRunPassed = staticRun.passed
        #expect(staticRunPassed, "\(describe(staticRun))")
        #expect(texts(staticRun).contains { $0.contains("rejoins as static member worker-1") })
        // A dynamic member leaves on close and joins as a new member: two more rebalances.
        let dynamicRun = try runInline(scenario("") + "\nexpect:\n  rebalances: 3\n")
        let dynamicRunPassed = dynamicRun.passed
        #expect(dynamicRunPassed, "\(describe(dynamicRun))")
    }

    @Test(
        "A crashed dynamic member is removed only when session.timeout.ms expires; its partition waits meanwhile"
    )
    func sessionTimeoutAfterCrash() throws {
        let run = try runInline(
            """
            name: crash
            config: {num.partitions: 2, auto.offset.reset: earliest, session.timeout.ms: 10000}
            consumers:
              c1: {commit: after-processing}
              c2: {commit: after-processing}
            steps:
              - start c1
              - start c2
              - wait 5s
              - crash c2
              - produce 20 keys 4
              - wait 5s
            settle: 0
            expect:
              processed c1: 5
            """)
        let runPassed = run.passed
        #expect(runPassed, "\(describe(run))")
        let later = try runInline(
            """
            name: crash
            config: {num.partitions: 2, auto.offset.reset: earliest, session.timeout.ms: 10000}
            consumers:
              c1: {commit: after-processing}
              c2: {commit: after-processing}
            steps:
              - start c1
              - start c2
              - wait 5s
              - crash c2
              - produce 20 keys 4
              - wait 15s
            expect:
              processed c1: 20
              rebalances: 2
            """)
        let laterPassed = later.passed
        #expect(laterPassed, "\(describe(later))")
        #expect(texts(later).contains { $0.contains("c2 leaves the group (session.timeout.ms expired)") })
    }

    @Test(
        "The coordinator aborts a transaction left open past transaction.timeout.ms and fences the producer")
    func transactionTimeout() throws {
        let run = try runInline(
            """
            name: timeout
            config:
              num.partitions: 1
              transactional.id: tx
              transaction.timeout.ms: 5000
              isolation.level: read_committed
              auto.offset.reset: earliest
            consumers:
              c1: {commit: after-processing}
            steps:
              - start c1
              - wait 3500ms
              - begin p1
              - produce m1
              - wait 20s
              - produce m2
              - commit p1
              - wait 2s
            expect:
              processed: none
              failed with ProducerFencedException: [m2]
            """)
        let runPassed = run.passed
        #expect(runPassed, "\(describe(run))")
        #expect(texts(run).contains { $0.contains("aborts tx's transaction after transaction.timeout.ms") })
    }

    @Test("A send outside a transaction fails on a transactional producer")
    func sendOutsideTransaction() throws {
        let run = try runInline(
            """
            name: outside
            config: {transactional.id: tx}
            steps:
              - produce m1
              - wait 1s
            expect:
              failed with IllegalStateException: [m1]
            """)
        let runPassed = run.passed
        #expect(runPassed, "\(describe(run))")
    }

    @Test(
        "Size retention deletes whole old segments while the rest stays at least retention.bytes, never the active one"
    )
    func sizeRetention() throws {
        let run = try runInline(
            """
            name: size
            config:
              num.partitions: 1
              retention.bytes: 1500
              segment.bytes: 500
              log.initial.task.delay.ms: 1000
            steps:
              - produce m1..m23
              - wait 2s
            expect:
              partition t-0: [m6, m7, m8, m9, m10, m11, m12, m13, m14, m15, m16, m17, m18, m19, m20, m21, m22, m23]
              lost-write: none
            """)
        let runPassed = run.passed
        #expect(runPassed, "\(describe(run))")
        #expect(texts(run).contains { $0.contains("the log now starts at offset 5") })
    }

    @Test("Time retention rolls and deletes an active segment whose every record has expired")
    func expiredActiveSegment() throws {
        let run = try runInline(
            """
            name: roll
            config:
              num.partitions: 1
              retention.ms: 5000
              log.initial.task.delay.ms: 10000
            steps:
              - produce m1..m3
              - wait 11s
              - produce m4
              - wait 1s
            expect:
              partition t-0: [m4]
            """)
        let runPassed = run.passed
        #expect(runPassed, "\(describe(run))")
        #expect(
            texts(run).contains { $0.contains("retention deletes m1-m3; the log now starts at offset 3") })
    }

    @Test("A compacted topic refuses a record without a key (INVALID_RECORD)")
    func compactedNeedsKeys() throws {
        let run = try runInline(
            """
            name: keyless
            config: {num.partitions: 1, cleanup.policy: compact}
            steps:
              - produce m1
              - produce m2 key user-1
              - wait 1s
            expect:
              failed with INVALID_RECORD: [m1]
              partition t-0: [m2]
            """)
        let runPassed = run.passed
        #expect(runPassed, "\(describe(run))")
    }

    @Test(
        "The cleaner waits until the dirty share is above min.cleanable.dirty.ratio, and never touches the active segment"
    )
    func cleanerEligibility() throws {
        func scenario(_ ratio: String) -> String {
            """
            name: ratio
            config:
              num.partitions: 1
              cleanup.policy: compact
              segment.bytes: 300
              log.cleaner.backoff.ms: 1000
              min.cleanable.dirty.ratio: \(ratio)
            steps:
              - produce a1 key k
              - produce a2 key k
              - produce a3 key k
              - produce a4 key k
              - wait 2s
            """
        }
        // Segments [a1 a2 a3] [a4]: the active one holds a4, so a3 is the last of k in range.
        let eager = try runInline(scenario("0.5") + "\nexpect:\n  partition t-0: [a3, a4]\n")
        let eagerPassed = eager.passed
        #expect(eagerPassed, "\(describe(eager))")
        // A ratio of 1 is never exceeded: nothing is cleaned.
        let never = try runInline(scenario("1") + "\nexpect:\n  partition t-0: [a1, a2, a3, a4]\n")
        let neverPassed = never.passed
        #expect(neverPassed, "\(describe(never))")
    }

    @Test(
        "commitTransaction() and abortTransaction() block the application: what it does next waits for them")
    func transactionEndsBlock() throws {
        let run = try runInline(
            """
            name: abort then begin
            config: {num.partitions: 2, transactional.id: tx, isolation.level: read_committed, auto.offset.reset: earliest}
            consumers:
              c1: {commit: after-processing}
            settle: 2s
            steps:
              - start c1
              - wait 3500ms
              - begin p1
              - wait 100ms
              - produce m1 m2 key order-1
              - abort p1
              - begin p1
              - produce m3 key order-1
              - commit p1
              - produce m4
              - wait 2s
            expect:
              processed: [m3]
              failed with IllegalStateException: [m4]
            """)
        let runPassed = run.passed
        #expect(runPassed, "\(describe(run))")
    }

    @Test(
        "A failed send makes commitTransaction() throw: nothing of the transaction commits until it is aborted"
    )
    func abortableError() throws {
        let run = try runInline(
            """
            name: abortable
            config: {num.partitions: 1, transactional.id: tx, cleanup.policy: compact, isolation.level: read_committed, auto.offset.reset: earliest}
            consumers:
              c1: {commit: after-processing}
            settle: 2s
            steps:
              - start c1
              - wait 3500ms
              - begin p1
              - wait 100ms
              - produce a1 key user-1
              - wait 100ms
              - produce b1
              - wait 100ms
              - commit p1
              - wait 100ms
              - abort p1
              - wait 1s
            expect:
              processed: none
              raised cannot commit after a failed send: 1
            """)
        let runPassed = run.passed
        #expect(runPassed, "\(describe(run))")
    }

    @Test("An empty group waits group.initial.rebalance.delay.ms, and again while members keep joining")
    func initialDelayExtends() throws {
        let run = try runInline(
            """
            name: initial delay
            config: {num.partitions: 2, auto.offset.reset: latest}
            consumers:
              c1: {commit: after-processing}
              c2: {commit: after-processing}
            settle: 0
            steps:
              - start c1
              - start c2
              - wait 4s
              - produce m1 m2 keys 2
              - wait 5s
            expect:
              processed: none
              rebalances: 1
            """)
        let runPassed = run.passed
        #expect(runPassed, "\(describe(run))")
    }

    @Test("A member leaving while a rebalance waits for it lets the rebalance complete at once")
    func leaveCompletesRebalance() throws {
        let run = try runInline(
            """
            name: leave during rebalance
            config: {num.partitions: 2, auto.offset.reset: earliest, sim.processing.ms: 20, max.poll.records: 500}
            consumers:
              c1: {commit: after-processing}
              c2: {commit: after-processing}
              c3: {commit: after-processing}
            settle: 0
            steps:
              - start c1
              - start c2
              - wait 8s
              - produce 400 key user-3
              - wait 100ms
              - start c3
              - wait 3500ms
              - stop c2
              - wait 20s
            expect:
              rebalances: 2
            """)
        let runPassed = run.passed
        #expect(runPassed, "\(describe(run))")
        let last = run.world.trace.last { if case .topic(.assigned) = $0.note { true } else { false } }
        #expect((last?.time ?? .max) < 20_000, "the last assignment came at \(last?.time ?? -1) ms")
    }

    @Test("A second instance with the same group.instance.id takes the partitions and fences the first")
    func duplicateInstanceFenced() throws {
        let run = try runInline(
            """
            name: dup instance
            config: {num.partitions: 2, auto.offset.reset: earliest}
            consumers:
              c1: {commit: after-processing, group.instance.id: h1}
              c2: {commit: after-processing, group.instance.id: h1}
            settle: 0
            steps:
              - start c1
              - wait 7s
              - start c2
              - wait 5s
              - produce m1..m3 keys 3
              - wait 5s
            expect:
              processed c2: [m1, m2, m3]
              raised FencedInstanceIdException: 1
              rebalances: 1
            """)
        let runPassed = run.passed
        #expect(runPassed, "\(describe(run))")
    }

    @Test(
        "A static member past max.poll.interval.ms loses its generation: its commit fails, and it rejoins with no rebalance"
    )
    func staticMemberPollTimeout() throws {
        let run = try runInline(
            """
            name: static poll timeout
            config: {num.partitions: 2, auto.offset.reset: earliest, max.poll.interval.ms: 2000, session.timeout.ms: 30000, max.poll.records: 100, sim.processing.ms: 40}
            consumers:
              c1: {commit: after-processing, group.instance.id: s1}
              c2: {commit: after-processing, group.instance.id: s2}
            settle: 0
            steps:
              - start c1
              - start c2
              - wait 7s
              - produce 100 key user-1
              - wait 15s
            expect:
              rebalances: 1
              raised CommitFailedException: 3
            """)
        let runPassed = run.passed
        #expect(runPassed, "\(describe(run))")
        #expect(texts(run).contains { $0.contains("c1 rejoins as static member s1") })
    }

    @Test(
        "The parser refuses what the partitioned model does not run, and partitioned steps elsewhere",
        arguments: [
            ("config: {num.partitions: 3}\nsteps:\n  - crash leader", "healthy cluster"),
            ("config: {num.partitions: 3}\nsteps:\n  - wait until isr is {1, 2}", "healthy cluster"),
            ("steps:\n  - add partitions 4", "set num.partitions"),
            ("steps:\n  - produce m key a", "set num.partitions"),
            ("config: {num.partitions: 3}\nsteps:\n  - begin p1", "set transactional.id"),
            ("rabbitmq: \"4.2\"\nsteps:\n  - produce m key a", "not Kafka"),
            ("config: {cleanup.policy: compact}\nsteps:\n  - produce m key a", "set num.partitions too"),
            ("config: {num.partitions: 1}\nsteps:\n  - produce m tombstone", "give it one"),
        ])
    func refusals(body: String, reason: String) {
        switch ScenarioFile.parse("name: refused\n" + body, file: "x.yaml") {
        case .success: Issue.record("accepted: \(body)")
        case .failure(let problems):
            #expect(problems.description.contains(reason), "\(problems.description)")
        }
    }
}
