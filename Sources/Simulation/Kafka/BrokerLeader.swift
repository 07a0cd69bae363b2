// What a broker does with a delivery or a timer, and its leader's side: produce requests, the
// high watermark, the produce purgatory and consumer fetches. Replication.swift has the
// follower's side and the ISR.

extension BrokerState {
    mutating func receive(_ payload: Payload, from: NodeID, _ step: inout Step, _ shared: inout KafkaShared) {
        switch payload {
        case .produce(let request, let batch, let acks):
            handleProduce(request: request, batch: batch, acks: acks, from: from, &step)
        case .fetch(let request, let replica, let fetchOffset, let lastFetchedEpoch, let currentLeaderEpoch):
            handleReplicaFetch(
                request: request, replica: replica, fetchOffset: fetchOffset.value,
                lastFetchedEpoch: lastFetchedEpoch, currentLeaderEpoch: currentLeaderEpoch, &step)
        case .fetchResponse(
            let request, let offset, let records, let highWatermark, let diverging, let notLeader):
            handleFetchResponse(
                request: request, from: offset.value, records: records, highWatermark: highWatermark.value,
                diverging: diverging, notLeader: notLeader, sender: from, &step, &shared)
        case .partitionState(let state):
            applyPartitionState(state, &step, &shared)
        case .consumerFetch(let request, let offset, let maxRecords):
            handleConsumerFetch(
                request: request, offset: offset.value, maxRecords: maxRecords, from: from, &step)
        default:
            preconditionFailure("a broker does not handle \(payload.kind.rawValue)")
        }
    }

    mutating func fire(_ timer: KafkaWorld.Timer, _ step: inout Step, _ shared: inout KafkaShared) {
        switch timer {
        case .brokerHeartbeat:
            step.send(.heartbeat(id), to: .controller)
            step.setTimer(.brokerHeartbeat, after: config.brokerHeartbeatIntervalMs)
        case .writeback:
            // The operating system writes dirty pages back; fsync is not on Kafka's write path.
            log.sync(upTo: logEndOffset)
            unflushedMessages = 0
            step.setTimer(.writeback, after: config.osWritebackMs)
        case .isrExpiration:
            guard isLeader else { return }
            maybeShrinkIsr(&step)
            step.setTimer(.isrExpiration, after: max(1, config.replicaLagTimeMaxMs / 2))
        case .fetchWatchdog:
            // replica.socket.timeout.ms: the fetch or its answer was lost; ask again.
            memory.fetchWatchdogArmed = false
            guard memory.fetchInFlight != nil else { return }
            let due = memory.fetchSentAt + config.replicaSocketTimeoutMs
            if step.now >= due {
                memory.fetchInFlight = nil
                sendFetch(&step, &shared)
            } else {
                memory.fetchWatchdogArmed = true
                step.setTimer(.fetchWatchdog, after: due - step.now)
            }
        case .fetchRetry:
            if memory.fetchInFlight == nil { sendFetch(&step, &shared) }
        case .parkedFetchExpired(let request):
            answerParkedFetch(request: request, &step)
        case .purgatoryWatchdog:
            // K-REP-04(c): requests still waiting when request.timeout.ms runs out get
            // REQUEST_TIMED_OUT; their records stay in the log.
            memory.purgatoryWatchdogArmed = false
            let now = step.now
            for pending in memory.purgatory where pending.deadline <= now {
                step.send(
                    .produceResponse(request: pending.request, error: .requestTimedOut, baseOffset: nil),
                    to: pending.producer)
            }
            memory.purgatory.removeAll { $0.deadline <= now }
            armPurgatoryWatchdog(&step)
        default:
            preconditionFailure("a broker has no timer \(timer)")
        }
    }

    /// The process starts: heartbeats to the controller, the page cache's writeback, and as
    /// leader the ISR check.
    mutating func start(_ step: inout Step) {
        step.setTimer(.brokerHeartbeat, after: 0)
        step.setTimer(.writeback, after: config.osWritebackMs)
        if isLeader { step.setTimer(.isrExpiration, after: config.replicaLagTimeMaxMs / 2) }
    }

    /// A restarted process rebuilds its producer state from the log (memory is fresh, so it is
    /// no one's leader until the controller says so).
    mutating func restart(_ step: inout Step) {
        rebuildProducerStates()
        start(&step)
    }

    /// The process died of `fault`: what the disk loses is noted as a truncation (K-REP-12, S-02).
    mutating func crash(_ fault: Fault, _ step: inout Step) {
        let kept = fault == .powerLoss ? flushedOffset : fault == .diskLoss ? 0 : nil
        let removed = kept.map { log.records[min($0, log.count)...].map(\.message) } ?? []
        lose(fault)
        if !removed.isEmpty {
            step.note(
                .truncated(
                    broker: id, to: Offset(logEndOffset), removed: removed,
                    reason: fault == .powerLoss ? .powerLoss : .diskLoss))
        }
    }

    // MARK: - Leader: produce

    mutating func handleProduce(
        request: Int, batch: ProduceBatch, acks: Acks, from producer: NodeID, _ step: inout Step
    ) {
        func reject(_ error: KafkaError, _ step: inout Step) {
            step.note(.rejected(broker: id, messages: batch.messages, error: error))
            // acks=0: the broker answers nothing; it closes the connection (K-REP-04).
            if acks != .none {
                step.send(.produceResponse(request: request, error: error, baseOffset: nil), to: producer)
            }
        }
        guard isLeader else { return reject(.notLeaderOrFollower, &step) }
        if acks == .all && memory.isr.count < config.effectiveMinInsyncReplicas {
            return reject(.notEnoughReplicas, &step)  // K-REP-02: nothing is appended.
        }
        if let producerID = batch.producer, let entry = producerState(producerID) {
            if batch.producerEpoch < entry.epoch { return reject(.invalidProducerEpoch, &step) }
            if batch.producerEpoch == entry.epoch,
                let cached = entry.batches.first(where: {
                    $0.firstSequence == batch.baseSequence && $0.lastSequence == batch.lastSequence
                })
            {
                // K-PRD-08(1): a duplicate appends nothing and answers with the original offsets.
                step.note(
                    .duplicateBatch(broker: id, messages: batch.messages, offset: Offset(cached.firstOffset)))
                respondToAppend(
                    request: request, producer: producer, acks: acks, baseOffset: cached.firstOffset,
                    requiredOffset: cached.lastOffset + 1, &step)
                return
            }
            let expected =
                batch.producerEpoch > entry.epoch ? 0 : (entry.batches.last?.lastSequence ?? -1) + 1
            if batch.baseSequence != expected { return reject(.outOfOrderSequenceNumber, &step) }
        }
        // K-REP-03: append at LEO, stamped with the current leader epoch.
        let base = logEndOffset
        let epoch = memory.leaderEpoch
        for (position, message) in batch.messages.enumerated() {
            let record = Record(
                message: message, epoch: epoch, producer: batch.producer, producerEpoch: batch.producerEpoch,
                sequence: batch.producer == nil ? -1 : batch.baseSequence + position,
                batchFirstSequence: batch.baseSequence, batchLastSequence: batch.lastSequence)
            log.append(record)
            trackProducerState(record, offset: log.count - 1)
        }
        step.note(.appended(broker: id, from: Offset(base), messages: batch.messages, epoch: epoch))
        afterAppend(count: batch.messages.count)
        respondToAppend(
            request: request, producer: producer, acks: acks, baseOffset: base, requiredOffset: logEndOffset,
            &step)
        answerParkedReplicaFetches(&step)
        maybeIncrementHighWatermark(&step)
    }

    mutating func respondToAppend(
        request: Int, producer: NodeID, acks: Acks, baseOffset: Int, requiredOffset: Int, _ step: inout Step
    ) {
        switch acks {
        case .none:
            return
        case .leader:
            step.send(
                .produceResponse(request: request, error: nil, baseOffset: Offset(baseOffset)), to: producer)
        case .all:
            memory.purgatory.append(
                PendingProduce(
                    request: request, deadline: step.now + config.requestTimeoutMs, producer: producer,
                    requiredOffset: requiredOffset, baseOffset: baseOffset))
            armPurgatoryWatchdog(&step)
            completePurgatory(&step)
        }
    }

    mutating func armPurgatoryWatchdog(_ step: inout Step) {
        guard !memory.purgatoryWatchdogArmed, let first = memory.purgatory.lazy.map(\.deadline).min() else {
            return
        }
        memory.purgatoryWatchdogArmed = true
        step.setTimer(.purgatoryWatchdog, after: first - step.now)
    }

    /// fsync when `flush.messages` says so; otherwise the bytes sit in the page cache (K-REP-12).
    mutating func afterAppend(count: Int) {
        unflushedMessages += count
        if let every = config.flushMessages, unflushedMessages >= every {
            log.sync(upTo: logEndOffset)
            unflushedMessages = 0
        }
    }

    /// K-REP-04(a): answer the acks=all requests the high watermark has passed.
    mutating func completePurgatory(_ step: inout Step) {
        let highWatermark = highWatermark
        guard memory.purgatory.contains(where: { $0.requiredOffset <= highWatermark }) else { return }
        let enough = maximalIsr.count >= config.effectiveMinInsyncReplicas
        for pending in memory.purgatory where pending.requiredOffset <= highWatermark {
            step.send(
                .produceResponse(
                    request: pending.request, error: enough ? nil : .notEnoughReplicasAfterAppend,
                    baseOffset: enough ? Offset(pending.baseOffset) : nil),
                to: pending.producer)
        }
        memory.purgatory.removeAll { $0.requiredOffset <= highWatermark }
    }

    /// The committed ISR plus any addition the leader has proposed (Partition.maximalIsr).
    var maximalIsr: [BrokerID] {
        var isr = memory.isr
        if let proposal = memory.proposedIsr {
            for replica in proposal.isr where !isr.contains(replica) { isr.append(replica) }
        }
        return isr
    }

    /// K-REP-05: the high watermark is the smallest log end offset among the maximal ISR.
    mutating func maybeIncrementHighWatermark(_ step: inout Step) {
        guard isLeader else { return }
        if config.highWatermarkFreezesBelowMinIsr && memory.isr.count < config.effectiveMinInsyncReplicas {
            return
        }
        // The members of maximalIsr, read in place: this runs on every fetch and append, and
        // building that array here cost about 6% of an S01 sweep (measured).
        var candidate = logEndOffset
        for replica in memory.isr where replica != id {
            candidate = min(candidate, memory.followers[replica.value]?.logEndOffset ?? -1)
        }
        if let proposal = memory.proposedIsr {
            for replica in proposal.isr where replica != id && !memory.isr.contains(replica) {
                candidate = min(candidate, memory.followers[replica.value]?.logEndOffset ?? -1)
            }
        }
        guard candidate > highWatermark else { return }
        highWatermark = candidate
        step.note(.highWatermark(broker: id, to: Offset(candidate)))
        completePurgatory(&step)
        answerParkedConsumerFetches(&step)
    }

    // MARK: - Consumers

    mutating func handleConsumerFetch(
        request: Int, offset: Int, maxRecords: Int, from consumer: NodeID, _ step: inout Step
    ) {
        guard isLeader else {
            step.send(
                .consumerFetchResponse(
                    request: request, from: Offset(offset), records: [], logEnd: Offset(0), notLeader: true),
                to: consumer)
            return
        }
        if hasFetchMinBytes(from: offset) || offset > logEndOffset {
            answerConsumerFetch(request: request, offset: offset, maxRecords: maxRecords, to: consumer, &step)
        } else {
            memory.parkedFetches.append(
                ParkedFetch(
                    request: request, from: consumer, offset: offset, isConsumer: true, maxRecords: maxRecords
                ))
            // K-CON-11: the fetch waits for fetch.min.bytes, at most fetch.max.wait.ms; then it is
            // answered with whatever there is.
            step.setTimer(.parkedFetchExpired(request: request), after: config.fetchMaxWaitMs)
        }
    }

    /// Whether a consumer reading from `offset` would get at least fetch.min.bytes now.
    func hasFetchMinBytes(from offset: Int) -> Bool {
        offset < highWatermark && (highWatermark - offset) * config.recordBytes >= config.fetchMinBytes
    }

    /// K-REP-11: consumers (read_uncommitted) see only records below the high watermark.
    func answerConsumerFetch(
        request: Int, offset: Int, maxRecords: Int, to consumer: NodeID, _ step: inout Step
    ) {
        let end = min(highWatermark, offset + maxRecords)
        let records = offset < end ? Array(log.records[offset..<end]) : []
        precondition(
            records.isEmpty || offset + records.count <= highWatermark,
            "invariant broken: \(id) read above the HW")
        step.send(
            .consumerFetchResponse(
                request: request, from: Offset(offset), records: records, logEnd: Offset(logEndOffset),
                notLeader: false),
            to: consumer)
    }

    mutating func answerParkedConsumerFetches(_ step: inout Step) {
        let ready = memory.parkedFetches.filter { $0.isConsumer && hasFetchMinBytes(from: $0.offset) }
        guard !ready.isEmpty else { return }
        memory.parkedFetches.removeAll { fetch in ready.contains { $0.request == fetch.request } }
        for fetch in ready {
            answerConsumerFetch(
                request: fetch.request, offset: fetch.offset, maxRecords: fetch.maxRecords, to: fetch.from,
                &step)
        }
    }
}
