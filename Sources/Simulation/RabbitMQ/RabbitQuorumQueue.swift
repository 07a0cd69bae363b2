// The quorum queue: a Raft group of three members that replicates enqueue and settle commands.

extension RabbitWorld {
    // MARK: - Quorum queue: Raft

    mutating func raftAppend(_ index: Int, _ command: RaftEntry.Command) {
        precondition(nodes[index].isLeader, "only the leader appends")
        nodes[index].log.append(RaftEntry(term: nodes[index].term, command: command))
        if case .enqueue(let message) = command {
            note(
                .queue(
                    .raftAppended(
                        node: nodes[index].id, index: nodes[index].log.count - 1, term: nodes[index].term,
                        message: message.copy.message, leader: true)), at: .broker(nodes[index].id))
        }
        raftFsync(index)
        replicate(index)
    }

    mutating func raftFsync(_ index: Int) {
        guard !nodes[index].memory.fsyncInFlight, nodes[index].fsyncedUpTo < nodes[index].log.count else {
            return
        }
        nodes[index].memory.fsyncInFlight = true
        fsyncs += 1
        setTimer(
            .raftFsyncDone(upTo: nodes[index].log.count), for: .broker(nodes[index].id), after: config.fsyncMs
        )
    }

    mutating func raftFsyncDone(_ index: Int, upTo: Int) {
        nodes[index].memory.fsyncInFlight = false
        nodes[index].log.sync(upTo: upTo)
        if nodes[index].isLeader {
            advanceCommit(index)
        } else if let leader = nodes[index].memory.leader {
            // Acknowledge only what is on disk and known to match the leader's log.
            engine.transmit(
                .appendResponse(
                    term: nodes[index].term, success: true,
                    matchIndex: min(nodes[index].fsyncedUpTo, nodes[index].memory.verifiedUpTo)),
                from: .broker(nodes[index].id), to: .broker(leader))
        }
        raftFsync(index)
    }

    mutating func replicate(_ index: Int) {
        let leader = nodes[index]
        for follower in 0..<3 where follower != index {
            let next = min(leader.memory.nextIndex[follower], leader.log.count)
            let previousTerm = next > 0 ? leader.log[next - 1].term : 0
            let entries = Array(leader.log[next..<min(leader.log.count, next + 200)])
            engine.transmit(
                .appendEntries(
                    term: leader.term, previousIndex: next, previousTerm: previousTerm, entries: entries,
                    leaderCommit: leader.memory.commitIndex),
                from: .broker(leader.id), to: .broker(BrokerID(follower + 1)))
        }
    }

    mutating func leaderHeartbeat(_ index: Int) {
        guard nodes[index].isLeader else { return }
        replicate(index)
        setTimer(.heartbeat, for: .broker(nodes[index].id), after: config.heartbeatMs)
    }

    mutating func becomeFollower(_ index: Int, term: Int, leader: BrokerID?) {
        let wasLeader = nodes[index].isLeader
        if term > nodes[index].term {
            nodes[index].term = term
            nodes[index].votedFor = nil
            nodes[index].memory.verifiedUpTo = 0
        }
        nodes[index].memory.role = .follower
        nodes[index].memory.leader = leader
        if wasLeader {
            // Consumers follow the queue to its new leader.
            let registered = nodes[index].memory.consumers.keys.sorted()
            nodes[index].memory.consumers = [:]
            nodes[index].memory.checkedOut = []
            for consumer in registered {
                engine.transmit(.cancel, from: .broker(nodes[index].id), to: .consumer(consumer))
            }
            note(
                .becameFollower(broker: nodes[index].id, leader: leader, epoch: Epoch(term)),
                at: .broker(nodes[index].id))
        }
    }

    mutating func receiveAppend(
        _ index: Int, from leader: BrokerID, term: Int, _ previousIndex: Int, _ previousTerm: Int,
        _ entries: [RaftEntry], _ leaderCommit: Int
    ) {
        let me = NodeID.broker(nodes[index].id)
        guard term >= nodes[index].term else {
            engine.transmit(
                .appendResponse(term: nodes[index].term, success: false, matchIndex: 0), from: me,
                to: .broker(leader))
            return
        }
        becomeFollower(index, term: term, leader: leader)
        nodes[index].memory.lastHeard = now
        guard previousIndex <= nodes[index].log.count,
            previousIndex == 0 || nodes[index].log[previousIndex - 1].term == previousTerm
        else {
            engine.transmit(
                .appendResponse(
                    term: term, success: false,
                    matchIndex: min(nodes[index].log.count, max(0, previousIndex - 1))),
                from: me, to: .broker(leader))
            return
        }
        for (offset, entry) in entries.enumerated() {
            let position = previousIndex + offset
            if position < nodes[index].log.count {
                guard nodes[index].log[position].term != entry.term else { continue }
                let removed = nodes[index].log[position...].compactMap(\.enqueued)
                nodes[index].log.truncate(from: position)
                precondition(
                    position >= nodes[index].memory.applied,
                    "Raft: a committed entry was overwritten (seed \(seed))"
                )
                if !removed.isEmpty {
                    note(
                        .truncated(
                            broker: nodes[index].id, to: Offset(position), removed: removed,
                            reason: .divergingEpoch), at: me)
                }
            }
            nodes[index].log.append(entry)
            if case .enqueue(let message) = entry.command {
                note(
                    .queue(
                        .raftAppended(
                            node: nodes[index].id, index: position, term: entry.term,
                            message: message.copy.message,
                            leader: false)), at: me)
            }
        }
        nodes[index].memory.verifiedUpTo = max(
            nodes[index].memory.verifiedUpTo, previousIndex + entries.count)
        nodes[index].memory.commitIndex = max(
            nodes[index].memory.commitIndex, min(leaderCommit, nodes[index].memory.verifiedUpTo))
        applyCommitted(index)
        if nodes[index].fsyncedUpTo >= previousIndex + entries.count || entries.isEmpty {
            engine.transmit(
                .appendResponse(
                    term: term, success: true,
                    matchIndex: min(nodes[index].fsyncedUpTo, nodes[index].memory.verifiedUpTo)),
                from: me, to: .broker(leader))
        }
        raftFsync(index)
    }

    mutating func receiveAppendResponse(
        _ index: Int, from follower: BrokerID, term: Int, success: Bool, matchIndex: Int
    ) {
        if term > nodes[index].term {
            becomeFollower(index, term: term, leader: nil)
            return
        }
        guard nodes[index].isLeader, term == nodes[index].term else { return }
        let position = follower.value - 1
        if success {
            nodes[index].memory.matchIndex[position] = max(
                nodes[index].memory.matchIndex[position], matchIndex)
            nodes[index].memory.nextIndex[position] = max(nodes[index].memory.nextIndex[position], matchIndex)
            advanceCommit(index)
        } else {
            nodes[index].memory.nextIndex[position] = min(nodes[index].memory.nextIndex[position], matchIndex)
            replicate(index)
        }
    }

    /// An entry of the current term on a majority's disk commits it and everything before it.
    mutating func advanceCommit(_ index: Int) {
        guard nodes[index].isLeader else { return }
        var matches = nodes[index].memory.matchIndex
        matches[index] = nodes[index].fsyncedUpTo
        let majority = matches.sorted(by: >)[1]
        if majority > nodes[index].memory.commitIndex,
            nodes[index].log[majority - 1].term == nodes[index].term
        {
            nodes[index].memory.commitIndex = majority
            applyCommitted(index)
        }
    }

    mutating func applyCommitted(_ index: Int) {
        let id = nodes[index].id
        while nodes[index].memory.applied < nodes[index].memory.commitIndex {
            let entry = nodes[index].log[nodes[index].memory.applied]
            nodes[index].memory.applied += 1
            let leading = nodes[index].isLeader
            switch entry.command {
            case .noop: break
            case .enqueue(let message):
                nodes[index].memory.quorum.append(message)
                if leading {
                    note(
                        .queue(
                            .enqueued(node: id, queue: "q", message: message.copy.message, persistent: true)),
                        at: .broker(id))
                    if let sequence = message.copy.sequence {
                        engine.transmit(
                            .confirm(sequence: sequence, nack: false), from: .broker(id),
                            to: .producer(message.copy.publisher))
                    }
                }
            case .settle(let copy):
                nodes[index].memory.quorum.removeAll { $0.copy.id == copy }
                nodes[index].memory.checkedOut.removeAll { $0.copy == copy }
            case .giveBack(let copy, let countsDelivery):
                guard let position = nodes[index].memory.quorum.firstIndex(where: { $0.copy.id == copy })
                else {
                    break
                }
                nodes[index].memory.quorum[position].redelivered = true
                if countsDelivery { nodes[index].memory.quorum[position].deliveryCount += 1 }
                let message = nodes[index].memory.quorum[position]
                if let limit = config.deliveryLimit, message.deliveryCount > limit {
                    nodes[index].memory.quorum.remove(at: position)
                    if leading {
                        deadLetter(
                            index, message, reason: "returned more than x-delivery-limit=\(limit) times")
                    }
                } else if leading {
                    note(
                        .queue(
                            .requeued(
                                node: id, messages: [message.copy.message],
                                reason: countsDelivery
                                    ? "returned (counts towards the delivery limit)"
                                    : "returned (not counted)")), at: .broker(id))
                }
                nodes[index].memory.checkedOut.removeAll { $0.copy == copy }
            }
        }
        if nodes[index].isLeader { dispatch(index) }
    }

    mutating func quorumSettle(_ index: Int, consumer: Int, tag: Int, _ settlement: Settlement) {
        guard nodes[index].isLeader,
            let position = nodes[index].memory.checkedOut.firstIndex(where: {
                $0.tag == tag && $0.consumer == consumer
            })
        else { return }
        let copy = nodes[index].memory.checkedOut[position].copy
        // Still checked out until the command commits, so it is not handed out twice.
        nodes[index].memory.checkedOut[position] = (0, 0, copy)
        switch settlement {
        case .ack:
            raftAppend(index, .settle(copy: copy))
        case .reject:
            if let message = nodes[index].memory.quorum.first(where: { $0.copy.id == copy }) {
                deadLetter(index, message, reason: "rejected with requeue=false")
            }
            raftAppend(index, .settle(copy: copy))
        case .rejectRequeue:
            raftAppend(index, .giveBack(copy: copy, countsDelivery: true))
        case .nackRequeue:
            // 4.3 stopped counting basic.nack towards the delivery limit (RMQ-07).
            raftAppend(index, .giveBack(copy: copy, countsDelivery: config.version == .v40))
        }
    }

    mutating func electionCheck(_ index: Int) {
        let id = nodes[index].id
        setTimer(.electionCheck, for: .broker(id), after: config.heartbeatMs)
        guard !nodes[index].isLeader,
            now - nodes[index].memory.lastHeard >= config.electionTimeoutMs
                + nodes[index].memory.electionJitter
        else { return }
        // Stand for election in a new term.
        nodes[index].term += 1
        nodes[index].votedFor = id
        nodes[index].memory.role = .candidate(votes: [id.value])
        nodes[index].memory.leader = nil
        nodes[index].memory.lastHeard = now
        nodes[index].memory.electionJitter = electionRandom.next(in: 0...config.electionTimeoutMs)
        let lastTerm = nodes[index].log.last?.term ?? 0
        for other in 0..<3 where other != index {
            engine.transmit(
                .requestVote(term: nodes[index].term, lastIndex: nodes[index].log.count, lastTerm: lastTerm),
                from: .broker(id), to: .broker(BrokerID(other + 1)))
        }
    }

    mutating func receiveVoteRequest(
        _ index: Int, from candidate: BrokerID, term: Int, lastIndex: Int, lastTerm: Int
    ) {
        if term > nodes[index].term { becomeFollower(index, term: term, leader: nil) }
        let myLastTerm = nodes[index].log.last?.term ?? 0
        let upToDate =
            lastTerm > myLastTerm || (lastTerm == myLastTerm && lastIndex >= nodes[index].log.count)
        let granted =
            term == nodes[index].term && upToDate
            && (nodes[index].votedFor == nil || nodes[index].votedFor == candidate)
        if granted {
            nodes[index].votedFor = candidate
            nodes[index].memory.lastHeard = now
        }
        engine.transmit(
            .vote(term: nodes[index].term, granted: granted), from: .broker(nodes[index].id),
            to: .broker(candidate))
    }

    mutating func receiveVote(_ index: Int, from voter: BrokerID, term: Int, granted: Bool) {
        if term > nodes[index].term {
            becomeFollower(index, term: term, leader: nil)
            return
        }
        guard granted, term == nodes[index].term, case .candidate(var votes) = nodes[index].memory.role else {
            return
        }
        votes.insert(voter.value)
        nodes[index].memory.role = .candidate(votes: votes)
        guard votes.count >= 2 else { return }
        let id = nodes[index].id
        nodes[index].memory.role = .leader
        nodes[index].memory.leader = id
        nodes[index].memory.matchIndex = [0, 0, 0]
        nodes[index].memory.nextIndex = [Int](repeating: nodes[index].log.count, count: 3)
        nodes[index].memory.checkedOut = []
        note(.becameLeader(broker: id, epoch: Epoch(nodes[index].term)), at: .broker(id))
        // A no-op of the new term commits what earlier terms left uncommitted (Raft §5.4.2).
        raftAppend(index, .noop)
        setTimer(.heartbeat, for: .broker(id), after: config.heartbeatMs)
        for consumer in consumers.indices
        where consumers[consumer].active && consumers[consumer].connectedTo == nil {
            connectConsumer(consumer)
        }
    }
}
