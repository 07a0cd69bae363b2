// Theory of operation
//
// A consumer of the partitioned topic is an application loop around poll(), as in the
// one-partition model (commit policies K-CON-02/03, sync processing), with a group membership:
// it heartbeats every heartbeat.interval.ms, learns of a rebalance from the answer, and rejoins
// at its next poll(), after the batch in hand. Under an eager assignor it first revokes all its
// partitions (onPartitionsRevoked; with auto-commit it commits its positions first, K-GRP-03) and
// consumes nothing until the new assignment arrives. Under cooperative-sticky it keeps consuming
// while it rejoins, and after the assignment revokes only the partitions taken from it, then
// rejoins once more so that they reach their new owner (K-GRP-04). A member that was dropped
// (UNKNOWN_MEMBER_ID, ILLEGAL_GENERATION) loses its partitions without committing
// (onPartitionsLost, K-CON-07). A static member (group.instance.id) never sends LeaveGroup
// (K-GRP-10). Newly assigned partitions start at the group's committed offset, or at
// auto.offset.reset without one (K-CON-12).

struct TopicConsumerSpec: Equatable, Sendable {
    var commit: CommitPolicy
    /// group.instance.id: set, the consumer is a static member.
    var instance: String?
}

struct TopicConsumer: Sendable {
    typealias Step = NodeStep<TopicPayload, TopicTimer>

    struct PendingAssignment: Sendable {
        var generation: Int
        var partitions: [Int]
        var committed: [Int: Int]
        var leader: Bool
    }

    enum Phase: Sendable {
        case stopped
        /// Waiting for an assignment (eager: holding no partitions).
        case joining
        case idle
        case fetching(request: Int)
        case processing(records: [FetchedRecord], next: Int)
        case committing(offsets: [Int: Int], thenProcess: [FetchedRecord])
    }

    let index: Int
    let config: KafkaConfig
    let spec: TopicConsumerSpec
    /// This process's member id: a restart is a new member.
    var member: Int
    var phase = Phase.stopped
    var generation = -1
    var assignment: [Int] = []
    var positions: [Int: Int] = [:]
    var rejoinNeeded = false
    /// A cooperative member's JoinGroup is out while it keeps consuming.
    var joinInFlight = false
    var leftGroup = false
    var lastPoll: Millis = 0
    var lastAutoCommit: Millis = 0
    /// Where the next fetch starts, so every partition gets its turn.
    var rotation = 0
    var knownPartitions: Int
    var lastMetadata: Millis = 0
    var isLeader = false
    var revokedCount = 0
    var requests = 0
    var pendingAssignment: PendingAssignment?
    /// The commit in flight, for its request timeout.
    var commitRequest = 0
    /// Fenced by a newer instance with the same group.instance.id: it does nothing more.
    var fenced = false
    /// Member ids this process dropped after max.poll.interval.ms (a static member's new ids).
    var memberResets = 0
    /// The generation the last commit was sent with.
    var commitGeneration = -1
    /// A commit refused during a rebalance is sent again after it.
    var recommit = false
    var polled = 0
    var processed = 0

    init(index: Int, incarnation: Int, config: KafkaConfig, spec: TopicConsumerSpec, partitions: Int) {
        self.index = index
        self.member = index * 1_000 + incarnation
        self.config = config
        self.spec = spec
        knownPartitions = partitions
    }
}

extension TopicConsumer {
    private var cooperative: Bool { config.assignmentStrategy.isCooperative }

    mutating func start(_ step: inout Step, partitions: Int) {
        knownPartitions = partitions
        lastMetadata = step.now
        lastPoll = step.now
        lastAutoCommit = step.now
        sendJoin(&step)
        phase = .joining
        step.setTimer(.heartbeat, after: config.heartbeatIntervalMs)
    }

    /// A clean close(): auto-commit commits the positions; a dynamic member leaves the group, a
    /// static one does not (K-GRP-10).
    mutating func stop(_ step: inout Step) {
        if spec.commit == .auto, !positions.isEmpty {
            step.send(
                .commit(
                    consumer: index, member: member, generation: generation,
                    offsets: positions.filter { $0.value >= 0 }), to: TopicCluster.node)
        }
        if spec.instance == nil {
            step.send(.leave(consumer: index, member: member), to: TopicCluster.node)
        }
    }

    private mutating func sendJoin(_ step: inout Step) {
        joinInFlight = true
        rejoinNeeded = false
        step.send(
            .join(
                consumer: index, member: member, instance: spec.instance, owned: assignment,
                partitions: knownPartitions),
            to: TopicCluster.node)
    }

    mutating func receive(_ payload: TopicPayload, partitions: Int, _ step: inout Step) {
        switch payload {
        case .assignment(let forMember, let generation, let partitions, let committed, let leader):
            guard forMember == member else { return }
            // The rebalance completes inside poll(): a member busy with a batch applies it at its
            // next poll, one blocked in poll at once.
            // The generation is the network thread's, at once (heartbeats and commits carry it);
            // the callbacks and the partitions wait for poll().
            self.generation = generation
            joinInFlight = false
            pendingAssignment = PendingAssignment(
                generation: generation, partitions: partitions, committed: committed, leader: leader)
            switch phase {
            case .joining, .idle, .fetching: poll(&step)
            default: break
            }
        case .heartbeatResponse(let forMember, _, .fencedInstanceID?) where forMember == member:
            // FencedInstanceIdException is fatal: a newer instance has this group.instance.id.
            step.history.raised.append((.consumer(index), "FencedInstanceIdException"))
            step.note(
                .topic(
                    .left(
                        consumer: index,
                        reason: "FencedInstanceIdException: another instance took its group.instance.id")))
            assignment = []
            positions = [:]
            phase = .stopped
            leftGroup = true
            fenced = true
            step.cancelTimers()
        case .heartbeatResponse(let forMember, let forGeneration, let error):
            guard !fenced, forMember == member, forGeneration == generation, let error else { return }
            switch error {
            case .fencedInstanceID: break
            case .rebalanceInProgress:
                rejoinNeeded = true
            case .unknownMember, .illegalGeneration:
                // onPartitionsLost: no commit, the partitions may have moved already (K-CON-07).
                if !assignment.isEmpty { revoke(assignment, lost: true, &step) }
                assignment = []
                positions = [:]
                rejoinNeeded = true
                joinInFlight = false
            }
            if case .idle = phase { poll(&step) }
        case .fetchResponse(let request, let records, let next, let outOfRange):
            guard case .fetching(let expected) = phase, expected == request else { return }
            for reset in outOfRange where assignment.contains(reset.partition) {
                // Handled inside the client by auto.offset.reset; an application sees it only as
                // the jump (OffsetOutOfRangeException with none, which the parser refuses here).
                step.history.raised.append((.consumer(index), "OFFSET_OUT_OF_RANGE"))
                step.note(
                    .topic(
                        .outOfRange(
                            consumer: index, partition: reset.partition, from: reset.from, to: reset.to)))
            }
            // Records of partitions revoked meanwhile are dropped, as the fetcher drops them.
            let kept = records.filter { assignment.contains($0.partition) && positions[$0.partition] != nil }
            for (partition, offset) in next where assignment.contains(partition) {
                positions[partition] = offset
            }
            guard !kept.isEmpty else {
                poll(&step)
                return
            }
            polled += kept.count
            for record in kept {
                step.history.polls.append(
                    History.Delivery(
                        consumer: index, message: record.message, offset: Offset(record.offset),
                        time: step.now))
            }
            step.note(.topic(.polled(consumer: index, records: kept.map(\.message))))
            if spec.commit == .beforeProcessing {
                commit(thenProcess: kept, &step)
            } else {
                phase = .processing(records: kept, next: 0)
                step.setTimer(.consumerWake, after: config.processingMs)
            }
        case .commitResponse(let ok, let offsets):
            // A commit refused while this member is rejoining is RebalanceInProgressException:
            // it is still in the group; poll() completes the rebalance and it commits again what
            // it still owns (K-CON-06, client 2.5+). Otherwise it is out: CommitFailedException.
            let rejoining = joinInFlight || pendingAssignment != nil || commitGeneration != generation
            let error =
                ok ? nil : rejoining ? "RebalanceInProgressException" : "CommitFailedException"
            step.note(.topic(.committed(consumer: index, offsets: Self.describe(offsets), error: error)))
            if let error { step.history.raised.append((.consumer(index), error)) }
            guard case .committing(let expected, let thenProcess) = phase, expected == offsets else { return }
            if !ok && rejoining {
                recommit = true
                goOn(processing: thenProcess, &step)
                return
            }
            if !ok {
                // CommitFailedException: the member is out of the group; rejoin.
                if !assignment.isEmpty { revoke(assignment, lost: true, &step) }
                assignment = []
                positions = [:]
                rejoinNeeded = true
                poll(&step)
                return
            }
            goOn(processing: thenProcess, &step)
        default:
            preconditionFailure("a consumer does not handle \(payload.kind.rawValue)")
        }
    }

    mutating func fire(_ timer: TopicTimer, partitions: Int, _ step: inout Step) {
        switch timer {
        case .heartbeat:
            if !leftGroup, step.now - lastPoll > config.maxPollIntervalMs {
                // The heartbeat thread leaves for an application that stopped polling (K-CON-08).
                // Either way the client forgets its generation and member id, so a later commit
                // fails; a static member sends no LeaveGroup, and rejoins under its instance id
                // with a new member id (K-GRP-10).
                leftGroup = true
                generation = -1
                if spec.instance == nil {
                    step.send(.leave(consumer: index, member: member), to: TopicCluster.node)
                    step.note(.topic(.left(consumer: index, reason: "max.poll.interval.ms exceeded")))
                } else {
                    memberResets += 1
                    member = -(index * 1_000 + memberResets)
                }
            } else if !leftGroup, !joinInFlight {
                // While a JoinGroup is out, the pending join keeps the member alive.
                step.send(
                    .heartbeat(consumer: index, member: member, generation: generation), to: TopicCluster.node
                )
            }
            if step.now - lastMetadata >= config.metadataMaxAgeMs {
                lastMetadata = step.now
                if partitions != knownPartitions {
                    knownPartitions = partitions
                    step.note(.topic(.metadata(node: .consumer(index), partitions: partitions)))
                    // The group leader sees the partition count change and rebalances (K-PART-05).
                    if isLeader { rejoinNeeded = true }
                }
            }
            step.setTimer(.heartbeat, after: config.heartbeatIntervalMs)
        case .consumerWake:
            guard case .processing(let records, let next) = phase else { return }
            guard next < records.count else {
                if spec.commit == .afterProcessing {
                    commit(thenProcess: [], &step)
                } else {
                    poll(&step)
                }
                return
            }
            let record = records[next]
            processed += 1
            step.history.processed.append(
                History.Delivery(
                    consumer: index, message: record.message, offset: Offset(record.offset), time: step.now))
            step.note(
                .topic(
                    .processed(
                        consumer: index, message: record.message, partition: record.partition,
                        offset: record.offset)))
            phase = .processing(records: records, next: next + 1)
            step.setTimer(.consumerWake, after: next + 1 < records.count ? config.processingMs : 0)
        case .pollAgain:
            if case .idle = phase { poll(&step) }
        case .requestTimeout(let request):
            // No answer within request.timeout.ms: the client gives up on the request, and the
            // application's loop goes on (a fetch is sent again; commitSync retries).
            switch phase {
            case .fetching(let pending) where pending == request:
                poll(&step)
            case .committing(_, let thenProcess) where commitRequest == request:
                commit(thenProcess: thenProcess, &step)
            default: break
            }
        default:
            preconditionFailure("a consumer has no timer \(timer)")
        }
    }

    private mutating func revoke(_ partitions: [Int], lost: Bool, _ step: inout Step) {
        revokedCount += partitions.count
        step.note(.topic(.revoked(consumer: index, partitions: partitions, lost: lost)))
        for partition in partitions { positions[partition] = nil }
    }

    /// After a commit: process what was polled before it (before-processing), or poll again.
    private mutating func goOn(processing records: [FetchedRecord], _ step: inout Step) {
        if records.isEmpty {
            poll(&step)
        } else {
            phase = .processing(records: records, next: 0)
            step.setTimer(.consumerWake, after: config.processingMs)
        }
    }

    private mutating func commit(thenProcess: [FetchedRecord], _ step: inout Step) {
        let offsets = positions.filter { assignment.contains($0.key) && $0.value >= 0 }
        if joinInFlight {
            // The member's own JoinGroup is out: commitSync throws RebalanceInProgressException
            // at once (K-CON-06); the application polls, and commits again after the rebalance.
            let error = "RebalanceInProgressException"
            step.note(.topic(.committed(consumer: index, offsets: Self.describe(offsets), error: error)))
            step.history.raised.append((.consumer(index), error))
            recommit = true
            goOn(processing: thenProcess, &step)
            return
        }
        phase = .committing(offsets: offsets, thenProcess: thenProcess)
        commitGeneration = generation
        requests += 1
        commitRequest = index * 10_000_000 + requests
        step.setTimer(.requestTimeout(request: commitRequest), after: config.requestTimeoutMs)
        step.send(
            .commit(consumer: index, member: member, generation: generation, offsets: offsets),
            to: TopicCluster.node)
    }

    private mutating func apply(_ pending: PendingAssignment, _ step: inout Step) {
        leftGroup = false
        isLeader = pending.leader
        let partitions = pending.partitions
        let revoked = assignment.filter { !partitions.contains($0) }
        let added = partitions.filter { !assignment.contains($0) }
        if !revoked.isEmpty {
            // Cooperative: only the partitions taken away, after the rebalance; then rejoin so
            // that their new owner gets them (K-GRP-04).
            revoke(revoked, lost: false, &step)
            rejoinNeeded = true
        }
        assignment = partitions
        for partition in added {
            if let offset = pending.committed[partition] {
                positions[partition] = offset
            } else {
                // -2: the log start (earliest), -1: the end (latest), both resolved by the broker
                // when the first fetch arrives (ListOffsets).
                let start = config.autoOffsetReset == "earliest" ? -2 : -1
                positions[partition] = start
                step.note(
                    .topic(
                        .reset(
                            consumer: index, partition: partition, offset: start,
                            policy: config.autoOffsetReset)))
            }
        }
        step.note(
            .topic(.assigned(consumer: index, generation: generation, partitions: partitions, added: added)))
    }

    /// One turn of the application's loop.
    mutating func poll(_ step: inout Step) {
        lastPoll = step.now
        if let pending = pendingAssignment {
            pendingAssignment = nil
            apply(pending, &step)
        }
        if recommit, !joinInFlight, pendingAssignment == nil {
            recommit = false
            if assignment.contains(where: { (positions[$0] ?? -1) >= 0 }) {
                commit(thenProcess: [], &step)
                return
            }
        }
        if leftGroup {
            // A member that left (max.poll.interval.ms) rejoins on its next poll.
            leftGroup = false
            if !assignment.isEmpty { revoke(assignment, lost: true, &step) }
            assignment = []
            positions = [:]
            rejoinNeeded = true
        }
        let autoCommit = spec.commit == .auto
        if rejoinNeeded && !joinInFlight {
            // onJoinPrepare: auto-commit commits the positions before rejoining (K-GRP-03).
            if autoCommit, !positions.isEmpty {
                let offsets = positions.filter { $0.value >= 0 }
                step.send(
                    .commit(consumer: index, member: member, generation: generation, offsets: offsets),
                    to: TopicCluster.node)
                step.note(.topic(.committed(consumer: index, offsets: Self.describe(offsets), error: nil)))
            }
            if !cooperative {
                // Eager: give everything up before rejoining (K-GRP-03).
                let owned = assignment
                if !owned.isEmpty { revoke(owned, lost: false, &step) }
                positions = [:]
                sendJoin(&step)
                // The sticky assignor still hears what the member owned (in its user data).
                assignment = []
                phase = .joining
                return
            }
            sendJoin(&step)
        }
        if autoCommit, step.now - lastAutoCommit >= config.autoCommitIntervalMs, !positions.isEmpty {
            lastAutoCommit = step.now
            let offsets = positions.filter { $0.value >= 0 }
            step.send(
                .commit(consumer: index, member: member, generation: generation, offsets: offsets),
                to: TopicCluster.node)
            step.note(.topic(.committed(consumer: index, offsets: Self.describe(offsets), error: nil)))
        }
        let owned = assignment.filter { positions[$0] != nil }
        guard !owned.isEmpty else {
            phase = joinInFlight && !cooperative ? .joining : .idle
            step.setTimer(.pollAgain, after: 100)
            return
        }
        rotation = (rotation + 1) % owned.count
        let order = Array(owned[rotation...] + owned[..<rotation])
        requests += 1
        let request = index * 10_000_000 + requests
        phase = .fetching(request: request)
        step.setTimer(.requestTimeout(request: request), after: config.requestTimeoutMs)
        step.send(
            .fetch(
                request: request, consumer: index,
                positions: order.map { ($0, positions[$0] ?? 0) }, maxRecords: config.maxPollRecords),
            to: TopicCluster.node)
    }

    static func describe(_ offsets: [Int: Int]) -> String {
        offsets.isEmpty
            ? "nothing"
            : offsets.sorted { $0.key < $1.key }.map { "t-\($0.key)@\($0.value)" }.joined(separator: " ")
    }
}
