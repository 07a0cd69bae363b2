// A quorum queue member: a Raft group of three that replicates enqueue and settle commands.

extension RabbitNode {
    // MARK: - Quorum queue: Raft

    mutating func raftAppend(_ command: RaftEntry.Command, _ step: inout Step, _ shared: inout RabbitShared) {
        precondition(isLeader, "only the leader appends")
        log.append(RaftEntry(term: self.term, command: command))
        if case .enqueue(let message) = command {
            step.note(
                .queue(
                    .raftAppended(
                        node: id, index: log.count - 1, term: self.term,
                        message: message.copy.message, leader: true)))
        }
        raftFsync(&step, &shared)
        replicate(&step, &shared)
    }

    mutating func raftFsync(_ step: inout Step, _ shared: inout RabbitShared) {
        guard !memory.fsyncInFlight, fsyncedUpTo < log.count else {
            return
        }
        memory.fsyncInFlight = true
        fsyncs += 1
        step.setTimer(.raftFsyncDone(upTo: log.count), after: config.fsyncMs)
    }

    mutating func raftFsyncDone(upTo: Int, _ step: inout Step, _ shared: inout RabbitShared) {
        memory.fsyncInFlight = false
        log.sync(upTo: upTo)
        if isLeader {
            advanceCommit(&step, &shared)
        } else if let leader = memory.leader {
            // Acknowledge only what is on disk and known to match the leader's log.
            step.send(
                .appendResponse(
                    term: self.term, success: true,
                    matchIndex: min(fsyncedUpTo, memory.verifiedUpTo)), to: .broker(leader))
        }
        raftFsync(&step, &shared)
    }

    mutating func replicate(_ step: inout Step, _ shared: inout RabbitShared) {
        for follower in 0..<3 where follower != index {
            let next = min(memory.nextIndex[follower], log.count)
            let previousTerm = next > 0 ? log[next - 1].term : 0
            let entries = Array(log[next..<min(log.count, next + 200)])
            step.send(
                .appendEntries(
                    term: self.term, previousIndex: next, previousTerm: previousTerm, entries: entries,
                    leaderCommit: memory.commitIndex), to: .broker(BrokerID(follower + 1)))
        }
    }

    mutating func leaderHeartbeat(_ step: inout Step, _ shared: inout RabbitShared) {
        guard isLeader else { return }
        replicate(&step, &shared)
        step.setTimer(.heartbeat, after: config.heartbeatMs)
    }

    mutating func becomeFollower(
        term: Int, leader: BrokerID?, _ step: inout Step, _ shared: inout RabbitShared
    ) {
        let wasLeader = isLeader
        if term > self.term {
            self.term = term
            votedFor = nil
            memory.verifiedUpTo = 0
        }
        memory.role = .follower
        memory.leader = leader
        if wasLeader {
            // Consumers follow the queue to its new leader.
            let registered = memory.consumers.keys.sorted()
            memory.consumers = [:]
            memory.checkedOut = []
            for consumer in registered {
                step.send(.cancel, to: .consumer(consumer))
            }
            step.note(
                .becameFollower(broker: id, leader: leader, epoch: Epoch(term)))
        }
    }

    mutating func receiveAppend(
        from leader: BrokerID, term: Int, _ previousIndex: Int, _ previousTerm: Int,
        _ entries: [RaftEntry], _ leaderCommit: Int, _ step: inout Step, _ shared: inout RabbitShared
    ) {
        guard term >= self.term else {
            step.send(.appendResponse(term: self.term, success: false, matchIndex: 0), to: .broker(leader))
            return
        }
        becomeFollower(term: term, leader: leader, &step, &shared)
        memory.lastHeard = step.now
        memory.lastLeaderContact = step.now
        guard previousIndex <= log.count,
            previousIndex == 0 || log[previousIndex - 1].term == previousTerm
        else {
            step.send(
                .appendResponse(
                    term: term, success: false,
                    matchIndex: min(log.count, max(0, previousIndex - 1))), to: .broker(leader))
            return
        }
        for (offset, entry) in entries.enumerated() {
            let position = previousIndex + offset
            if position < log.count {
                guard log[position].term != entry.term else { continue }
                let removed = log[position...].compactMap(\.enqueued)
                log.truncate(from: position)
                precondition(
                    position >= memory.applied,
                    "Raft: a committed entry was overwritten (seed \(seed))"
                )
                if !removed.isEmpty {
                    step.note(
                        .truncated(
                            broker: id, to: Offset(position), removed: removed,
                            reason: .divergingEpoch))
                }
            }
            log.append(entry)
            if case .enqueue(let message) = entry.command {
                step.note(
                    .queue(
                        .raftAppended(
                            node: id, index: position, term: entry.term,
                            message: message.copy.message,
                            leader: false)))
            }
        }
        memory.verifiedUpTo = max(
            memory.verifiedUpTo, previousIndex + entries.count)
        memory.commitIndex = max(
            memory.commitIndex, min(leaderCommit, memory.verifiedUpTo))
        applyCommitted(&step, &shared)
        if fsyncedUpTo >= previousIndex + entries.count || entries.isEmpty {
            step.send(
                .appendResponse(
                    term: term, success: true,
                    matchIndex: min(fsyncedUpTo, memory.verifiedUpTo)), to: .broker(leader))
        }
        raftFsync(&step, &shared)
    }

    mutating func receiveAppendResponse(
        from follower: BrokerID, term: Int, success: Bool, matchIndex: Int, _ step: inout Step,
        _ shared: inout RabbitShared
    ) {
        if term > self.term {
            becomeFollower(term: term, leader: nil, &step, &shared)
            return
        }
        guard isLeader, term == self.term else { return }
        let position = follower.value - 1
        if success {
            memory.matchIndex[position] = max(
                memory.matchIndex[position], matchIndex)
            memory.nextIndex[position] = max(memory.nextIndex[position], matchIndex)
            advanceCommit(&step, &shared)
        } else {
            memory.nextIndex[position] = min(memory.nextIndex[position], matchIndex)
            replicate(&step, &shared)
        }
    }

    /// An entry of the current term on a majority's disk commits it and everything before it.
    mutating func advanceCommit(_ step: inout Step, _ shared: inout RabbitShared) {
        guard isLeader else { return }
        var matches = memory.matchIndex
        matches[index] = fsyncedUpTo
        let majority = matches.sorted(by: >)[1]
        if majority > memory.commitIndex,
            log[majority - 1].term == self.term
        {
            memory.commitIndex = majority
            applyCommitted(&step, &shared)
        }
    }

    mutating func applyCommitted(_ step: inout Step, _ shared: inout RabbitShared) {
        while memory.applied < memory.commitIndex {
            let entry = log[memory.applied]
            memory.applied += 1
            let leading = isLeader
            switch entry.command {
            case .noop: break
            case .enqueue(let message):
                memory.quorum.append(message)
                if leading {
                    step.note(
                        .queue(
                            .enqueued(node: id, queue: "q", message: message.copy.message, persistent: true)))
                    if let sequence = message.copy.sequence {
                        step.send(
                            .confirm(sequence: sequence, nack: false), to: .producer(message.copy.publisher))
                    }
                }
            case .settle(let copy):
                memory.quorum.removeAll { $0.copy.id == copy }
                memory.checkedOut.removeAll { $0.copy == copy }
            case .giveBack(let copy, let countsDelivery):
                guard let position = memory.quorum.firstIndex(where: { $0.copy.id == copy })
                else {
                    break
                }
                memory.quorum[position].redelivered = true
                if countsDelivery { memory.quorum[position].deliveryCount += 1 }
                let message = memory.quorum[position]
                if let limit = config.deliveryLimit, message.deliveryCount > limit {
                    memory.quorum.remove(at: position)
                    if leading {
                        deadLetter(
                            message, reason: "returned more than x-delivery-limit=\(limit) times", &step,
                            &shared)
                    }
                } else if leading {
                    step.note(
                        .queue(
                            .requeued(
                                node: id, messages: [message.copy.message],
                                reason: countsDelivery
                                    ? "returned (counts towards the delivery limit)"
                                    : "returned (not counted)")))
                }
                memory.checkedOut.removeAll { $0.copy == copy }
            }
        }
        if isLeader { dispatch(&step, &shared) }
    }

    mutating func quorumSettle(
        consumer: Int, tag: Int, _ settlement: Settlement, _ step: inout Step, _ shared: inout RabbitShared
    ) {
        guard isLeader,
            let position = memory.checkedOut.firstIndex(where: {
                $0.tag == tag && $0.consumer == consumer
            })
        else { return }
        let copy = memory.checkedOut[position].copy
        // Still checked out until the command commits, so it is not handed out twice.
        memory.checkedOut[position] = (0, 0, copy)
        switch settlement {
        case .ack:
            raftAppend(.settle(copy: copy), &step, &shared)
        case .reject:
            if let message = memory.quorum.first(where: { $0.copy.id == copy }) {
                deadLetter(message, reason: "rejected with requeue=false", &step, &shared)
            }
            raftAppend(.settle(copy: copy), &step, &shared)
        case .rejectRequeue:
            raftAppend(.giveBack(copy: copy, countsDelivery: true), &step, &shared)
        case .nackRequeue:
            // 4.3 stopped counting basic.nack towards the delivery limit (RMQ-07).
            raftAppend(.giveBack(copy: copy, countsDelivery: config.version != .v43), &step, &shared)
        }
    }

    mutating func electionCheck(_ step: inout Step, _ shared: inout RabbitShared) {
        step.setTimer(.electionCheck, after: config.heartbeatMs)
        guard !isLeader,
            step.now - memory.lastHeard >= config.electionTimeoutMs
                + memory.electionJitter
        else { return }
        // Pre-vote first (Ra, RMQ-16): ask whether an election for the next term could win,
        // without raising the term; a member cut off from the others keeps its term.
        memory.role = .preCandidate(votes: [id.value])
        memory.leader = nil
        memory.lastHeard = step.now
        memory.electionJitter = shared.electionRandom.next(in: 0...config.electionTimeoutMs)
        askForVotes(term: self.term + 1, preVote: true, &step)
    }

    /// Sends a vote request, or a pre-vote request, to the other two members.
    func askForVotes(term: Int, preVote: Bool, _ step: inout Step) {
        let lastTerm = log.last?.term ?? 0
        for other in 0..<3 where other != index {
            step.send(
                .requestVote(term: term, lastIndex: log.count, lastTerm: lastTerm, preVote: preVote),
                to: .broker(BrokerID(other + 1)))
        }
    }

    /// A member grants a pre-vote to an up-to-date candidate when it has not heard from a leader
    /// within the election timeout itself; it changes neither its term nor its vote.
    mutating func receivePreVoteRequest(
        from candidate: BrokerID, term: Int, lastIndex: Int, lastTerm: Int, _ step: inout Step
    ) {
        let myLastTerm = log.last?.term ?? 0
        let upToDate = lastTerm > myLastTerm || (lastTerm == myLastTerm && lastIndex >= log.count)
        let leaderQuiet =
            !isLeader && memory.lastLeaderContact.map { step.now - $0 >= config.electionTimeoutMs } ?? true
        let granted = term > self.term && upToDate && leaderQuiet
        step.send(.vote(term: self.term, granted: granted, preVote: true), to: .broker(candidate))
    }

    mutating func receivePreVote(
        from voter: BrokerID, term: Int, granted: Bool, _ step: inout Step, _ shared: inout RabbitShared
    ) {
        if term > self.term {
            becomeFollower(term: term, leader: nil, &step, &shared)
            return
        }
        guard granted, case .preCandidate(var votes) = memory.role else { return }
        votes.insert(voter.value)
        memory.role = .preCandidate(votes: votes)
        guard votes.count >= 2 else { return }
        // A majority would vote: stand for election in a new term.
        self.term += 1
        votedFor = id
        memory.role = .candidate(votes: [id.value])
        memory.lastHeard = step.now
        askForVotes(term: self.term, preVote: false, &step)
    }

    mutating func receiveVoteRequest(
        from candidate: BrokerID, term: Int, lastIndex: Int, lastTerm: Int, _ step: inout Step,
        _ shared: inout RabbitShared
    ) {
        if term > self.term { becomeFollower(term: term, leader: nil, &step, &shared) }
        let myLastTerm = log.last?.term ?? 0
        let upToDate =
            lastTerm > myLastTerm || (lastTerm == myLastTerm && lastIndex >= log.count)
        let granted =
            term == self.term && upToDate
            && (votedFor == nil || votedFor == candidate)
        if granted {
            votedFor = candidate
            memory.lastHeard = step.now
        }
        step.send(.vote(term: self.term, granted: granted, preVote: false), to: .broker(candidate))
    }

    mutating func receiveVote(
        from voter: BrokerID, term: Int, granted: Bool, _ step: inout Step, _ shared: inout RabbitShared
    ) {
        if term > self.term {
            becomeFollower(term: term, leader: nil, &step, &shared)
            return
        }
        guard granted, term == self.term, case .candidate(var votes) = memory.role else {
            return
        }
        votes.insert(voter.value)
        memory.role = .candidate(votes: votes)
        guard votes.count >= 2 else { return }
        memory.role = .leader
        memory.leader = id
        memory.matchIndex = [0, 0, 0]
        memory.nextIndex = [Int](repeating: log.count, count: 3)
        memory.checkedOut = []
        step.note(.becameLeader(broker: id, epoch: Epoch(self.term)))
        // A no-op of the new term commits what earlier terms left uncommitted (Raft §5.4.2).
        raftAppend(.noop, &step, &shared)
        step.setTimer(.heartbeat, after: config.heartbeatMs)
    }
}
