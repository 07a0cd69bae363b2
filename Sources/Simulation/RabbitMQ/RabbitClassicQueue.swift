// The broker side of the RabbitMQ world: routing, classic queues, the message store and its
// fsyncs, dead-lettering and length limits.

extension RabbitWorld {
    // MARK: - Broker: routing and classic queues

    mutating func brokerReceive(_ index: Int, _ payload: RabbitPayload, from: NodeID) {
        switch payload {
        case .publish(let copy):
            receivePublish(index, copy)
        case .consume(let consumer):
            registerConsumer(index, consumer)
        case .closed(let consumer):
            requeueConsumerDeliveries(index, consumer: consumer)
        case .settle(let tag, let settlement):
            guard case .consumer(let consumer) = from else { return }
            if isQuorum {
                quorumSettle(index, consumer: consumer, tag: tag, settlement)
            } else {
                classicSettle(index, consumer: consumer, tag: tag, settlement)
            }
        case .appendEntries(let term, let previousIndex, let previousTerm, let entries, let leaderCommit):
            guard case .broker(let leader) = from else { return }
            receiveAppend(index, from: leader, term: term, previousIndex, previousTerm, entries, leaderCommit)
        case .appendResponse(let term, let success, let matchIndex):
            guard case .broker(let follower) = from else { return }
            receiveAppendResponse(index, from: follower, term: term, success: success, matchIndex: matchIndex)
        case .requestVote(let term, let lastIndex, let lastTerm):
            guard case .broker(let candidate) = from else { return }
            receiveVoteRequest(index, from: candidate, term: term, lastIndex: lastIndex, lastTerm: lastTerm)
        case .vote(let term, let granted):
            guard case .broker(let voter) = from else { return }
            receiveVote(index, from: voter, term: term, granted: granted)
        case .confirm, .returned, .deliver, .cancel:
            preconditionFailure("a node got \(payload.kind)")
        }
    }

    /// The queues a publish reaches (RMQ-01): the default exchange routes by queue name; a
    /// declared exchange through its bindings, each queue at most once.
    func route(_ routingKey: String) -> [String] {
        if config.exchange.isEmpty {
            return queueNames.contains(routingKey) ? [routingKey] : []
        }
        return config.bindings.filter { binding in
            binding.keys.contains { config.exchangeType.matches(routingKey: routingKey, bindingKey: $0) }
        }.map(\.queue)
    }

    /// Every queue the topology declares, `q` first.
    var queueNames: [String] {
        ["q"] + config.bindings.map(\.queue).filter { $0 != "q" }
            + (config.deadLetterExchange != nil ? ["dlq"] : [])
    }

    mutating func receivePublish(_ index: Int, _ copy: MessageCopy) {
        let node = NodeID.broker(nodes[index].id)
        let queues = route(config.routingKey)
        guard !queues.isEmpty else {
            note(
                .queue(.unroutable(node: nodes[index].id, message: copy.message, returned: config.mandatory)),
                at: node)
            if config.mandatory {
                engine.transmit(
                    .returned(sequence: copy.sequence, message: copy.message), from: node,
                    to: .producer(copy.publisher))
            }
            // The confirm still comes, after the return: a confirm does not mean queued (RMQ-01).
            if let sequence = copy.sequence {
                engine.transmit(
                    .confirm(sequence: sequence, nack: false), from: node, to: .producer(copy.publisher))
            }
            return
        }
        nextPosition += 1
        let message = QueuedMessage(copy: copy, position: nextPosition)
        // A quorum q is the only queue then: more bound queues are classic-only (RabbitConfig).
        if isQuorum && queues == ["q"] {
            guard nodes[index].isLeader else {
                // Not the leader: hand it to the leader if one is known; else it waits for none.
                if let leader = nodes[index].memory.leader, leader != nodes[index].id {
                    engine.transmit(.publish(copy), from: node, to: .broker(leader))
                } else {
                    note(
                        .queue(
                            .discarded(
                                node: nodes[index].id, message: copy.message,
                                reason: "no quorum queue leader to take it")), at: node)
                }
                return
            }
            raftAppend(index, .enqueue(message))
            return
        }
        for queue in queues { enqueueClassic(index, queue: queue, message) }
        // Confirmed once every queue has it: for persistent messages, after the store's fsync.
        if let sequence = copy.sequence {
            if copy.persistent && config.durable {
                nodes[index].memory.awaitingSync.append(
                    (nodes[index].store.count - 1, copy.publisher, sequence))
            } else {
                engine.transmit(
                    .confirm(sequence: sequence, nack: false), from: node, to: .producer(copy.publisher))
            }
        }
    }

    mutating func enqueueClassic(_ index: Int, queue: String, _ message: QueuedMessage) {
        let id = nodes[index].id
        nodes[index].memory.queues[queue, default: QueueState()].ready.append(message)
        note(
            .queue(
                .enqueued(
                    node: id, queue: queue, message: message.copy.message, persistent: message.copy.persistent
                )), at: .broker(id))
        // The dead-letter queue is durable; the others are as configured.
        if message.copy.persistent && (config.durable || queue == "dlq") {
            nodes[index].store.append(StoredCopy(queue: queue, message: message))
            scheduleStoreSync(index)
        }
        dispatch(index)
    }

    mutating func scheduleStoreSync(_ index: Int) {
        guard !nodes[index].memory.syncScheduled else { return }
        nodes[index].memory.syncScheduled = true
        setTimer(.storeSync, for: .broker(nodes[index].id), after: config.storeSyncIntervalMs)
    }

    mutating func storeSync(_ index: Int) {
        fsyncs += 1
        setTimer(
            .storeSyncDone(upTo: nodes[index].store.count), for: .broker(nodes[index].id),
            after: config.fsyncMs)
    }

    mutating func storeSyncDone(_ index: Int, upTo: Int) {
        let node = NodeID.broker(nodes[index].id)
        var synced = 0
        for position in 0..<min(upTo, nodes[index].store.count) {
            if !nodes[index].store[position].synced { synced += 1 }
            nodes[index].store[position].synced = true
            if nodes[index].store[position].deleted { nodes[index].store[position].deleteSynced = true }
        }
        nodes[index].memory.syncScheduled = false
        if synced > 0 { note(.queue(.fsynced(node: nodes[index].id, messages: synced)), at: node) }
        let ready = nodes[index].memory.awaitingSync.filter { $0.storeIndex < upTo }
        nodes[index].memory.awaitingSync.removeAll { $0.storeIndex < upTo }
        for waiting in ready {
            engine.transmit(
                .confirm(sequence: waiting.sequence, nack: false), from: node,
                to: .producer(waiting.publisher))
        }
        if nodes[index].store.contains(where: { !$0.synced || ($0.deleted && !$0.deleteSynced) }) {
            scheduleStoreSync(index)
        }
    }

    mutating func deleteFromStore(_ index: Int, copy: Int) {
        guard
            let position = nodes[index].store.firstIndex(where: { $0.message.copy.id == copy && !$0.deleted })
        else {
            return
        }
        nodes[index].store[position].deleted = true
        scheduleStoreSync(index)
    }

    mutating func registerConsumer(_ index: Int, _ consumer: Int) {
        guard consumers[consumer - 1].connectedTo == nodes[index].id else { return }
        if isQuorum && !nodes[index].isLeader {
            engine.transmit(.cancel, from: .broker(nodes[index].id), to: .consumer(consumer))
            return
        }
        nodes[index].memory.consumers[consumer] = config.noAck ? 0 : config.effectivePrefetch
        dispatch(index)
    }

    func unackedCount(_ index: Int, consumer: Int) -> Int {
        if isQuorum { return nodes[index].memory.checkedOut.filter { $0.consumer == consumer }.count }
        return nodes[index].memory.queues["q"]?.unacked.filter { $0.consumer == consumer }.count ?? 0
    }

    /// Pushes ready messages to registered consumers in turn, within their prefetch (RMQ-10).
    mutating func dispatch(_ index: Int) {
        let id = nodes[index].id
        for consumer in nodes[index].memory.consumers.keys.sorted() {
            let prefetch = nodes[index].memory.consumers[consumer] ?? 0
            while prefetch == 0 || unackedCount(index, consumer: consumer) < prefetch {
                guard let message = nextReady(index) else { return }
                let tag = nodes[index].nextTag
                nodes[index].nextTag += 1
                if config.noAck {
                    // Done the moment it is written to the socket (RMQ-08).
                    settleAway(index, copy: message.copy.id)
                } else if isQuorum {
                    nodes[index].memory.checkedOut.append((tag, consumer, message.copy.id))
                } else {
                    nodes[index].memory.queues["q"]?.unacked.append((tag, consumer, message))
                }
                note(
                    .queue(
                        .delivered(
                            node: id, consumer: consumer, message: message.copy.message, tag: tag,
                            redelivered: message.redelivered, deliveryCount: message.deliveryCount)),
                    at: .broker(id))
                engine.transmit(.deliver(message, tag: tag), from: .broker(id), to: .consumer(consumer))
            }
        }
    }

    mutating func nextReady(_ index: Int) -> QueuedMessage? {
        if isQuorum {
            let held = Set(nodes[index].memory.checkedOut.map(\.copy))
            return nodes[index].memory.quorum.first { !held.contains($0.copy.id) }
        }
        guard let first = nodes[index].memory.queues["q"]?.ready.first else { return nil }
        nodes[index].memory.queues["q"]?.ready.removeFirst()
        return first
    }

    /// An auto-ack delivery is settled as it leaves.
    mutating func settleAway(_ index: Int, copy: Int) {
        if isQuorum {
            raftAppend(index, .settle(copy: copy))
            // Not handed out again while the settle commits.
            nodes[index].memory.checkedOut.append((0, 0, copy))
        } else {
            deleteFromStore(index, copy: copy)
        }
    }

    mutating func classicSettle(_ index: Int, consumer: Int, tag: Int, _ settlement: Settlement) {
        guard
            let position = nodes[index].memory.queues["q"]?.unacked.firstIndex(where: {
                $0.tag == tag && $0.consumer == consumer
            }),
            let delivery = nodes[index].memory.queues["q"]?.unacked.remove(at: position)
        else {
            // Acking an unknown tag is a channel error (RMQ-08); a settle after a requeue is one.
            return
        }
        var message = delivery.message
        switch settlement {
        case .ack:
            deleteFromStore(index, copy: message.copy.id)
        case .reject:
            deleteFromStore(index, copy: message.copy.id)
            deadLetter(index, message, reason: "rejected with requeue=false")
        case .rejectRequeue, .nackRequeue:
            message.redelivered = true
            nodes[index].memory.queues["q"]?.requeue(message)
            note(
                .queue(
                    .requeued(
                        node: nodes[index].id, messages: [message.copy.message], reason: settlement.rawValue)),
                at: .broker(nodes[index].id))
        }
        dispatch(index)
    }

    /// To the dead-letter exchange if the queue has one, else dropped (RMQ-08).
    mutating func deadLetter(_ index: Int, _ message: QueuedMessage, reason: String) {
        let id = nodes[index].id
        guard let exchange = config.deadLetterExchange else {
            note(
                .queue(
                    .discarded(
                        node: id, message: message.copy.message, reason: reason + ", no dead-letter exchange")
                ), at: .broker(id))
            return
        }
        note(
            .queue(
                .deadLettered(node: id, message: message.copy.message, exchange: exchange, reason: reason)),
            at: .broker(id))
        guard engine.isUp(.broker(nodes[0].id)) else { return }
        nextPosition += 1
        var dead = message
        dead.position = nextPosition
        dead.copy.sequence = nil
        enqueueClassic(0, queue: "dlq", dead)
    }

    mutating func requeueConsumerDeliveries(_ index: Int, consumer: Int) {
        let id = nodes[index].id
        nodes[index].memory.consumers[consumer] = nil
        if isQuorum {
            let held = nodes[index].memory.checkedOut.filter { $0.consumer == consumer }
            nodes[index].memory.checkedOut.removeAll { $0.consumer == consumer }
            for delivery in held { raftAppend(index, .giveBack(copy: delivery.copy, countsDelivery: true)) }
            return
        }
        guard var queue = nodes[index].memory.queues["q"] else { return }
        let returned = queue.unacked.filter { $0.consumer == consumer }
        queue.unacked.removeAll { $0.consumer == consumer }
        for delivery in returned {
            var message = delivery.message
            message.redelivered = true
            queue.requeue(message)
        }
        nodes[index].memory.queues["q"] = queue
        if !returned.isEmpty {
            note(
                .queue(
                    .requeued(
                        node: id, messages: returned.map(\.message.copy.message),
                        reason: "consumer connection closed")),
                at: .broker(id))
        }
        dispatch(index)
    }
}
