// RabbitMQ's publisher as a state machine: confirms, mandatory returns and confirm timeouts. It
// acts only through its step's effects, and records what the application saw in the history.

struct RabbitPublisher: Sendable {
    typealias Step = NodeStep<RabbitPayload, RabbitTimer>

    let number: Int
    let config: RabbitConfig
    var nextSequence = 1
    var connectedTo: BrokerID?
    /// Publishes awaiting their confirm: (sequence, history index, message).
    var outstanding: [(sequence: Int, send: Int, message: MessageID)] = []
    var unconfirmed: [MessageID] = []
    /// Sequences the broker returned as unroutable (mandatory): their confirm follows the return.
    var returned: Set<Int> = []

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
                sequence: sequence,
                expirationMs: shared.properties[message.value]?.expirationMs ?? config.expirationMs,
                priority: shared.properties[message.value]?.priority ?? config.priority)
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
            if returned.remove(sequence) != nil {
                // Confirmed, but the publisher was told first that no queue took it (RMQ-27).
                step.note(
                    .queue(
                        .confirmed(
                            producer: number, message: pending.message, node: connectedTo ?? BrokerID(1))))
                step.history.complete(pending.send, .fail(error: History.returnedError, time: step.now))
            } else if nack {
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
        case .returned(let sequence, let message):
            step.note(.queue(.returned(producer: number, message: message)))
            if let sequence { returned.insert(sequence) }
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

    /// The application died and came back (the engine restarted it): what it was waiting for
    /// is in doubt, and it remembers nothing to resend.
    mutating func restarted(_ step: inout Step) {
        connectionLost(&step)
        unconfirmed = []
    }
}
