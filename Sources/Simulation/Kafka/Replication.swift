// Replication: the leader tracks its followers and shrinks or expands the ISR; brokers change
// role when the controller says so; followers fetch, and truncate on a diverging epoch.

extension KafkaWorld {
    // MARK: - Leader: followers and the ISR

    mutating func handleReplicaFetch(
        _ index: Int, request: Int, replica: BrokerID, fetchOffset: Int, lastFetchedEpoch: Epoch?,
        currentLeaderEpoch: Epoch
    ) {
        let node = brokerNode(index)
        guard brokers[index].isLeader, currentLeaderEpoch == brokers[index].memory.leaderEpoch else {
            send(
                .fetchResponse(
                    request: request, from: Offset(fetchOffset), records: [], highWatermark: Offset(0),
                    diverging: nil,
                    notLeader: true),
                from: node, to: .broker(replica))
            return
        }
        // K-REP-10: a follower whose last epoch ends earlier in the leader's log has diverged.
        if let lastFetchedEpoch {
            let end = brokers[index].endOffset(forEpoch: lastFetchedEpoch) ?? (Epoch(-1), 0)
            if end.epoch != lastFetchedEpoch || end.endOffset < fetchOffset {
                send(
                    .fetchResponse(
                        request: request, from: Offset(fetchOffset), records: [],
                        highWatermark: Offset(brokers[index].highWatermark),
                        diverging: (end.epoch, Offset(end.endOffset)), notLeader: false),
                    from: node, to: .broker(replica))
                return
            }
        }
        // K-REP-06 (ii), 07a: the fetch offset acknowledges everything before it.
        var follower = brokers[index].memory.followers[replica.value] ?? FollowerState(logEndOffset: -1)
        if fetchOffset >= brokers[index].logEndOffset {
            follower.lastCaughtUpTime = now
        } else if fetchOffset >= follower.lastFetchLeaderLogEnd {
            follower.lastCaughtUpTime = follower.lastFetchTime
        }
        follower.lastFetchLeaderLogEnd = brokers[index].logEndOffset
        follower.lastFetchTime = now
        follower.logEndOffset = fetchOffset
        brokers[index].memory.followers[replica.value] = follower
        maybeExpandIsr(index, replica)
        maybeIncrementHighWatermark(index)
        if fetchOffset < brokers[index].logEndOffset {
            answerReplicaFetch(index, request: request, replica: .broker(replica), offset: fetchOffset)
        } else {
            brokers[index].memory.parkedFetches.append(
                ParkedFetch(
                    request: request, from: .broker(replica), offset: fetchOffset, isConsumer: false,
                    maxRecords: 0))
            setTimer(.parkedFetchExpired(request: request), for: node, after: config.replicaFetchWaitMaxMs)
        }
    }

    mutating func answerReplicaFetch(_ index: Int, request: Int, replica: NodeID, offset: Int) {
        let end = min(brokers[index].logEndOffset, offset + maxRecordsPerFetch)
        let records = offset < end ? Array(brokers[index].log.records[offset..<end]) : []
        send(
            .fetchResponse(
                request: request, from: Offset(offset), records: records,
                highWatermark: Offset(brokers[index].highWatermark),
                diverging: nil, notLeader: false),
            from: brokerNode(index), to: replica)
    }

    /// replica.fetch.max.bytes (1 MiB) in records.
    var maxRecordsPerFetch: Int { max(1, 1_048_576 / config.recordBytes) }

    mutating func answerParkedReplicaFetches(_ index: Int) {
        let parked = brokers[index].memory.parkedFetches.filter { !$0.isConsumer }
        guard !parked.isEmpty else { return }
        brokers[index].memory.parkedFetches.removeAll { !$0.isConsumer }
        for fetch in parked {
            answerReplicaFetch(index, request: fetch.request, replica: fetch.from, offset: fetch.offset)
        }
    }

    mutating func answerParkedFetch(_ index: Int, request: Int) {
        guard let position = brokers[index].memory.parkedFetches.firstIndex(where: { $0.request == request })
        else {
            return
        }
        let fetch = brokers[index].memory.parkedFetches.remove(at: position)
        if fetch.isConsumer {
            answerConsumerFetch(
                index, request: fetch.request, offset: fetch.offset, maxRecords: fetch.maxRecords,
                to: fetch.from)
        } else {
            answerReplicaFetch(index, request: fetch.request, replica: fetch.from, offset: fetch.offset)
        }
    }

    /// K-REP-07b: every replica.lag.time.max.ms / 2, propose dropping followers that are not caught up.
    mutating func maybeShrinkIsr(_ index: Int) {
        let broker = brokers[index]
        if let proposal = broker.memory.proposedIsr, now - proposal.sentAt < config.replicaLagTimeMaxMs / 2 {
            return
        }
        let outOfSync = broker.memory.isr.filter { replica in
            guard replica != broker.id else { return false }
            let follower = broker.memory.followers[replica.value] ?? FollowerState(logEndOffset: -1)
            let caughtUp =
                follower.logEndOffset == broker.logEndOffset
                || now - follower.lastCaughtUpTime <= config.replicaLagTimeMaxMs
            return !caughtUp
        }
        guard !outOfSync.isEmpty else { return }
        proposeIsr(index, broker.memory.isr.filter { !outOfSync.contains($0) })
    }

    /// K-REP-07c: a follower that has reached the high watermark and the current epoch rejoins.
    /// Called on every fetch, so it reads the leader's state in place instead of copying it.
    mutating func maybeExpandIsr(_ index: Int, _ replica: BrokerID) {
        guard brokers[index].memory.proposedIsr == nil, !brokers[index].memory.isr.contains(replica),
            let follower = brokers[index].memory.followers[replica.value]
        else { return }
        let leaderEpoch = brokers[index].memory.leaderEpoch
        let epochStart = brokers[index].epochCache.last(where: { $0.epoch == leaderEpoch })?.start ?? 0
        guard follower.logEndOffset >= brokers[index].highWatermark, follower.logEndOffset >= epochStart
        else {
            return
        }
        let isr = brokers[index].memory.isr
        proposeIsr(index, controller.replicas.filter { isr.contains($0) || $0 == replica })
    }

    mutating func proposeIsr(_ index: Int, _ isr: [BrokerID]) {
        brokers[index].memory.proposedIsr = (isr, now)
        send(
            .alterPartition(
                leader: brokers[index].id, leaderEpoch: brokers[index].memory.leaderEpoch, isr: isr),
            from: brokerNode(index), to: .controller)
    }

    // MARK: - Role changes

    mutating func applyPartitionState(_ index: Int, _ state: PartitionState) {
        let node = brokerNode(index)
        let wasLeader = brokers[index].isLeader
        switch brokers[index].apply(state, now: now) {
        case .none:
            return
        case .isrChanged:
            maybeIncrementHighWatermark(index)
            completePurgatory(index)
        case .becameLeader:
            note(.becameLeader(broker: brokers[index].id, epoch: state.leaderEpoch), at: node)
            brokers[index].memory.fetchInFlight = nil
            setTimer(.isrExpiration, for: node, after: max(1, config.replicaLagTimeMaxMs / 2))
            maybeIncrementHighWatermark(index)
        case .becameFollower:
            if wasLeader { failPurgatory(index) }
            brokers[index].memory.parkedFetches = []
            brokers[index].memory.followers = [FollowerState?](repeating: nil, count: 10)
            note(
                .becameFollower(broker: brokers[index].id, leader: state.leader, epoch: state.leaderEpoch),
                at: node)
            if config.legacyHighWatermarkTruncation {
                // K-REP-10L (pre-0.11): truncate to the local high watermark, then fetch.
                let removed = brokers[index].truncate(to: brokers[index].highWatermark)
                if !removed.isEmpty {
                    note(
                        .truncated(
                            broker: brokers[index].id, to: Offset(brokers[index].logEndOffset),
                            removed: removed,
                            reason: .highWatermark), at: node)
                }
            }
            brokers[index].memory.fetchInFlight = nil
            if state.leader != nil { sendFetch(index) }
        }
    }

    /// K-REP-04(b): a leader that loses leadership answers its waiting acks=all requests with
    /// NOT_LEADER_OR_FOLLOWER; the records stay in its log for later events to decide.
    mutating func failPurgatory(_ index: Int) {
        for pending in brokers[index].memory.purgatory {
            send(
                .produceResponse(request: pending.request, error: .notLeaderOrFollower, baseOffset: nil),
                from: brokerNode(index), to: pending.producer)
        }
        brokers[index].memory.purgatory = []
    }

    // MARK: - Follower

    mutating func startFetching(_ index: Int) {
        brokers[index].memory.fetchInFlight = nil
        sendFetch(index)
    }

    mutating func sendFetch(_ index: Int) {
        guard isUp(brokers[index].id), let leader = brokers[index].memory.leader, leader != brokers[index].id,
            brokers[index].memory.fetchInFlight == nil
        else {
            return
        }
        let request = shared.nextRequest
        shared.nextRequest += 1
        brokers[index].memory.fetchInFlight = request
        send(
            .fetch(
                request: request, replica: brokers[index].id,
                fetchOffset: Offset(brokers[index].logEndOffset),
                lastFetchedEpoch: config.legacyHighWatermarkTruncation ? nil : brokers[index].latestEpoch,
                currentLeaderEpoch: brokers[index].memory.leaderEpoch),
            from: brokerNode(index), to: .broker(leader))
        brokers[index].memory.fetchSentAt = now
        if !brokers[index].memory.fetchWatchdogArmed {
            brokers[index].memory.fetchWatchdogArmed = true
            setTimer(.fetchWatchdog, for: brokerNode(index), after: config.replicaSocketTimeoutMs)
        }
    }

    mutating func handleFetchResponse(
        _ index: Int, request: Int, from offset: Int, records: [Record], highWatermark: Int,
        diverging: (epoch: Epoch, endOffset: Offset)?, notLeader: Bool, sender: NodeID
    ) {
        guard brokers[index].memory.fetchInFlight == request,
            .broker(brokers[index].memory.leader ?? brokers[index].id) == sender,
            !brokers[index].isLeader
        else { return }
        brokers[index].memory.fetchInFlight = nil
        let node = brokerNode(index)
        if notLeader {
            // The follower's metadata is behind or ahead of the leader's; retry after the fetch
            // backoff (replica.fetch.backoff.ms, 1 s) while the controller catches it up.
            setTimer(.fetchRetry, for: node, after: 1_000)
            return
        }
        if let diverging {
            // K-REP-10: truncate to where this replica's log stops agreeing with the leader's.
            let broker = brokers[index]
            let target: Int
            if let ownIndex = broker.epochCache.lastIndex(where: { $0.epoch == diverging.epoch }) {
                let ownEnd =
                    ownIndex + 1 < broker.epochCache.count
                    ? broker.epochCache[ownIndex + 1].start : broker.logEndOffset
                target = min(diverging.endOffset.value, ownEnd, broker.logEndOffset)
            } else {
                target =
                    broker.epochCache.first(where: { $0.epoch > diverging.epoch })?.start
                    ?? min(diverging.endOffset.value, broker.logEndOffset)
            }
            let removed = brokers[index].truncate(to: target)
            if !removed.isEmpty {
                note(
                    .truncated(
                        broker: broker.id, to: Offset(target), removed: removed, reason: .divergingEpoch),
                    at: node)
            }
            sendFetch(index)
            return
        }
        guard offset == brokers[index].logEndOffset else {
            sendFetch(index)
            return
        }
        if !records.isEmpty {
            brokers[index].appendReplicated(records)
            afterAppend(index, count: records.count)
            noteReplicated(records, broker: brokers[index].id, from: Offset(offset), at: node)
        }
        let newHighWatermark = min(highWatermark, brokers[index].logEndOffset)
        if newHighWatermark > brokers[index].highWatermark {
            brokers[index].highWatermark = newHighWatermark
        }
        sendFetch(index)
    }
}
