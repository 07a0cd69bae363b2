/// A world that runs on the shared engine: Kafka, RabbitMQ, RocketMQ and ActiveMQ.
///
/// The world keeps its nodes and says what a delivery, a timer or a paced send does to them. The
/// loop is written once, here: the engine pops the next event; a delivery reaches its receiver only
/// if the network and the receiver let it (a partition or a dead node drops it, a paused node gets
/// it when the pause ends); a timer fires only in the incarnation of the node that set it; after
/// every event the world's invariants are checked.
protocol EngineHosted: ScenarioWorld {
    associatedtype Payload: WirePayload
    associatedtype Timer: Sendable

    var engine: WorldEngine<Payload, Timer> { get set }

    // A delivery the network and the receiver admitted, at a broker, client (from 1) or the
    // controller (nothing by default: queue brokers have none).
    mutating func brokerReceive(_ index: Int, _ payload: Payload, from: NodeID)
    mutating func producerReceive(_ index: Int, _ payload: Payload, from: NodeID)
    mutating func consumerReceive(_ index: Int, _ payload: Payload, from: NodeID)
    mutating func controllerReceive(_ payload: Payload, from: NodeID)
    /// A delivery to a node whose process is down. By default it is dropped (noted at the
    /// sender); Kafka's host refuses the connection instead, so the client learns at once.
    mutating func receiverDown(_ payload: Payload, from: NodeID, to: NodeID)
    /// A timer of the node's current incarnation, with the node up and running.
    mutating func fire(_ timer: Timer, at node: NodeID)
    /// The next message of a paced send (`produce 100 every 5ms`).
    mutating func sendPaced(_ message: MessageID, producer: Int)

    // What a scenario's actions mean for this broker's nodes (producers and consumers from 1).
    // The engine has already stopped or started the process where the action is a crash or a
    // restart of a broker; the world decides what the node keeps and who notices.
    mutating func crashBroker(_ broker: BrokerID, _ fault: Fault)
    mutating func restartBroker(_ broker: BrokerID)
    mutating func produce(_ messages: [MessageID], producer: Int)
    /// The producer's application dies and its supervisor starts it again at once.
    mutating func crashProducer(_ producer: Int)
    /// The application sends again every message it never saw acknowledged.
    mutating func resendUnacknowledged(_ producer: Int)
    mutating func startConsumer(_ consumer: Int)
    mutating func crashConsumer(_ consumer: Int)
    /// A clean shutdown: the consumer closes its connection.
    mutating func stopConsumer(_ consumer: Int)
    /// A resource alarm raised or cleared on a node (RabbitMQ; the parser refuses it elsewhere).
    mutating func setAlarm(_ broker: BrokerID, _ alarm: ResourceAlarm, raised: Bool)
    /// The application moves a consumer's position (Kafka; the parser refuses it elsewhere).
    mutating func seekConsumer(_ consumer: Int, to offset: Int)
    /// The topic grows to this many partitions (Kafka's partitioned topic).
    mutating func addPartitions(_ count: Int)
    /// A transactional producer begins, commits or aborts (Kafka's partitioned topic).
    mutating func transaction(_ producer: Int, _ action: TransactionAction)
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
            switch engine.admission(payload, from: from, to: to) {
            case .admitted:
                switch to {
                case .broker(let id): brokerReceive(id.value - 1, payload, from: from)
                case .producer(let index): producerReceive(index - 1, payload, from: from)
                case .consumer(let index): consumerReceive(index - 1, payload, from: from)
                case .controller: controllerReceive(payload, from: from)
                }
            case .receiverDown: receiverDown(payload, from: from, to: to)
            case .cut, .deferred: break
            }
        case .timer(let node, let incarnation, let timer):
            if engine.admits(timer, at: node, setIn: incarnation) {
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

    mutating func controllerReceive(_ payload: Payload, from: NodeID) {}

    mutating func sendPaced(_ message: MessageID, producer: Int) { produce([message], producer: producer) }

    mutating func receiverDown(_ payload: Payload, from: NodeID, to: NodeID) {
        engine.note(.dropped(kind: payload.kind, from: from, to: to, reason: .deadNode), at: from)
    }

    mutating func setTimer(_ timer: Timer, for node: NodeID, after delay: Millis) {
        engine.setTimer(timer, for: node, after: delay)
    }
}

/// RabbitMQ, RocketMQ and ActiveMQ: consumers exist from the start and consume once started,
/// and count what they were delivered and processed; they answer the client-side `wait until`
/// conditions alike.
protocol QueueBrokerWorld: StepHosted {
    associatedtype Consumer: CountingConsumer
    /// The consumers c1, c2, ... in order.
    var consumers: [Consumer] { get }
    /// The consumer (from 1) is told to consume: it connects, subscribes or starts pulling.
    mutating func beginConsuming(_ consumer: Int)
    /// What the producer (from 1) sent and never saw acknowledged, forgotten as it is returned.
    mutating func takeUnacknowledged(_ producer: Int) -> [MessageID]
}

/// A queue broker's consumer, as `wait until` counts it.
protocol CountingConsumer {
    /// Messages delivered to the application, and processed by it.
    var deliveredCount: Int { get }
    var processedCount: Int { get }
}

extension QueueBrokerWorld {
    /// Consumer `consumer` (from 1): messages delivered to it and processed by it; nil if it
    /// does not exist.
    func counts(ofConsumer consumer: Int) -> (delivered: Int, processed: Int)? {
        guard consumer <= consumers.count else { return nil }
        return (consumers[consumer - 1].deliveredCount, consumers[consumer - 1].processedCount)
    }

    /// A consumer that crashed comes back as a new process; one that was stopped starts again.
    mutating func startConsumer(_ consumer: Int) {
        engine.restart(.consumer(consumer))
        beginConsuming(consumer)
    }

    mutating func resendUnacknowledged(_ producer: Int) {
        produce(takeUnacknowledged(producer), producer: producer)
    }

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

/// What every world answers the same way, written once: the run record, the loop, and the
/// actions and paced sends a scenario schedules.
extension EngineHosted {
    var record: RunRecord {
        _read { yield engine.record }
        _modify { yield &engine.record }
    }

    /// Read straight from the engine: `record`'s copy would retain the whole trace on every read.
    var now: Millis { engine.now }

    mutating func step(until limit: Millis) -> Bool { stepEngine(until: limit) }

    mutating func run(until time: Millis) { runEngine(until: time) }

    mutating func schedule(_ action: WorldAction, at time: Millis) {
        engine.schedule(action, at: time)
    }

    mutating func producePaced(_ messages: [MessageID], producer: Int, every: Millis) {
        engine.producePaced(messages, producer: producer, every: every)
    }

    /// Applies `action` now: the engine's part (network faults, pauses) here, the rest by the
    /// broker's rules.
    mutating func perform(_ action: WorldAction) {
        if engine.applyEngineFault(action, allNodes: allNodes) { return }
        switch action {
        case .crash(let broker, let fault): crashBroker(broker, fault)
        case .restart(let broker): restartBroker(broker)
        case .partition, .isolate, .heal, .drop, .delay, .pause: break  // applyEngineFault's
        case .produce(let messages, let producer): produce(messages, producer: producer)
        case .crashApplication(let producer): crashProducer(producer)
        case .resendUnacknowledged(let producer): resendUnacknowledged(producer)
        case .startConsumer(let consumer): startConsumer(consumer)
        case .crashConsumer(let consumer): crashConsumer(consumer)
        case .stopConsumer(let consumer): stopConsumer(consumer)
        case .alarm(let broker, let alarm, let raised): setAlarm(broker, alarm, raised: raised)
        case .seek(let consumer, let offset): seekConsumer(consumer, to: offset)
        case .addPartitions(let count): addPartitions(count)
        case .transaction(let producer, let action): transaction(producer, action)
        }
    }

    /// Only Kafka's partitioned topic grows or has transactions; the parser refuses them elsewhere.
    mutating func addPartitions(_ count: Int) {}
    mutating func transaction(_ producer: Int, _ action: TransactionAction) {}

    /// Only Kafka consumers seek; the scenario parser refuses it elsewhere.
    mutating func seekConsumer(_ consumer: Int, to offset: Int) {}

    /// Only RabbitMQ has resource alarms; the scenario parser refuses them elsewhere.
    mutating func setAlarm(_ broker: BrokerID, _ alarm: ResourceAlarm, raised: Bool) {}
}
