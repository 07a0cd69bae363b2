// What a crash, power loss, disk loss or restart does to a RabbitMQ node: the durable state is
// what survives, the rest is rebuilt on boot.

extension RabbitWorld {
    // MARK: - Node faults

    mutating func crashBroker(_ broker: BrokerID, _ fault: Fault) {
        let index = broker.value - 1
        let id = nodes[index].id
        guard engine.crash(.broker(id), fault) else { return }
        engine.resetConnections(of: .broker(id))
        nodes[index].heldAtCrash = nodes[index].memory.queues.mapValues(\.all)
        let unsynced = nodes[index].log.unsynced.compactMap(\.enqueued)
        nodes[index].lose(fault)
        if fault == .powerLoss && !unsynced.isEmpty {
            note(
                .truncated(
                    broker: id, to: Offset(nodes[index].log.count), removed: unsynced, reason: .powerLoss),
                at: .broker(id))
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
            nodes[index].memory.lastHeard = now
            nodes[index].memory.electionJitter = electionRandom.next(in: 0...config.electionTimeoutMs)
            setTimer(.electionCheck, for: .broker(id), after: config.heartbeatMs)
        }
        guard index == 0 || !isQuorum else { return }
        // Classic queues: recover what the message store holds (RMQ-05).
        for name in nodes[index].heldAtCrash.keys.sorted() {
            let before = nodes[index].heldAtCrash[name] ?? []
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
            nodes[index].memory.queues[name] = recovered
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
