// A RabbitMQ node as a state machine: routing, classic queues with the message store and its
// fsyncs, dead-lettering, and a quorum queue member's Raft. It acts only through its step's
// effects.

/// What every node of a RabbitMQ world draws from alike: copies and queue positions numbered
/// across the world, and the seeded randomness of election timeouts.
struct RabbitShared: Sendable {
    var nextCopy = 0
    /// Properties a script gave its messages (`publish m expiration 10s priority 5`), by message id.
    var properties: [Int: MessageProperties] = [:]
    private var position = 0
    var electionRandom: SeededRandom

    init(seed: UInt64) {
        electionRandom = SeededRandom(seed: seed).child("elections")
    }

    mutating func nextPosition() -> Int {
        position += 1
        return position
    }
}

/// The nodes' and the clients' timers.
enum RabbitTimer: Sendable {
    case storeSync
    case storeSyncDone(upTo: Int)
    case raftFsyncDone(upTo: Int)
    case heartbeat
    case electionCheck
    case confirmTimeout(sequence: Int)
    case processed
    case reconnect
    /// The head of a classic queue may have expired (RMQ-14).
    case expireHead(queue: String)
}

extension RabbitConfig {
    var isQuorum: Bool { queueType == .quorum }

    /// The queues a publish reaches (RMQ-01): the default exchange routes by queue name; a
    /// declared exchange through its bindings, each queue at most once.
    func route(_ routingKey: String) -> [String] {
        if exchange.isEmpty {
            return queueNames.contains(routingKey) ? [routingKey] : []
        }
        return bindings.filter { binding in
            binding.keys.contains { exchangeType.matches(routingKey: routingKey, bindingKey: $0) }
        }.map(\.queue)
    }

    /// Every queue the topology declares, `q` first.
    var queueNames: [String] {
        ["q"] + bindings.map(\.queue).filter { $0 != "q" } + (deadLetterExchange != nil ? ["dlq"] : [])
    }
}

struct RabbitNode: CrashableNode {
    typealias Step = NodeStep<RabbitPayload, RabbitTimer>

    /// A quorum queue member's Raft role. Memory only: a restarted member is a follower.
    enum RaftRole: Equatable, Sendable {
        case follower
        /// Asking whether an election could win, before raising its term (pre-vote); the members
        /// that said yes, itself included.
        case preCandidate(votes: Set<Int>)
        /// Standing for election; the members (by broker number) that voted for it, itself included.
        case candidate(votes: Set<Int>)
        case leader
    }

    let id: BrokerID
    let index: Int
    let config: RabbitConfig
    /// For the message of a broken invariant.
    let seed: UInt64
    var isQuorum: Bool { config.isQuorum }
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
    /// Not the broker's: delivery tags run on across restarts so that a tag names one delivery
    /// in the whole trace (a real channel starts again at 1); what its classic queues held when
    /// it crashed, for the trace to say what the restart lost; its fsync calls, for `compare`.
    var nextTag = 1
    var heldAtCrash: [String: [QueuedMessage]] = [:]
    var fsyncs = 0

    /// The node's memory. Classic queues are rebuilt from the store at restart; a quorum queue
    /// member relearns the commit index and replays its log.
    struct Memory: Sendable {
        // Classic queues (q on B1, and dlq on B1).
        var queues: [String: QueueState] = [:]
        var syncScheduled = false
        /// 3.x: an early sync is due because a confirm waits for it.
        var syncSoon = false
        /// Confirms waiting for the fsync that makes their copy durable: (store index, publisher, sequence).
        var awaitingSync: [(storeIndex: Int, publisher: Int, sequence: Int)] = []
        var consumers: [Int: Int] = [:]  // consumer -> prefetch (0 unlimited)
        /// Consumers of q in the order they registered: with a single active consumer, the first
        /// is the active one (RMQ-23).
        var registered: [Int] = []
        /// Per classic queue, when its armed expiry timer fires.
        var expiryTimers: [String: Millis] = [:]
        // Quorum queue member (Raft's volatile state).
        var fsyncInFlight = false
        var commitIndex = 0
        var applied = 0
        var role = RaftRole.follower
        var leader: BrokerID?
        var lastHeard: Millis = 0
        /// When a leader last reached it (an append): what a pre-vote asks about. Its own
        /// candidacies do not count, or two members standing at once would refuse each other.
        var lastLeaderContact: Millis?
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
        case .crash where config.version == .v3, .applicationCrash where config.version == .v3:
            // 3.x classic queues write a persistent message to the queue files only when they
            // sync it (about 200 ms after the publish, or once idle with confirms pending): what
            // was not synced was never written, and a killed process loses it (RMQ-03, measured
            // on 3.10.8). Unsynced deletes are lost alike: the message comes back.
            store = store.compactMap { stored in
                guard stored.synced else { return nil }
                var kept = stored
                if !stored.deleteSynced { kept.deleted = false }
                return kept
            }
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

    init(index: Int, config: RabbitConfig, seed: UInt64) {
        self.index = index
        id = BrokerID(index + 1)
        self.config = config
        self.seed = seed
    }

    mutating func fire(_ timer: RabbitTimer, _ step: inout Step, _ shared: inout RabbitShared) {
        switch timer {
        case .storeSync: storeSync(&step, &shared)
        case .storeSyncDone(let upTo): storeSyncDone(upTo: upTo, &step, &shared)
        case .raftFsyncDone(let upTo): raftFsyncDone(upTo: upTo, &step, &shared)
        case .heartbeat: leaderHeartbeat(&step, &shared)
        case .electionCheck: electionCheck(&step, &shared)
        case .expireHead(let queue):
            memory.expiryTimers[queue] = nil
            expireHead(queue, &step, &shared)
        case .confirmTimeout, .processed, .reconnect: preconditionFailure("timer \(timer) fired at \(id)")
        }
    }

    // MARK: - Crash and restart

    /// The process dies: memory is gone, the disk keeps what `fault` leaves.
    mutating func crash(_ fault: Fault, _ step: inout Step) {
        heldAtCrash = memory.queues.mapValues(\.all)
        let unsynced = log.unsynced.compactMap(\.enqueued)
        lose(fault)
        if fault == .powerLoss && !unsynced.isEmpty {
            step.note(.truncated(broker: id, to: Offset(log.count), removed: unsynced, reason: .powerLoss))
        }
    }

    /// A new process: a quorum member waits to hear from a leader; B1's classic queues recover
    /// what the message store holds (RMQ-05).
    mutating func restart(_ step: inout Step, _ shared: inout RabbitShared) {
        if isQuorum {
            // Raft state on disk survives; what was applied is rebuilt as the commit index is relearned.
            memory.lastHeard = step.now
            memory.electionJitter = shared.electionRandom.next(in: 0...config.electionTimeoutMs)
            step.setTimer(.electionCheck, after: config.heartbeatMs)
        }
        guard index == 0 || !isQuorum else { return }
        for name in heldAtCrash.keys.sorted() {
            let before = heldAtCrash[name] ?? []
            let durable = config.durable || name == "dlq"
            var recovered = QueueState()
            if durable {
                recovered.ready = store.filter { $0.queue == name && !$0.deleted }.map { stored in
                    var message = stored.message
                    // RabbitMQ cannot tell whether a recovered message was delivered before.
                    message.redelivered =
                        message.redelivered || before.first { $0.copy.id == message.copy.id } == nil
                    return message
                }
            }
            let kept = Set(recovered.ready.map(\.copy.id))
            memory.queues[name] = recovered
            step.note(
                .queue(
                    .recovered(
                        node: id, queue: name, kept: recovered.ready.map(\.copy.message),
                        lost: before.filter { !kept.contains($0.copy.id) }.map(\.copy.message),
                        durable: durable)))
        }
        store.removeAll { $0.deleted }
        if store.contains(where: { !$0.synced }) { scheduleStoreSync(&step, &shared) }
        // Recovered messages keep their expiry instants.
        for name in memory.queues.keys.sorted() { armExpiry(name, &step, &shared) }
    }
}
