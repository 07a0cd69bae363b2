// What a crash, power loss, disk loss or restart does to a RabbitMQ node: the durable state is
// what survives, the rest is rebuilt on boot.

extension RabbitWorld {
    // MARK: - Node faults

    mutating func crashBroker(_ broker: BrokerID, _ fault: Fault) {
        let index = broker.value - 1
        let id = nodes[index].id
        guard engine.crash(.broker(id), fault) else { return }
        nodes[index].syncScheduled = false
        nodes[index].awaitingSync = []
        nodes[index].consumers = [:]
        nodes[index].checkedOut = []
        nodes[index].role = .follower
        nodes[index].fsyncInFlight = false
        engine.resetConnections(of: .broker(id))
        // The disk as the fault leaves it.
        switch fault {
        case .crash, .applicationCrash: break
        case .powerLoss:
            nodes[index].store = nodes[index].store.compactMap { stored in
                guard stored.synced else { return nil }
                var kept = stored
                if !stored.deleteSynced { kept.deleted = false }
                return kept
            }
            if nodes[index].log.hasUnsynced {
                let removed = nodes[index].log.unsynced.compactMap(\.enqueued)
                nodes[index].log.survive(fault)
                if !removed.isEmpty {
                    note(
                        .truncated(
                            broker: id, to: Offset(nodes[index].log.count), removed: removed,
                            reason: .powerLoss), at: .broker(id))
                }
            }
        case .diskLoss:
            nodes[index].store = []
            nodes[index].log.survive(fault)
            nodes[index].term = 0
            nodes[index].votedFor = nil
        }
        // Clients connected to the node see their connections close.
        for publisher in publishers.indices where publishers[publisher].connectedTo == id {
            publisherLostConnection(publisher)
        }
        for consumer in consumers.indices where consumers[consumer].connectedTo == id {
            consumers[consumer].connectedTo = nil
            consumers[consumer].inbox = []
            if consumers[consumer].active && engine.isUp(.consumer(consumer + 1)) {
                setTimer(.reconnect, for: .consumer(consumer + 1), after: config.reconnectMs)
            }
        }
    }

    mutating func restartBroker(_ broker: BrokerID) {
        let index = broker.value - 1
        let id = nodes[index].id
        guard engine.restart(.broker(id)) else { return }
        if isQuorum {
            // Raft state on disk survives; what was applied is rebuilt as the commit index is relearned.
            nodes[index].commitIndex = 0
            nodes[index].applied = 0
            nodes[index].quorum = []
            nodes[index].leader = nil
            nodes[index].verifiedUpTo = 0
            nodes[index].lastHeard = now
            nodes[index].electionJitter = electionRandom.next(in: 0...config.electionTimeoutMs)
            setTimer(.electionCheck, for: .broker(id), after: config.heartbeatMs)
        }
        guard index == 0 || !isQuorum else { return }
        // Classic queues: recover what the message store holds (RMQ-05).
        for name in nodes[index].queues.keys.sorted() {
            let before = nodes[index].queues[name]?.all ?? []
            let durable = config.durable || name == "dlq"
            var recovered = QueueState()
            if durable {
                recovered.ready = nodes[index].store.filter { $0.queue == name && !$0.deleted }.map {
                    stored in
                    var message = stored.message
                    // RabbitMQ cannot tell whether a recovered message was delivered before.
                    message.redelivered =
                        message.redelivered || before.first { $0.copy.id == message.copy.id } == nil
                    return message
                }
            }
            let kept = Set(recovered.ready.map(\.copy.id))
            nodes[index].queues[name] = recovered
            note(
                .queue(
                    .recovered(
                        node: id, queue: name, kept: recovered.ready.map(\.copy.message),
                        lost: before.filter { !kept.contains($0.copy.id) }.map(\.copy.message),
                        durable: durable)), at: .broker(id))
        }
        nodes[index].store.removeAll { $0.deleted }
        if nodes[index].store.contains(where: { !$0.synced }) { scheduleStoreSync(index) }
    }
}
