// Theory of operation
//
// The cluster node B1 stands for every broker of a healthy cluster: each partition's leader, the
// group coordinator and the transaction coordinator (SIMPLIFICATION: replication, elections and
// broker faults are the one-partition model's; here every append is committed at once, so the
// high watermark is the log end). Its three roles keep separate state and answer separate
// requests.
//
// Partitions: an append of a transactional producer opens a transaction on that partition at its
// first offset; the last stable offset (LSO) is the first offset of the earliest open
// transaction, or the log end (K-TXN-05). A read_committed fetch returns records below the LSO
// only and leaves out records of aborted transactions; no fetch returns a marker (K-TXN-06). A
// fetch with nothing to return waits up to fetch.max.wait.ms for an append (K-CON-11).
//
// The group coordinator runs the classic protocol (K-GRP-01): a join, a leave or an expired
// session starts a rebalance; members learn of it from their heartbeat (REBALANCE_IN_PROGRESS)
// and rejoin at their next poll; the rebalance completes when every member has rejoined, or at
// the rebalance timeout (the largest max.poll.interval.ms), without the members that did not. An
// empty group's first rebalance waits group.initial.rebalance.delay.ms for more members. The
// assignor runs here (SIMPLIFICATION: in Kafka the group leader runs it client-side, with the
// same result). A cooperative assignment withholds every partition that changes owner until its
// owner has revoked it and rejoined (K-GRP-04). A static member (group.instance.id) that rejoins
// while the group is stable gets its partitions back with no rebalance (K-GRP-10). Commits are
// accepted from a member of the current generation only (K-CON-06).
//
// The transaction coordinator: initTransactions bumps the producer epoch and aborts what the
// previous instance left open (K-TXN-08); an end-transaction request writes a marker on every
// partition of the transaction; every transaction.abort.timed.out.transaction.cleanup.interval.ms
// it aborts transactions older than transaction.timeout.ms and bumps the epoch (K-TXN-07).

struct TopicCluster: Sendable {
    typealias Step = NodeStep<TopicPayload, TopicTimer>
    static let node = NodeID.broker(BrokerID(1))

    struct Member: Sendable {
        var consumer: Int
        var member: Int
        var instance: String?
        var lastHeartbeat: Millis
        var joined: Bool
        var owned: [Int]
        /// The partition count in the member's metadata when it last joined.
        var knownPartitions = 0
        var assignment: [Int] = []
    }

    struct Transaction: Sendable {
        var producerID: Int
        var epoch: Int
        var partitions: [Int] = []
        var startedAt: Millis?
    }

    struct ParkedFetch: Sendable {
        var request: Int
        var consumer: Int
        var positions: [(partition: Int, offset: Int)]
        var maxRecords: Int
    }

    let config: KafkaConfig
    var partitions: [TopicPartitionLog]

    // Group coordinator.
    var members: [Member] = []
    var generation = 0
    var rebalancing = false
    var rebalanceRound = 0
    var rebalanceEarliestEnd: Millis = 0
    /// An empty group's rebalance waits group.initial.rebalance.delay.ms, and again while new
    /// members keep joining, within the rebalance timeout (InitialDelayedJoin, K-GRP-01).
    var initialDelay: (remaining: Millis, newMemberAdded: Bool)?
    var committed: [Int: Int] = [:]
    var completedRebalances = 0
    /// Member ids whose group.instance.id a newer instance took.
    var fencedMembers: Set<Int> = []
    /// The member the last rebalance made the group's leader.
    var leaderMember = -1

    // Transaction coordinator, by transactional.id.
    var transactions: [String: Transaction] = [:]
    var nextProducerID = 1000

    var parked: [ParkedFetch] = []
    /// Records retention deleted, for the checker (not lost: deleted by policy).
    var deletedByRetention: Set<MessageID> = []
    var removedByCompaction: Set<MessageID> = []

    init(config: KafkaConfig) {
        self.config = config
        partitions = Array(repeating: TopicPartitionLog(), count: config.numPartitions ?? 1)
    }
}

extension TopicCluster {
    mutating func start(_ step: inout Step) {
        step.setTimer(.sessionCheck, after: 1_000)
        step.setTimer(.transactionCheck, after: config.transactionAbortCheckIntervalMs)
        // Checks that cannot find anything to do within a scenario's limits are not scheduled.
        if config.cleanupPolicy.deletes,
            config.retentionMs >= 0 && config.retentionMs <= 86_400_000 || config.retentionBytes >= 0
        {
            step.setTimer(.retentionCheck, after: config.logInitialTaskDelayMs)
        }
        if config.cleanupPolicy.compacts {
            step.setTimer(.cleanerCheck, after: config.logCleanerBackoffMs)
        }
    }

    mutating func receive(_ payload: TopicPayload, from: NodeID, _ step: inout Step) {
        switch payload {
        case .produce(let request, let partition, let sends, let transactional):
            append(request, partition, sends, transactional, from: from, &step)
        case .initProducerID(let transactionalID):
            var transaction =
                transactions[transactionalID]
                ?? Transaction(producerID: nextProducerID, epoch: -1)
            if transactions[transactionalID] == nil { nextProducerID += 1 }
            if transaction.startedAt != nil {
                writeMarkers(&transaction, commit: false, &step)
                step.note(
                    .topic(
                        .transaction(
                            producer: producerIndex(from),
                            event:
                                "initTransactions() aborts the open transaction of epoch \(transaction.epoch) left by the previous instance"
                        )))
            }
            transaction.epoch += 1
            transactions[transactionalID] = transaction
            step.send(.producerIdentity(id: transaction.producerID, epoch: transaction.epoch), to: from)
        case .endTransaction(let id, let epoch, let commit):
            guard let key = transactions.first(where: { $0.value.producerID == id })?.key,
                var transaction = transactions[key], transaction.epoch == epoch
            else {
                step.send(.endTransactionResponse(commit: commit, error: "ProducerFencedException"), to: from)
                return
            }
            writeMarkers(&transaction, commit: commit, &step)
            transactions[key] = transaction
            step.send(.endTransactionResponse(commit: commit, error: nil), to: from)
        case .fetch(let request, let consumer, let positions, let maxRecords):
            let fetch = ParkedFetch(
                request: request, consumer: consumer, positions: positions, maxRecords: maxRecords)
            if !answer(fetch, evenIfEmpty: false, &step) {
                parked.append(fetch)
                step.setTimer(.fetchExpired(request: request), after: config.fetchMaxWaitMs)
            }
        case .join(let consumer, let member, let instance, let owned, let known):
            join(consumer, member: member, instance: instance, owned: owned, known: known, &step)
        case .heartbeat(let consumer, let member, let memberGeneration) where fencedMembers.contains(member):
            step.send(
                .heartbeatResponse(member: member, generation: memberGeneration, error: .fencedInstanceID),
                to: .consumer(consumer))
        case .heartbeat(let consumer, let member, let memberGeneration):
            guard let index = members.firstIndex(where: { $0.consumer == consumer && $0.member == member })
            else {
                step.send(
                    .heartbeatResponse(member: member, generation: memberGeneration, error: .unknownMember),
                    to: .consumer(consumer))
                return
            }
            members[index].lastHeartbeat = step.now
            let error: GroupError? =
                rebalancing && !members[index].joined
                ? .rebalanceInProgress
                : memberGeneration != generation && !rebalancing ? .illegalGeneration : nil
            step.send(
                .heartbeatResponse(member: member, generation: memberGeneration, error: error),
                to: .consumer(consumer))
        case .leave(let consumer, let member):
            guard let index = members.firstIndex(where: { $0.consumer == consumer && $0.member == member })
            else { return }
            members.remove(at: index)
            if rebalancing {
                completeIfAllJoined(&step)
            } else {
                startRebalance(reason: "c\(consumer) left the group", &step)
                completeIfAllJoined(&step)
            }
        case .commit(let consumer, let member, let memberGeneration, let offsets):
            // Stable and PreparingRebalance both take the current generation's commits (K-CON-06).
            let ok =
                memberGeneration == generation
                && members.contains { $0.consumer == consumer && $0.member == member }
            if ok { committed.merge(offsets) { _, new in new } }
            step.send(.commitResponse(ok: ok, offsets: offsets), to: from)
        default:
            preconditionFailure("the cluster does not handle \(payload.kind.rawValue)")
        }
    }

    mutating func fire(_ timer: TopicTimer, _ step: inout Step) {
        switch timer {
        case .fetchExpired(let request):
            guard let index = parked.firstIndex(where: { $0.request == request }) else { return }
            let fetch = parked.remove(at: index)
            _ = answer(fetch, evenIfEmpty: true, &step)
        case .initialDelay(let round):
            guard rebalancing, round == rebalanceRound, let delayed = initialDelay else { return }
            if delayed.newMemberAdded && delayed.remaining > 0 {
                let delay = min(config.groupInitialRebalanceDelayMs, delayed.remaining)
                initialDelay = (max(delayed.remaining - delay, 0), false)
                step.setTimer(.initialDelay(round: round), after: delay)
                return
            }
            initialDelay = nil
            rebalanceEarliestEnd = step.now
            completeRebalance(&step)
        case .rebalanceDeadline(let round):
            guard rebalancing, round == rebalanceRound else { return }
            // The rebalance timeout: members that did not rejoin are dropped.
            let missing = members.filter { !$0.joined }.map(\.consumer)
            for consumer in missing {
                step.note(
                    .topic(.left(consumer: consumer, reason: "did not rejoin within the rebalance timeout")))
            }
            members.removeAll { !$0.joined }
            completeRebalance(&step)
        case .sessionCheck:
            // A member waiting in JoinGroup is alive by its pending join.
            let expired = members.filter {
                !(rebalancing && $0.joined) && step.now - $0.lastHeartbeat > config.sessionTimeoutMs
            }
            for member in expired {
                members.removeAll { $0.consumer == member.consumer && $0.member == member.member }
                step.note(.topic(.left(consumer: member.consumer, reason: "session.timeout.ms expired")))
            }
            if !expired.isEmpty {
                if !rebalancing {
                    startRebalance(reason: "c\(expired[0].consumer)'s session expired", &step)
                }
                // Whoever the rebalance waited for may be gone now.
                completeIfAllJoined(&step)
            }
            step.setTimer(.sessionCheck, after: 1_000)
        case .transactionCheck:
            for key in transactions.keys.sorted() {
                guard var transaction = transactions[key], let started = transaction.startedAt,
                    started + config.transactionTimeoutMs < step.now
                else { continue }
                step.note(
                    .topic(
                        .transaction(
                            producer: 0,
                            event:
                                "the coordinator aborts \(key)'s transaction after transaction.timeout.ms and fences epoch \(transaction.epoch)"
                        )))
                writeMarkers(&transaction, commit: false, &step)
                transaction.epoch += 1
                transactions[key] = transaction
            }
            step.setTimer(.transactionCheck, after: config.transactionAbortCheckIntervalMs)
        case .retentionCheck:
            let records = config.retentionBytes >= 0 ? config.retentionBytes / config.recordBytes : nil
            for partition in partitions.indices {
                let deleted = partitions[partition].applyRetention(
                    now: step.now, retentionMs: config.retentionMs < 0 ? nil : config.retentionMs,
                    retentionRecords: records)
                guard !deleted.isEmpty else { continue }
                let data = deleted.filter { $0.control == nil }.map(\.message)
                deletedByRetention.formUnion(data)
                step.note(
                    .topic(
                        .retentionDeleted(
                            partition: partition, messages: data,
                            logStart: partitions[partition].logStartOffset)))
            }
            step.setTimer(.retentionCheck, after: config.logRetentionCheckIntervalMs)
        case .cleanerCheck:
            for partition in partitions.indices {
                let uncleanable = partitions[partition].firstUncleanableOffset(
                    now: step.now, minCompactionLagMs: config.minCompactionLagMs)
                guard
                    partitions[partition].dirtyRatio(uncleanable: uncleanable) > config.minCleanableDirtyRatio
                else { continue }
                let removed = partitions[partition].clean(
                    uncleanable: uncleanable, now: step.now, deleteRetentionMs: config.deleteRetentionMs)
                removedByCompaction.formUnion(removed.map(\.message))
                step.note(
                    .topic(
                        .compacted(partition: partition, removed: removed.map(\.message), upTo: uncleanable)))
            }
            step.setTimer(.cleanerCheck, after: config.logCleanerBackoffMs)
        default:
            preconditionFailure("the cluster has no timer \(timer)")
        }
    }

    /// What the partitions hold: the data records (no markers), partition by partition.
    var dataRecords: [[MessageID]] {
        partitions.map { $0.entries.filter { $0.control == nil }.map(\.message) }
    }

    private var recordsPerSegment: Int { max(1, config.segmentBytes / config.recordBytes) }

    /// The group's lag as the tool shows it: log end minus committed, per partition (K-CON-10).
    var lag: Int {
        partitions.indices.reduce(0) { total, partition in
            total + max(0, partitions[partition].logEnd - (committed[partition] ?? 0))
        }
    }

    mutating func addPartitions(to count: Int) {
        while partitions.count < count { partitions.append(TopicPartitionLog()) }
    }

    // MARK: - Partitions

    private func producerIndex(_ node: NodeID) -> Int {
        if case .producer(let index) = node { return index }
        return 0
    }

    private mutating func append(
        _ request: Int, _ partition: Int, _ sends: [TopicSend], _ transactional: (id: Int, epoch: Int)?,
        from: NodeID, _ step: inout Step
    ) {
        if config.cleanupPolicy.compacts, sends.contains(where: { $0.key == nil }) {
            // K-LOG-08: a compacted topic takes keyed records only (checked before the
            // partition joins a transaction).
            step.send(
                .produceResponse(
                    request: request, partition: partition, baseOffset: nil,
                    error: "INVALID_RECORD: Compacted topic cannot accept message without key"), to: from)
            return
        }
        if let transactional {
            guard let key = transactions.first(where: { $0.value.producerID == transactional.id })?.key,
                var transaction = transactions[key], transaction.epoch == transactional.epoch
            else {
                // A fenced producer's append: INVALID_PRODUCER_EPOCH, ProducerFencedException to
                // the application (K-TXN-07, K-TXN-08).
                step.send(
                    .produceResponse(
                        request: request, partition: partition, baseOffset: nil,
                        error: "ProducerFencedException"), to: from)
                return
            }
            // SIMPLIFICATION: AddPartitionsToTxn is folded into the first append (the leader and
            // the coordinator are one node here).
            if transaction.startedAt == nil { transaction.startedAt = step.now }
            if !transaction.partitions.contains(partition) { transaction.partitions.append(partition) }
            if partitions[partition].open[transaction.producerID] == nil {
                partitions[partition].open[transaction.producerID] = partitions[partition].logEnd
            }
            transactions[key] = transaction
        }
        let base = partitions[partition].logEnd
        for send in sends {
            _ = partitions[partition].append(
                TopicEntry(
                    message: send.message, producer: transactional?.id, control: nil, key: send.key,
                    tombstone: send.tombstone), now: step.now, recordsPerSegment: recordsPerSegment,
                segmentMs: config.segmentMs)
        }
        step.note(
            .topic(
                .appended(
                    partition: partition, offset: base, messages: sends.map(\.message),
                    transactional: transactional != nil)))
        step.send(
            .produceResponse(request: request, partition: partition, baseOffset: base, error: nil), to: from)
        wakeParked(&step)
    }

    private mutating func writeMarkers(_ transaction: inout Transaction, commit: Bool, _ step: inout Step) {
        for partition in transaction.partitions.sorted() {
            let offset = partitions[partition].append(
                TopicEntry(
                    message: MessageID(-1), producer: transaction.producerID,
                    control: commit ? .commit : .abort),
                now: step.now, recordsPerSegment: recordsPerSegment, segmentMs: config.segmentMs)
            if let first = partitions[partition].open.removeValue(forKey: transaction.producerID), !commit {
                partitions[partition].aborted.append((transaction.producerID, first..<offset))
            }
            step.note(
                .topic(
                    .marker(
                        partition: partition, offset: offset, commit: commit, producer: transaction.producerID
                    )))
        }
        transaction.partitions = []
        transaction.startedAt = nil
        wakeParked(&step)
    }

    private mutating func wakeParked(_ step: inout Step) {
        guard !parked.isEmpty else { return }
        var waiting: [ParkedFetch] = []
        for fetch in parked where !answer(fetch, evenIfEmpty: false, &step) {
            waiting.append(fetch)
        }
        parked = waiting
    }

    /// Answers a fetch if it has something to return (or `evenIfEmpty`); false if it must wait.
    private func answer(_ fetch: ParkedFetch, evenIfEmpty: Bool, _ step: inout Step) -> Bool {
        var records: [FetchedRecord] = []
        var next: [(partition: Int, offset: Int)] = []
        var outOfRange: [(partition: Int, from: Int, to: Int)] = []
        var moved = false
        for (partition, position) in fetch.positions {
            guard partition < partitions.count else {
                next.append((partition, position))
                continue
            }
            let log = partitions[partition]
            let limit = config.isolationLevel == .readCommitted ? log.lastStableOffset : log.logEnd
            // -1: no committed offset and auto.offset.reset=latest: the log end, or the LSO for
            // read_committed (K-CON-12).
            var offset =
                position == -2 ? log.logStartOffset : position < 0 ? limit : min(position, log.logEnd)
            if position >= 0 && position < log.logStartOffset {
                // OFFSET_OUT_OF_RANGE: retention deleted the position; auto.offset.reset decides.
                offset = config.autoOffsetReset == "earliest" ? log.logStartOffset : limit
                outOfRange.append((partition, position, offset))
            }
            var index = log.index(atOrAfter: offset)
            while index < log.entries.count, log.entries[index].offset < limit,
                records.count < fetch.maxRecords
            {
                let entry = log.entries[index]
                let hidden =
                    entry.control != nil || (config.isolationLevel == .readCommitted && log.isAborted(entry))
                if !hidden {
                    records.append(
                        FetchedRecord(message: entry.message, partition: partition, offset: entry.offset))
                }
                offset = entry.offset + 1
                index += 1
            }
            // Removed offsets below the limit read as the next record that is there.
            if index >= log.entries.count || log.entries[index].offset >= limit,
                records.count < fetch.maxRecords
            {
                offset = max(offset, min(limit, log.logEnd))
            }
            if offset != position { moved = true }
            next.append((partition, offset))
        }
        guard evenIfEmpty || !records.isEmpty || moved else { return false }
        step.send(
            .fetchResponse(request: fetch.request, records: records, next: next, outOfRange: outOfRange),
            to: .consumer(fetch.consumer))
        return true
    }
}
