// A RabbitMQ node's classic queues: routing, the message store and its fsyncs, dispatch within
// prefetch, settlements, dead-lettering and what a closed connection gives back.

extension RabbitNode {
    // MARK: - Broker: routing and classic queues

    mutating func receive(
        _ payload: RabbitPayload, from: NodeID, _ step: inout Step, _ shared: inout RabbitShared
    ) {
        switch payload {
        case .publish(let copy):
            receivePublish(copy, &step, &shared)
        case .consume(let consumer):
            registerConsumer(consumer, &step, &shared)
        case .closed(let consumer):
            requeueConsumerDeliveries(consumer: consumer, &step, &shared)
        case .settle(let tag, let settlement):
            guard case .consumer(let consumer) = from else { return }
            if isQuorum {
                quorumSettle(consumer: consumer, tag: tag, settlement, &step, &shared)
            } else {
                classicSettle(consumer: consumer, tag: tag, settlement, &step, &shared)
            }
        case .appendEntries(let term, let previousIndex, let previousTerm, let entries, let leaderCommit):
            guard case .broker(let leader) = from else { return }
            receiveAppend(
                from: leader, term: term, previousIndex, previousTerm, entries, leaderCommit, &step, &shared)
        case .appendResponse(let term, let success, let matchIndex):
            guard case .broker(let follower) = from else { return }
            receiveAppendResponse(
                from: follower, term: term, success: success, matchIndex: matchIndex, &step, &shared)
        case .requestVote(let term, let lastIndex, let lastTerm, let preVote):
            guard case .broker(let candidate) = from else { return }
            if preVote {
                receivePreVoteRequest(
                    from: candidate, term: term, lastIndex: lastIndex, lastTerm: lastTerm, &step)
            } else {
                receiveVoteRequest(
                    from: candidate, term: term, lastIndex: lastIndex, lastTerm: lastTerm, &step, &shared)
            }
        case .vote(let term, let granted, let preVote):
            guard case .broker(let voter) = from else { return }
            if preVote {
                receivePreVote(from: voter, term: term, granted: granted, &step, &shared)
            } else {
                receiveVote(from: voter, term: term, granted: granted, &step, &shared)
            }
        case .deadLettered(let message):
            enqueueClassic(queue: "dlq", message, &step, &shared)
        case .confirm, .returned, .deliver, .cancel:
            preconditionFailure("a node got \(payload.kind)")
        }
    }

    mutating func receivePublish(_ copy: MessageCopy, _ step: inout Step, _ shared: inout RabbitShared) {
        let queues = config.route(config.routingKey)
        guard !queues.isEmpty else {
            step.note(
                .queue(.unroutable(node: id, message: copy.message, returned: config.mandatory)))
            if config.mandatory {
                step.send(
                    .returned(sequence: copy.sequence, message: copy.message), to: .producer(copy.publisher))
            }
            // The confirm still comes, after the return: a confirm does not mean queued (RMQ-01).
            if let sequence = copy.sequence {
                step.send(.confirm(sequence: sequence, nack: false), to: .producer(copy.publisher))
            }
            return
        }
        let message = QueuedMessage(copy: copy, position: shared.nextPosition())
        // A quorum q is the only queue then: more bound queues are classic-only (RabbitConfig).
        if isQuorum && queues == ["q"] {
            guard isLeader else {
                // Not the leader: hand it to the leader if one is known; else it waits for none.
                if let leader = memory.leader, leader != id {
                    step.send(.publish(copy), to: .broker(leader))
                } else {
                    step.note(
                        .queue(
                            .discarded(
                                node: id, message: copy.message,
                                reason: "no quorum queue leader to take it")))
                }
                return
            }
            raftAppend(.enqueue(message), &step, &shared)
            return
        }
        var refused = false
        for queue in queues {
            if queue == "q" && refusesOneMore(copy, &step, &shared) {
                refused = true
                continue
            }
            enqueueClassic(queue: queue, message, &step, &shared)
            if queue == "q" { dropHeadWhileOver(&step, &shared) }
        }
        // Refused by a full queue: nacked even if other queues took it (RMQ-22).
        if refused, let sequence = copy.sequence {
            step.send(.confirm(sequence: sequence, nack: true), to: .producer(copy.publisher))
            return
        }
        // Confirmed once every queue has it: for persistent messages, after the store's fsync.
        if let sequence = copy.sequence {
            if copy.persistent && config.durable {
                memory.awaitingSync.append(
                    (store.count - 1, copy.publisher, sequence))
                if config.version == .v3 && !memory.syncSoon {
                    // 3.x: with confirms pending, the queue syncs as soon as it goes idle (a
                    // median 1.65 ms on 3.10.8), not at its 200 ms interval.
                    memory.syncSoon = true
                    step.setTimer(.storeSync, after: 1)
                }
            } else {
                step.send(.confirm(sequence: sequence, nack: false), to: .producer(copy.publisher))
            }
        }
    }

    /// `reject-publish` (and `-dlx`) at the limit: the new message is refused before it is
    /// enqueued, even when a consumer could take it at once (`will_overflow`, RMQ-22).
    mutating func refusesOneMore(_ copy: MessageCopy, _ step: inout Step, _ shared: inout RabbitShared)
        -> Bool
    {
        guard let limit = config.maxLength, config.overflow != .dropHead,
            (memory.queues["q"]?.ready.count ?? 0) + 1 > limit
        else { return false }
        let reason = "q is full (x-max-length \(limit), x-overflow \(config.overflow.rawValue))"
        if config.overflow == .rejectPublishDLX {
            deadLetter(
                QueuedMessage(copy: copy, position: shared.nextPosition()), reason: reason, &step, &shared)
        } else {
            step.note(.queue(.discarded(node: id, message: copy.message, reason: reason)))
        }
        return true
    }

    /// `drop-head` (the default): past the limit the oldest ready messages go, dead-lettered if
    /// the queue has a DLX; only ready messages count (RMQ-22).
    mutating func dropHeadWhileOver(_ step: inout Step, _ shared: inout RabbitShared) {
        guard let limit = config.maxLength, config.overflow == .dropHead else { return }
        while let ready = memory.queues["q"]?.ready, ready.count > limit, let head = ready.first {
            memory.queues["q"]?.ready.removeFirst()
            deleteFromStore(copy: head.copy.id, &step, &shared)
            deadLetter(head, reason: "dropped from the head: q is over x-max-length \(limit)", &step, &shared)
        }
    }

    mutating func enqueueClassic(
        queue: String, _ message: QueuedMessage, _ step: inout Step, _ shared: inout RabbitShared
    ) {
        var message = message
        // The smaller of the queue's TTL and the message's, from enqueue into this queue (RMQ-13).
        // What reaches the dead-letter queue has had its TTL removed (RMQ-16).
        let ttls = [queue == "q" ? config.messageTTLMs : nil, message.copy.expirationMs].compactMap { $0 }
        if queue != "dlq", let ttl = ttls.min() { message.expiresAt = step.now + ttl }
        // A retry queue holds each dead-lettered message for its own TTL.
        if queue == "dlq", let ttl = config.retryTTLMs { message.expiresAt = step.now + ttl }
        // Missing is 0, above the maximum is the maximum; a queue without one ignores it (RMQ-18).
        if queue == "q", let maximum = config.maxPriority {
            message.priority = min(message.copy.priority ?? 0, maximum)
        }
        memory.queues[queue, default: QueueState()].requeue(message)
        step.note(
            .queue(
                .enqueued(
                    node: id, queue: queue, message: message.copy.message, persistent: message.copy.persistent
                )))
        // The dead-letter queue is durable; the others are as configured.
        if message.copy.persistent && (config.durable || queue == "dlq") {
            store.append(StoredCopy(queue: queue, message: message))
            scheduleStoreSync(&step, &shared)
        }
        dispatch(&step, &shared)
        armExpiry(queue, &step, &shared)
    }

    /// One timer per queue, for its head's expiry: a message behind an unexpired one waits, and
    /// counts in the length, until it reaches the head (RMQ-14).
    mutating func armExpiry(_ queue: String, _ step: inout Step, _ shared: inout RabbitShared) {
        guard let head = memory.queues[queue]?.ready.first, let at = head.expiresAt else { return }
        if at <= step.now {
            expireHead(queue, &step, &shared)
            return
        }
        if let armed = memory.expiryTimers[queue], armed <= at { return }
        memory.expiryTimers[queue] = at
        step.setTimer(.expireHead(queue: queue), after: at - step.now)
    }

    /// Dead-letters (or drops) expired messages from the head, then arms for the new head.
    mutating func expireHead(_ queue: String, _ step: inout Step, _ shared: inout RabbitShared) {
        while let head = memory.queues[queue]?.ready.first, let at = head.expiresAt, at <= step.now {
            memory.queues[queue]?.ready.removeFirst()
            deleteFromStore(copy: head.copy.id, &step, &shared)
            if queue == "dlq" {
                retryOrDrop(head, &step, &shared)
                continue
            }
            deadLetter(head, reason: "expired: its TTL ran out in \(queue)", &step, &shared)
        }
        armExpiry(queue, &step, &shared)
    }

    /// A message expired in dlq: back to q through the default exchange when dlq is a retry
    /// queue (`dlq.x-dead-letter-routing-key: q`), otherwise gone (dlq has no DLX of its own).
    mutating func retryOrDrop(_ message: QueuedMessage, _ step: inout Step, _ shared: inout RabbitShared) {
        guard config.retryRoutingKey != nil else {
            step.note(
                .queue(
                    .discarded(
                        node: id, message: message.copy.message, reason: "expired in dlq, which has no DLX")))
            return
        }
        step.note(
            .queue(
                .deadLettered(
                    node: id, message: message.copy.message, exchange: "(default) to q",
                    reason: "retry: its TTL ran out in dlq")))
        var again = message
        again.position = shared.nextPosition()
        again.expiresAt = nil
        again.redelivered = false
        enqueueClassic(queue: "q", again, &step, &shared)
    }

    mutating func scheduleStoreSync(_ step: inout Step, _ shared: inout RabbitShared) {
        guard !memory.syncScheduled else { return }
        memory.syncScheduled = true
        step.setTimer(.storeSync, after: config.storeSyncIntervalMs)
    }

    mutating func storeSync(_ step: inout Step, _ shared: inout RabbitShared) {
        memory.syncSoon = false
        // An early sync (3.x, confirms pending) may have left the interval's nothing to do.
        guard store.contains(where: { !$0.synced || ($0.deleted && !$0.deleteSynced) }) else {
            memory.syncScheduled = false
            return
        }
        fsyncs += 1
        step.setTimer(.storeSyncDone(upTo: store.count), after: config.fsyncMs)
    }

    mutating func storeSyncDone(upTo: Int, _ step: inout Step, _ shared: inout RabbitShared) {
        var synced = 0
        for position in 0..<min(upTo, store.count) {
            if !store[position].synced { synced += 1 }
            store[position].synced = true
            if store[position].deleted { store[position].deleteSynced = true }
        }
        memory.syncScheduled = false
        if synced > 0 { step.note(.queue(.fsynced(node: id, messages: synced))) }
        let ready = memory.awaitingSync.filter { $0.storeIndex < upTo }
        memory.awaitingSync.removeAll { $0.storeIndex < upTo }
        for waiting in ready {
            step.send(.confirm(sequence: waiting.sequence, nack: false), to: .producer(waiting.publisher))
        }
        if store.contains(where: { !$0.synced || ($0.deleted && !$0.deleteSynced) }) {
            scheduleStoreSync(&step, &shared)
        }
    }

    mutating func deleteFromStore(copy: Int, _ step: inout Step, _ shared: inout RabbitShared) {
        guard
            let position = store.firstIndex(where: { $0.message.copy.id == copy && !$0.deleted })
        else {
            return
        }
        store[position].deleted = true
        scheduleStoreSync(&step, &shared)
    }

    mutating func registerConsumer(_ consumer: Int, _ step: inout Step, _ shared: inout RabbitShared) {
        if isQuorum && !isLeader {
            step.send(.cancel, to: .consumer(consumer))
            return
        }
        memory.consumers[consumer] = config.noAck ? 0 : config.effectivePrefetch
        if !memory.registered.contains(consumer) { memory.registered.append(consumer) }
        dispatch(&step, &shared)
    }

    func unackedCount(consumer: Int) -> Int {
        if isQuorum { return memory.checkedOut.filter { $0.consumer == consumer }.count }
        return memory.queues["q"]?.unacked.filter { $0.consumer == consumer }.count ?? 0
    }

    /// Pushes ready messages to registered consumers in turn, within their prefetch (RMQ-10);
    /// the new head's expiry is then armed (RMQ-14).
    mutating func dispatch(_ step: inout Step, _ shared: inout RabbitShared) {
        dispatchReady(&step, &shared)
        if !isQuorum { armExpiry("q", &step, &shared) }
    }

    private mutating func dispatchReady(_ step: inout Step, _ shared: inout RabbitShared) {
        // A single active consumer: only the first registered one gets deliveries; when it goes,
        // the next in registration order takes over (RMQ-23; no consumer priorities here).
        let eligible =
            config.singleActiveConsumer && !isQuorum
            ? Array(memory.registered.prefix(1)) : memory.consumers.keys.sorted()
        for consumer in eligible {
            let prefetch = memory.consumers[consumer] ?? 0
            while prefetch == 0 || unackedCount(consumer: consumer) < prefetch {
                guard let message = nextReady(&step, &shared) else { return }
                let tag = nextTag
                nextTag += 1
                if config.noAck {
                    // Done the moment it is written to the socket (RMQ-08).
                    settleAway(copy: message.copy.id, &step, &shared)
                } else if isQuorum {
                    memory.checkedOut.append((tag, consumer, message.copy.id))
                } else {
                    memory.queues["q"]?.unacked.append((tag, consumer, message))
                }
                step.note(
                    .queue(
                        .delivered(
                            node: id, consumer: consumer, message: message.copy.message, tag: tag,
                            redelivered: message.redelivered, deliveryCount: message.deliveryCount)))
                step.send(.deliver(message, tag: tag), to: .consumer(consumer))
            }
        }
    }

    mutating func nextReady(_ step: inout Step, _ shared: inout RabbitShared) -> QueuedMessage? {
        if isQuorum {
            let held = Set(memory.checkedOut.map(\.copy))
            return memory.quorum.first { !held.contains($0.copy.id) }
        }
        // An expired message is never delivered (RMQ-13); one that expires this instant (TTL 0)
        // still goes to a consumer that can take it at once.
        if let at = memory.queues["q"]?.ready.first?.expiresAt, at < step.now {
            expireHead("q", &step, &shared)
        }
        guard let first = memory.queues["q"]?.ready.first else { return nil }
        memory.queues["q"]?.ready.removeFirst()
        return first
    }

    /// An auto-ack delivery is settled as it leaves.
    mutating func settleAway(copy: Int, _ step: inout Step, _ shared: inout RabbitShared) {
        if isQuorum {
            raftAppend(.settle(copy: copy), &step, &shared)
            // Not handed out again while the settle commits.
            memory.checkedOut.append((0, 0, copy))
        } else {
            deleteFromStore(copy: copy, &step, &shared)
        }
    }

    mutating func classicSettle(
        consumer: Int, tag: Int, _ settlement: Settlement, _ step: inout Step, _ shared: inout RabbitShared
    ) {
        guard
            let position = memory.queues["q"]?.unacked.firstIndex(where: {
                $0.tag == tag && $0.consumer == consumer
            }),
            let delivery = memory.queues["q"]?.unacked.remove(at: position)
        else {
            // Acking an unknown tag is a channel error (RMQ-08); a settle after a requeue is one.
            return
        }
        var message = delivery.message
        switch settlement {
        case .ack:
            deleteFromStore(copy: message.copy.id, &step, &shared)
        case .reject:
            deleteFromStore(copy: message.copy.id, &step, &shared)
            deadLetter(message, reason: "rejected with requeue=false", &step, &shared)
        case .rejectRequeue, .nackRequeue:
            message.redelivered = true
            memory.queues["q"]?.requeue(message)
            step.note(
                .queue(
                    .requeued(
                        node: id, messages: [message.copy.message], reason: settlement.rawValue)))
        }
        dispatch(&step, &shared)
    }

    /// To the dead-letter exchange if the queue has one, else dropped (RMQ-08).
    mutating func deadLetter(
        _ message: QueuedMessage, reason: String, _ step: inout Step, _ shared: inout RabbitShared
    ) {
        guard let exchange = config.deadLetterExchange else {
            step.note(
                .queue(
                    .discarded(
                        node: id, message: message.copy.message, reason: reason + ", no dead-letter exchange")
                ))
            return
        }
        step.note(
            .queue(
                .deadLettered(node: id, message: message.copy.message, exchange: exchange, reason: reason)))
        guard step.isUp(.broker(BrokerID(1))) else { return }
        var dead = message
        dead.position = shared.nextPosition()
        dead.copy.sequence = nil
        dead.copy.expirationMs = nil
        dead.expiresAt = nil
        // Into B1's dlq within the same instant: the model does not put dead-lettering on the
        // network. From another node it is handed over once this step ends.
        if index == 0 {
            enqueueClassic(queue: "dlq", dead, &step, &shared)
        } else {
            step.handOver(.deadLettered(dead), to: .broker(BrokerID(1)))
        }
    }

    mutating func requeueConsumerDeliveries(consumer: Int, _ step: inout Step, _ shared: inout RabbitShared) {
        memory.consumers[consumer] = nil
        memory.registered.removeAll { $0 == consumer }
        if isQuorum {
            let held = memory.checkedOut.filter { $0.consumer == consumer }
            memory.checkedOut.removeAll { $0.consumer == consumer }
            for delivery in held {
                raftAppend(.giveBack(copy: delivery.copy, countsDelivery: true), &step, &shared)
            }
            return
        }
        guard var queue = memory.queues["q"] else { return }
        let returned = queue.unacked.filter { $0.consumer == consumer }
        queue.unacked.removeAll { $0.consumer == consumer }
        for delivery in returned {
            var message = delivery.message
            message.redelivered = true
            queue.requeue(message)
        }
        memory.queues["q"] = queue
        if !returned.isEmpty {
            step.note(
                .queue(
                    .requeued(
                        node: id, messages: returned.map(\.message.copy.message),
                        reason: "consumer connection closed")))
        }
        dispatch(&step, &shared)
    }
}
