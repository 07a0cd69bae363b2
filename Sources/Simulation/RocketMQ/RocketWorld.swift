// Theory of operation
//
// A RocketMQ 4.x world: broker group a (B1 master, B2 slave) and optionally group b (B3 master,
// B4 slave), producers p1.. and push consumers c1.. of one consumer group. Each is a state
// machine (RocketBroker, RocketProducer, RocketConsumer) that reads its step and writes effects;
// this file hands each delivery, timer and action to its node and the node's effects to the
// engine, and plays the name server and the rebalance: which masters there are and which
// consumer pulls which queue.
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
    /// The client-generated UNIQ_KEY: one per application send(), kept by its retries (RKT-11).
    var uniqueKey = 0
    /// The producer's delayTimeLevel; 0 for none (RKT-14).
    var delayLevel = 0
}

public enum SendStatus: String, Sendable {
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
    typealias Step = NodeStep<RocketPayload, RocketTimer>

    let config: RocketConfig
    let seed: UInt64
    var engine: WorldEngine<RocketPayload, RocketTimer>
    var nodes: [RocketBroker]
    var producers: [RocketProducer] = []
    var consumers: [RocketConsumer] = []
    var shared = RocketShared()
    /// The masters' indices, one per broker group.
    let masters: [Int]

    init(config: RocketConfig, seed: UInt64, recordsTrace: Bool = true) {
        self.config = config
        self.seed = seed
        engine = WorldEngine(seed: seed, networkDelay: config.networkDelayMs, recordsTrace: recordsTrace)
        let brokers = (0..<config.nodes).map { RocketBroker(index: $0, nodes: config.nodes, config: config) }
        nodes = brokers
        masters = brokers.indices.filter { brokers[$0].isMaster }
        for index in nodes.indices {
            atBroker(index) { broker, step, _ in broker.start(&step) }
        }
    }

    mutating func addProducer() -> Int {
        producers.append(RocketProducer(number: producers.count + 1, config: config, masters: masters))
        return producers.count
    }

    mutating func addConsumer(_ spec: RocketConsumerSpec) -> Int {
        consumers.append(RocketConsumer(number: consumers.count + 1, config: config, spec: spec))
        return consumers.count
    }

    var fsyncs: Int { nodes.reduce(0) { $0 + $1.fsyncs } }

    var allNodes: [NodeID] {
        nodes.map { .broker($0.id) } + producers.indices.map { .producer($0 + 1) }
            + consumers.indices.map { .consumer($0 + 1) }
    }

    // MARK: - Steps: a node acts, the engine applies its effects

    @inline(__always)
    mutating func atBroker(_ index: Int, _ act: (inout RocketBroker, inout Step, Int) -> Void) {
        let producers = producers.count
        var none: Void = ()
        _ = Self.step(.broker(nodes[index].id), engine: &engine, state: &nodes[index], shared: &none) {
            broker, step, _ in
            act(&broker, &step, producers)
        }
    }

    @inline(__always)
    mutating func atConsumer(
        _ consumer: Int, _ act: (inout RocketConsumer, inout Step) -> Void
    ) {
        Self.step(.consumer(consumer), engine: &engine, state: &consumers[consumer - 1], act)
    }

    @inline(__always)
    mutating func atProducer(
        _ producer: Int,
        _ act: (inout RocketProducer, inout Step, inout RocketShared) -> Void
    ) {
        _ = Self.step(
            .producer(producer), engine: &engine, state: &producers[producer - 1], shared: &shared, act)
    }

    // MARK: - The event loop

    mutating func brokerReceive(_ index: Int, _ payload: RocketPayload, from: NodeID) {
        atBroker(index) { broker, step, _ in broker.receive(payload, from: from, &step) }
    }

    mutating func producerReceive(_ index: Int, _ payload: RocketPayload, from: NodeID) {
        atProducer(index + 1) { producer, step, shared in
            producer.receive(payload, from: from, &step, &shared)
        }
    }

    mutating func consumerReceive(_ index: Int, _ payload: RocketPayload, from _: NodeID) {
        atConsumer(index + 1) { consumer, step in consumer.receive(payload, &step) }
    }

    mutating func fire(_ timer: RocketTimer, at node: NodeID) {
        switch node {
        case .broker(let id):
            atBroker(id.value - 1) { broker, step, producers in
                broker.fire(timer, producers: producers, &step)
            }
        case .producer(let producer):
            atProducer(producer) { producer, step, shared in
                producer.fire(timer, &step, &shared)
            }
        case .consumer(let consumer):
            atConsumer(consumer) { consumer, step in consumer.fire(timer, &step) }
        case .controller: preconditionFailure("timer \(timer) fired at the controller")
        }
    }

    // MARK: - The rebalance

    /// AllocateMessageQueueAveragely, one queue per master and topic: in CLUSTERING each queue
    /// has one consumer; in BROADCASTING every consumer reads every queue.
    func assignedQueues(_ consumer: Int) -> [RocketQueue] {
        let all = masters.flatMap {
            [RocketQueue(master: $0, retry: false), RocketQueue(master: $0, retry: true)]
        }
        if config.consumer.messageModel == .broadcasting { return all.filter { !$0.retry } }
        let active = consumers.indices.filter { consumers[$0].active && engine.isUp(.consumer($0 + 1)) }
        guard let rank = active.firstIndex(of: consumer) else { return [] }
        return all.enumerated().filter { $0.offset % active.count == rank }.map(\.element)
    }

    /// The consume offsets each queue's master holds now (what a consumer asks for on start).
    func brokerOffsets(_ queues: [RocketQueue]) -> [RocketQueue: Int] {
        var offsets: [RocketQueue: Int] = [:]
        for queue in queues { offsets[queue] = nodes[queue.master].memory.offsets[queue] }
        return offsets
    }

    // MARK: - Actions

    mutating func crashBroker(_ broker: BrokerID, _ fault: Fault) {
        guard engine.crash(.broker(broker), fault) else { return }
        engine.resetConnections(of: .broker(broker))
        atBroker(broker.value - 1) { broker, step, _ in broker.crash(fault, &step) }
    }

    mutating func restartBroker(_ broker: BrokerID) {
        let index = broker.value - 1
        guard engine.restart(.broker(broker)) else { return }
        atBroker(index) { broker, step, _ in broker.restart(&step) }
        // Consumers reconnect and pull from the restored offsets.
        for consumer in consumers.indices
        where consumers[consumer].active && engine.isUp(.consumer(consumer + 1)) {
            let queues = assignedQueues(consumer).filter { $0.master == index }
            let offsets = brokerOffsets(queues)
            atConsumer(consumer + 1) { consumer, step in
                consumer.pullAgain(queues, brokerOffsets: offsets, &step)
            }
        }
    }

    mutating func setProperties(_ properties: MessageProperties, for messages: [MessageID]) {
        for message in messages { shared.delayLevels[message.value] = properties.delayLevel }
    }

    mutating func produce(_ messages: [MessageID], producer: Int) {
        atProducer(producer) { producer, step, shared in
            producer.produce(messages, &step, &shared)
        }
    }

    mutating func crashProducer(_ producer: Int) {
        guard engine.crash(.producer(producer), .applicationCrash) else { return }
        atProducer(producer) { producer, step, _ in producer.crash(&step) }
    }

    mutating func takeUnacknowledged(_ producer: Int) -> [MessageID] {
        defer { producers[producer - 1].unacknowledged = [] }
        return producers[producer - 1].unacknowledged
    }

    mutating func beginConsuming(_ consumer: Int) {
        consumers[consumer - 1].active = true
        let queues = assignedQueues(consumer - 1)
        let offsets = brokerOffsets(queues)
        atConsumer(consumer) { consumer, step in
            consumer.startPulling(queues, brokerOffsets: offsets, &step)
        }
    }

    mutating func crashConsumer(_ consumer: Int) {
        guard engine.crash(.consumer(consumer), .applicationCrash) else { return }
        consumers[consumer - 1].busy = false
        consumers[consumer - 1].inbox = []
    }

    mutating func stopConsumer(_ consumer: Int) {
        atConsumer(consumer) { consumer, step in
            consumer.active = false
            step.cancelTimers()
            consumer.busy = false
            consumer.inbox = []
        }
    }
}
