// ActiveMQ's consumer as a state machine: a MessageListener, the acknowledge modes and the
// client-side redelivery policy. It acts only through its step's effects, and records what the
// application saw in the history.

struct AMQConsumer: CountingConsumer, Sendable {
    typealias Step = NodeStep<AMQPayload, AMQTimer>

    let number: Int
    let config: ActiveMQConfig
    let spec: ActiveMQConsumerSpec
    var active = false
    var connected = false
    var inbox: [AMQMessage] = []
    /// Consumed by the session and not yet acked (CLIENT and transacted modes).
    var consumed: [AMQMessage] = []
    var busy = false
    /// DUPS_OK on a topic: processed messages whose standard ack waits for the batch (AMQ-08).
    var lazyAcks: [Int] = []
    var waitingForRedelivery = false
    var processedCount = 0
    var deliveredCount = 0

    mutating func connect(_ step: inout Step) {
        guard active, step.isUp(step.node), !connected else { return }
        guard step.isUp(AMQBroker.node) else {
            step.setTimer(.reconnect, after: config.reconnectMs)
            return
        }
        connected = true
        step.send(.subscribe(consumer: number, durable: spec.subscription == .durable), to: AMQBroker.node)
    }

    /// The session closes: its timers die, and the broker takes back what it had dispatched. A
    /// clean close() first acks a DUPS_OK topic consumer's pending batch; a crash loses it (AMQ-08).
    mutating func close(clean: Bool, _ step: inout Step) {
        step.cancelTimers()
        busy = false
        waitingForRedelivery = false
        inbox = []
        consumed = []
        let pending = lazyAcks
        lazyAcks = []
        guard connected else { return }
        connected = false
        if clean && !pending.isEmpty { step.send(.ack(copies: pending, poison: false), to: AMQBroker.node) }
        step.send(.closed(consumer: number), to: AMQBroker.node)
    }

    /// The broker's process died: the connection is gone; an active consumer connects again.
    mutating func brokerConnectionLost(_ step: inout Step) {
        connected = false
        inbox = []
        consumed = []
        if active && step.isUp(step.node) { step.setTimer(.reconnect, after: config.reconnectMs) }
    }

    mutating func receive(_ payload: AMQPayload, _ step: inout Step) {
        guard case .dispatch(let message) = payload else {
            preconditionFailure("a consumer got \(payload.kind)")
        }
        guard connected else { return }
        inbox.append(message)
        startProcessing(&step)
    }

    mutating func fire(
        _ timer: AMQTimer, _ step: inout Step, _ numbers: inout AMQNumbers
    ) {
        switch timer {
        case .processed: finishProcessing(&step, &numbers)
        case .redeliver:
            waitingForRedelivery = false
            startProcessing(&step)
        case .reconnect: connect(&step)
        case .storeTask, .fsyncDone, .periodicSync, .writeback:
            preconditionFailure("timer \(timer) fired at a consumer")
        }
    }

    mutating func startProcessing(_ step: inout Step) {
        guard !busy, !waitingForRedelivery, let message = inbox.first else { return }
        busy = true
        deliveredCount += 1
        step.history.polls.append(
            History.Delivery(
                consumer: number, message: message.message, offset: Offset(message.copy), time: step.now))
        if message.redeliveryCounter > 0 {
            step.note(
                .queue(
                    .activeMQ(
                        .redelivered(
                            consumer: number, message: message.message,
                            deliveryCount: message.redeliveryCounter + 1))))
        }
        step.setTimer(.processed, after: config.processingMs)
    }

    mutating func finishProcessing(
        _ step: inout Step, _ numbers: inout AMQNumbers
    ) {
        busy = false
        guard !inbox.isEmpty else { return }
        let message = inbox.removeFirst()
        let mode = config.consumer.acknowledgeMode
        var outcome =
            spec.only.isEmpty || spec.only.contains(step.name(of: message.message)) ? spec.listener : .returns
        if outcome == .rollbackFirst { outcome = message.redeliveryCounter == 0 ? .rollback : .returns }
        if outcome == .throwsFirst { outcome = message.redeliveryCounter == 0 ? .throws : .returns }
        switch (outcome, mode) {
        case (.returns, _):
            processedCount += 1
            step.history.processed.append(
                History.Delivery(
                    consumer: number, message: message.message, offset: Offset(message.copy), time: step.now))
            step.note(.processed(consumer: number, message: message.message, offset: Offset(message.copy)))
            switch mode {
            case .dupsOK where config.destination == .topic:
                // Acks go in batches once half the prefetch is delivered and unacked (AMQ-08).
                lazyAcks.append(message.copy)
                if lazyAcks.count >= max(1, config.consumer.prefetch / 2) {
                    step.send(.ack(copies: lazyAcks, poison: false), to: AMQBroker.node)
                    lazyAcks = []
                }
            case .auto, .dupsOK, .individual:
                step.send(.ack(copies: [message.copy], poison: false), to: AMQBroker.node)
            case .client:
                // message.acknowledge() acks everything the session has consumed (AMQ-04).
                let all = consumed.map(\.copy) + [message.copy]
                consumed = []
                step.send(.ack(copies: all, poison: false), to: AMQBroker.node)
            case .transacted:
                let sends = forwarded(message, &numbers, &step)
                consumed = []
                step.send(.commit(sends: sends, acks: [message.copy]), to: AMQBroker.node)
            }
        case (.throws, .client), (.throws, .transacted):
            // The exception does not roll back: the next message is delivered (AMQ-04).
            step.note(
                .queue(.activeMQ(.threwAndContinued(consumer: number, message: message.message, mode: mode))))
            consumed.append(message)
        case (.throws, _), (.rollback, _), (.rollbackFirst, _), (.throwsFirst, _):
            if mode == .transacted {
                let discarded = forwarded(message, &numbers, &step).map(\.message)
                step.note(
                    .queue(
                        .activeMQ(
                            .rolledBack(consumer: number, message: message.message, discarded: discarded))))
            } else {
                step.note(.queue(.activeMQ(.threwRedelivery(consumer: number, message: message.message))))
            }
            redeliver(message, &step)
            return
        }
        startProcessing(&step)
    }

    /// What a transacted consumer sends for `message` when `sim.forward` is on.
    func forwarded(_ message: AMQMessage, _ numbers: inout AMQNumbers, _ step: inout Step) -> [AMQMessage] {
        guard config.forward else { return [] }
        let out = step.message(named: step.name(of: message.message) + "-out")
        let (copy, position) = numbers.nextCopy()
        return [AMQMessage(copy: copy, message: out, persistent: true, position: position)]
    }

    /// The client redelivers after the policy's delay, or gives up with a poison ack (AMQ-06).
    mutating func redeliver(_ message: AMQMessage, _ step: inout Step) {
        var again = message
        again.redeliveryCounter += 1
        let limit = config.redelivery.maximumRedeliveries
        if limit != -1 && again.redeliveryCounter > limit {
            step.note(
                .queue(
                    .activeMQ(
                        .poisonAck(
                            consumer: number, message: message.message,
                            redeliveryCounter: again.redeliveryCounter,
                            limit: limit))))
            step.send(.ack(copies: [message.copy], poison: true), to: AMQBroker.node)
            startProcessing(&step)
            return
        }
        inbox.insert(again, at: 0)
        waitingForRedelivery = true
        step.setTimer(.redeliver, after: config.redelivery.delay(before: again.redeliveryCounter))
    }
}
