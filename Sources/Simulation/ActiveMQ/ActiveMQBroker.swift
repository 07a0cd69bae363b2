// The ActiveMQ broker: dispatch, the KahaDB journal and its syncs, and what a crash or power
// loss leaves of it.

extension ActiveMQWorld {
    // MARK: - Broker

    mutating func brokerReceive(_: Int, _ payload: AMQPayload, from: NodeID) {
        switch payload {
        case .send(let message, let queue, let receipt):
            guard case .producer(let producer) = from else { return }
            enqueue(message, queue: queue, producer: producer, receipt: receipt)
        case .commit(let sends, let acks):
            fact("B1 commits a transaction: \(sends.count) sent, \(acks.count) acked", at: Self.brokerNode)
            for message in sends { enqueue(message, queue: "out", producer: nil, receipt: nil) }
            if case .consumer(let consumer) = from { acknowledge(acks, consumer: consumer, poison: false) }
        case .subscribe(let consumer):
            if !broker.memory.consumers.contains(consumer) { broker.memory.consumers.append(consumer) }
            dispatch()
        case .ack(let copies, let poison):
            guard case .consumer(let consumer) = from else { return }
            acknowledge(copies, consumer: consumer, poison: poison)
        case .closed(let consumer):
            broker.memory.consumers.removeAll { $0 == consumer }
            let returned = broker.memory.inFlight.removeValue(forKey: consumer) ?? []
            for var message in returned {
                message.redeliveryCounter += 1
                requeue(message, queue: "q")
            }
            if !returned.isEmpty {
                note(
                    .queue(
                        .requeued(
                            node: Self.brokerID, messages: returned.map(\.message),
                            reason: "consumer connection closed")),
                    at: Self.brokerNode)
            }
            dispatch()
        case .receipt, .dispatch:
            preconditionFailure("the broker got \(payload.kind)")
        }
    }

    mutating func enqueue(_ message: AMQMessage, queue: String, producer: Int?, receipt: Int?) {
        broker.memory.queues[queue, default: []].append(message)
        note(
            .queue(
                .enqueued(
                    node: Self.brokerID, queue: queueName(queue), message: message.message,
                    persistent: message.persistent)),
            at: Self.brokerNode)
        if message.persistent {
            // The store task runs beside dispatch (KahaDB concurrentStoreAndDispatch for queues).
            broker.memory.pendingStores[message.copy] = (queue, producer, receipt)
            setTimer(.storeTask(copy: message.copy), for: Self.brokerNode, after: 1)
        } else if let producer, let receipt {
            engine.transmit(.receipt(receipt), from: Self.brokerNode, to: .producer(producer))
        }
        if queue == "q" { dispatch() }
    }

    func queueName(_ queue: String) -> String { queue == "dlq" ? "ActiveMQ.DLQ" : queue }

    mutating func requeue(_ message: AMQMessage, queue: String) {
        var messages = broker.memory.queues[queue, default: []]
        let index = messages.firstIndex { $0.position > message.position } ?? messages.count
        messages.insert(message, at: index)
        broker.memory.queues[queue] = messages
    }

    mutating func runStoreTask(_ copy: Int) {
        guard let pending = broker.memory.pendingStores.removeValue(forKey: copy) else { return }
        let stillQueued =
            broker.memory.queues[pending.queue, default: []].first { $0.copy == copy }
            ?? broker.memory.inFlight.values.joined().first { $0.copy == copy }
        guard let message = stillQueued else {
            // Acked before the store ran: the task is cancelled and the message never touches disk.
            fact("B1 cancels the store of an already acknowledged message", at: Self.brokerNode)
            if let producer = pending.producer, let receipt = pending.receipt {
                engine.transmit(.receipt(receipt), from: Self.brokerNode, to: .producer(producer))
            }
            return
        }
        broker.journal.append(.add(message, queue: pending.queue))
        if let producer = pending.producer, let receipt = pending.receipt {
            if config.journalDiskSyncStrategy == .always {
                broker.memory.awaitingSync.append((broker.journal.count - 1, producer, receipt))
            } else {
                engine.transmit(.receipt(receipt), from: Self.brokerNode, to: .producer(producer))
            }
        }
        journalWritten()
    }

    mutating func journalWritten() {
        switch config.journalDiskSyncStrategy {
        case .always: startFsync()
        case .periodic: break
        case .never:
            setTimer(
                .writeback(upTo: broker.journal.count), for: Self.brokerNode, after: config.osWritebackMs)
        }
    }

    mutating func startFsync() {
        guard !broker.memory.fsyncInFlight, broker.journal.hasUnsynced else { return }
        broker.memory.fsyncInFlight = true
        fsyncs += 1
        setTimer(.fsyncDone(upTo: broker.journal.count), for: Self.brokerNode, after: config.fsyncMs)
    }

    mutating func fsyncDone(upTo: Int) {
        broker.memory.fsyncInFlight = false
        markSynced(upTo: upTo)
        let ready = broker.memory.awaitingSync.filter { $0.record < upTo }
        broker.memory.awaitingSync.removeAll { $0.record < upTo }
        for waiting in ready {
            engine.transmit(.receipt(waiting.receipt), from: Self.brokerNode, to: .producer(waiting.producer))
        }
        if config.journalDiskSyncStrategy == .always { startFsync() }
    }

    mutating func markSynced(upTo: Int) {
        let count = broker.journal.sync(upTo: upTo)
        if count > 0 { note(.queue(.fsynced(node: Self.brokerID, messages: count)), at: Self.brokerNode) }
    }

    mutating func dispatch() {
        for consumer in broker.memory.consumers {
            while broker.memory.inFlight[consumer, default: []].count < max(1, config.prefetch),
                let message = broker.memory.queues["q"]?.first
            {
                broker.memory.queues["q"]?.removeFirst()
                broker.memory.inFlight[consumer, default: []].append(message)
                note(
                    .queue(
                        .delivered(
                            node: Self.brokerID, consumer: consumer, message: message.message,
                            tag: message.copy,
                            redelivered: message.redeliveryCounter > 0,
                            deliveryCount: message.redeliveryCounter + 1)),
                    at: Self.brokerNode)
                engine.transmit(.dispatch(message), from: Self.brokerNode, to: .consumer(consumer))
            }
        }
    }

    mutating func acknowledge(_ copies: [Int], consumer: Int, poison: Bool) {
        for copy in copies {
            guard
                let position = broker.memory.inFlight[consumer, default: []].firstIndex(where: {
                    $0.copy == copy
                })
            else {
                continue
            }
            let message = broker.memory.inFlight[consumer, default: []].remove(at: position)
            if broker.memory.pendingStores[copy] == nil && message.persistent {
                broker.journal.append(.remove(copy: copy))
                journalWritten()
            }
            guard poison else { continue }
            if message.persistent || config.processNonPersistent {
                note(
                    .queue(
                        .deadLettered(
                            node: Self.brokerID, message: message.message, exchange: "ActiveMQ.DLQ",
                            reason: "poison ack after \(message.redeliveryCounter) redeliveries")),
                    at: Self.brokerNode)
                nextPosition += 1
                var dead = message
                dead.position = nextPosition
                enqueue(dead, queue: "dlq", producer: nil, receipt: nil)
            } else {
                note(
                    .queue(
                        .discarded(
                            node: Self.brokerID, message: message.message,
                            reason: "poison ack for a non-persistent message (processNonPersistent=false)")),
                    at: Self.brokerNode)
            }
        }
        dispatch()
    }

    // MARK: - Broker faults

    /// Every queue as replaying the journal rebuilds it: each added message not removed later.
    func recoveredFromJournal() -> [String: [AMQMessage]] {
        var removed = Set<Int>()
        var recovered: [String: [AMQMessage]] = ["q": [], "dlq": [], "out": []]
        for record in broker.journal.records.reversed() {
            switch record {
            case .remove(let copy): removed.insert(copy)
            case .add(let message, let queue) where !removed.contains(message.copy):
                recovered[queue, default: []].insert(message, at: 0)
            case .add: break
            }
        }
        return recovered
    }

    mutating func crashBroker(_: BrokerID, _ fault: Fault) {
        guard engine.crash(Self.brokerNode, fault) else { return }
        var held = broker.memory.queues
        held["q", default: []] += broker.memory.inFlight.keys.sorted().flatMap {
            broker.memory.inFlight[$0] ?? []
        }
        broker.heldAtCrash = held
        broker.lose(fault)
        engine.resetConnections(of: Self.brokerNode)
        for producer in producers.indices { producerLostConnection(producer) }
        for consumer in consumers.indices where consumers[consumer].connected {
            consumers[consumer].connected = false
            consumers[consumer].inbox = []
            consumers[consumer].consumed = []
            if consumers[consumer].active && engine.isUp(.consumer(consumer + 1)) {
                setTimer(.reconnect, for: .consumer(consumer + 1), after: config.reconnectMs)
            }
        }
    }

    mutating func restartBroker(_: BrokerID) {
        guard engine.restart(Self.brokerNode) else { return }
        let before = broker.heldAtCrash
        let recovered = recoveredFromJournal()
        broker.memory.queues = recovered
        for queue in ["q", "dlq", "out"] {
            let kept = Set(recovered[queue, default: []].map(\.copy))
            let lost = (before[queue] ?? []).filter { !kept.contains($0.copy) }.map(\.message)
            guard !kept.isEmpty || !lost.isEmpty else { continue }
            note(
                .queue(
                    .recovered(
                        node: Self.brokerID, queue: queueName(queue),
                        kept: recovered[queue, default: []].map(\.message),
                        lost: lost, durable: true)), at: Self.brokerNode)
        }
        if config.journalDiskSyncStrategy == .periodic {
            setTimer(.periodicSync, for: Self.brokerNode, after: config.journalDiskSyncInterval)
        }
    }
}
