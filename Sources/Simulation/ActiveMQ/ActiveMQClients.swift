// Producers (sync and async sends) and consumers (acknowledge modes, redelivery) of the ActiveMQ
// world.

extension ActiveMQWorld {
    // MARK: - Producers

    mutating func produce(_ messages: [MessageID], producer: Int) {
        let index = producer - 1
        let node = NodeID.producer(producer)
        for message in messages {
            let send = engine.recorder.history.invoke(
                History.Send(
                    message: message, producer: producer, session: 0, invoked: now, outcome: .pending))
            guard engine.isUp(Self.brokerNode) else {
                note(
                    .failed(
                        producer: producer, messages: [message], error: "JMSException: connection refused",
                        retrying: false),
                    at: node)
                producers[index].unacknowledged.append(message)
                engine.recorder.history.complete(send, .fail(error: "connection refused", time: now))
                continue
            }
            nextCopy += 1
            nextPosition += 1
            let copy = AMQMessage(
                copy: nextCopy, message: message, persistent: config.deliveryMode == .persistent,
                position: nextPosition)
            var receipt: Int?
            if config.sendsSynchronously {
                receipt = producers[index].nextReceipt
                producers[index].nextReceipt += 1
                producers[index].awaiting[receipt!] = (send, message)
            }
            note(
                .sent(
                    producer: producer, messages: [message], to: Self.brokerID, attempt: 1, sequence: receipt),
                at: node)
            engine.transmit(.send(copy, queue: "q", receipt: receipt), from: node, to: Self.brokerNode)
            if receipt == nil {
                // Fire and forget: send() returns once the message is written to the socket.
                engine.recorder.history.complete(send, .ok(offset: nil, broker: Self.brokerID, time: now))
            }
        }
    }

    mutating func producerReceive(_ index: Int, _ payload: AMQPayload, from _: NodeID) {
        guard case .receipt(let receipt) = payload else {
            preconditionFailure("a producer got \(payload.kind)")
        }
        guard let waiting = producers[index].awaiting.removeValue(forKey: receipt) else { return }
        fact(
            "p\(index + 1): send(\(name(of: waiting.message))) returns: B1's receipt arrived",
            message: waiting.message,
            at: .producer(index + 1))
        engine.recorder.history.complete(waiting.send, .ok(offset: nil, broker: Self.brokerID, time: now))
    }

    mutating func producerLostConnection(_ index: Int) {
        let waiting = producers[index].awaiting.sorted { $0.key < $1.key }.map(\.value)
        guard !waiting.isEmpty else { return }
        producers[index].awaiting = [:]
        let error = "JMSException: connection lost before the receipt"
        note(
            .failed(producer: index + 1, messages: waiting.map(\.message), error: error, retrying: false),
            at: .producer(index + 1))
        for item in waiting {
            producers[index].unacknowledged.append(item.message)
            engine.recorder.history.complete(item.send, .info(error: error, time: now))
        }
    }

    mutating func crashProducer(_ producer: Int) {
        let index = producer - 1
        note(.crashed(node: .producer(index + 1), fault: .applicationCrash), at: .producer(index + 1))
        producerLostConnection(index)
        producers[index].unacknowledged = []
        engine.replaceProcess(.producer(index + 1))
    }

    // MARK: - Consumers

    mutating func beginConsuming(_ consumer: Int) {
        consumers[consumer - 1].active = true
        connect(consumer - 1)
    }

    mutating func connect(_ index: Int) {
        guard consumers[index].active, engine.isUp(.consumer(index + 1)), !consumers[index].connected else {
            return
        }
        guard engine.isUp(Self.brokerNode) else {
            setTimer(.reconnect, for: .consumer(index + 1), after: config.reconnectMs)
            return
        }
        consumers[index].connected = true
        engine.transmit(.subscribe(consumer: index + 1), from: .consumer(index + 1), to: Self.brokerNode)
    }

    mutating func closeConsumer(_ index: Int) {
        engine.cancelTimers(of: .consumer(index + 1))
        consumers[index].busy = false
        consumers[index].waitingForRedelivery = false
        consumers[index].inbox = []
        consumers[index].consumed = []
        guard consumers[index].connected else { return }
        consumers[index].connected = false
        engine.transmit(.closed(consumer: index + 1), from: .consumer(index + 1), to: Self.brokerNode)
    }

    mutating func consumerReceive(_ index: Int, _ payload: AMQPayload, from _: NodeID) {
        guard case .dispatch(let message) = payload else {
            preconditionFailure("a consumer got \(payload.kind)")
        }
        guard consumers[index].connected else { return }
        consumers[index].inbox.append(message)
        startProcessing(index)
    }

    mutating func startProcessing(_ index: Int) {
        guard !consumers[index].busy, !consumers[index].waitingForRedelivery,
            let message = consumers[index].inbox.first
        else { return }
        consumers[index].busy = true
        consumers[index].deliveredCount += 1
        engine.recorder.history.polls.append(
            History.Delivery(
                consumer: index + 1, message: message.message, offset: Offset(message.copy), time: now))
        if message.redeliveryCounter > 0 {
            fact(
                "c\(index + 1): onMessage(\(name(of: message.message))) with JMSRedelivered=true, JMSXDeliveryCount=\(message.redeliveryCounter + 1)",
                message: message.message, at: .consumer(index + 1))
        }
        setTimer(.processed, for: .consumer(index + 1), after: config.processingMs)
    }

    mutating func finishProcessing(_ index: Int) {
        consumers[index].busy = false
        guard !consumers[index].inbox.isEmpty else { return }
        let message = consumers[index].inbox.removeFirst()
        let node = NodeID.consumer(index + 1)
        let mode = config.acknowledgeMode
        var outcome = consumers[index].listener
        if outcome == .rollbackFirst { outcome = message.redeliveryCounter == 0 ? .rollback : .returns }
        switch (outcome, mode) {
        case (.returns, _):
            consumers[index].processedCount += 1
            engine.recorder.history.processed.append(
                History.Delivery(
                    consumer: index + 1, message: message.message, offset: Offset(message.copy), time: now))
            note(
                .processed(consumer: index + 1, message: message.message, offset: Offset(message.copy)),
                at: node)
            switch mode {
            case .auto, .dupsOK, .individual:
                engine.transmit(.ack(copies: [message.copy], poison: false), from: node, to: Self.brokerNode)
            case .client:
                // message.acknowledge() acks everything the session has consumed (AMQ-04).
                let all = consumers[index].consumed.map(\.copy) + [message.copy]
                consumers[index].consumed = []
                engine.transmit(.ack(copies: all, poison: false), from: node, to: Self.brokerNode)
            case .transacted:
                let sends = forwarded(message)
                consumers[index].consumed = []
                engine.transmit(.commit(sends: sends, acks: [message.copy]), from: node, to: Self.brokerNode)
            }
        case (.throws, .client), (.throws, .transacted):
            // The exception does not roll back: the next message is delivered (AMQ-04).
            fact(
                "c\(index + 1): onMessage(\(name(of: message.message))) threw; in \(mode.rawValue) the next message is delivered",
                message: message.message, at: node)
            consumers[index].consumed.append(message)
        case (.throws, _), (.rollback, _), (.rollbackFirst, _):
            if mode == .transacted {
                let discarded = forwarded(message)
                fact(
                    "c\(index + 1): session.rollback(): \(discarded.isEmpty ? "" : "\(discarded.map { name(of: $0.message) }.joined(separator: " ")) discarded, ")\(name(of: message.message)) to be redelivered",
                    message: message.message, at: node)
            } else {
                fact(
                    "c\(index + 1): onMessage(\(name(of: message.message))) threw a RuntimeException: redelivery",
                    message: message.message, at: node)
            }
            redeliver(index, message)
            return
        }
        startProcessing(index)
    }

    /// What a transacted consumer sends for `message` when `sim.forward` is on.
    mutating func forwarded(_ message: AMQMessage) -> [AMQMessage] {
        guard config.forward else { return [] }
        let out = engine.recorder.message(named: name(of: message.message) + "-out")
        nextCopy += 1
        nextPosition += 1
        return [AMQMessage(copy: nextCopy, message: out, persistent: true, position: nextPosition)]
    }

    /// The client redelivers after the policy's delay, or gives up with a poison ack (AMQ-06).
    mutating func redeliver(_ index: Int, _ message: AMQMessage) {
        var again = message
        again.redeliveryCounter += 1
        let node = NodeID.consumer(index + 1)
        let limit = config.maximumRedeliveries
        if limit != -1 && again.redeliveryCounter > limit {
            fact(
                "c\(index + 1): redeliveryCounter \(again.redeliveryCounter) > maximumRedeliveries \(limit): poison ack for \(name(of: message.message))",
                message: message.message, at: node)
            engine.transmit(.ack(copies: [message.copy], poison: true), from: node, to: Self.brokerNode)
            startProcessing(index)
            return
        }
        consumers[index].inbox.insert(again, at: 0)
        consumers[index].waitingForRedelivery = true
        setTimer(.redeliver, for: node, after: config.redeliveryDelay(before: again.redeliveryCounter))
    }
}
