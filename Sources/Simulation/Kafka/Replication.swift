// Replication: the leader tracks its followers and shrinks or expands the ISR; brokers change
// role when the controller says so; followers fetch, and truncate on a diverging epoch.

extension BrokerState {
    // MARK: - Leader: followers and the ISR

    mutating func handleReplicaFetch(
        request: Int, replica: BrokerID, fetchOffset: Int, lastFetchedEpoch: Epoch?,
        currentLeaderEpoch: Epoch,
        _ step: inout Step
    ) {
        guard isLeader, currentLeaderEpoch == memory.leaderEpoch else {
            step.send(
                .fetchResponse(
                    request: request, from: Offset(fetchOffset), records: [], highWatermark: Offset(0),
                    diverging: nil, notLeader: true),
                to: .broker(replica))
            return
        }
        // K-REP-10: a follower whose last epoch ends earlier in the leader's log has diverged.
        if let lastFetchedEpoch {
            let end = endOffset(forEpoch: lastFetchedEpoch) ?? (Epoch(-1), 0)
            if end.epoch != lastFetchedEpoch || end.endOffset < fetchOffset {
                step.send(
                    .fetchResponse(
                        request: request, from: Offset(fetchOffset), records: [],
                        highWatermark: Offset(highWatermark), diverging: (end.epoch, Offset(end.endOffset)),
                        notLeader: false),
                    to: .broker(replica))
                return
            }
        }
        // K-REP-06 (ii), 07a: the fetch offset acknowledges everything before it.
        var follower = memory.followers[replica.value] ?? FollowerState(logEndOffset: -1)
        if fetchOffset >= logEndOffset {
            follower.lastCaughtUpTime = step.now
        } else if fetchOffset >= follower.lastFetchLeaderLogEnd {
            follower.lastCaughtUpTime = follower.lastFetchTime
        }
        follower.lastFetchLeaderLogEnd = logEndOffset
        follower.lastFetchTime = step.now
        follower.logEndOffset = fetchOffset
        memory.followers[replica.value] = follower
        maybeExpandIsr(replica, &step)
        maybeIncrementHighWatermark(&step)
        if fetchOffset < logEndOffset {
            answerReplicaFetch(request: request, replica: .broker(replica), offset: fetchOffset, &step)
        } else {
            memory.parkedFetches.append(
                ParkedFetch(
                    request: request, from: .broker(replica), offset: fetchOffset, isConsumer: false,
                    maxRecords: 0))
            step.setTimer(.parkedFetchExpired(request: request), after: config.replicaFetchWaitMaxMs)
        }
    }

    func answerReplicaFetch(request: Int, replica: NodeID, offset: Int, _ step: inout Step) {
        let end = min(logEndOffset, offset + maxRecordsPerFetch)
        let records = offset < end ? Array(log.records[offset..<end]) : []
        step.send(
            .fetchResponse(
                request: request, from: Offset(offset), records: records,
                highWatermark: Offset(highWatermark),
                diverging: nil, notLeader: false),
            to: replica)
    }

    /// replica.fetch.max.bytes (1 MiB) in records.
    var maxRecordsPerFetch: Int { max(1, 1_048_576 / config.recordBytes) }

    mutating func answerParkedReplicaFetches(_ step: inout Step) {
        let parked = memory.parkedFetches.filter { !$0.isConsumer }
        guard !parked.isEmpty else { return }
        memory.parkedFetches.removeAll { !$0.isConsumer }
        for fetch in parked {
            answerReplicaFetch(request: fetch.request, replica: fetch.from, offset: fetch.offset, &step)
        }
    }

    mutating func answerParkedFetch(request: Int, _ step: inout Step) {
        guard let position = memory.parkedFetches.firstIndex(where: { $0.request == request }) else { return }
        let fetch = memory.parkedFetches.remove(at: position)
        if fetch.isConsumer {
            answerConsumerFetch(
                request: fetch.request, offset: fetch.offset, maxRecords: fetch.maxRecords, to: fetch.from,
                &step)
        } else {
            answerReplicaFetch(request: fetch.request, replica: fetch.from, offset: fetch.offset, &step)
        }
    }

    /// K-REP-07b: every replica.lag.time.max.ms / 2, propose dropping followers that are not caught up.
    mutating func maybeShrinkIsr(_ step: inout Step) {
        let now = step.now
        if let proposal = memory.proposedIsr, now - proposal.sentAt < config.replicaLagTimeMaxMs / 2 {
            return
        }
        let outOfSync = memory.isr.filter { replica in
            guard replica != id else { return false }
            let follower = memory.followers[replica.value] ?? FollowerState(logEndOffset: -1)
            let caughtUp =
                follower.logEndOffset == logEndOffset
                || now - follower.lastCaughtUpTime <= config.replicaLagTimeMaxMs
            return !caughtUp
        }
        guard !outOfSync.isEmpty else { return }
        proposeIsr(memory.isr.filter { !outOfSync.contains($0) }, &step)
    }

    /// K-REP-07c: a follower that has reached the high watermark and the current epoch rejoins.
    mutating func maybeExpandIsr(_ replica: BrokerID, _ step: inout Step) {
        guard memory.proposedIsr == nil, !memory.isr.contains(replica),
            let follower = memory.followers[replica.value]
        else { return }
        let leaderEpoch = memory.leaderEpoch
        let epochStart = epochCache.last(where: { $0.epoch == leaderEpoch })?.start ?? 0
        guard follower.logEndOffset >= highWatermark, follower.logEndOffset >= epochStart else { return }
        let isr = memory.isr
        proposeIsr(replicas.filter { isr.contains($0) || $0 == replica }, &step)
    }

    mutating func proposeIsr(_ isr: [BrokerID], _ step: inout Step) {
        memory.proposedIsr = (isr, step.now)
        step.send(.alterPartition(leader: id, leaderEpoch: memory.leaderEpoch, isr: isr), to: .controller)
    }

    // MARK: - Role changes

    mutating func applyPartitionState(
        _ state: PartitionState, _ step: inout Step, _ shared: inout KafkaShared
    ) {
        let wasLeader = isLeader
        switch apply(state, now: step.now) {
        case .none:
            return
        case .isrChanged:
            maybeIncrementHighWatermark(&step)
            completePurgatory(&step)
        case .becameLeader:
            step.note(.becameLeader(broker: id, epoch: state.leaderEpoch))
            memory.fetchInFlight = nil
            step.setTimer(.isrExpiration, after: max(1, config.replicaLagTimeMaxMs / 2))
            maybeIncrementHighWatermark(&step)
        case .becameFollower:
            if wasLeader { failPurgatory(&step) }
            memory.parkedFetches = []
            memory.followers = [FollowerState?](repeating: nil, count: 10)
            step.note(.becameFollower(broker: id, leader: state.leader, epoch: state.leaderEpoch))
            if config.legacyHighWatermarkTruncation {
                // K-REP-10L (pre-0.11): truncate to the local high watermark, then fetch.
                let removed = truncate(to: highWatermark)
                if !removed.isEmpty {
                    step.note(
                        .truncated(
                            broker: id, to: Offset(logEndOffset), removed: removed, reason: .highWatermark))
                }
            }
            memory.fetchInFlight = nil
            if state.leader != nil { sendFetch(&step, &shared) }
        }
    }

    /// K-REP-04(b): a leader that loses leadership answers its waiting acks=all requests with
    /// NOT_LEADER_OR_FOLLOWER; the records stay in its log for later events to decide.
    mutating func failPurgatory(_ step: inout Step) {
        for pending in memory.purgatory {
            step.send(
                .produceResponse(request: pending.request, error: .notLeaderOrFollower, baseOffset: nil),
                to: pending.producer)
        }
        memory.purgatory = []
    }

    // MARK: - Follower

    mutating func startFetching(_ step: inout Step, _ shared: inout KafkaShared) {
        memory.fetchInFlight = nil
        sendFetch(&step, &shared)
    }

    mutating func sendFetch(_ step: inout Step, _ shared: inout KafkaShared) {
        guard step.isUp(step.node), let leader = memory.leader, leader != id, memory.fetchInFlight == nil
        else {
            return
        }
        let request = shared.nextRequest
        shared.nextRequest += 1
        memory.fetchInFlight = request
        step.send(
            .fetch(
                request: request, replica: id, fetchOffset: Offset(logEndOffset),
                lastFetchedEpoch: config.legacyHighWatermarkTruncation ? nil : latestEpoch,
                currentLeaderEpoch: memory.leaderEpoch),
            to: .broker(leader))
        memory.fetchSentAt = step.now
        if !memory.fetchWatchdogArmed {
            memory.fetchWatchdogArmed = true
            step.setTimer(.fetchWatchdog, after: config.replicaSocketTimeoutMs)
        }
    }

    mutating func handleFetchResponse(
        request: Int, from offset: Int, records: [Record], highWatermark leaderHighWatermark: Int,
        diverging: (epoch: Epoch, endOffset: Offset)?, notLeader: Bool, sender: NodeID,
        _ step: inout Step, _ shared: inout KafkaShared
    ) {
        guard memory.fetchInFlight == request, .broker(memory.leader ?? id) == sender, !isLeader else {
            return
        }
        memory.fetchInFlight = nil
        if notLeader {
            // The follower's metadata is behind or ahead of the leader's; retry after the fetch
            // backoff (replica.fetch.backoff.ms, 1 s) while the controller catches it up.
            step.setTimer(.fetchRetry, after: 1_000)
            return
        }
        if let diverging {
            // K-REP-10: truncate to where this replica's log stops agreeing with the leader's.
            let target: Int
            if let ownIndex = epochCache.lastIndex(where: { $0.epoch == diverging.epoch }) {
                let ownEnd = ownIndex + 1 < epochCache.count ? epochCache[ownIndex + 1].start : logEndOffset
                target = min(diverging.endOffset.value, ownEnd, logEndOffset)
            } else {
                target =
                    epochCache.first(where: { $0.epoch > diverging.epoch })?.start
                    ?? min(diverging.endOffset.value, logEndOffset)
            }
            let removed = truncate(to: target)
            if !removed.isEmpty {
                step.note(
                    .truncated(broker: id, to: Offset(target), removed: removed, reason: .divergingEpoch))
            }
            sendFetch(&step, &shared)
            return
        }
        guard offset == logEndOffset else {
            sendFetch(&step, &shared)
            return
        }
        if !records.isEmpty {
            appendReplicated(records)
            afterAppend(count: records.count)
            noteReplicated(records, from: Offset(offset), &step)
        }
        let newHighWatermark = min(leaderHighWatermark, logEndOffset)
        if newHighWatermark > highWatermark { highWatermark = newHighWatermark }
        sendFetch(&step, &shared)
    }

    /// A follower copied `records`: the `.replicated` note, built only when the trace is kept
    /// (the hash reads the records in place; this runs for every record of every sweep).
    func noteReplicated(_ records: [Record], from offset: Offset, _ step: inout Step) {
        let broker = id
        guard step.recordsTrace else {
            step.hashNote { hasher in
                Note.encodeReplicated(
                    broker: broker, from: offset, messages: records.lazy.map(\.message), into: &hasher)
            }
            return
        }
        step.note(.replicated(broker: broker, from: offset, messages: records.map(\.message)))
    }
}
