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

public struct RocketWorld: ScenarioWorld, EngineHosted {
    public let config: RocketConfig
    public let seed: UInt64
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

    struct Node: Sendable {
        var id: BrokerID
        var index: Int
        var isMaster: Bool
        var isUp = true
        var incarnation = 0
        var startedAt: Millis = 0
        var pausedUntil: Millis?
        var log: [CommitLogEntry] = []
        var flushed = 0
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
        var persistedOffsets: [RocketQueue: Int] = [:]
        var parkedPulls: [(consumer: Int, queue: RocketQueue, offset: Int)] = []
    }

    struct Producer: Sendable {
        var isUp = true
        var incarnation = 0
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
        var isUp = true
        var incarnation = 0
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

    private(set) var nodes: [Node]
    private var producers: [Producer] = []
    private var consumers: [Consumer] = []
    /// The application database of the transactional producer group: local transaction outcomes.
    private var database: [Int: LocalTransaction] = [:]
    private var nextCopy = 0
    private var nextRequest = 0
    /// Costs, for `mqproof compare`.
    public private(set) var fsyncs = 0

    public init(config: RocketConfig, seed: UInt64, recordsTrace: Bool = true) {
        self.config = config
        self.seed = seed
        engine = WorldEngine(seed: seed, networkDelay: config.networkDelayMs, recordsTrace: recordsTrace)
        nodes = (0..<config.nodes).map { index in
            Node(id: BrokerID(index + 1), index: index, isMaster: index % 2 == 0)
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

    public mutating func addProducer() -> Int {
        producers.append(Producer())
        return producers.count
    }

    public mutating func addConsumer(status: ConsumeStatus) -> Int {
        consumers.append(Consumer(status: status))
        return consumers.count
    }

    // MARK: - ScenarioWorld plumbing

    public var now: Millis { engine.now }
    public var eventCount: Int { engine.eventCount }
    public var networkMessages: Int { engine.networkMessages }
    public var recordsTrace: Bool { engine.recorder.recordsTrace }
    public var trace: [TraceEvent] { engine.recorder.trace }
    public var traceHash: UInt64 { engine.recorder.traceHash }
    public var history: History { engine.recorder.history }
    public var messageCount: Int { engine.recorder.messageNames.count }
    public func name(of message: MessageID) -> String { engine.recorder.name(of: message) }
    public mutating func message(named name: String) -> MessageID { engine.recorder.message(named: name) }
    public mutating func automaticMessages(count: Int, first: Int) -> [MessageID] {
        engine.recorder.automaticMessages(count: count, first: first)
    }
    public mutating func note(_ note: Note, at node: NodeID) { engine.note(note, at: node) }

    public var allNodes: [NodeID] {
        nodes.map { .broker($0.id) } + producers.indices.map { .producer($0 + 1) }
            + consumers.indices.map { .consumer($0 + 1) }
    }

    private var masters: [Int] { nodes.indices.filter { nodes[$0].isMaster } }

    private func slave(of master: Int) -> Int? { master + 1 < nodes.count ? master + 1 : nil }

    private mutating func fact(_ text: String, message: MessageID? = nil, at node: NodeID) {
        note(.queue(.fact(message: message, text: text)), at: node)
    }

    // MARK: - The event loop

    public mutating func step(until limit: Millis) -> Bool { stepEngine(until: limit) }

    public mutating func run(until time: Millis) { runEngine(until: time) }

    mutating func sendPaced(_ message: MessageID, producer: Int) { send([message], producer: producer) }

    public mutating func schedule(_ action: WorldAction, at time: Millis) {
        engine.schedule(action, at: time)
    }

    public mutating func producePaced(_ messages: [MessageID], producer: Int, every: Millis) {
        engine.producePaced(messages, producer: producer, every: every)
    }

    @inline(__always)
    func incarnation(of node: NodeID) -> Int {
        switch node {
        case .broker(let id): nodes[id.value - 1].incarnation
        case .producer(let index): producers[index - 1].incarnation
        case .consumer(let index): consumers[index - 1].incarnation
        case .controller: 0
        }
    }

    @inline(__always)
    func isUp(_ node: NodeID) -> Bool {
        switch node {
        case .broker(let id): nodes[id.value - 1].isUp
        case .producer(let index): producers[index - 1].isUp
        case .consumer(let index): consumers[index - 1].isUp
        case .controller: true
        }
    }

    @inline(__always)
    func pausedUntil(_ node: NodeID) -> Millis? {
        if case .broker(let id) = node { return nodes[id.value - 1].pausedUntil }
        return nil
    }

    mutating func receive(_ payload: RocketPayload, from: NodeID, at to: NodeID) {
        switch to {
        case .broker(let id): brokerReceive(id.value - 1, payload, from: from)
        case .producer(let index): producerReceive(index - 1, payload)
        case .consumer(let index): consumerReceive(index - 1, payload, from: from)
        case .controller: break
        }
    }

    mutating func fire(_ timer: Timer, at node: NodeID) {
        switch (node, timer) {
        case (.broker(let id), .flushTick): flushTick(id.value - 1)
        case (.broker(let id), .flushDone(let upTo)): flushDone(id.value - 1, upTo: upTo)
        case (.broker(let id), .putDeadline(let request, let slave)):
            putDeadline(id.value - 1, request: request, slave: slave)
        case (.broker(let id), .scheduleDue(let copy, let times)): scheduleDue(id.value - 1, copy, times)
        case (.broker(let id), .transactionCheck): transactionCheck(id.value - 1)
        case (.broker(let id), .persistOffsets):
            nodes[id.value - 1].persistedOffsets = nodes[id.value - 1].offsets
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

    public mutating func perform(_ action: WorldAction) {
        if engine.applyNetworkFault(action, allNodes: allNodes) { return }
        switch action {
        case .crash(let broker, let fault): crashNode(broker.value - 1, fault)
        case .restart(let broker): restartNode(broker.value - 1)
        case .pause(let node, let milliseconds):
            note(.paused(node: node, milliseconds: milliseconds), at: node)
            if case .broker(let id) = node { nodes[id.value - 1].pausedUntil = now + milliseconds }
        case .partition, .isolate, .heal, .drop, .delay: break
        case .produce(let messages, let producer): send(messages, producer: producer)
        case .crashApplication(let producer): crashProducer(producer - 1)
        case .resendUnacknowledged(let producer):
            let messages = producers[producer - 1].unacknowledged
            producers[producer - 1].unacknowledged = []
            send(messages, producer: producer)
        case .startConsumer(let index):
            if !consumers[index - 1].isUp {
                consumers[index - 1].isUp = true
                note(.restarted(node: .consumer(index)), at: .consumer(index))
            }
            consumers[index - 1].active = true
            startPulling(index - 1)
        case .crashConsumer(let index):
            guard consumers[index - 1].isUp else { return }
            note(.crashed(node: .consumer(index), fault: .applicationCrash), at: .consumer(index))
            consumers[index - 1].isUp = false
            consumers[index - 1].incarnation += 1
            consumers[index - 1].busy = false
            consumers[index - 1].inbox = []
        case .stopConsumer(let index):
            consumers[index - 1].active = false
            consumers[index - 1].incarnation += 1
            consumers[index - 1].busy = false
            consumers[index - 1].inbox = []
        }
    }

    // MARK: - Producers

    private mutating func send(_ messages: [MessageID], producer: Int) {
        let index = producer - 1
        guard producers[index].isUp else { return }
        for message in messages {
            let send = engine.recorder.history.invoke(
                History.Send(
                    message: message, producer: producer, session: 0, invoked: now, outcome: .pending))
            let group = producers[index].nextGroup % masters.count
            producers[index].nextGroup += 1
            attempt(index, send: send, message: message, attempt: 1, startedAt: now, group: group)
        }
    }

    /// One attempt of `sendDefaultImpl`: to the master of `group`, within what is left of the budget.
    private mutating func attempt(
        _ index: Int, send: Int, message: MessageID, attempt: Int, startedAt: Millis, group: Int
    ) {
        let node = NodeID.producer(index + 1)
        let master = masters[group]
        let total = 1 + config.retryTimesWhenSendFailed
        guard nodes[master].isUp else {
            // Connection refused: a RemotingConnectException, retried at once on the next group.
            let retrying = attempt < total
            note(
                .failed(
                    producer: index + 1, messages: [message], error: "connect to \(nodes[master].id) refused",
                    retrying: retrying), at: node)
            if retrying {
                self.attempt(
                    index, send: send, message: message, attempt: attempt + 1, startedAt: startedAt,
                    group: (group + 1) % masters.count)
            } else {
                producers[index].unacknowledged.append(message)
                engine.recorder.history.complete(
                    send, .fail(error: "send failed after \(total) attempts", time: now))
            }
            return
        }
        nextRequest += 1
        nextCopy += 1
        let request = nextRequest
        let topic: RocketTopic = config.transactional ? .half : .topic
        let entry = CommitLogEntry(
            topic: topic, copy: nextCopy, message: message, producer: index + 1, bornAt: now)
        producers[index].requests[request] = InFlightSend(
            send: send, message: message, copy: nextCopy, attempt: attempt, startedAt: startedAt, group: group
        )
        note(
            .sent(
                producer: index + 1, messages: [message], to: nodes[master].id, attempt: attempt,
                sequence: nil),
            at: node)
        engine.transmit(.send(request: request, entry: entry), from: node, to: .broker(nodes[master].id))
        setTimer(.sendTimeout(request: request), for: node, after: config.sendMsgTimeout - (now - startedAt))
    }

    private mutating func producerReceive(_ index: Int, _ payload: RocketPayload) {
        let node = NodeID.producer(index + 1)
        switch payload {
        case .sendResult(let request, let status):
            guard let pending = producers[index].requests.removeValue(forKey: request) else { return }
            let total = 1 + config.retryTimesWhenSendFailed
            if status != .sendOK && config.retryAnotherBrokerWhenNotStoreOK && pending.attempt < total {
                note(
                    .failed(
                        producer: index + 1, messages: [pending.message], error: status.rawValue,
                        retrying: true),
                    at: node)
                attempt(
                    index, send: pending.send, message: pending.message, attempt: pending.attempt + 1,
                    startedAt: pending.startedAt, group: (pending.group + 1) % masters.count)
                return
            }
            let broker = nodes[masters[pending.group]].id
            if config.transactional {
                guard status == .sendOK else {
                    // executeLocalTransaction does not run: the half message is rolled back.
                    fact(
                        "p\(index + 1): half message \(name(of: pending.message)) got \(status.rawValue): ROLLBACK_MESSAGE without running the local transaction",
                        message: pending.message, at: node)
                    engine.recorder.history.complete(pending.send, .fail(error: status.rawValue, time: now))
                    let copy = pending.copy
                    engine.transmit(
                        .endTransaction(copy: copy, commit: false), from: node, to: .broker(broker))
                    return
                }
                fact(
                    "p\(index + 1): half message \(name(of: pending.message)) SEND_OK; executeLocalTransaction runs",
                    message: pending.message, at: node)
                setTimer(
                    .localTransactionDone(send: pending.send, copy: pending.copy), for: node,
                    after: config.localTransactionMs)
                return
            }
            fact(
                status == .sendOK
                    ? "p\(index + 1): send(\(name(of: pending.message))) returns SEND_OK from \(broker)"
                    : "p\(index + 1): send(\(name(of: pending.message))) returns \(status.rawValue) from \(broker): a result, not an exception",
                message: pending.message, at: node)
            engine.recorder.history.complete(pending.send, .ok(offset: nil, broker: broker, time: now))
        case .checkTransaction(let copy, let message):
            let answer = database[copy] ?? .unknown
            fact(
                "p\(index + 1): checkLocalTransaction(\(name(of: message))) finds \(answer.rawValue) in the database",
                message: message, at: node)
            guard let master = copyMaster(copy) else { return }
            engine.transmit(
                .endTransaction(
                    copy: copy, commit: answer == .commit ? true : answer == .rollback ? false : nil),
                from: node, to: .broker(nodes[master].id))
        default:
            preconditionFailure("a producer got \(payload.kind)")
        }
    }

    /// The master a half message was sent to: the one whose log holds it.
    private func copyMaster(_ copy: Int) -> Int? {
        masters.first { master in nodes[master].log.contains { $0.copy == copy && $0.topic == .half } }
    }

    private mutating func localTransactionDone(_ index: Int, send: Int, copy: Int) {
        let node = NodeID.producer(index + 1)
        let outcome = config.localTransaction
        database[copy] = outcome
        let message = engine.recorder.history.sends[send].message
        switch outcome {
        case .commit, .commitAnsweredUnknown:
            engine.recorder.history.complete(send, .ok(offset: nil, broker: nil, time: now))
        case .rollback:
            engine.recorder.history.complete(send, .fail(error: "local transaction rolled back", time: now))
        case .unknown:
            engine.recorder.history.complete(send, .info(error: "local transaction state UNKNOW", time: now))
        }
        fact(
            "p\(index + 1): local transaction for \(name(of: message)) \(Self.describe(outcome)); END_TRANSACTION goes oneway",
            message: message, at: node)
        guard let master = copyMaster(copy) else { return }
        engine.transmit(
            .endTransaction(
                copy: copy, commit: outcome == .commit ? true : outcome == .rollback ? false : nil),
            from: node, to: .broker(nodes[master].id))
    }

    private static func describe(_ outcome: LocalTransaction) -> String {
        switch outcome {
        case .commit: "commits"
        case .rollback: "rolls back"
        case .unknown: "returns UNKNOW"
        case .commitAnsweredUnknown: "commits, but the listener returns UNKNOW"
        }
    }

    private mutating func sendTimedOut(_ index: Int, request: Int) {
        guard let pending = producers[index].requests.removeValue(forKey: request) else { return }
        // The whole sendMsgTimeout budget is spent: sendDefaultImpl does not retry (RKT-04).
        let error =
            "RemotingTooMuchRequestException: sendDefaultImpl call timeout (\(config.sendMsgTimeout) ms)"
        note(
            .failed(producer: index + 1, messages: [pending.message], error: error, retrying: false),
            at: .producer(index + 1))
        producers[index].unacknowledged.append(pending.message)
        engine.recorder.history.complete(pending.send, .info(error: error, time: now))
    }

    private mutating func crashProducer(_ index: Int) {
        guard producers[index].isUp else { return }
        note(.crashed(node: .producer(index + 1), fault: .applicationCrash), at: .producer(index + 1))
        for pending in producers[index].requests.values {
            engine.recorder.history.complete(pending.send, .info(error: "producer crashed", time: now))
        }
        producers[index].requests = [:]
        producers[index].unacknowledged = []
        producers[index].incarnation += 1
        producers[index].isUp = false
    }

    // MARK: - Broker: the put path

    private mutating func brokerReceive(_ index: Int, _ payload: RocketPayload, from: NodeID) {
        switch payload {
        case .send(let request, let entry):
            guard nodes[index].isMaster, case .producer(let producer) = from else { return }
            put(index, entry, request: request, producer: producer)
        case .endTransaction(let copy, let commit):
            endTransaction(index, copy: copy, commit: commit, fromCheck: false)
        case .haTransfer(let from, let entries):
            slaveAppend(index, from: from, entries)
        case .haReport(let offset, let resync):
            nodes[index].slaveOffset = offset
            nodes[index].slaveConnected = true
            nodes[index].slaveHeardAt = now
            completePuts(index)
            nodes[index].pushedUpTo = resync ? offset : max(nodes[index].pushedUpTo, offset)
            pushToSlave(index)
        case .haClosed:
            nodes[index].slaveConnected = false
            fact("\(nodes[index].id): the slave's connection closed", at: .broker(nodes[index].id))
        case .pull(let queue, let offset):
            guard case .consumer(let consumer) = from else { return }
            answerPull(index, consumer: consumer, queue: queue, offset: offset)
        case .commitOffset(let queue, let offset):
            nodes[index].offsets[queue] = max(nodes[index].offsets[queue] ?? 0, offset)
        case .sendBack(let entry):
            sendBack(index, entry)
        case .sendResult, .checkTransaction, .pullResult:
            preconditionFailure("a broker got \(payload.kind)")
        }
    }

    private mutating func append(_ index: Int, _ entry: CommitLogEntry) {
        nodes[index].log.append(entry)
        let position = nodes[index].log.count - 1
        switch entry.topic {
        case .topic: nodes[index].topicQueue.append(position)
        case .retry: nodes[index].retryQueue.append(position)
        default: break
        }
        if config.flushDiskType == .syncFlush {
            requestFlush(index)
        } else {
            scheduleFlushTick(index)
        }
        if nodes[index].isMaster {
            pushToSlave(index)
            if entry.topic == .topic || entry.topic == .retry { wakeParkedPulls(index) }
        }
    }

    /// RKT-02: append, then wait for the flush and the slave as configured, then answer.
    private mutating func put(_ index: Int, _ entry: CommitLogEntry, request: Int, producer: Int) {
        let id = nodes[index].id
        append(index, entry)
        let what = entry.topic == .half ? "half message" : "message"
        fact(
            "\(id) appends \(what) \(name(of: entry.message)) to its commit log at \(nodes[index].log.count - 1) (page cache; visible to consumers)",
            message: entry.message, at: .broker(id))
        var put = PendingPut(request: request, producer: producer, endOffset: nodes[index].log.count)
        if config.flushDiskType == .asyncFlush { put.flushStatus = .sendOK }
        if config.brokerRole == .asyncMaster {
            put.replicaStatus = .sendOK
        } else if slave(of: index) == nil || !slaveIsConnected(index) {
            put.replicaStatus = .slaveNotAvailable
        } else if nodes[index].slaveOffset >= put.endOffset {
            put.replicaStatus = .sendOK
        }
        if put.flushStatus == nil {
            setTimer(
                .putDeadline(request: request, slave: false), for: .broker(id), after: config.syncFlushTimeout
            )
        }
        if put.replicaStatus == nil {
            setTimer(
                .putDeadline(request: request, slave: true), for: .broker(id), after: config.slaveTimeout)
        }
        nodes[index].pending.append(put)
        completePuts(index)
    }

    private func slaveIsConnected(_ index: Int) -> Bool {
        nodes[index].slaveConnected && now - nodes[index].slaveHeardAt <= config.haHousekeepingMs
    }

    /// Settles what the flush and the slave's offset now allow, and answers finished puts.
    private mutating func completePuts(_ index: Int) {
        guard nodes[index].isMaster else { return }
        // Runs on every flush and slave report while puts wait (hundreds of them while a slave
        // is down): one pass that allocates nothing unless some put is done.
        let flushed = nodes[index].flushed
        let slaveOffset = nodes[index].slaveOffset
        var anyDone = false
        for position in nodes[index].pending.indices {
            let endOffset = nodes[index].pending[position].endOffset
            if nodes[index].pending[position].flushStatus == nil && flushed >= endOffset {
                nodes[index].pending[position].flushStatus = .sendOK
            }
            if nodes[index].pending[position].replicaStatus == nil && slaveOffset >= endOffset {
                nodes[index].pending[position].replicaStatus = .sendOK
            }
            if nodes[index].pending[position].flushStatus != nil
                && nodes[index].pending[position].replicaStatus != nil
            {
                anyDone = true
            }
        }
        guard anyDone else { return }
        let done = nodes[index].pending.filter { $0.flushStatus != nil && $0.replicaStatus != nil }
        nodes[index].pending.removeAll { $0.flushStatus != nil && $0.replicaStatus != nil }
        for put in done { answer(index, put) }
    }

    private mutating func answer(_ index: Int, _ put: PendingPut) {
        // The replica status overwrites the flush status (CommitLog, RKT-02).
        var status = SendStatus.sendOK
        if let flush = put.flushStatus, flush != .sendOK { status = flush }
        if let replica = put.replicaStatus, replica != .sendOK { status = replica }
        if status != .sendOK {
            fact("\(nodes[index].id) answers \(status.rawValue)", at: .broker(nodes[index].id))
        }
        engine.transmit(
            .sendResult(request: put.request, status: status), from: .broker(nodes[index].id),
            to: .producer(put.producer))
    }

    private mutating func putDeadline(_ index: Int, request: Int, slave: Bool) {
        guard let position = nodes[index].pending.firstIndex(where: { $0.request == request }) else { return }
        if slave {
            if nodes[index].pending[position].replicaStatus == nil {
                nodes[index].pending[position].replicaStatus = .flushSlaveTimeout
            }
        } else if nodes[index].pending[position].flushStatus == nil {
            nodes[index].pending[position].flushStatus = .flushDiskTimeout
        }
        completePuts(index)
    }

    // MARK: - Broker: flushing

    /// SYNC_FLUSH: the group commit flushes everything appended so far, one flush at a time.
    private mutating func requestFlush(_ index: Int) {
        nodes[index].flushRequested = true
        startFlush(index)
    }

    private mutating func startFlush(_ index: Int) {
        guard !nodes[index].flushInFlight, nodes[index].flushed < nodes[index].log.count else { return }
        nodes[index].flushInFlight = true
        nodes[index].flushRequested = false
        fsyncs += 1
        setTimer(
            .flushDone(upTo: nodes[index].log.count), for: .broker(nodes[index].id), after: config.fsyncMs)
    }

    private mutating func flushDone(_ index: Int, upTo: Int) {
        nodes[index].flushInFlight = false
        let before = nodes[index].flushed
        nodes[index].flushed = max(before, min(upTo, nodes[index].log.count))
        if nodes[index].flushed > before {
            note(
                .queue(.fsynced(node: nodes[index].id, messages: nodes[index].flushed - before)),
                at: .broker(nodes[index].id))
        }
        completePuts(index)
        if config.flushDiskType == .syncFlush {
            startFlush(index)
        } else {
            scheduleFlushTick(index)
        }
    }

    /// ASYNC_FLUSH: FlushRealTimeService wakes every flushIntervalCommitLog from the node's start.
    private mutating func scheduleFlushTick(_ index: Int) {
        guard !nodes[index].flushTickScheduled, nodes[index].flushed < nodes[index].log.count else { return }
        nodes[index].flushTickScheduled = true
        let interval = config.flushIntervalCommitLog
        let elapsed = now - nodes[index].startedAt
        setTimer(.flushTick, for: .broker(nodes[index].id), after: interval - elapsed % interval)
    }

    private mutating func flushTick(_ index: Int) {
        nodes[index].flushTickScheduled = false
        let elapsed = now - nodes[index].startedAt
        let thorough = elapsed % config.flushCommitLogThoroughInterval < config.flushIntervalCommitLog
        let page = 4_096
        let dirtyPages =
            nodes[index].log.count * config.messageBytes / page - nodes[index].flushed * config.messageBytes
            / page
        if thorough || dirtyPages >= config.flushCommitLogLeastPages {
            startFlush(index)
        } else {
            scheduleFlushTick(index)
        }
    }

    // MARK: - Broker: master/slave replication

    private mutating func connectSlave(_ index: Int) {
        slaveReport(index, heartbeat: true)
    }

    private mutating func slaveReport(_ index: Int, heartbeat: Bool) {
        engine.transmit(
            .haReport(offset: nodes[index].log.count, resync: true), from: .broker(nodes[index].id),
            to: .broker(nodes[index - 1].id))
        setTimer(.haHeartbeat, for: .broker(nodes[index].id), after: config.haHeartbeatMs)
    }

    private mutating func pushToSlave(_ index: Int) {
        guard let slave = slave(of: index), slaveIsConnected(index),
            nodes[index].pushedUpTo < nodes[index].log.count
        else { return }
        let from = nodes[index].pushedUpTo
        let entries = Array(nodes[index].log[from...])
        nodes[index].pushedUpTo = nodes[index].log.count
        engine.transmit(
            .haTransfer(from: from, entries: entries), from: .broker(nodes[index].id),
            to: .broker(nodes[slave].id))
    }

    private mutating func slaveAppend(_ index: Int, from: Int, _ entries: [CommitLogEntry]) {
        // HAClient: a push must continue the slave's own log.
        if from <= nodes[index].log.count && from + entries.count > nodes[index].log.count {
            let fresh = entries[(nodes[index].log.count - from)...]
            for entry in fresh { append(index, entry) }
            for entry in fresh where entry.topic == .topic || entry.topic == .half {
                fact(
                    "\(nodes[index].id) (slave) gets \(name(of: entry.message)) from its master's HA push",
                    message: entry.message, at: .broker(nodes[index].id))
            }
        }
        engine.transmit(
            .haReport(offset: nodes[index].log.count, resync: false), from: .broker(nodes[index].id),
            to: .broker(nodes[index - 1].id))
    }

    // MARK: - Broker: transactions

    private func halfResolved(_ index: Int, copy: Int) -> Bool {
        nodes[index].log.contains { $0.topic == .op && $0.copy == copy }
    }

    private mutating func endTransaction(_ index: Int, copy: Int, commit: Bool?, fromCheck: Bool) {
        let id = nodes[index].id
        guard let commit, let half = nodes[index].log.last(where: { $0.topic == .half && $0.copy == copy }),
            !halfResolved(index, copy: copy)
        else { return }
        if commit {
            var visible = half
            visible.topic = .topic
            append(index, visible)
            fact(
                "\(id) commits half message \(name(of: half.message)): written to the real topic, now visible",
                message: half.message, at: .broker(id))
        } else {
            fact(
                "\(id) rolls back half message \(name(of: half.message))", message: half.message,
                at: .broker(id))
        }
        var op = half
        op.topic = .op
        append(index, op)
    }

    private mutating func transactionCheck(_ index: Int) {
        let id = nodes[index].id
        setTimer(.transactionCheck, for: .broker(id), after: config.transactionCheckInterval)
        var latest: [Int: CommitLogEntry] = [:]
        var order: [Int] = []
        for entry in nodes[index].log where entry.topic == .half {
            if latest[entry.copy] == nil { order.append(entry.copy) }
            latest[entry.copy] = entry
        }
        for copy in order {
            guard var half = latest[copy], !halfResolved(index, copy: copy),
                now - half.bornAt >= config.transactionTimeOut
            else { continue }
            if half.checkTimes >= config.transactionCheckMax {
                var discarded = half
                discarded.topic = .checkMax
                append(index, discarded)
                var op = half
                op.topic = .op
                append(index, op)
                fact(
                    "\(id) discards half message \(name(of: half.message)) to TRANS_CHECK_MAX_TIME_TOPIC after \(half.checkTimes) checks",
                    message: half.message, at: .broker(id))
                continue
            }
            // The half message is put back with its check count raised, then checked.
            half.checkTimes += 1
            append(index, half)
            guard let producer = producers.indices.first(where: { producers[$0].isUp }) else {
                fact(
                    "\(id): no live producer in the group to check \(name(of: half.message))",
                    message: half.message,
                    at: .broker(id))
                continue
            }
            fact(
                "\(id) checks back half message \(name(of: half.message)) with p\(producer + 1) (check \(half.checkTimes))",
                message: half.message, at: .broker(id))
            engine.transmit(
                .checkTransaction(copy: copy, message: half.message), from: .broker(id),
                to: .producer(producer + 1))
        }
    }

    // MARK: - Broker: consumption, retries and the DLQ

    private func queueEntries(_ index: Int, _ queue: RocketQueue) -> [Int] {
        queue.retry ? nodes[index].retryQueue : nodes[index].topicQueue
    }

    private mutating func answerPull(_ index: Int, consumer: Int, queue: RocketQueue, offset: Int) {
        let positions = queueEntries(index, queue)
        guard offset < positions.count else {
            // Long polling: the pull is held until a message arrives.
            nodes[index].parkedPulls.append((consumer, queue, offset))
            return
        }
        let entries = positions[offset..<min(positions.count, offset + 32)].map { nodes[index].log[$0] }
        engine.transmit(
            .pullResult(queue: queue, from: offset, entries: entries), from: .broker(nodes[index].id),
            to: .consumer(consumer))
    }

    private mutating func wakeParkedPulls(_ index: Int) {
        let parked = nodes[index].parkedPulls
        nodes[index].parkedPulls = []
        for pull in parked {
            answerPull(index, consumer: pull.consumer, queue: pull.queue, offset: pull.offset)
        }
    }

    private mutating func sendBack(_ index: Int, _ entry: CommitLogEntry) {
        let id = nodes[index].id
        if entry.reconsumeTimes >= config.effectiveMaxReconsumeTimes {
            var dead = entry
            dead.topic = .dlq
            append(index, dead)
            fact(
                "\(id) moves \(name(of: entry.message)) to %DLQ% after \(entry.reconsumeTimes) retries",
                message: entry.message, at: .broker(id))
            return
        }
        let level = 3 + entry.reconsumeTimes
        let delay = RocketConfig.delayLevels[min(level, RocketConfig.delayLevels.count) - 1]
        var scheduled = entry
        scheduled.topic = .schedule
        scheduled.reconsumeTimes += 1
        scheduled.dueAt = now + delay
        append(index, scheduled)
        fact(
            "\(id) schedules retry \(scheduled.reconsumeTimes) of \(name(of: entry.message)) at delay level \(level) (\(describe(delay)))",
            message: entry.message, at: .broker(id))
        setTimer(
            .scheduleDue(copy: entry.copy, reconsumeTimes: scheduled.reconsumeTimes), for: .broker(id),
            after: delay)
    }

    private func describe(_ delay: Millis) -> String {
        delay >= 3_600_000
            ? "\(delay / 3_600_000)h" : delay >= 60_000 ? "\(delay / 60_000)m" : "\(delay / 1_000)s"
    }

    private mutating func scheduleDue(_ index: Int, _ copy: Int, _ reconsumeTimes: Int) {
        guard
            let scheduled = nodes[index].log.last(where: {
                $0.topic == .schedule && $0.copy == copy && $0.reconsumeTimes == reconsumeTimes
            }),
            !nodes[index].log.contains(where: {
                $0.topic == .retry && $0.copy == copy && $0.reconsumeTimes == reconsumeTimes
            })
        else { return }
        var retry = scheduled
        retry.topic = .retry
        append(index, retry)
    }

    // MARK: - Node faults

    private mutating func crashNode(_ index: Int, _ fault: Fault) {
        guard nodes[index].isUp else { return }
        let id = nodes[index].id
        note(.crashed(node: .broker(id), fault: fault), at: .broker(id))
        nodes[index].isUp = false
        nodes[index].incarnation += 1
        nodes[index].pausedUntil = nil
        nodes[index].pending = []
        nodes[index].parkedPulls = []
        nodes[index].flushInFlight = false
        nodes[index].flushTickScheduled = false
        nodes[index].slaveConnected = false
        engine.resetConnections(of: .broker(id))
        switch fault {
        case .crash, .applicationCrash:
            // The kernel closes the process's sockets: a slave's master sees it go at once.
            if !nodes[index].isMaster {
                engine.transmit(.haClosed, from: .broker(id), to: .broker(nodes[index - 1].id))
            }
        case .powerLoss:
            let removed = nodes[index].log[nodes[index].flushed...].filter { $0.topic == .topic }.map(
                \.message)
            nodes[index].log.removeSubrange(nodes[index].flushed...)
            if !removed.isEmpty {
                note(
                    .truncated(
                        broker: id, to: Offset(nodes[index].flushed), removed: removed, reason: .powerLoss),
                    at: .broker(id))
            }
        case .diskLoss:
            nodes[index].log = []
            nodes[index].persistedOffsets = [:]
        }
        // A crash keeps the page cache, still dirty: the restarted node flushes it.
        nodes[index].flushed = min(nodes[index].flushed, nodes[index].log.count)
    }

    private mutating func restartNode(_ index: Int) {
        guard !nodes[index].isUp else { return }
        let id = nodes[index].id
        nodes[index].isUp = true
        nodes[index].startedAt = now
        note(.restarted(node: .broker(id)), at: .broker(id))
        // The consume queues are rebuilt from the commit log; offsets come back as last persisted.
        nodes[index].topicQueue = nodes[index].log.indices.filter { nodes[index].log[$0].topic == .topic }
        nodes[index].retryQueue = nodes[index].log.indices.filter { nodes[index].log[$0].topic == .retry }
        nodes[index].offsets = nodes[index].persistedOffsets
        nodes[index].pushedUpTo = 0
        nodes[index].slaveOffset = 0
        if config.flushDiskType == .syncFlush { requestFlush(index) } else { scheduleFlushTick(index) }
        if nodes[index].isMaster {
            setTimer(.transactionCheck, for: .broker(id), after: config.transactionCheckInterval)
            setTimer(.persistOffsets, for: .broker(id), after: config.persistOffsetMs)
            for entry in nodes[index].log where entry.topic == .schedule {
                setTimer(
                    .scheduleDue(copy: entry.copy, reconsumeTimes: entry.reconsumeTimes), for: .broker(id),
                    after: max(0, entry.dueAt - now))
            }
        } else {
            connectSlave(index)
        }
        // Consumers reconnect and pull from the restored offsets.
        for consumer in consumers.indices where consumers[consumer].active && consumers[consumer].isUp {
            for queue in assignedQueues(consumer) where queue.master == index {
                if config.messageModel == .clustering {
                    consumers[consumer].pullOffsets[queue] = nodes[index].offsets[queue] ?? 0
                }
                pull(consumer, queue)
            }
        }
    }

    // MARK: - Consumers

    /// AllocateMessageQueueAveragely, one queue per master and topic: in CLUSTERING each queue
    /// has one consumer; in BROADCASTING every consumer reads every queue.
    private func assignedQueues(_ consumer: Int) -> [RocketQueue] {
        let all = masters.flatMap {
            [RocketQueue(master: $0, retry: false), RocketQueue(master: $0, retry: true)]
        }
        if config.messageModel == .broadcasting { return all.filter { !$0.retry } }
        let active = consumers.indices.filter { consumers[$0].active && consumers[$0].isUp }
        guard let rank = active.firstIndex(of: consumer) else { return [] }
        return all.enumerated().filter { $0.offset % active.count == rank }.map(\.element)
    }

    private mutating func startPulling(_ index: Int) {
        for queue in assignedQueues(index) {
            if config.messageModel == .clustering {
                consumers[index].pullOffsets[queue] = nodes[queue.master].offsets[queue] ?? 0
            } else if consumers[index].pullOffsets[queue] == nil {
                // BROADCASTING keeps offsets in the client; scenarios start consumers first.
                consumers[index].pullOffsets[queue] = 0
            }
            pull(index, queue)
        }
        setTimer(.persistOffsets, for: .consumer(index + 1), after: config.persistOffsetMs)
    }

    /// How long a pull may go unanswered: brokerSuspendMaxTimeMillis (15 s) plus
    /// consumerTimeoutMillisWhenSuspend (30 s).
    static let pullTimeoutMs: Millis = 45_000

    private mutating func pull(_ index: Int, _ queue: RocketQueue) {
        guard consumers[index].active, consumers[index].isUp else { return }
        let offset = consumers[index].pullOffsets[queue] ?? 0
        consumers[index].pullSentAt[queue] = now
        engine.transmit(
            .pull(queue: queue, offset: offset), from: .consumer(index + 1),
            to: .broker(nodes[queue.master].id))
        setTimer(.repull(queue), for: .consumer(index + 1), after: Self.pullTimeoutMs)
    }

    /// persistConsumerOffsetInterval: the client commits what it has processed to each broker.
    private mutating func commitOffsets(_ index: Int) {
        guard consumers[index].active, consumers[index].isUp else { return }
        if config.messageModel == .clustering {
            for (queue, offset) in consumers[index].committed.sorted(by: { $0.key.master < $1.key.master })
            where nodes[queue.master].isUp {
                engine.transmit(
                    .commitOffset(queue: queue, offset: offset), from: .consumer(index + 1),
                    to: .broker(nodes[queue.master].id))
            }
        }
        setTimer(.persistOffsets, for: .consumer(index + 1), after: config.persistOffsetMs)
    }

    private mutating func consumerReceive(_ index: Int, _ payload: RocketPayload, from: NodeID) {
        guard case .pullResult(let queue, let start, let entries) = payload else {
            preconditionFailure("a consumer got \(payload.kind)")
        }
        guard consumers[index].active, consumers[index].pullOffsets[queue] == start else { return }
        for (offset, entry) in entries.enumerated() {
            consumers[index].inbox.append((queue, start + offset, entry))
            consumers[index].deliveredCount += 1
            engine.recorder.history.polls.append(
                History.Delivery(
                    consumer: index + 1, message: entry.message, offset: Offset(entry.copy), time: now))
        }
        consumers[index].pullOffsets[queue] = start + entries.count
        pull(index, queue)
        startProcessing(index)
    }

    private mutating func startProcessing(_ index: Int) {
        guard !consumers[index].busy, !consumers[index].inbox.isEmpty else { return }
        consumers[index].busy = true
        setTimer(.processed, for: .consumer(index + 1), after: config.processingMs)
    }

    private mutating func finishProcessing(_ index: Int) {
        consumers[index].busy = false
        guard !consumers[index].inbox.isEmpty else { return }
        let (queue, position, entry) = consumers[index].inbox[0]
        let node = NodeID.consumer(index + 1)
        switch consumers[index].status {
        case .success:
            consumers[index].processedCount += 1
            engine.recorder.history.processed.append(
                History.Delivery(
                    consumer: index + 1, message: entry.message, offset: Offset(entry.copy), time: now))
            note(
                .processed(consumer: index + 1, message: entry.message, offset: Offset(entry.copy)), at: node)
        case .reconsumeLater:
            if config.messageModel == .broadcasting {
                fact(
                    "c\(index + 1): RECONSUME_LATER in BROADCASTING: \"the message consume failed, drop it\" (\(name(of: entry.message)))",
                    message: entry.message, at: node)
            } else if nodes[queue.master].isUp {
                fact(
                    "c\(index + 1): RECONSUME_LATER for \(name(of: entry.message)) (reconsumeTimes \(entry.reconsumeTimes)): sent back",
                    message: entry.message, at: node)
                engine.transmit(.sendBack(entry: entry), from: node, to: .broker(nodes[queue.master].id))
            } else {
                // sendMessageBack failed: consumed again locally a little later (RKT-09).
                setTimer(.consumeLater, for: node, after: 5_000)
                return
            }
        }
        consumers[index].inbox.removeFirst()
        consumers[index].committed[queue] = position + 1
        startProcessing(index)
    }

    // MARK: - Conditions, checks and final state

    public func holds(_ condition: Condition) -> Bool {
        switch condition {
        case .acknowledged(let names): return engine.recorder.acknowledged(names)
        case .allCompleted: return history.pendingSends == 0
        case .processed(let consumer, let count):
            return consumer <= consumers.count && consumers[consumer - 1].processedCount >= count
        case .polled(let consumer, let count):
            return consumer <= consumers.count && consumers[consumer - 1].deliveredCount >= count
        case .replicated(let name, let broker):
            guard let id = engine.recorder.existingMessage(named: name) else { return false }
            return nodes[broker.value - 1].log.contains { $0.message == id }
        case .leaderIs, .offline, .isr, .committed:
            return false
        }
    }

    public func resolve(_ reference: NodeReference) -> NodeID? {
        switch reference {
        case .broker(let id): return id.value <= nodes.count ? .broker(id) : nil
        case .leader: return .broker(BrokerID(1))
        case .follower: return nodes.count > 1 ? .broker(BrokerID(2)) : nil
        case .controller: return nil
        case .producer(let index): return .producer(index)
        case .consumer(let index): return .consumer(index)
        }
    }

    /// What each broker group holds at the end, master and slave together (a slave's copy
    /// survives its master's disk), as on disk for a node that is down.
    private func stored(where keep: (RocketTopic) -> Bool) -> [(message: MessageID, copy: Int)] {
        var seen = Set<Int>()
        var result: [(message: MessageID, copy: Int)] = []
        for node in nodes {
            for entry in node.log where keep(entry.topic) && seen.insert(entry.copy).inserted {
                result.append((entry.message, entry.copy))
            }
        }
        return result
    }

    public func finalContents(ofQueue name: String) -> [MessageID]? {
        switch name {
        case "q": stored { $0 == .topic }.map(\.message)
        case "dlq": stored { $0 == .dlq }.map(\.message)
        default: nil
        }
    }

    public func check() -> CheckerReport {
        QueueChecker.checkStore(
            history: history, messageCount: messageCount,
            stored: stored { [.topic, .retry, .schedule, .dlq].contains($0) },
            order: stored { $0 == .topic }.map(\.message),
            retrying: Set(stored { [.retry, .schedule, .dlq].contains($0) }.map(\.message)),
            witness: { Checker.witness(for: $0, trace: trace, recordsTrace: recordsTrace) })
    }

    func checkInvariants() {
        for node in nodes {
            precondition(
                node.flushed <= node.log.count, "invariant broken (seed \(seed)): flushed beyond the log")
        }
    }
}
