// Publishers (confirms, mandatory, timeouts) and consumers (prefetch, acks, redelivery) of the
// RabbitMQ world.

extension RabbitWorld {
    // MARK: - Publishers

    var isQuorum: Bool { config.queueType == .quorum }

    /// The node a client talks to: B1 for a classic queue; for a quorum queue the leader if one
    /// is known, else the first live node (which hands the publish to the leader when one exists).
    func entryNode() -> BrokerID? {
        if !isQuorum { return engine.isUp(.broker(nodes[0].id)) ? BrokerID(1) : nil }
        if let leader = currentLeader { return leader }
        return nodes.first { engine.isUp(.broker($0.id)) }?.id
    }

    var currentLeader: BrokerID? {
        nodes.filter { engine.isUp(.broker($0.id)) && $0.isLeader }.max { $0.term < $1.term }?.id
    }

    mutating func publish(_ messages: [MessageID], publisher: Int) {
        let index = publisher - 1
        let node = NodeID.producer(publisher)
        guard engine.isUp(.producer(index + 1)) else { return }
        for message in messages {
            let send = engine.recorder.history.invoke(
                History.Send(
                    message: message, producer: publisher, session: 0, invoked: now, outcome: .pending))
            guard let target = entryNode() else {
                note(
                    .failed(
                        producer: publisher, messages: [message], error: "connection refused", retrying: false
                    ), at: node)
                engine.recorder.history.complete(send, .fail(error: "connection refused", time: now))
                continue
            }
            publishers[index].connectedTo = target
            var sequence: Int?
            if config.publisherConfirms {
                let next = publishers[index].nextSequence
                publishers[index].nextSequence += 1
                publishers[index].outstanding.append((next, send, message))
                sequence = next
                setTimer(.confirmTimeout(sequence: next), for: node, after: config.confirmTimeoutMs)
            }
            nextCopy += 1
            let copy = MessageCopy(
                id: nextCopy, message: message, persistent: config.deliveryMode == 2, publisher: publisher,
                sequence: sequence)
            note(
                .sent(producer: publisher, messages: [message], to: target, attempt: 1, sequence: sequence),
                at: node)
            engine.transmit(.publish(copy), from: node, to: .broker(target))
            if !config.publisherConfirms {
                // Without confirms a publish is done once it is written to the socket (RMQ-04).
                engine.recorder.history.complete(send, .ok(offset: nil, broker: target, time: now))
            }
        }
    }

    mutating func producerReceive(_ index: Int, _ payload: RabbitPayload, from _: NodeID) {
        let node = NodeID.producer(index + 1)
        switch payload {
        case .confirm(let sequence, let nack):
            guard let position = publishers[index].outstanding.firstIndex(where: { $0.sequence == sequence })
            else {
                return
            }
            let pending = publishers[index].outstanding.remove(at: position)
            if nack {
                note(
                    .failed(
                        producer: index + 1, messages: [pending.message], error: "basic.nack", retrying: false
                    ), at: node)
                engine.recorder.history.complete(pending.send, .fail(error: "basic.nack", time: now))
            } else {
                note(
                    .queue(
                        .confirmed(
                            producer: index + 1, message: pending.message,
                            node: publishers[index].connectedTo ?? BrokerID(1))), at: node)
                engine.recorder.history.complete(
                    pending.send, .ok(offset: nil, broker: publishers[index].connectedTo, time: now))
            }
        case .returned(_, let message):
            note(.queue(.returned(producer: index + 1, message: message)), at: node)
        default:
            preconditionFailure("a publisher got \(payload.kind)")
        }
    }

    mutating func confirmTimedOut(_ index: Int, _ sequence: Int) {
        guard let position = publishers[index].outstanding.firstIndex(where: { $0.sequence == sequence })
        else {
            return
        }
        let pending = publishers[index].outstanding.remove(at: position)
        publishers[index].unconfirmed.append(pending.message)
        let error = "no confirm within \(config.confirmTimeoutMs) ms"
        note(
            .failed(producer: index + 1, messages: [pending.message], error: error, retrying: false),
            at: .producer(index + 1))
        engine.recorder.history.complete(pending.send, .info(error: error, time: now))
    }

    /// The connection to `node` broke: every publish still awaiting its confirm is in doubt.
    mutating func publisherLostConnection(_ index: Int) {
        let outstanding = publishers[index].outstanding
        guard !outstanding.isEmpty else { return }
        publishers[index].outstanding = []
        publishers[index].connectedTo = nil
        publishers[index].unconfirmed += outstanding.map(\.message)
        let error = "connection lost before the confirm"
        note(
            .failed(producer: index + 1, messages: outstanding.map(\.message), error: error, retrying: false),
            at: .producer(index + 1))
        for pending in outstanding {
            engine.recorder.history.complete(pending.send, .info(error: error, time: now))
        }
    }

    /// RMQ-11: after a connection failure a publisher re-sends what was never confirmed.
    mutating func takeUnacknowledged(_ producer: Int) -> [MessageID] {
        let index = producer - 1
        let messages = publishers[index].unconfirmed + publishers[index].outstanding.map(\.message)
        publishers[index].unconfirmed = []
        publishers[index].outstanding = []
        return messages
    }

    mutating func crashProducer(_ producer: Int) {
        let index = producer - 1
        note(.crashed(node: .producer(index + 1), fault: .applicationCrash), at: .producer(index + 1))
        publisherLostConnection(index)
        engine.replaceProcess(.producer(index + 1))
        publishers[index].unconfirmed = []
    }

    // MARK: - Consumers

    mutating func beginConsuming(_ consumer: Int) {
        consumers[consumer - 1].active = true
        connectConsumer(consumer - 1)
    }

    mutating func connectConsumer(_ index: Int) {
        guard consumers[index].active, engine.isUp(.consumer(index + 1)), consumers[index].connectedTo == nil
        else {
            return
        }
        let target = isQuorum ? currentLeader : (engine.isUp(.broker(nodes[0].id)) ? BrokerID(1) : nil)
        guard let target else {
            setTimer(.reconnect, for: .consumer(index + 1), after: config.reconnectMs)
            return
        }
        consumers[index].connectedTo = target
        engine.transmit(.consume(consumer: index + 1), from: .consumer(index + 1), to: .broker(target))
    }

    mutating func consumerReceive(_ index: Int, _ payload: RabbitPayload, from: NodeID) {
        switch payload {
        case .deliver(let message, let tag):
            guard case .broker(let node) = from, node == consumers[index].connectedTo else { return }
            consumers[index].deliveredCount += 1
            engine.recorder.history.polls.append(
                History.Delivery(
                    consumer: index + 1, message: message.copy.message, offset: Offset(message.copy.id),
                    time: now))
            consumers[index].inbox.append((tag, message))
            startProcessing(index)
        case .cancel:
            consumers[index].connectedTo = nil
            consumers[index].inbox = []
            setTimer(.reconnect, for: .consumer(index + 1), after: config.reconnectMs)
        default:
            preconditionFailure("a consumer got \(payload.kind)")
        }
    }

    mutating func startProcessing(_ index: Int) {
        guard !consumers[index].busy, !consumers[index].inbox.isEmpty else { return }
        consumers[index].busy = true
        setTimer(.processed, for: .consumer(index + 1), after: config.processingMs)
    }

    mutating func finishProcessing(_ index: Int) {
        consumers[index].busy = false
        guard !consumers[index].inbox.isEmpty else { return }
        let (tag, message) = consumers[index].inbox.removeFirst()
        let node = NodeID.consumer(index + 1)
        let settlement = consumers[index].settlement
        if settlement == .ack || config.noAck {
            consumers[index].processedCount += 1
            engine.recorder.history.processed.append(
                History.Delivery(
                    consumer: index + 1, message: message.copy.message, offset: Offset(message.copy.id),
                    time: now))
            note(
                .processed(
                    consumer: index + 1, message: message.copy.message, offset: Offset(message.copy.id)),
                at: node)
        }
        if !config.noAck, let connected = consumers[index].connectedTo {
            if settlement != .ack {
                note(
                    .queue(
                        .settled(consumer: index + 1, message: message.copy.message, settlement: settlement)),
                    at: node)
            }
            engine.transmit(.settle(tag: tag, settlement), from: node, to: .broker(connected))
        }
        startProcessing(index)
    }

    mutating func crashConsumer(_ consumer: Int) {
        let index = consumer - 1
        guard engine.crash(.consumer(index + 1), .applicationCrash) else { return }
        consumers[index].busy = false
        closeConsumerConnection(index)
    }

    /// The operating system closes a dead process's connections: the broker sees the close after
    /// whatever the consumer sent before it, and takes back the unacked deliveries (RMQ-09).
    mutating func closeConsumerConnection(_ index: Int) {
        consumers[index].inbox = []
        guard let node = consumers[index].connectedTo else { return }
        consumers[index].connectedTo = nil
        engine.transmit(.closed(consumer: index + 1), from: .consumer(index + 1), to: .broker(node))
    }
}
