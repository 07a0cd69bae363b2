// Theory of operation
//
// A RabbitMQ world: nodes B1..Bn, publishers p1.., consumers c1.., and one work queue `q` (plus
// `dlq` behind the dead-letter exchange). It runs on WorldEngine: one event queue ordered by
// (time, sequence), the network whose faults the scenario sets, and the recorder; this file
// decides what each delivery, timer and action does.
//
// A classic queue lives on B1 (classic queues are not replicated in 4.x, RMQ-06). Its messages
// are in memory; a persistent message in a durable queue is also written to the node's message
// store at once and fsynced in batches every `sim.store.sync.interval.ms`, and its publisher
// confirm waits for that fsync (RMQ-03). A process crash keeps what was written (the page
// cache survives); a power loss keeps what was fsynced; a disk loss keeps nothing. At restart
// only persistent messages of durable queues come back (RMQ-05).
//
// A quorum queue is a Raft log on three nodes (RMQ-07): the leader appends each command
// (enqueue, settle, return), every member fsyncs before it acknowledges, and a command takes
// effect once a majority has it on disk. The publisher's confirm is sent when its enqueue
// takes effect. Elections follow Raft: the most up-to-date log wins, with a seeded random
// timeout. Which consumer holds which message is leader-local, so a new leader hands every
// unsettled message out again.
//
// Consumers get pushed deliveries up to `prefetch-count`, work on them one at a time for
// `sim.processing.ms`, and settle them as the scenario says. With `no-ack` a message is done
// the moment it is sent (RMQ-08). When a consumer's connection closes, its unacked deliveries
// go back to the queue, marked redelivered (RMQ-09).

/// One copy of a message inside the broker: a publish, or a re-publish of the same message,
/// makes a new copy, so the checker can tell a duplicate from a redelivery.
public struct MessageCopy: Equatable, Sendable {
    public var id: Int
    public var message: MessageID
    public var persistent: Bool
    /// The publisher and confirm sequence number, for the confirm once the copy is safe.
    var publisher: Int
    var sequence: Int?
}

struct QueuedMessage: Equatable, Sendable {
    var copy: MessageCopy
    /// Enqueue order: a requeued message goes back to its original position.
    var position: Int
    var redelivered = false
    /// Returns counted towards a quorum queue's delivery limit.
    var deliveryCount = 0
}

/// A queue's contents on one node: ready messages in order, and deliveries awaiting a settle.
struct QueueState: Sendable {
    var ready: [QueuedMessage] = []
    var unacked: [(tag: Int, consumer: Int, message: QueuedMessage)] = []

    mutating func requeue(_ message: QueuedMessage) {
        let index = ready.firstIndex { $0.position > message.position } ?? ready.count
        ready.insert(message, at: index)
    }

    var all: [QueuedMessage] {
        (ready + unacked.map(\.message)).sorted { $0.position < $1.position }
    }
}

/// A message store entry: written at once, durable after the next fsync; a delete too.
struct StoredCopy: Sendable {
    var queue: String
    var message: QueuedMessage
    var synced = false
    var deleted = false
    var deleteSynced = false
}

struct RaftEntry: Equatable, Sendable {
    enum Command: Equatable, Sendable {
        case noop
        case enqueue(QueuedMessage)
        case settle(copy: Int)
        case giveBack(copy: Int, countsDelivery: Bool)
    }

    var term: Int
    var command: Command
}

enum RabbitPayload: WirePayload {
    case publish(MessageCopy)
    case confirm(sequence: Int, nack: Bool)
    case returned(sequence: Int?, message: MessageID)
    case consume(consumer: Int)
    case deliver(QueuedMessage, tag: Int)
    case settle(tag: Int, Settlement)
    /// A consumer registration ended by the broker (the queue's leader moved).
    case cancel
    /// The consumer's connection closed: the TCP FIN comes after whatever was sent before it.
    case closed(consumer: Int)
    case appendEntries(
        term: Int, previousIndex: Int, previousTerm: Int, entries: [RaftEntry], leaderCommit: Int)
    case appendResponse(term: Int, success: Bool, matchIndex: Int)
    case requestVote(term: Int, lastIndex: Int, lastTerm: Int)
    case vote(term: Int, granted: Bool)

    var kind: MessageKind {
        switch self {
        case .publish: .publish
        case .confirm: .confirm
        case .returned: .return
        case .consume, .cancel, .closed: .consume
        case .deliver: .deliver
        case .settle: .ack
        case .appendEntries: .raftAppend
        case .appendResponse: .raftAppendResponse
        case .requestVote, .vote: .raftVote
        }
    }
}

struct RabbitWorld: QueueBrokerWorld {
    let config: RabbitConfig
    let seed: UInt64
    var engine: WorldEngine<RabbitPayload, Timer>

    enum Timer: Sendable {
        case storeSync
        case storeSyncDone(upTo: Int)
        case raftFsyncDone(upTo: Int)
        case heartbeat
        case electionCheck
        case confirmTimeout(sequence: Int)
        case processed
        case reconnect
    }

    /// A quorum queue member's Raft role. Memory only: a restarted member is a follower.
    enum RaftRole: Equatable, Sendable {
        case follower
        /// Standing for election; the members (by broker number) that voted for it, itself included.
        case candidate(votes: Set<Int>)
        case leader
    }

    struct Node: CrashableNode {
        var id: BrokerID
        // On disk: the classic queues' message store; a quorum queue member's Raft log, term and
        // vote (Raft's persistent state).
        var store: [StoredCopy] = []
        var term = 0
        var votedFor: BrokerID?
        var log = DurableLog<RaftEntry>()
        /// How much of the Raft log is on disk: what this member may acknowledge.
        var fsyncedUpTo: Int { log.syncedCount }
        var memory = Memory()
        var isLeader: Bool { memory.role == .leader }
        /// Not the broker's: delivery tags run on across restarts so that a tag names one
        /// delivery in the whole trace (a real channel starts again at 1).
        var nextTag = 1
        /// Not the broker's: what its classic queues held when it crashed, for the trace to say
        /// what the restart lost.
        var heldAtCrash: [String: [QueuedMessage]] = [:]

        /// The node's memory. Classic queues are rebuilt from the store at restart; a quorum
        /// queue member relearns the commit index and replays its log.
        struct Memory: Sendable {
            // Classic queues (q on B1, and dlq on B1).
            var queues: [String: QueueState] = [:]
            var syncScheduled = false
            /// Confirms waiting for the fsync that makes their copy durable: (store index, publisher, sequence).
            var awaitingSync: [(storeIndex: Int, publisher: Int, sequence: Int)] = []
            var consumers: [Int: Int] = [:]  // consumer -> prefetch (0 unlimited)
            // Quorum queue member (Raft's volatile state).
            var fsyncInFlight = false
            var commitIndex = 0
            var applied = 0
            var role = RaftRole.follower
            var leader: BrokerID?
            var lastHeard: Millis = 0
            var electionJitter: Millis = 0
            var verifiedUpTo = 0
            var matchIndex: [Int] = []
            var nextIndex: [Int] = []
            /// Applied quorum queue state: every unsettled message, in order.
            var quorum: [QueuedMessage] = []
            /// Leader only: which consumer holds which copy, by delivery tag.
            var checkedOut: [(tag: Int, consumer: Int, copy: Int)] = []
        }

        static var freshMemory: Memory { Memory() }

        mutating func diskSurvives(_ fault: Fault) {
            switch fault {
            case .crash, .applicationCrash: break
            case .powerLoss:
                // A delete not yet synced is undone: the message comes back.
                store = store.compactMap { stored in
                    guard stored.synced else { return nil }
                    var kept = stored
                    if !stored.deleteSynced { kept.deleted = false }
                    return kept
                }
                log.survive(fault)
            case .diskLoss:
                store = []
                log.survive(fault)
                term = 0
                votedFor = nil
            }
        }
    }

    struct Publisher: Sendable {
        var nextSequence = 1
        var connectedTo: BrokerID?
        /// Publishes awaiting their confirm: (sequence, history index, message).
        var outstanding: [(sequence: Int, send: Int, message: MessageID)] = []
        var unconfirmed: [MessageID] = []
    }

    struct Consumer: Sendable {
        var settlement: Settlement
        var active = false
        var connectedTo: BrokerID?
        var inbox: [(tag: Int, message: QueuedMessage)] = []
        var busy = false
        var processedCount = 0
        var deliveredCount = 0
    }

    var electionRandom: SeededRandom
    var nodes: [Node]
    var publishers: [Publisher] = []
    var consumers: [Consumer] = []
    var nextCopy = 0
    var nextPosition = 0
    /// Costs, for `mqproof compare`.
    internal(set) var fsyncs = 0

    init(config: RabbitConfig, seed: UInt64, recordsTrace: Bool = true) {
        self.config = config
        self.seed = seed
        engine = WorldEngine(seed: seed, networkDelay: config.networkDelayMs, recordsTrace: recordsTrace)
        electionRandom = SeededRandom(seed: seed).child("elections")
        nodes = (1...config.nodes).map { Node(id: BrokerID($0)) }
        nodes[0].memory.queues["q"] = QueueState()
        if config.deadLetterExchange != nil { nodes[0].memory.queues["dlq"] = QueueState() }
        for binding in config.bindings { nodes[0].memory.queues[binding.queue] = QueueState() }
        if config.queueType == .quorum {
            // B1 starts as the leader of term 1, as after the queue's declaration.
            for index in 0..<3 {
                nodes[index].term = 1
                nodes[index].memory.leader = BrokerID(1)
                nodes[index].memory.electionJitter = electionRandom.next(in: 0...config.electionTimeoutMs)
                setTimer(.electionCheck, for: .broker(BrokerID(index + 1)), after: config.heartbeatMs)
            }
            nodes[0].memory.role = .leader
            nodes[0].memory.matchIndex = [0, 0, 0]
            nodes[0].memory.nextIndex = [0, 0, 0]
            setTimer(.heartbeat, for: .broker(BrokerID(1)), after: config.heartbeatMs)
        }
    }

    mutating func addPublisher() -> Int {
        publishers.append(Publisher())
        return publishers.count
    }

    mutating func addConsumer(settlement: Settlement) -> Int {
        consumers.append(Consumer(settlement: settlement))
        return consumers.count
    }

    // MARK: - The event loop

    mutating func fire(_ timer: Timer, at node: NodeID) {
        switch (node, timer) {
        case (.broker(let id), .storeSync): storeSync(id.value - 1)
        case (.broker(let id), .storeSyncDone(let upTo)): storeSyncDone(id.value - 1, upTo: upTo)
        case (.broker(let id), .raftFsyncDone(let upTo)): raftFsyncDone(id.value - 1, upTo: upTo)
        case (.broker(let id), .heartbeat): leaderHeartbeat(id.value - 1)
        case (.broker(let id), .electionCheck): electionCheck(id.value - 1)
        case (.producer(let index), .confirmTimeout(let sequence)): confirmTimedOut(index - 1, sequence)
        case (.consumer(let index), .processed): finishProcessing(index - 1)
        case (.consumer(let index), .reconnect): connectConsumer(index - 1)
        default: preconditionFailure("timer \(timer) fired at \(node)")
        }
    }

    // MARK: - Actions

    mutating func produce(_ messages: [MessageID], producer: Int) { publish(messages, publisher: producer) }

    mutating func stopConsumer(_ consumer: Int) {
        consumers[consumer - 1].active = false
        closeConsumerConnection(consumer - 1)
    }

    var allNodes: [NodeID] {
        nodes.map { .broker($0.id) } + publishers.indices.map { .producer($0 + 1) }
            + consumers.indices.map { .consumer($0 + 1) }
    }

}

extension RaftEntry {
    var enqueued: MessageID? {
        if case .enqueue(let message) = command { return message.copy.message }
        return nil
    }
}
