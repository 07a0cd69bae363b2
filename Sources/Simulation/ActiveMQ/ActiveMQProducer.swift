// ActiveMQ's producer as a state machine: sync and async sends and the broker's receipts. It acts
// only through its step's effects, and records what the application saw in the history.

struct AMQProducer: Sendable {
    typealias Step = NodeStep<AMQPayload, AMQTimer>

    let number: Int
    let config: ActiveMQConfig
    var nextReceipt = 1
    var awaiting: [Int: (send: Int, message: MessageID)] = [:]
    var unacknowledged: [MessageID] = []

    mutating func produce(
        _ messages: [MessageID], _ step: inout Step, _ numbers: inout AMQNumbers
    ) {
        for message in messages {
            let send = step.history.invoke(
                History.Send(
                    message: message, producer: number, session: 0, invoked: step.now, outcome: .pending))
            guard step.isUp(AMQBroker.node) else {
                step.note(
                    .failed(
                        producer: number, messages: [message], error: "JMSException: connection refused",
                        retrying: false))
                unacknowledged.append(message)
                step.history.complete(send, .fail(error: "connection refused", time: step.now))
                continue
            }
            let (copy, position) = numbers.nextCopy()
            let stored = AMQMessage(
                copy: copy, message: message, persistent: config.send.deliveryMode == .persistent,
                position: position)
            var receipt: Int?
            if config.send.sendsSynchronously {
                receipt = nextReceipt
                nextReceipt += 1
                awaiting[receipt!] = (send, message)
            }
            step.note(
                .sent(producer: number, messages: [message], to: AMQBroker.id, attempt: 1, sequence: receipt))
            step.send(.send(stored, queue: "q", receipt: receipt), to: AMQBroker.node)
            if receipt == nil {
                // Fire and forget: send() returns once the message is written to the socket.
                step.history.complete(send, .ok(offset: nil, broker: AMQBroker.id, time: step.now))
            }
        }
    }

    mutating func receive(_ payload: AMQPayload, _ step: inout Step) {
        guard case .receipt(let receipt) = payload else {
            preconditionFailure("a producer got \(payload.kind)")
        }
        guard let waiting = awaiting.removeValue(forKey: receipt) else { return }
        step.note(
            .queue(.activeMQ(.sendReturned(producer: number, message: waiting.message, broker: AMQBroker.id)))
        )
        step.history.complete(waiting.send, .ok(offset: nil, broker: AMQBroker.id, time: step.now))
    }

    mutating func connectionLost(_ step: inout Step) {
        let waiting = awaiting.sorted { $0.key < $1.key }.map(\.value)
        guard !waiting.isEmpty else { return }
        awaiting = [:]
        let error = "JMSException: connection lost before the receipt"
        step.note(.failed(producer: number, messages: waiting.map(\.message), error: error, retrying: false))
        for item in waiting {
            unacknowledged.append(item.message)
            step.history.complete(item.send, .info(error: error, time: step.now))
        }
    }

    /// The application died and came back (the engine restarted it): what it was waiting for
    /// is lost to it, and it remembers nothing to resend.
    mutating func restarted(_ step: inout Step) {
        connectionLost(&step)
        unacknowledged = []
    }
}
