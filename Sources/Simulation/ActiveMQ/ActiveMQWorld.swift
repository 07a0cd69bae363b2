// Theory of operation
//
// An ActiveMQ Classic world: one broker B1 with KahaDB, producers p1.. and consumers c1.. with a
// MessageListener each. It runs on WorldEngine: one event queue ordered by (time, sequence), the
// network whose faults the scenario sets, and the recorder; this file decides what each delivery,
// timer and action does.
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
    case subscribe(consumer: Int)
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

struct ActiveMQWorld: QueueBrokerWorld {
    let config: ActiveMQConfig
    let seed: UInt64
    var engine: WorldEngine<AMQPayload, Timer>

    enum Timer: Sendable {
        case storeTask(copy: Int)
        case fsyncDone(upTo: Int)
        case periodicSync
        case writeback(upTo: Int)
        case processed
        case redeliver
        case reconnect
    }

    /// A KahaDB journal record: a message added to a queue, or one removed (acknowledged).
    enum JournalRecord: Sendable {
        case add(AMQMessage, queue: String)
        case remove(copy: Int)
    }

    struct Broker: CrashableNode {
        /// On disk: the KahaDB journal.
        var journal = DurableLog<JournalRecord>()
        var memory = Memory()
        /// Not the broker's: what its queues held when it crashed, for the trace to say what the
        /// restart lost.
        var heldAtCrash: [String: [AMQMessage]] = [:]

        /// The broker's memory; the queues are rebuilt from the journal at restart.
        struct Memory: Sendable {
            var queues: [String: [AMQMessage]] = ["q": [], "dlq": [], "out": []]
            /// Dispatched and not yet acked, per consumer.
            var inFlight: [Int: [AMQMessage]] = [:]
            var consumers: [Int] = []
            var fsyncInFlight = false
            /// Sync sends waiting for their journal write to be synced: (journal index, producer, receipt).
            var awaitingSync: [(record: Int, producer: Int, receipt: Int)] = []
            /// Store tasks not yet run, by copy, with the receipt to send once stored.
            var pendingStores: [Int: (queue: String, producer: Int?, receipt: Int?)] = [:]
        }

        static var freshMemory: Memory { Memory() }

        mutating func diskSurvives(_ fault: Fault) { journal.survive(fault) }
    }

    struct Producer: Sendable {
        var nextReceipt = 1
        var awaiting: [Int: (send: Int, message: MessageID)] = [:]
        var unacknowledged: [MessageID] = []
    }

    struct Consumer: Sendable {
        var listener: ListenerOutcome
        var active = false
        var connected = false
        var inbox: [AMQMessage] = []
        /// Consumed by the session and not yet acked (CLIENT and transacted modes).
        var consumed: [AMQMessage] = []
        var busy = false
        var waitingForRedelivery = false
        var processedCount = 0
        var deliveredCount = 0
    }

    var broker = Broker()
    var producers: [Producer] = []
    var consumers: [Consumer] = []
    var nextCopy = 0
    var nextPosition = 0
    internal(set) var fsyncs = 0

    static let brokerID = BrokerID(1)
    static let brokerNode = NodeID.broker(BrokerID(1))

    init(config: ActiveMQConfig, seed: UInt64, recordsTrace: Bool = true) {
        self.config = config
        self.seed = seed
        engine = WorldEngine(seed: seed, networkDelay: config.networkDelayMs, recordsTrace: recordsTrace)
        if config.journalDiskSyncStrategy == .periodic {
            setTimer(.periodicSync, for: Self.brokerNode, after: config.journalDiskSyncInterval)
        }
    }

    mutating func addProducer() -> Int {
        producers.append(Producer())
        return producers.count
    }

    mutating func addConsumer(listener: ListenerOutcome) -> Int {
        consumers.append(Consumer(listener: listener))
        return consumers.count
    }

    // MARK: - ScenarioWorld plumbing

    var allNodes: [NodeID] {
        [Self.brokerNode] + producers.indices.map { .producer($0 + 1) }
            + consumers.indices.map { .consumer($0 + 1) }
    }

    mutating func fact(_ text: String, message: MessageID? = nil, at node: NodeID) {
        note(.queue(.fact(message: message, text: text)), at: node)
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

    mutating func fire(_ timer: Timer, at node: NodeID) {
        switch (node, timer) {
        case (.broker, .storeTask(let copy)): runStoreTask(copy)
        case (.broker, .fsyncDone(let upTo)): fsyncDone(upTo: upTo)
        case (.broker, .periodicSync):
            startFsync()
            setTimer(.periodicSync, for: node, after: config.journalDiskSyncInterval)
        case (.broker, .writeback(let upTo)): markSynced(upTo: upTo)
        case (.consumer(let index), .processed): finishProcessing(index - 1)
        case (.consumer(let index), .redeliver):
            consumers[index - 1].waitingForRedelivery = false
            startProcessing(index - 1)
        case (.consumer(let index), .reconnect): connect(index - 1)
        default: preconditionFailure("timer \(timer) fired at \(node)")
        }
    }

    // MARK: - Actions

    mutating func takeUnacknowledged(_ producer: Int) -> [MessageID] {
        defer { producers[producer - 1].unacknowledged = [] }
        return producers[producer - 1].unacknowledged
    }

    mutating func crashConsumer(_ consumer: Int) {
        guard engine.crash(.consumer(consumer), .applicationCrash) else { return }
        closeConsumer(consumer - 1)
    }

    mutating func stopConsumer(_ consumer: Int) {
        consumers[consumer - 1].active = false
        closeConsumer(consumer - 1)
    }

}
