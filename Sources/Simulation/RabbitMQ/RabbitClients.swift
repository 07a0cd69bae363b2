// RabbitMQ's clients as state machines: publishers (confirms, mandatory returns, timeouts) and
// consumers (prefetch, settlements, redelivery). Each acts only through its step's effects, and
// records what the application saw in the history.

struct RabbitPublisher: Sendable {
    typealias Step = NodeStep<RabbitPayload, RabbitTimer>

    let number: Int
    let config: RabbitConfig
    var nextSequence = 1
    var connectedTo: BrokerID?
    /// Publishes awaiting their confirm: (sequence, history index, message).
    var outstanding: [(sequence: Int, send: Int, message: MessageID)] = []
    var unconfirmed: [MessageID] = []

    /// `target`: the node the client reaches, if any (see `RabbitWorld.entryNode`).
    mutating func publish(
        _ messages: [MessageID], target: BrokerID?, _ step: inout Step, _ shared: inout RabbitShared
    ) {
        guard step.isUp(step.node) else { return }
        for message in messages {
            let send = step.history.invoke(
                History.Send(
                    message: message, producer: number, session: 0, invoked: step.now, outcome: .pending))
            guard let target else {
                step.note(
                    .failed(
                        producer: number, messages: [message], error: "connection refused", retrying: false))
                step.history.complete(send, .fail(error: "connection refused", time: step.now))
                continue
            }
            connectedTo = target
            var sequence: Int?
            if config.publisherConfirms {
                let next = nextSequence
                nextSequence += 1
                outstanding.append((next, send, message))
                sequence = next
                step.setTimer(.confirmTimeout(sequence: next), after: config.confirmTimeoutMs)
            }
            shared.nextCopy += 1
            let copy = MessageCopy(
                id: shared.nextCopy, message: message, persistent: config.deliveryMode == 2,
                publisher: number,
                sequence: sequence)
            step.note(
                .sent(producer: number, messages: [message], to: target, attempt: 1, sequence: sequence))
            step.send(.publish(copy), to: .broker(target))
            if !config.publisherConfirms {
                // Without confirms a publish is done once it is written to the socket (RMQ-04).
                step.history.complete(send, .ok(offset: nil, broker: target, time: step.now))
            }
        }
    }

    mutating func receive(_ payload: RabbitPayload, _ step: inout Step) {
        switch payload {
        case .confirm(let sequence, let nack):
            guard let position = outstanding.firstIndex(where: { $0.sequence == sequence }) else { return }
            let pending = outstanding.remove(at: position)
            if nack {
                step.note(
                    .failed(
                        producer: number, messages: [pending.message], error: "basic.nack", retrying: false))
                step.history.complete(pending.send, .fail(error: "basic.nack", time: step.now))
            } else {
                step.note(
                    .queue(
                        .confirmed(
                            producer: number, message: pending.message, node: connectedTo ?? BrokerID(1))))
                step.history.complete(pending.send, .ok(offset: nil, broker: connectedTo, time: step.now))
            }
        case .returned(_, let message):
            step.note(.queue(.returned(producer: number, message: message)))
        default:
            preconditionFailure("a publisher got \(payload.kind)")
        }
    }

    mutating func fire(_ timer: RabbitTimer, _ step: inout Step) {
        guard case .confirmTimeout(let sequence) = timer else {
            preconditionFailure("timer \(timer) fired at p\(number)")
        }
        guard let position = outstanding.firstIndex(where: { $0.sequence == sequence }) else { return }
        let pending = outstanding.remove(at: position)
        unconfirmed.append(pending.message)
        let error = "no confirm within \(config.confirmTimeoutMs) ms"
        step.note(.failed(producer: number, messages: [pending.message], error: error, retrying: false))
        step.history.complete(pending.send, .info(error: error, time: step.now))
    }

    /// The connection broke: every publish still awaiting its confirm is in doubt.
    mutating func connectionLost(_ step: inout Step) {
        guard !outstanding.isEmpty else { return }
        let lost = outstanding
        outstanding = []
        connectedTo = nil
        unconfirmed += lost.map(\.message)
        let error = "connection lost before the confirm"
        step.note(.failed(producer: number, messages: lost.map(\.message), error: error, retrying: false))
        for pending in lost {
            step.history.complete(pending.send, .info(error: error, time: step.now))
        }
    }

    /// RMQ-11: after a connection failure a publisher re-sends what was never confirmed.
    mutating func takeUnconfirmed() -> [MessageID] {
        let messages = unconfirmed + outstanding.map(\.message)
        unconfirmed = []
        outstanding = []
        return messages
    }

    /// The application dies and comes back at once: what it was waiting for is lost to it.
    mutating func crash(_ step: inout Step) {
        step.note(.crashed(node: step.node, fault: .applicationCrash))
        connectionLost(&step)
        unconfirmed = []
    }
}

struct RabbitConsumer: Sendable {
    typealias Step = NodeStep<RabbitPayload, RabbitTimer>

    let number: Int
    let config: RabbitConfig
    let settlement: Settlement
    var active = false
    var connectedTo: BrokerID?
    var inbox: [(tag: Int, message: QueuedMessage)] = []
    var busy = false
    var processedCount = 0
    var deliveredCount = 0

    /// `target`: the queue's node for a classic queue, the leader for a quorum queue, if up.
    mutating func connect(target: BrokerID?, _ step: inout Step) {
        guard active, step.isUp(step.node), connectedTo == nil else { return }
        guard let target else {
            step.setTimer(.reconnect, after: config.reconnectMs)
            return
        }
        connectedTo = target
        step.send(.consume(consumer: number), to: .broker(target))
    }

    mutating func receive(
        _ payload: RabbitPayload, from: NodeID, _ step: inout Step
    ) {
        switch payload {
        case .deliver(let message, let tag):
            guard case .broker(let node) = from, node == connectedTo else { return }
            deliveredCount += 1
            step.history.polls.append(
                History.Delivery(
                    consumer: number, message: message.copy.message, offset: Offset(message.copy.id),
                    time: step.now))
            inbox.append((tag, message))
            startProcessing(&step)
        case .cancel:
            connectedTo = nil
            inbox = []
            step.setTimer(.reconnect, after: config.reconnectMs)
        default:
            preconditionFailure("a consumer got \(payload.kind)")
        }
    }

    mutating func startProcessing(_ step: inout Step) {
        guard !busy, !inbox.isEmpty else { return }
        busy = true
        step.setTimer(.processed, after: config.processingMs)
    }

    mutating func finishProcessing(_ step: inout Step) {
        busy = false
        guard !inbox.isEmpty else { return }
        let (tag, message) = inbox.removeFirst()
        if settlement == .ack || config.noAck {
            processedCount += 1
            step.history.processed.append(
                History.Delivery(
                    consumer: number, message: message.copy.message, offset: Offset(message.copy.id),
                    time: step.now))
            step.note(
                .processed(consumer: number, message: message.copy.message, offset: Offset(message.copy.id)))
        }
        if !config.noAck, let connectedTo {
            if settlement != .ack {
                step.note(
                    .queue(.settled(consumer: number, message: message.copy.message, settlement: settlement)))
            }
            step.send(.settle(tag: tag, settlement), to: .broker(connectedTo))
        }
        startProcessing(&step)
    }

    /// The connection closes (a stop, or the operating system closing a dead process's sockets):
    /// the broker sees the close after whatever the consumer sent before it, and takes back the
    /// unacked deliveries (RMQ-09).
    mutating func closeConnection(_ step: inout Step) {
        inbox = []
        guard let node = connectedTo else { return }
        connectedTo = nil
        step.send(.closed(consumer: number), to: .broker(node))
    }

    /// The node it was connected to died: an active consumer connects again later.
    mutating func nodeConnectionLost(_ step: inout Step) {
        connectedTo = nil
        inbox = []
        if active && step.isUp(step.node) { step.setTimer(.reconnect, after: config.reconnectMs) }
    }
}
