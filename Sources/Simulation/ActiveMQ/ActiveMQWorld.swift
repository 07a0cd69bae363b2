// Theory of operation
//
// An ActiveMQ Classic world: one broker B1 with KahaDB, producers p1.. and consumers c1.. with a
// MessageListener each. Each is a state machine (AMQBroker, AMQProducer, AMQConsumer) that reads
// its step and writes effects; this file hands each delivery, timer and action to its node and
// the node's effects to the engine, and coordinates what a crash means for the others.
//
// Queues live in the broker's memory. A persistent message is also written to the KahaDB
// journal by a store task that runs concurrently with dispatch (concurrentStoreAndDispatch-
// Queues, AMQ-03): if the consumer's ack arrives first, the task is cancelled and the message
// never touches the disk. With journalDiskSyncStrategy=always every journal write is fsynced
// (writes arriving during an fsync share the next one); `periodic` fsyncs every
// journalDiskSyncInterval; `never` leaves it to the operating system's writeback. A process
// crash keeps the journal as written; a power loss keeps what was fsynced; at restart the
// broker recovers persistent messages (adds minus acks) and non-persistent ones are gone.
//
// A producer waits for the broker's receipt only for a persistent send that is neither async
// nor transacted, or with alwaysSyncSend (AMQ-02); the receipt for a persistent message comes
// once the journal write is synced as the strategy says. Every other send is done once written
// to the socket.
//
// Consumers get up to `prefetch` messages pushed and run onMessage on one at a time. The
// acknowledge mode decides what happens next (AMQ-04): AUTO, DUPS_OK (on a queue) and
// INDIVIDUAL ack the message when onMessage returns; CLIENT acks every message the session has
// consumed so far; a transacted session commits (acks, and releases what it sent) or rolls
// back. A RuntimeException from onMessage, or a rollback, redelivers the message in the client
// after the RedeliveryPolicy's delay; past maximumRedeliveries the client sends a poison ack
// and the broker moves a persistent message to ActiveMQ.DLQ and drops a non-persistent one
// (AMQ-06). A consumer whose connection closes leaves its unacked messages to be redelivered.

struct AMQMessage: Equatable, Sendable {
    var copy: Int
    var message: MessageID
    var persistent: Bool
    var position: Int
    /// Deliveries before this one that were not acknowledged (JMSXDeliveryCount - 1).
    var redeliveryCounter = 0
}

enum AMQPayload: WirePayload {
    case send(AMQMessage, queue: String, receipt: Int?)
    case receipt(Int)
    /// `durable` matters on a topic only: a durable subscription outlives the connection.
    case subscribe(consumer: Int, durable: Bool)
    case dispatch(AMQMessage)
    /// Standard acks for these copies; `poison` moves them to the DLQ.
    case ack(copies: [Int], poison: Bool)
    /// A transaction's sends and acks, applied together (AMQ-05).
    case commit(sends: [AMQMessage], acks: [Int])
    case closed(consumer: Int)

    var kind: MessageKind {
        switch self {
        case .send, .commit: .send
        case .receipt: .receipt
        case .subscribe, .closed: .consume
        case .dispatch: .deliver
        case .ack: .ack
        }
    }
}

/// The broker's and the clients' timers.
enum AMQTimer: Sendable {
    case storeTask(copy: Int)
    case fsyncDone(upTo: Int)
    case periodicSync
    case writeback(upTo: Int)
    case processed
    case redeliver
    case reconnect
}

/// Message copies and queue positions, numbered across the world: producers, transacted
/// consumers and the broker's DLQ draw from them.
struct AMQNumbers: Sendable {
    private var copy = 0
    private var position = 0

    mutating func nextCopy() -> (copy: Int, position: Int) {
        copy += 1
        position += 1
        return (copy, position)
    }

    mutating func nextPosition() -> Int {
        position += 1
        return position
    }
}

struct ActiveMQWorld: QueueBrokerWorld {
    typealias Step = NodeStep<AMQPayload, AMQTimer>

    let config: ActiveMQConfig
    let seed: UInt64
    var engine: WorldEngine<AMQPayload, AMQTimer>
    var broker: AMQBroker
    var producers: [AMQProducer] = []
    var consumers: [AMQConsumer] = []
    var numbers = AMQNumbers()

    static let brokerID = AMQBroker.id
    static let brokerNode = AMQBroker.node

    init(config: ActiveMQConfig, seed: UInt64, recordsTrace: Bool = true) {
        self.config = config
        self.seed = seed
        engine = WorldEngine(seed: seed, networkDelay: config.networkDelayMs, recordsTrace: recordsTrace)
        broker = AMQBroker(config: config)
        atBroker { broker, step, _ in broker.start(&step) }
    }

    mutating func addProducer() -> Int {
        producers.append(AMQProducer(number: producers.count + 1, config: config))
        return producers.count
    }

    mutating func addConsumer(_ spec: ActiveMQConsumerSpec) -> Int {
        consumers.append(AMQConsumer(number: consumers.count + 1, config: config, spec: spec))
        return consumers.count
    }

    var fsyncs: Int { broker.fsyncs }

    var allNodes: [NodeID] {
        [Self.brokerNode] + producers.indices.map { .producer($0 + 1) }
            + consumers.indices.map { .consumer($0 + 1) }
    }

    // MARK: - Steps: a node acts, the engine applies its effects

    @inline(__always)
    mutating func atBroker(_ act: (inout AMQBroker, inout Step, inout AMQNumbers) -> Void) {
        _ = Self.step(Self.brokerNode, engine: &engine, state: &broker, shared: &numbers, act)
    }

    @inline(__always)
    mutating func atProducer(
        _ producer: Int, _ act: (inout AMQProducer, inout Step, inout AMQNumbers) -> Void
    ) {
        _ = Self.step(
            .producer(producer), engine: &engine, state: &producers[producer - 1], shared: &numbers, act)
    }

    @inline(__always)
    mutating func atConsumer(
        _ consumer: Int, _ act: (inout AMQConsumer, inout Step, inout AMQNumbers) -> Void
    ) {
        _ = Self.step(
            .consumer(consumer), engine: &engine, state: &consumers[consumer - 1], shared: &numbers, act)
    }

    // MARK: - The event loop

    /// After every event. Cheap checks only: the loop runs them millions of times in a sweep.
    func checkInvariants() {
        precondition(
            broker.memory.awaitingSync.allSatisfy { $0.record < broker.journal.count },
            "invariant broken (seed \(seed)): a sync send waits for a journal record that does not exist")
        precondition(
            !engine.isUp(Self.brokerNode)
                || broker.memory.inFlight.keys.allSatisfy { $0 >= 1 && $0 <= consumers.count },
            "invariant broken (seed \(seed)): messages dispatched to a consumer that does not exist")
        precondition(
            broker.memory.queues["q"] != nil, "invariant broken (seed \(seed)): the queue q disappeared")
    }

    mutating func brokerReceive(_: Int, _ payload: AMQPayload, from: NodeID) {
        atBroker { broker, step, numbers in broker.receive(payload, from: from, &step, &numbers) }
    }

    mutating func producerReceive(_ index: Int, _ payload: AMQPayload, from _: NodeID) {
        atProducer(index + 1) { producer, step, _ in producer.receive(payload, &step) }
    }

    mutating func consumerReceive(_ index: Int, _ payload: AMQPayload, from _: NodeID) {
        atConsumer(index + 1) { consumer, step, _ in consumer.receive(payload, &step) }
    }

    mutating func fire(_ timer: AMQTimer, at node: NodeID) {
        switch node {
        case .broker: atBroker { broker, step, _ in broker.fire(timer, &step) }
        case .consumer(let consumer):
            atConsumer(consumer) { consumer, step, numbers in
                consumer.fire(timer, &step, &numbers)
            }
        case .producer, .controller: preconditionFailure("timer \(timer) fired at \(node)")
        }
    }

    // MARK: - Actions

    mutating func crashBroker(_: BrokerID, _ fault: Fault) {
        guard engine.crash(Self.brokerNode, fault) else { return }
        broker.crash(fault)
        engine.resetConnections(of: Self.brokerNode)
        // The kernel closes the broker's sockets: every client sees its connection go.
        for producer in producers.indices {
            atProducer(producer + 1) { producer, step, _ in producer.connectionLost(&step) }
        }
        for consumer in consumers.indices where consumers[consumer].connected {
            atConsumer(consumer + 1) { consumer, step, _ in consumer.brokerConnectionLost(&step) }
        }
    }

    mutating func restartBroker(_: BrokerID) {
        guard engine.restart(Self.brokerNode) else { return }
        atBroker { broker, step, _ in broker.restart(&step) }
    }

    mutating func produce(_ messages: [MessageID], producer: Int) {
        atProducer(producer) { producer, step, numbers in
            producer.produce(messages, &step, &numbers)
        }
    }

    mutating func crashProducer(_ producer: Int) {
        engine.restartApplication(.producer(producer))
        atProducer(producer) { producer, step, _ in producer.restarted(&step) }
    }

    mutating func takeUnacknowledged(_ producer: Int) -> [MessageID] {
        defer { producers[producer - 1].unacknowledged = [] }
        return producers[producer - 1].unacknowledged
    }

    mutating func beginConsuming(_ consumer: Int) {
        atConsumer(consumer) { consumer, step, _ in
            consumer.active = true
            consumer.connect(&step)
        }
    }

    mutating func crashConsumer(_ consumer: Int) {
        guard engine.crash(.consumer(consumer), .applicationCrash) else { return }
        atConsumer(consumer) { consumer, step, _ in consumer.close(clean: false, &step) }
    }

    mutating func stopConsumer(_ consumer: Int) {
        atConsumer(consumer) { consumer, step, _ in
            consumer.active = false
            consumer.close(clean: true, &step)
        }
    }
}
