// Theory of operation
//
// A broker holds one replica of P0. What survives a process crash is the log (in the page
// cache), its leader-epoch cache and the high watermark (checkpointed: SIMPLIFICATION, Kafka
// checkpoints it every few seconds). Everything else (its role, the leader's view of its
// followers, the produce purgatory, parked fetches) is memory and is rebuilt from the
// controller's partition state after a restart. What survives a power loss is only the prefix
// up to `flushedOffset`, which the operating system's writeback (or `flush.messages`) advances.
//
// As leader it appends produce requests (K-REP-01..05), answers follower fetches (K-REP-06),
// tracks which followers are caught up (K-REP-07a) and asks the controller to shrink or expand
// the ISR (K-REP-07b, 07c). As follower it fetches from the leader, truncates where its log
// diverges from the leader's by leader epoch (K-REP-10) or, in the pre-0.11 profile, to its own
// high watermark (K-REP-10L), and appends what the leader returns.

/// The leader's view of one follower (K-STATE-01).
struct FollowerState: Sendable {
    var logEndOffset = 0
    var lastFetchTime = 0
    var lastFetchLeaderLogEnd = 0
    var lastCaughtUpTime = 0
}

/// An acks=all produce request waiting for the high watermark (K-REP-04).
struct PendingProduce: Sendable {
    var request: Int
    /// When request.timeout.ms runs out for it.
    var deadline: Millis
    var producer: NodeID
    var requiredOffset: Int
    var baseOffset: Int
}

/// A fetch with nothing to return yet, waiting for data or for its wait time to pass.
struct ParkedFetch: Sendable {
    var request: Int
    var from: NodeID
    var offset: Int
    var isConsumer: Bool
    var maxRecords: Int
}

/// What the broker remembers of an idempotent producer: its epoch and its last five batches.
struct ProducerStateEntry: Sendable {
    struct Batch: Sendable {
        var firstSequence: Int
        var lastSequence: Int
        var firstOffset: Int
        var lastOffset: Int
    }

    var epoch: Int
    /// Oldest first. It holds up to twice the retained batches and drops the surplus at once,
    /// so that a new batch does not shift the whole window every time (once per record batch).
    var window: [Batch] = []

    init(epoch: Int) {
        self.epoch = epoch
    }

    /// Kafka keeps the metadata of this many batches per producer (ProducerStateEntry.java).
    static let retainedBatches = 5

    /// The batches the broker remembers, oldest first.
    var batches: ArraySlice<Batch> { window.suffix(Self.retainedBatches) }

    mutating func append(_ batch: Batch) {
        window.append(batch)
        if window.count >= 2 * Self.retainedBatches {
            window.removeFirst(window.count - Self.retainedBatches)
        }
    }

    /// The newest batch grows by one record.
    mutating func extendNewest(sequence: Int, offset: Int) {
        guard !window.isEmpty else { return }
        window[window.count - 1].lastSequence = sequence
        window[window.count - 1].lastOffset = offset
    }
}

/// A broker as a state machine: it reads its step and writes effects (NodeStep).
struct BrokerState: CrashableNode {
    typealias Step = NodeStep<Payload, KafkaWorld.Timer>

    let id: BrokerID
    let config: KafkaConfig
    /// The partition's replicas in assignment order: static, as the controller created them.
    let replicas: [BrokerID]

    // On disk: the log and what is checkpointed with it.
    var log = DurableLog<Record>()
    var epochCache: [(epoch: Epoch, start: Int)] = []
    var highWatermark = 0
    /// What the page cache has written back, or `flush.messages` fsynced: what power loss keeps.
    var flushedOffset: Int { log.syncedCount }
    var unflushedMessages = 0

    var memory = Memory()
    var isLeader: Bool { memory.leader == id }

    /// What the process holds: learned from the controller, the leader's view of its followers
    /// and waiting requests, the follower's fetch, and producer state (rebuilt from the log).
    struct Memory: Sendable {
        var partitionEpoch = -1
        var leader: BrokerID?
        var leaderEpoch = Epoch(-1)
        var isr: [BrokerID] = []

        // Leader side.
        /// Indexed by broker id; entry 0 is unused.
        var followers = [FollowerState?](repeating: nil, count: 10)
        var purgatory: [PendingProduce] = []
        var parkedFetches: [ParkedFetch] = []
        /// An ISR change sent to the controller and not yet answered, and when it was sent.
        var proposedIsr: (isr: [BrokerID], sentAt: Millis)?
        /// Per idempotent producer: a short list searched linearly (a world has a few producers).
        var producerStates: [(id: ProducerID, entry: ProducerStateEntry)] = []

        // Follower side.
        var fetchInFlight: Int?
        var fetchSentAt: Millis = 0
        // Watchdogs: a timer fires only when one is armed, so dead timeouts do not pile up.
        var fetchWatchdogArmed = false
        var purgatoryWatchdogArmed = false
    }

    static var freshMemory: Memory { Memory() }

    /// A process crash keeps the page cache; a power loss keeps only what was flushed; a disk
    /// loss keeps nothing (K-REP-12, S-02).
    mutating func diskSurvives(_ fault: Fault) {
        switch fault {
        case .crash, .applicationCrash: break
        case .powerLoss: _ = truncate(to: flushedOffset)
        case .diskLoss:
            _ = truncate(to: 0)
            epochCache = []
        }
    }

    func producerState(_ producer: ProducerID) -> ProducerStateEntry? {
        memory.producerStates.first { $0.id == producer }?.entry
    }

    init(id: BrokerID, config: KafkaConfig, replicas: [BrokerID]) {
        self.id = id
        self.config = config
        self.replicas = replicas
    }

    var logEndOffset: Int { log.count }
    var latestEpoch: Epoch? { epochCache.last?.epoch }

    /// Applies the controller's partition state; returns what changed for the caller to act on.
    @discardableResult
    mutating func apply(_ state: PartitionState, now: Millis) -> RoleChange {
        guard state.partitionEpoch > memory.partitionEpoch else { return .none }
        precondition(
            state.leaderEpoch >= memory.leaderEpoch, "invariant broken: \(id) saw the leader epoch go back")
        memory.partitionEpoch = state.partitionEpoch
        let wasLeader = isLeader
        let previousLeader = memory.leader
        let previousEpoch = memory.leaderEpoch
        memory.leader = state.leader
        memory.leaderEpoch = state.leaderEpoch
        memory.isr = state.isr
        if let proposal = memory.proposedIsr, proposal.isr == state.isr || state.leaderEpoch != previousEpoch
        {
            memory.proposedIsr = nil
        } else if memory.proposedIsr != nil && state.isr != memory.isr {
            memory.proposedIsr = nil
        }
        if isLeader && (!wasLeader || previousEpoch != memory.leaderEpoch) {
            memory.followers = [FollowerState?](repeating: nil, count: 10)
            // Kafka resets each follower's state on a leader change: its log end offset is unknown
            // (-1) until it fetches, and an in-sync follower counts as caught up as of now.
            for replica in state.isr where replica != id {
                memory.followers[replica.value] = FollowerState(
                    logEndOffset: -1, lastFetchTime: now, lastFetchLeaderLogEnd: 0, lastCaughtUpTime: now)
            }
            if epochCache.last?.epoch != memory.leaderEpoch {
                epochCache.append((memory.leaderEpoch, logEndOffset))
            }
            memory.proposedIsr = nil
            return .becameLeader
        }
        if !isLeader && (wasLeader || previousLeader != memory.leader || previousEpoch != memory.leaderEpoch)
        {
            return .becameFollower(wasLeader: wasLeader)
        }
        return isLeader ? .isrChanged : .none
    }

    enum RoleChange {
        case none
        case becameLeader
        case becameFollower(wasLeader: Bool)
        case isrChanged
    }

    /// K-REP-10: the leader's end offset for a follower's epoch: the largest epoch it knows that
    /// is not above `epoch`, and where that epoch ends in its own log.
    func endOffset(forEpoch epoch: Epoch) -> (epoch: Epoch, endOffset: Int)? {
        guard let index = epochCache.lastIndex(where: { $0.epoch <= epoch }) else { return nil }
        let end = index + 1 < epochCache.count ? epochCache[index + 1].start : logEndOffset
        return (epochCache[index].epoch, end)
    }

    /// Removes records from `offset` on, keeping the epoch cache, producer state and watermarks
    /// consistent; returns the messages removed.
    mutating func truncate(to offset: Int) -> [MessageID] {
        guard offset < log.count else { return [] }
        let removed = log.records[offset...].map(\.message)
        log.truncate(from: offset)
        epochCache.removeAll { $0.start >= offset }
        highWatermark = min(highWatermark, log.count)
        rebuildProducerStates()
        return removed
    }

    /// Appends records as they are (a follower copying the leader), extending the epoch cache.
    mutating func appendReplicated(_ records: [Record]) {
        for record in records {
            precondition(
                log.last.map { $0.epoch <= record.epoch } ?? true,
                "invariant broken: \(id) log epochs go back")
            if epochCache.last.map({ $0.epoch < record.epoch }) ?? true {
                epochCache.append((record.epoch, log.count))
            }
            log.append(record)
            trackProducerState(record, offset: log.count - 1)
        }
    }

    mutating func trackProducerState(_ record: Record, offset: Int) {
        guard let producer = record.producer else { return }
        // Mutated in place: a copy of the entry would copy its batch window on every record.
        let position: Int
        if let found = memory.producerStates.firstIndex(where: { $0.id == producer }) {
            position = found
            if memory.producerStates[position].entry.epoch != record.producerEpoch {
                memory.producerStates[position].entry = ProducerStateEntry(epoch: record.producerEpoch)
            }
        } else {
            memory.producerStates.append((producer, ProducerStateEntry(epoch: record.producerEpoch)))
            position = memory.producerStates.count - 1
        }
        if record.sequence == record.batchFirstSequence {
            memory.producerStates[position].entry.append(
                .init(
                    firstSequence: record.sequence, lastSequence: record.sequence, firstOffset: offset,
                    lastOffset: offset))
        } else {
            memory.producerStates[position].entry.extendNewest(sequence: record.sequence, offset: offset)
        }
    }

    /// Kafka rebuilds producer state from the log after a restart or a truncation.
    mutating func rebuildProducerStates() {
        memory.producerStates = []
        for (offset, record) in log.enumerated() { trackProducerState(record, offset: offset) }
    }
}
