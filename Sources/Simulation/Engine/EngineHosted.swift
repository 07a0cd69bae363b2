/// A world that runs on the shared engine: Kafka, RabbitMQ, RocketMQ and ActiveMQ.
///
/// The world keeps its nodes and says what a delivery, a timer or a paced send does to them. The
/// loop is written once, here: the engine pops the next event; a delivery reaches its receiver only
/// if the network and the receiver let it (a partition or a dead node drops it, a paused node gets
/// it when the pause ends); a timer fires only in the incarnation of the node that set it; after
/// every event the world's invariants are checked.
protocol EngineHosted {
    associatedtype Payload: WirePayload
    associatedtype Timer: Sendable

    var engine: WorldEngine<Payload, Timer> { get set }

    /// How often `node` has restarted: a timer set before a restart never fires.
    func incarnation(of node: NodeID) -> Int
    func isUp(_ node: NodeID) -> Bool
    /// Until when `node` is paused (SIGSTOP), if it is.
    func pausedUntil(_ node: NodeID) -> Millis?

    /// A delivery the network and the receiver admitted.
    mutating func receive(_ payload: Payload, from: NodeID, at node: NodeID)
    /// A delivery to a node whose process is down. By default it is dropped (noted at the
    /// sender); Kafka's host refuses the connection instead, so the client learns at once.
    mutating func receiverDown(_ payload: Payload, from: NodeID, to: NodeID)
    /// A timer of the node's current incarnation, with the node up and running.
    mutating func fire(_ timer: Timer, at node: NodeID)
    /// The next message of a paced send (`produce 100 every 5ms`).
    mutating func sendPaced(_ message: MessageID, producer: Int)
    mutating func perform(_ action: WorldAction)
    /// Stops the run with the seed in the message when the model broke one of its own rules.
    func checkInvariants()
}

extension EngineHosted {
    /// Processes the next event due at or before `limit`; false when none is.
    @inline(__always)
    mutating func stepEngine(until limit: Millis) -> Bool {
        guard let event = engine.next(until: limit) else { return false }
        switch consume event {
        case .deliver(let payload, let packedFrom, let packedTo):
            let from = packedFrom.node
            let to = packedTo.node
            switch engine.admission(
                payload, from: from, to: to, receiverUp: isUp(to), pausedUntil: pausedUntil(to))
            {
            case .admitted: receive(payload, from: from, at: to)
            case .receiverDown: receiverDown(payload, from: from, to: to)
            case .cut, .deferred: break
            }
        case .timer(let node, let incarnation, let timer):
            if engine.admits(
                timer, at: node, setIn: incarnation, current: self.incarnation(of: node), up: isUp(node),
                pausedUntil: pausedUntil(node))
            {
                fire(timer, at: node)
            }
        case .action(let action): perform(action)
        case .pacedTick(let index):
            let paced = engine.pacedMessage(index)
            sendPaced(paced.message, producer: paced.producer)
            engine.advancePaced(index)
        }
        checkInvariants()
        return true
    }

    mutating func runEngine(until time: Millis) {
        while stepEngine(until: time) {}
        engine.advance(to: time)
    }

    mutating func receiverDown(_ payload: Payload, from: NodeID, to: NodeID) {
        engine.note(.dropped(kind: payload.kind, from: from, to: to, reason: .deadNode), at: from)
    }

    mutating func setTimer(_ timer: Timer, for node: NodeID, after delay: Millis) {
        engine.setTimer(timer, for: node, incarnation: incarnation(of: node), after: delay)
    }
}

/// A world whose consumers count what they were delivered and what they processed: the queue
/// brokers answer the client-side `wait until` conditions alike.
protocol CountsConsumers: EngineHosted {
    /// Consumer `consumer` (from 1): messages delivered to it and processed by it; nil if it
    /// does not exist.
    func counts(ofConsumer consumer: Int) -> (delivered: Int, processed: Int)?
}

extension CountsConsumers {
    /// `acknowledged`, `all-completed`, `processed` and `polled`, as every queue broker answers them.
    func holdsOnClients(_ condition: Condition) -> Bool {
        switch condition {
        case .acknowledged(let names): return engine.recorder.acknowledged(names)
        case .allCompleted: return engine.recorder.history.pendingSends == 0
        // A missing consumer reaches no count, not even 0.
        case .processed(let consumer, let count):
            guard let counts = counts(ofConsumer: consumer) else { return false }
            return counts.processed >= count
        case .polled(let consumer, let count):
            guard let counts = counts(ofConsumer: consumer) else { return false }
            return counts.delivered >= count
        default: preconditionFailure("\(condition) is not a client-side condition")
        }
    }
}
