// RabbitMQ's consumer as a state machine: pushed deliveries within prefetch, settlements, and
// what a closed connection or a cancelled registration does. It acts only through its step's
// effects, and records what the application saw in the history.

struct RabbitConsumer: CountingConsumer, Sendable {
    typealias Step = NodeStep<RabbitPayload, RabbitTimer>

    let number: Int
    let config: RabbitConfig
    let settlement: Settlement
    /// The messages `settlement` applies to (`for: [m1]`); the others are acked. Empty: all.
    var only: [String] = []
    /// How many deliveries of each such message get `settlement` before one is acked, counted
    /// by the application from x-death (dead-lettered) or the redelivered flag; nil: every one.
    var times: Int?
    /// Deliveries per message so far that got `settlement`.
    var failures: [MessageID: Int] = [:]
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
        let applies = only.isEmpty || only.contains(step.name(of: message.copy.message))
        let failed = failures[message.copy.message, default: 0]
        let settlement = applies && failed < (times ?? .max) ? self.settlement : .ack
        if settlement != .ack { failures[message.copy.message] = failed + 1 }
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
