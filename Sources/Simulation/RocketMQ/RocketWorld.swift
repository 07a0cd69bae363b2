// Theory of operation
//
// A RocketMQ 4.x world: broker group a (B1 master, B2 slave) and optionally group b (B3 master,
// B4 slave), producers p1.. and push consumers c1.. of one consumer group. It runs on
// WorldEngine: one event queue ordered by (time, sequence), the network whose faults the scenario
// sets, and the recorder; this file decides what each delivery, timer and action does.
//
// Every master and slave has a commit log: entries in the page cache, of which a prefix is on
// disk (`flushed`). A process crash keeps the page cache; a power loss keeps the flushed prefix;
// a disk loss keeps nothing. A put on the master (RKT-02) appends, then waits, in parallel, for
// the flush (SYNC_FLUSH: the group commit, up to syncFlushTimeout) and for the slave
// (SYNC_MASTER: its reported offset, up to slaveTimeout; SLAVE_NOT_AVAILABLE at once when no
// slave is connected), and answers with the combined status (RKT-03). ASYNC_FLUSH flushes every
// flushIntervalCommitLog when at least flushCommitLogLeastPages pages are dirty, and everything
// every flushCommitLogThoroughInterval. The slave gets the log pushed from the master and
// reports its offset; offsets are positions, so a slave refuses a push that does not continue
// its own log, as HAClient does.
//
// Messages are consumable as soon as they are appended, before any flush (RKT-06). Consumers
// pull from each master's topic queue and `%RETRY%` queue, process one message at a time, and
// answer CONSUME_SUCCESS or RECONSUME_LATER. A failed message goes back to the master, which
// writes it to the schedule topic for the delay of level 3 + reconsumeTimes and then to
// `%RETRY%`, or to `%DLQ%` once reconsumeTimes reaches maxReconsumeTimes (RKT-09). Consume
// offsets are committed to the broker every persistConsumerOffsetInterval and survive a broker
// restart only as last persisted.
//
// A sync send makes up to 1 + retryTimesWhenSendFailed attempts within one sendMsgTimeout
// budget, to another broker group each time (RKT-04). A broker that is down refuses the
// connection at once, so the next attempt follows; a request that times out has used the whole
// budget, so it is not retried (`timeout < costTime` in sendDefaultImpl) and the application
// gets an exception although the broker may have stored the message. A non-SEND_OK status is
// a result, not an exception, and is retried only with retryAnotherBrokerWhenNotStoreOK.
//
// Transactional producers (RKT-08) send a half message, run the local transaction once it is
// SEND_OK, record its outcome in the application's database and send a oneway END_TRANSACTION.
// Masters scan half messages without an op every transactionCheckInterval and ask a live
// producer of the group, which answers from the database; after transactionCheckMax checks the
// half message is discarded to TRANS_CHECK_MAX_TIME_TOPIC.
//
// Not modelled: consumers reading from a slave while its master is down, DLedger and the 5.x
// controller (RKT-05), ordered consumption, and the 256 MB slave lag limit.

/// Where a commit log entry belongs.
enum RocketTopic: Equatable, Sendable {
    case topic
    /// RMQ_SYS_TRANS_HALF_TOPIC: invisible until committed.
    case half
    /// RMQ_SYS_TRANS_OP_HALF_TOPIC: the half message `copy` is resolved.
    case op
    /// SCHEDULE_TOPIC_XXXX: a retry waiting for its delay.
    case schedule
    case retry
    case dlq
    /// TRANS_CHECK_MAX_TIME_TOPIC: a half message checked too often.
    case checkMax
}

struct CommitLogEntry: Equatable, Sendable {
    var topic: RocketTopic
    /// The stored copy: one per SEND_MESSAGE that reached a broker. Retries, schedules and
    /// commits rewrite the entry and keep its copy.
    var copy: Int
    var message: MessageID
    var producer: Int
    var reconsumeTimes = 0
    var checkTimes = 0
    var bornAt: Millis = 0
    var dueAt: Millis = 0
}

enum SendStatus: String, Sendable {
    case sendOK = "SEND_OK"
    case flushDiskTimeout = "FLUSH_DISK_TIMEOUT"
    case flushSlaveTimeout = "FLUSH_SLAVE_TIMEOUT"
    case slaveNotAvailable = "SLAVE_NOT_AVAILABLE"
}

enum RocketPayload: WirePayload {
    case send(request: Int, entry: CommitLogEntry)
    case sendResult(request: Int, status: SendStatus)
    case endTransaction(copy: Int, commit: Bool?)
    case checkTransaction(copy: Int, message: MessageID)
    case haTransfer(from: Int, entries: [CommitLogEntry])
    /// `resync` on connecting and on the heartbeat: the master pushes again from this offset.
    case haReport(offset: Int, resync: Bool)
    case haClosed
    case pull(queue: RocketQueue, offset: Int)
    case pullResult(queue: RocketQueue, from: Int, entries: [CommitLogEntry])
    case commitOffset(queue: RocketQueue, offset: Int)
    case sendBack(entry: CommitLogEntry)

    var kind: MessageKind {
        switch self {
        case .send: .send
        case .sendResult: .sendResult
        case .endTransaction: .endTransaction
        case .checkTransaction: .checkTransaction
        case .haTransfer: .haTransfer
        case .haReport, .haClosed: .haReport
        case .pull, .commitOffset: .pull
        case .pullResult: .pullResult
        case .sendBack: .sendBack
        }
    }
}

/// A consume queue: a master's topic queue or its `%RETRY%` queue.
struct RocketQueue: Hashable, Sendable {
    var master: Int
    var retry: Bool
}

struct RocketWorld: QueueBrokerWorld {
    let config: RocketConfig
    let seed: UInt64
    var engine: WorldEngine<RocketPayload, Timer>

    enum Timer: Sendable {
        case flushTick
        case flushDone(upTo: Int)
        case putDeadline(request: Int, slave: Bool)
        case scheduleDue(copy: Int, reconsumeTimes: Int)
        case transactionCheck
        case persistOffsets
        case haHeartbeat
        case sendTimeout(request: Int)
        case localTransactionDone(send: Int, copy: Int)
        case processed
        case repull(RocketQueue)
        case consumeLater
    }

    struct PendingPut: Sendable {
        var request: Int
        var producer: Int
        var endOffset: Int
        var flushStatus: SendStatus?
        var replicaStatus: SendStatus?
    }

    /// A node's role in its broker group.
    enum Role: Sendable { case master, slave }

    struct Node: CrashableNode {
        var id: BrokerID
        var index: Int
        /// A master takes writes; its slave (the next node) copies them. Fixed for the run: 4.x
        /// classic master/slave has no automatic failover (RKT-05).
        let role: Role
        var isMaster: Bool { role == .master }
        // On disk: the commit log, and the consumer offsets as last persisted
        // (consumerOffset.json).
        var log = DurableLog<CommitLogEntry>()
        var persistedOffsets: [RocketQueue: Int] = [:]
        /// How much of the commit log is on disk.
        var flushed: Int { log.syncedCount }
        var memory = Memory()

        /// The broker's memory: the consume queues and offsets are rebuilt from the disk at restart.
        struct Memory: Sendable {
            var startedAt: Millis = 0
            var flushInFlight = false
            var flushTickScheduled = false
            /// SYNC_FLUSH: a put is waiting for the group commit.
            var flushRequested = false
            // Master only.
            var slaveOffset = 0
            var slaveConnected = false
            var slaveHeardAt: Millis = 0
            var pushedUpTo = 0
            var pending: [PendingPut] = []
            var topicQueue: [Int] = []
            var retryQueue: [Int] = []
            var offsets: [RocketQueue: Int] = [:]
            var parkedPulls: [(consumer: Int, queue: RocketQueue, offset: Int)] = []
        }

        static var freshMemory: Memory { Memory() }

        mutating func diskSurvives(_ fault: Fault) {
            log.survive(fault)
            if fault == .diskLoss { persistedOffsets = [:] }
        }
    }

    struct Producer: Sendable {
        var nextGroup = 0
        /// Sends in flight, by request id.
        var requests: [Int: InFlightSend] = [:]
        var unacknowledged: [MessageID] = []
    }

    /// One attempt of a send: the history entry it answers, the copy it stored (a half message's
    /// copy is what END_TRANSACTION names), and where the attempt went.
    struct InFlightSend: Sendable {
        var send: Int
        var message: MessageID
        var copy: Int
        var attempt: Int
        var startedAt: Millis
        var group: Int
    }

    struct Consumer: Sendable {
        var status: ConsumeStatus
        var active = false
        /// Next offset to pull, per queue; processed up to, per queue (what is committed).
        var pullOffsets: [RocketQueue: Int] = [:]
        var committed: [RocketQueue: Int] = [:]
        var pullSentAt: [RocketQueue: Millis] = [:]
        var inbox: [(queue: RocketQueue, position: Int, entry: CommitLogEntry)] = []
        var busy = false
        var processedCount = 0
        var deliveredCount = 0
    }

    var nodes: [Node]
    var producers: [Producer] = []
    var consumers: [Consumer] = []
    /// The application database of the transactional producer group: local transaction outcomes.
    var database: [Int: LocalTransaction] = [:]
    var nextCopy = 0
    var nextRequest = 0
    /// Costs, for `mqproof compare`.
    internal(set) var fsyncs = 0

    init(config: RocketConfig, seed: UInt64, recordsTrace: Bool = true) {
        self.config = config
        self.seed = seed
        engine = WorldEngine(seed: seed, networkDelay: config.networkDelayMs, recordsTrace: recordsTrace)
        nodes = (0..<config.nodes).map { index in
            Node(id: BrokerID(index + 1), index: index, role: index % 2 == 0 ? .master : .slave)
        }
        for index in nodes.indices {
            if nodes[index].isMaster {
                setTimer(
                    .transactionCheck, for: .broker(nodes[index].id), after: config.transactionCheckInterval)
                setTimer(.persistOffsets, for: .broker(nodes[index].id), after: config.persistOffsetMs)
            } else {
                connectSlave(index)
            }
        }
    }

    mutating func addProducer() -> Int {
        producers.append(Producer())
        return producers.count
    }

    mutating func addConsumer(status: ConsumeStatus) -> Int {
        consumers.append(Consumer(status: status))
        return consumers.count
    }

    // MARK: - ScenarioWorld plumbing

    var allNodes: [NodeID] {
        nodes.map { .broker($0.id) } + producers.indices.map { .producer($0 + 1) }
            + consumers.indices.map { .consumer($0 + 1) }
    }

    var masters: [Int] { nodes.indices.filter { nodes[$0].isMaster } }

    func slave(of master: Int) -> Int? { master + 1 < nodes.count ? master + 1 : nil }

    mutating func fact(_ text: String, message: MessageID? = nil, at node: NodeID) {
        note(.queue(.fact(message: message, text: text)), at: node)
    }

    // MARK: - The event loop

    mutating func fire(_ timer: Timer, at node: NodeID) {
        switch (node, timer) {
        case (.broker(let id), .flushTick): flushTick(id.value - 1)
        case (.broker(let id), .flushDone(let upTo)): flushDone(id.value - 1, upTo: upTo)
        case (.broker(let id), .putDeadline(let request, let slave)):
            putDeadline(id.value - 1, request: request, slave: slave)
        case (.broker(let id), .scheduleDue(let copy, let times)): scheduleDue(id.value - 1, copy, times)
        case (.broker(let id), .transactionCheck): transactionCheck(id.value - 1)
        case (.broker(let id), .persistOffsets):
            nodes[id.value - 1].persistedOffsets = nodes[id.value - 1].memory.offsets
            setTimer(.persistOffsets, for: node, after: config.persistOffsetMs)
        case (.consumer(let index), .persistOffsets): commitOffsets(index - 1)
        case (.broker(let id), .haHeartbeat): slaveReport(id.value - 1, heartbeat: true)
        case (.producer(let index), .sendTimeout(let request)): sendTimedOut(index - 1, request: request)
        case (.producer(let index), .localTransactionDone(let send, let copy)):
            localTransactionDone(index - 1, send: send, copy: copy)
        case (.consumer(let index), .processed): finishProcessing(index - 1)
        case (.consumer(let index), .repull(let queue)):
            // No answer within the long-polling timeout: the pull was lost; pull again.
            if now - (consumers[index - 1].pullSentAt[queue] ?? 0) >= Self.pullTimeoutMs {
                pull(index - 1, queue)
            }
        case (.consumer(let index), .consumeLater): startProcessing(index - 1)
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
        consumers[consumer - 1].busy = false
        consumers[consumer - 1].inbox = []
    }

    mutating func stopConsumer(_ consumer: Int) {
        consumers[consumer - 1].active = false
        engine.cancelTimers(of: .consumer(consumer))
        consumers[consumer - 1].busy = false
        consumers[consumer - 1].inbox = []
    }

}
