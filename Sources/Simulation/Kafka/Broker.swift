// Theory of operation
//
// A broker holds one replica of P0. What survives a process crash is the log (in the page
// cache), its leader-epoch cache and the high watermark (checkpointed: SIMPLIFICATION, Kafka
// checkpoints it every few seconds). Everything else (its role, the leader's view of its
// followers, the produce purgatory, parked fetches) is memory and is rebuilt from the
// controller's partition state after a restart. What survives a power loss is only the prefix
// up to `flushedOffset`, which the operating system's writeback (or `flush.messages`) advances.
//
// As leader it appends produce requests (K-REP-01..05), answers follower fetches (K-REP-06),
// tracks which followers are caught up (K-REP-07a) and asks the controller to shrink or expand
// the ISR (K-REP-07b, 07c). As follower it fetches from the leader, truncates where its log
// diverges from the leader's by leader epoch (K-REP-10) or, in the pre-0.11 profile, to its own
// high watermark (K-REP-10L), and appends what the leader returns.

/// The leader's view of one follower (K-STATE-01).
struct FollowerState: Sendable {
    var logEndOffset = 0
    var lastFetchTime = 0
    var lastFetchLeaderLogEnd = 0
    var lastCaughtUpTime = 0
}

/// An acks=all produce request waiting for the high watermark (K-REP-04).
struct PendingProduce: Sendable {
    var request: Int
    /// When request.timeout.ms runs out for it.
    var deadline: Millis
    var producer: NodeID
    var requiredOffset: Int
    var baseOffset: Int
}

/// A fetch with nothing to return yet, waiting for data or for its wait time to pass.
struct ParkedFetch: Sendable {
    var request: Int
    var from: NodeID
    var offset: Int
    var isConsumer: Bool
    var maxRecords: Int
}

/// What the broker remembers of an idempotent producer: its epoch and its last five batches.
struct ProducerStateEntry: Sendable {
    struct Batch: Sendable {
        var firstSequence: Int
        var lastSequence: Int
        var firstOffset: Int
        var lastOffset: Int
    }

    var epoch: Int
    /// Oldest first. It holds up to twice the retained batches and drops the surplus at once,
    /// so that a new batch does not shift the whole window every time (once per record batch).
    var window: [Batch] = []

    init(epoch: Int) {
        self.epoch = epoch
    }

    /// Kafka keeps the metadata of this many batches per producer (ProducerStateEntry.java).
    static let retainedBatches = 5

    /// The batches the broker remembers, oldest first.
    var batches: ArraySlice<Batch> { window.suffix(Self.retainedBatches) }

    mutating func append(_ batch: Batch) {
        window.append(batch)
        if window.count >= 2 * Self.retainedBatches {
            window.removeFirst(window.count - Self.retainedBatches)
        }
    }

    /// The newest batch grows by one record.
    mutating func extendNewest(sequence: Int, offset: Int) {
        guard !window.isEmpty else { return }
        window[window.count - 1].lastSequence = sequence
        window[window.count - 1].lastOffset = offset
    }
}

struct BrokerState: CrashableNode {
    let id: BrokerID

    // On disk: the log and what is checkpointed with it.
    var log = DurableLog<Record>()
    var epochCache: [(epoch: Epoch, start: Int)] = []
    var highWatermark = 0
    /// What the page cache has written back, or `flush.messages` fsynced: what power loss keeps.
    var flushedOffset: Int { log.syncedCount }
    var unflushedMessages = 0

    var memory = Memory()
    var isLeader: Bool { memory.leader == id }

    /// What the process holds: learned from the controller, the leader's view of its followers
    /// and waiting requests, the follower's fetch, and producer state (rebuilt from the log).
    struct Memory: Sendable {
        var partitionEpoch = -1
        var leader: BrokerID?
        var leaderEpoch = Epoch(-1)
        var isr: [BrokerID] = []

        // Leader side.
        /// Indexed by broker id; entry 0 is unused.
        var followers = [FollowerState?](repeating: nil, count: 10)
        var purgatory: [PendingProduce] = []
        var parkedFetches: [ParkedFetch] = []
        /// An ISR change sent to the controller and not yet answered, and when it was sent.
        var proposedIsr: (isr: [BrokerID], sentAt: Millis)?
        /// Per idempotent producer: a short list searched linearly (a world has a few producers).
        var producerStates: [(id: ProducerID, entry: ProducerStateEntry)] = []

        // Follower side.
        var fetchInFlight: Int?
        var fetchSentAt: Millis = 0
        // Watchdogs: a timer fires only when one is armed, so dead timeouts do not pile up.
        var fetchWatchdogArmed = false
        var purgatoryWatchdogArmed = false
    }

    static var freshMemory: Memory { Memory() }

    /// A process crash keeps the page cache; a power loss keeps only what was flushed; a disk
    /// loss keeps nothing (K-REP-12, S-02).
    mutating func diskSurvives(_ fault: Fault) {
        switch fault {
        case .crash, .applicationCrash: break
        case .powerLoss: _ = truncate(to: flushedOffset)
        case .diskLoss:
            _ = truncate(to: 0)
            epochCache = []
        }
    }

    func producerState(_ producer: ProducerID) -> ProducerStateEntry? {
        memory.producerStates.first { $0.id == producer }?.entry
    }

    init(id: BrokerID) {
        self.id = id
    }

    var logEndOffset: Int { log.count }
    var latestEpoch: Epoch? { epochCache.last?.epoch }

    /// Applies the controller's partition state; returns what changed for the caller to act on.
    @discardableResult
    mutating func apply(_ state: PartitionState, now: Millis) -> RoleChange {
        guard state.partitionEpoch > memory.partitionEpoch else { return .none }
        precondition(
            state.leaderEpoch >= memory.leaderEpoch, "invariant broken: \(id) saw the leader epoch go back")
        memory.partitionEpoch = state.partitionEpoch
        let wasLeader = isLeader
        let previousLeader = memory.leader
        let previousEpoch = memory.leaderEpoch
        memory.leader = state.leader
        memory.leaderEpoch = state.leaderEpoch
        memory.isr = state.isr
        if let proposal = memory.proposedIsr, proposal.isr == state.isr || state.leaderEpoch != previousEpoch
        {
            memory.proposedIsr = nil
        } else if memory.proposedIsr != nil && state.isr != memory.isr {
            memory.proposedIsr = nil
        }
        if isLeader && (!wasLeader || previousEpoch != memory.leaderEpoch) {
            memory.followers = [FollowerState?](repeating: nil, count: 10)
            // Kafka resets each follower's state on a leader change: its log end offset is unknown
            // (-1) until it fetches, and an in-sync follower counts as caught up as of now.
            for replica in state.isr where replica != id {
                memory.followers[replica.value] = FollowerState(
                    logEndOffset: -1, lastFetchTime: now, lastFetchLeaderLogEnd: 0, lastCaughtUpTime: now)
            }
            if epochCache.last?.epoch != memory.leaderEpoch {
                epochCache.append((memory.leaderEpoch, logEndOffset))
            }
            memory.proposedIsr = nil
            return .becameLeader
        }
        if !isLeader && (wasLeader || previousLeader != memory.leader || previousEpoch != memory.leaderEpoch)
        {
            return .becameFollower(wasLeader: wasLeader)
        }
        return isLeader ? .isrChanged : .none
    }

    enum RoleChange {
        case none
        case becameLeader
        case becameFollower(wasLeader: Bool)
        case isrChanged
    }

    /// K-REP-10: the leader's end offset for a follower's epoch: the largest epoch it knows that
    /// is not above `epoch`, and where that epoch ends in its own log.
    func endOffset(forEpoch epoch: Epoch) -> (epoch: Epoch, endOffset: Int)? {
        guard let index = epochCache.lastIndex(where: { $0.epoch <= epoch }) else { return nil }
        let end = index + 1 < epochCache.count ? epochCache[index + 1].start : logEndOffset
        return (epochCache[index].epoch, end)
    }

    /// Removes records from `offset` on, keeping the epoch cache, producer state and watermarks
    /// consistent; returns the messages removed.
    mutating func truncate(to offset: Int) -> [MessageID] {
        guard offset < log.count else { return [] }
        let removed = log.records[offset...].map(\.message)
        log.truncate(from: offset)
        epochCache.removeAll { $0.start >= offset }
        highWatermark = min(highWatermark, log.count)
        rebuildProducerStates()
        return removed
    }

    /// Appends records as they are (a follower copying the leader), extending the epoch cache.
    mutating func appendReplicated(_ records: [Record]) {
        for record in records {
            precondition(
                log.last.map { $0.epoch <= record.epoch } ?? true,
                "invariant broken: \(id) log epochs go back")
            if epochCache.last.map({ $0.epoch < record.epoch }) ?? true {
                epochCache.append((record.epoch, log.count))
            }
            log.append(record)
            trackProducerState(record, offset: log.count - 1)
        }
    }

    mutating func trackProducerState(_ record: Record, offset: Int) {
        guard let producer = record.producer else { return }
        // Mutated in place: a copy of the entry would copy its batch window on every record.
        let position: Int
        if let found = memory.producerStates.firstIndex(where: { $0.id == producer }) {
            position = found
            if memory.producerStates[position].entry.epoch != record.producerEpoch {
                memory.producerStates[position].entry = ProducerStateEntry(epoch: record.producerEpoch)
            }
        } else {
            memory.producerStates.append((producer, ProducerStateEntry(epoch: record.producerEpoch)))
            position = memory.producerStates.count - 1
        }
        if record.sequence == record.batchFirstSequence {
            memory.producerStates[position].entry.append(
                .init(
                    firstSequence: record.sequence, lastSequence: record.sequence, firstOffset: offset,
                    lastOffset: offset))
        } else {
            memory.producerStates[position].entry.extendNewest(sequence: record.sequence, offset: offset)
        }
    }

    /// Kafka rebuilds producer state from the log after a restart or a truncation.
    mutating func rebuildProducerStates() {
        memory.producerStates = []
        for (offset, record) in log.enumerated() { trackProducerState(record, offset: offset) }
    }
}

extension KafkaWorld {
    func brokerNode(_ index: Int) -> NodeID { .broker(brokers[index].id) }

    mutating func brokerReceive(_ index: Int, _ payload: Payload, from: NodeID) {
        switch payload {
        case .produce(let request, let batch, let acks):
            handleProduce(index, request: request, batch: batch, acks: acks, from: from)
        case .fetch(let request, let replica, let fetchOffset, let lastFetchedEpoch, let currentLeaderEpoch):
            handleReplicaFetch(
                index, request: request, replica: replica, fetchOffset: fetchOffset.value,
                lastFetchedEpoch: lastFetchedEpoch, currentLeaderEpoch: currentLeaderEpoch)
        case .fetchResponse(
            let request, let offset, let records, let highWatermark, let diverging, let notLeader):
            handleFetchResponse(
                index, request: request, from: offset.value, records: records,
                highWatermark: highWatermark.value,
                diverging: diverging, notLeader: notLeader, sender: from)
        case .partitionState(let state):
            applyPartitionState(index, state)
        case .consumerFetch(let request, let offset, let maxRecords):
            handleConsumerFetch(
                index, request: request, offset: offset.value, maxRecords: maxRecords, from: from)
        default:
            preconditionFailure("a broker does not handle \(payload.kind.rawValue)")
        }
    }

    mutating func brokerTimer(_ index: Int, _ timer: Timer) {
        let node = brokerNode(index)
        switch timer {
        case .brokerHeartbeat:
            send(.heartbeat(brokers[index].id), from: node, to: .controller)
            setTimer(.brokerHeartbeat, for: node, after: config.brokerHeartbeatIntervalMs)
        case .writeback:
            // The operating system writes dirty pages back; fsync is not on Kafka's write path.
            brokers[index].log.sync(upTo: brokers[index].logEndOffset)
            brokers[index].unflushedMessages = 0
            setTimer(.writeback, for: node, after: config.osWritebackMs)
        case .isrExpiration:
            guard brokers[index].isLeader else { return }
            maybeShrinkIsr(index)
            setTimer(.isrExpiration, for: node, after: max(1, config.replicaLagTimeMaxMs / 2))
        case .fetchWatchdog:
            // replica.socket.timeout.ms: the fetch or its answer was lost; ask again.
            brokers[index].memory.fetchWatchdogArmed = false
            guard brokers[index].memory.fetchInFlight != nil else { return }
            let due = brokers[index].memory.fetchSentAt + config.replicaSocketTimeoutMs
            if now >= due {
                brokers[index].memory.fetchInFlight = nil
                sendFetch(index)
            } else {
                brokers[index].memory.fetchWatchdogArmed = true
                setTimer(.fetchWatchdog, for: node, after: due - now)
            }
        case .fetchRetry:
            if brokers[index].memory.fetchInFlight == nil { sendFetch(index) }
        case .parkedFetchExpired(let request):
            answerParkedFetch(index, request: request)
        case .purgatoryWatchdog:
            // K-REP-04(c): requests still waiting when request.timeout.ms runs out get
            // REQUEST_TIMED_OUT; their records stay in the log.
            brokers[index].memory.purgatoryWatchdogArmed = false
            for pending in brokers[index].memory.purgatory where pending.deadline <= now {
                send(
                    .produceResponse(request: pending.request, error: .requestTimedOut, baseOffset: nil),
                    from: node, to: pending.producer)
            }
            let now = self.now
            brokers[index].memory.purgatory.removeAll { $0.deadline <= now }
            armPurgatoryWatchdog(index)
        default:
            preconditionFailure("a broker has no timer \(timer)")
        }
    }

    // MARK: - Leader: produce

    mutating func handleProduce(
        _ index: Int, request: Int, batch: ProduceBatch, acks: Acks, from producer: NodeID
    ) {
        let node = brokerNode(index)
        func reject(_ error: KafkaError) {
            note(.rejected(broker: brokers[index].id, messages: batch.messages, error: error), at: node)
            // acks=0: the broker answers nothing; it closes the connection (K-REP-04).
            if acks != .none {
                send(
                    .produceResponse(request: request, error: error, baseOffset: nil), from: node,
                    to: producer)
            }
        }
        guard brokers[index].isLeader else { return reject(.notLeaderOrFollower) }
        if acks == .all && brokers[index].memory.isr.count < config.effectiveMinInsyncReplicas {
            return reject(.notEnoughReplicas)  // K-REP-02: nothing is appended.
        }
        if let producerID = batch.producer, let entry = brokers[index].producerState(producerID) {
            if batch.producerEpoch < entry.epoch { return reject(.invalidProducerEpoch) }
            if batch.producerEpoch == entry.epoch,
                let cached = entry.batches.first(where: {
                    $0.firstSequence == batch.baseSequence && $0.lastSequence == batch.lastSequence
                })
            {
                // K-PRD-08(1): a duplicate appends nothing and answers with the original offsets.
                note(
                    .duplicateBatch(
                        broker: brokers[index].id, messages: batch.messages,
                        offset: Offset(cached.firstOffset)), at: node)
                respondToAppend(
                    index, request: request, producer: producer, acks: acks, baseOffset: cached.firstOffset,
                    requiredOffset: cached.lastOffset + 1)
                return
            }
            let expected =
                batch.producerEpoch > entry.epoch ? 0 : (entry.batches.last?.lastSequence ?? -1) + 1
            if batch.baseSequence != expected { return reject(.outOfOrderSequenceNumber) }
        }
        // K-REP-03: append at LEO, stamped with the current leader epoch.
        let base = brokers[index].logEndOffset
        let epoch = brokers[index].memory.leaderEpoch
        for (position, message) in batch.messages.enumerated() {
            let record = Record(
                message: message, epoch: epoch, producer: batch.producer, producerEpoch: batch.producerEpoch,
                sequence: batch.producer == nil ? -1 : batch.baseSequence + position,
                batchFirstSequence: batch.baseSequence, batchLastSequence: batch.lastSequence)
            brokers[index].log.append(record)
            brokers[index].trackProducerState(record, offset: brokers[index].log.count - 1)
        }
        note(
            .appended(broker: brokers[index].id, from: Offset(base), messages: batch.messages, epoch: epoch),
            at: node)
        afterAppend(index, count: batch.messages.count)
        respondToAppend(
            index, request: request, producer: producer, acks: acks, baseOffset: base,
            requiredOffset: brokers[index].logEndOffset)
        answerParkedReplicaFetches(index)
        maybeIncrementHighWatermark(index)
    }

    mutating func respondToAppend(
        _ index: Int, request: Int, producer: NodeID, acks: Acks, baseOffset: Int, requiredOffset: Int
    ) {
        let node = brokerNode(index)
        switch acks {
        case .none:
            return
        case .leader:
            send(
                .produceResponse(request: request, error: nil, baseOffset: Offset(baseOffset)), from: node,
                to: producer)
        case .all:
            brokers[index].memory.purgatory.append(
                PendingProduce(
                    request: request, deadline: now + config.requestTimeoutMs, producer: producer,
                    requiredOffset: requiredOffset, baseOffset: baseOffset))
            armPurgatoryWatchdog(index)
            completePurgatory(index)
        }
    }

    mutating func armPurgatoryWatchdog(_ index: Int) {
        guard !brokers[index].memory.purgatoryWatchdogArmed,
            let first = brokers[index].memory.purgatory.lazy.map(\.deadline).min()
        else { return }
        brokers[index].memory.purgatoryWatchdogArmed = true
        setTimer(.purgatoryWatchdog, for: brokerNode(index), after: first - now)
    }

    /// fsync when `flush.messages` says so; otherwise the bytes sit in the page cache (K-REP-12).
    mutating func afterAppend(_ index: Int, count: Int) {
        brokers[index].unflushedMessages += count
        if let every = config.flushMessages, brokers[index].unflushedMessages >= every {
            brokers[index].log.sync(upTo: brokers[index].logEndOffset)
            brokers[index].unflushedMessages = 0
        }
    }

    /// K-REP-04(a): answer the acks=all requests the high watermark has passed.
    mutating func completePurgatory(_ index: Int) {
        let highWatermark = brokers[index].highWatermark
        guard brokers[index].memory.purgatory.contains(where: { $0.requiredOffset <= highWatermark }) else {
            return
        }
        let enough = maximalIsr(index).count >= config.effectiveMinInsyncReplicas
        for position in brokers[index].memory.purgatory.indices {
            let pending = brokers[index].memory.purgatory[position]
            guard pending.requiredOffset <= highWatermark else { continue }
            send(
                .produceResponse(
                    request: pending.request, error: enough ? nil : .notEnoughReplicasAfterAppend,
                    baseOffset: enough ? Offset(pending.baseOffset) : nil),
                from: brokerNode(index), to: pending.producer)
        }
        brokers[index].memory.purgatory.removeAll { $0.requiredOffset <= highWatermark }
    }

    /// The committed ISR plus any addition the leader has proposed (Partition.maximalIsr).
    func maximalIsr(_ index: Int) -> [BrokerID] {
        var isr = brokers[index].memory.isr
        if let proposal = brokers[index].memory.proposedIsr {
            for replica in proposal.isr where !isr.contains(replica) { isr.append(replica) }
        }
        return isr
    }

    /// K-REP-05: the high watermark is the smallest log end offset among the maximal ISR.
    mutating func maybeIncrementHighWatermark(_ index: Int) {
        guard brokers[index].isLeader else { return }
        if config.highWatermarkFreezesBelowMinIsr
            && brokers[index].memory.isr.count < config.effectiveMinInsyncReplicas
        {
            return
        }
        // The members of maximalIsr(_:), read in place: this runs on every fetch and append, and
        // building that array here cost about 6% of an S01 sweep (measured).
        let own = brokers[index].id
        var candidate = brokers[index].logEndOffset
        for position in brokers[index].memory.isr.indices where brokers[index].memory.isr[position] != own {
            let replica = brokers[index].memory.isr[position]
            candidate = min(candidate, brokers[index].memory.followers[replica.value]?.logEndOffset ?? -1)
        }
        if let proposal = brokers[index].memory.proposedIsr {
            for replica in proposal.isr where replica != own && !brokers[index].memory.isr.contains(replica) {
                candidate = min(candidate, brokers[index].memory.followers[replica.value]?.logEndOffset ?? -1)
            }
        }
        guard candidate > brokers[index].highWatermark else { return }
        brokers[index].highWatermark = candidate
        note(.highWatermark(broker: brokers[index].id, to: Offset(candidate)), at: brokerNode(index))
        completePurgatory(index)
        answerParkedConsumerFetches(index)
    }

    // MARK: - Consumers

    mutating func handleConsumerFetch(
        _ index: Int, request: Int, offset: Int, maxRecords: Int, from consumer: NodeID
    ) {
        guard brokers[index].isLeader else {
            send(
                .consumerFetchResponse(
                    request: request, from: Offset(offset), records: [], logEnd: Offset(0), notLeader: true),
                from: brokerNode(index), to: consumer)
            return
        }
        if offset < brokers[index].highWatermark || offset > brokers[index].logEndOffset {
            answerConsumerFetch(index, request: request, offset: offset, maxRecords: maxRecords, to: consumer)
        } else {
            brokers[index].memory.parkedFetches.append(
                ParkedFetch(
                    request: request, from: consumer, offset: offset, isConsumer: true, maxRecords: maxRecords
                ))
            // fetch.max.wait.ms: a consumer's fetch waits up to 500 ms for data.
            setTimer(.parkedFetchExpired(request: request), for: brokerNode(index), after: 500)
        }
    }

    /// K-REP-11: consumers (read_uncommitted) see only records below the high watermark.
    mutating func answerConsumerFetch(
        _ index: Int, request: Int, offset: Int, maxRecords: Int, to consumer: NodeID
    ) {
        let broker = brokers[index]
        let end = min(broker.highWatermark, offset + maxRecords)
        let records = offset < end ? Array(broker.log.records[offset..<end]) : []
        precondition(
            records.isEmpty || offset + records.count <= broker.highWatermark,
            "invariant broken (seed \(seed)): read above the HW")
        send(
            .consumerFetchResponse(
                request: request, from: Offset(offset), records: records, logEnd: Offset(broker.logEndOffset),
                notLeader: false),
            from: brokerNode(index), to: consumer)
    }

    mutating func answerParkedConsumerFetches(_ index: Int) {
        let ready = brokers[index].memory.parkedFetches.filter {
            $0.isConsumer && $0.offset < brokers[index].highWatermark
        }
        guard !ready.isEmpty else { return }
        brokers[index].memory.parkedFetches.removeAll { fetch in
            ready.contains { $0.request == fetch.request }
        }
        for fetch in ready {
            answerConsumerFetch(
                index, request: fetch.request, offset: fetch.offset, maxRecords: fetch.maxRecords,
                to: fetch.from)
        }
    }
}
