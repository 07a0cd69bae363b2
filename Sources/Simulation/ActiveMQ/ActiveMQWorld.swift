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

public struct ActiveMQWorld: ScenarioWorld, EngineHosted {
    public let config: ActiveMQConfig
    public let seed: UInt64
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

    struct JournalRecord: Sendable {
        enum Kind: Sendable {
            case add(AMQMessage, queue: String)
            case remove(copy: Int)
        }
        var kind: Kind
        var synced = false
    }

    struct Broker: Sendable {
        var isUp = true
        var incarnation = 0
        var pausedUntil: Millis?
        var queues: [String: [AMQMessage]] = ["q": [], "dlq": [], "out": []]
        /// Dispatched and not yet acked, per consumer.
        var inFlight: [Int: [AMQMessage]] = [:]
        var consumers: [Int] = []
        var journal: [JournalRecord] = []
        var fsyncInFlight = false
        var syncScheduled = false
        /// Sync sends waiting for their journal write to be synced: (journal index, producer, receipt).
        var awaitingSync: [(record: Int, producer: Int, receipt: Int)] = []
        /// Store tasks not yet run, by copy, with the receipt to send once stored.
        var pendingStores: [Int: (queue: String, producer: Int?, receipt: Int?)] = [:]
    }

    struct Producer: Sendable {
        var isUp = true
        var incarnation = 0
        var nextReceipt = 1
        var awaiting: [Int: (send: Int, message: MessageID)] = [:]
        var unacknowledged: [MessageID] = []
    }

    struct Consumer: Sendable {
        var listener: ListenerOutcome
        var isUp = true
        var incarnation = 0
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

    private(set) var broker = Broker()
    private var producers: [Producer] = []
    private var consumers: [Consumer] = []
    private var nextCopy = 0
    private var nextPosition = 0
    public private(set) var fsyncs = 0

    private static let brokerID = BrokerID(1)
    private static let brokerNode = NodeID.broker(BrokerID(1))

    public init(config: ActiveMQConfig, seed: UInt64, recordsTrace: Bool = true) {
        self.config = config
        self.seed = seed
        engine = WorldEngine(seed: seed, networkDelay: config.networkDelayMs, recordsTrace: recordsTrace)
        if config.journalDiskSyncStrategy == .periodic {
            setTimer(.periodicSync, for: Self.brokerNode, after: config.journalDiskSyncInterval)
        }
    }

    public mutating func addProducer() -> Int {
        producers.append(Producer())
        return producers.count
    }

    public mutating func addConsumer(listener: ListenerOutcome) -> Int {
        consumers.append(Consumer(listener: listener))
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
        [Self.brokerNode] + producers.indices.map { .producer($0 + 1) }
            + consumers.indices.map { .consumer($0 + 1) }
    }

    private mutating func fact(_ text: String, message: MessageID? = nil, at node: NodeID) {
        note(.queue(.fact(message: message, text: text)), at: node)
    }

    // MARK: - The event loop

    public mutating func step(until limit: Millis) -> Bool { stepEngine(until: limit) }

    public mutating func run(until time: Millis) { runEngine(until: time) }

    mutating func sendPaced(_ message: MessageID, producer: Int) { send([message], producer: producer) }

    /// After every event. Cheap checks only: the loop runs them millions of times in a sweep.
    func checkInvariants() {
        precondition(
            broker.awaitingSync.allSatisfy { $0.record < broker.journal.count },
            "invariant broken (seed \(seed)): a sync send waits for a journal record that does not exist")
        precondition(
            !broker.isUp || broker.inFlight.keys.allSatisfy { $0 >= 1 && $0 <= consumers.count },
            "invariant broken (seed \(seed)): messages dispatched to a consumer that does not exist")
        precondition(
            broker.queues["q"] != nil, "invariant broken (seed \(seed)): the queue q disappeared")
    }

    public mutating func schedule(_ action: WorldAction, at time: Millis) {
        engine.schedule(action, at: time)
    }

    public mutating func producePaced(_ messages: [MessageID], producer: Int, every: Millis) {
        engine.producePaced(messages, producer: producer, every: every)
    }

    @inline(__always)
    func incarnation(of node: NodeID) -> Int {
        switch node {
        case .broker: broker.incarnation
        case .producer(let index): producers[index - 1].incarnation
        case .consumer(let index): consumers[index - 1].incarnation
        case .controller: 0
        }
    }

    @inline(__always)
    func pausedUntil(_ node: NodeID) -> Millis? {
        if case .broker = node { return broker.pausedUntil }
        return nil
    }

    @inline(__always)
    func isUp(_ node: NodeID) -> Bool {
        switch node {
        case .broker: broker.isUp
        case .producer(let index): producers[index - 1].isUp
        case .consumer(let index): consumers[index - 1].isUp
        case .controller: true
        }
    }

    mutating func receive(_ payload: AMQPayload, from: NodeID, at to: NodeID) {
        switch to {
        case .broker: brokerReceive(payload, from: from)
        case .producer(let index): producerReceive(index - 1, payload)
        case .consumer(let index): consumerReceive(index - 1, payload)
        case .controller: break
        }
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

    public mutating func perform(_ action: WorldAction) {
        if engine.applyNetworkFault(action, allNodes: allNodes) { return }
        switch action {
        case .crash(_, let fault): crashBroker(fault)
        case .restart: restartBroker()
        case .pause(let node, let milliseconds):
            note(.paused(node: node, milliseconds: milliseconds), at: node)
            if case .broker = node { broker.pausedUntil = now + milliseconds }
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
            connect(index - 1)
        case .crashConsumer(let index):
            guard consumers[index - 1].isUp else { return }
            note(.crashed(node: .consumer(index), fault: .applicationCrash), at: .consumer(index))
            consumers[index - 1].isUp = false
            closeConsumer(index - 1)
        case .stopConsumer(let index):
            consumers[index - 1].active = false
            closeConsumer(index - 1)
        }
    }

    // MARK: - Producers

    private mutating func send(_ messages: [MessageID], producer: Int) {
        let index = producer - 1
        let node = NodeID.producer(producer)
        guard producers[index].isUp else { return }
        for message in messages {
            let send = engine.recorder.history.invoke(
                History.Send(
                    message: message, producer: producer, session: 0, invoked: now, outcome: .pending))
            guard broker.isUp else {
                note(
                    .failed(
                        producer: producer, messages: [message], error: "JMSException: connection refused",
                        retrying: false),
                    at: node)
                producers[index].unacknowledged.append(message)
                engine.recorder.history.complete(send, .fail(error: "connection refused", time: now))
                continue
            }
            nextCopy += 1
            nextPosition += 1
            let copy = AMQMessage(
                copy: nextCopy, message: message, persistent: config.deliveryMode == .persistent,
                position: nextPosition)
            var receipt: Int?
            if config.sendsSynchronously {
                receipt = producers[index].nextReceipt
                producers[index].nextReceipt += 1
                producers[index].awaiting[receipt!] = (send, message)
            }
            note(
                .sent(
                    producer: producer, messages: [message], to: Self.brokerID, attempt: 1, sequence: receipt),
                at: node)
            engine.transmit(.send(copy, queue: "q", receipt: receipt), from: node, to: Self.brokerNode)
            if receipt == nil {
                // Fire and forget: send() returns once the message is written to the socket.
                engine.recorder.history.complete(send, .ok(offset: nil, broker: Self.brokerID, time: now))
            }
        }
    }

    private mutating func producerReceive(_ index: Int, _ payload: AMQPayload) {
        guard case .receipt(let receipt) = payload else {
            preconditionFailure("a producer got \(payload.kind)")
        }
        guard let waiting = producers[index].awaiting.removeValue(forKey: receipt) else { return }
        fact(
            "p\(index + 1): send(\(name(of: waiting.message))) returns: B1's receipt arrived",
            message: waiting.message,
            at: .producer(index + 1))
        engine.recorder.history.complete(waiting.send, .ok(offset: nil, broker: Self.brokerID, time: now))
    }

    private mutating func producerLostConnection(_ index: Int) {
        let waiting = producers[index].awaiting.sorted { $0.key < $1.key }.map(\.value)
        guard !waiting.isEmpty else { return }
        producers[index].awaiting = [:]
        let error = "JMSException: connection lost before the receipt"
        note(
            .failed(producer: index + 1, messages: waiting.map(\.message), error: error, retrying: false),
            at: .producer(index + 1))
        for item in waiting {
            producers[index].unacknowledged.append(item.message)
            engine.recorder.history.complete(item.send, .info(error: error, time: now))
        }
    }

    private mutating func crashProducer(_ index: Int) {
        note(.crashed(node: .producer(index + 1), fault: .applicationCrash), at: .producer(index + 1))
        producerLostConnection(index)
        producers[index].unacknowledged = []
        producers[index].incarnation += 1
    }

    // MARK: - Broker

    private mutating func brokerReceive(_ payload: AMQPayload, from: NodeID) {
        switch payload {
        case .send(let message, let queue, let receipt):
            guard case .producer(let producer) = from else { return }
            enqueue(message, queue: queue, producer: producer, receipt: receipt)
        case .commit(let sends, let acks):
            fact("B1 commits a transaction: \(sends.count) sent, \(acks.count) acked", at: Self.brokerNode)
            for message in sends { enqueue(message, queue: "out", producer: nil, receipt: nil) }
            if case .consumer(let consumer) = from { acknowledge(acks, consumer: consumer, poison: false) }
        case .subscribe(let consumer):
            if !broker.consumers.contains(consumer) { broker.consumers.append(consumer) }
            dispatch()
        case .ack(let copies, let poison):
            guard case .consumer(let consumer) = from else { return }
            acknowledge(copies, consumer: consumer, poison: poison)
        case .closed(let consumer):
            broker.consumers.removeAll { $0 == consumer }
            let returned = broker.inFlight.removeValue(forKey: consumer) ?? []
            for var message in returned {
                message.redeliveryCounter += 1
                requeue(message, queue: "q")
            }
            if !returned.isEmpty {
                note(
                    .queue(
                        .requeued(
                            node: Self.brokerID, messages: returned.map(\.message),
                            reason: "consumer connection closed")),
                    at: Self.brokerNode)
            }
            dispatch()
        case .receipt, .dispatch:
            preconditionFailure("the broker got \(payload.kind)")
        }
    }

    private mutating func enqueue(_ message: AMQMessage, queue: String, producer: Int?, receipt: Int?) {
        broker.queues[queue, default: []].append(message)
        note(
            .queue(
                .enqueued(
                    node: Self.brokerID, queue: queueName(queue), message: message.message,
                    persistent: message.persistent)),
            at: Self.brokerNode)
        if message.persistent {
            // The store task runs beside dispatch (KahaDB concurrentStoreAndDispatch for queues).
            broker.pendingStores[message.copy] = (queue, producer, receipt)
            setTimer(.storeTask(copy: message.copy), for: Self.brokerNode, after: 1)
        } else if let producer, let receipt {
            engine.transmit(.receipt(receipt), from: Self.brokerNode, to: .producer(producer))
        }
        if queue == "q" { dispatch() }
    }

    private func queueName(_ queue: String) -> String { queue == "dlq" ? "ActiveMQ.DLQ" : queue }

    private mutating func requeue(_ message: AMQMessage, queue: String) {
        var messages = broker.queues[queue, default: []]
        let index = messages.firstIndex { $0.position > message.position } ?? messages.count
        messages.insert(message, at: index)
        broker.queues[queue] = messages
    }

    private mutating func runStoreTask(_ copy: Int) {
        guard let pending = broker.pendingStores.removeValue(forKey: copy) else { return }
        let stillQueued =
            broker.queues[pending.queue, default: []].first { $0.copy == copy }
            ?? broker.inFlight.values.joined().first { $0.copy == copy }
        guard let message = stillQueued else {
            // Acked before the store ran: the task is cancelled and the message never touches disk.
            fact("B1 cancels the store of an already acknowledged message", at: Self.brokerNode)
            if let producer = pending.producer, let receipt = pending.receipt {
                engine.transmit(.receipt(receipt), from: Self.brokerNode, to: .producer(producer))
            }
            return
        }
        broker.journal.append(JournalRecord(kind: .add(message, queue: pending.queue)))
        if let producer = pending.producer, let receipt = pending.receipt {
            if config.journalDiskSyncStrategy == .always {
                broker.awaitingSync.append((broker.journal.count - 1, producer, receipt))
            } else {
                engine.transmit(.receipt(receipt), from: Self.brokerNode, to: .producer(producer))
            }
        }
        journalWritten()
    }

    private mutating func journalWritten() {
        switch config.journalDiskSyncStrategy {
        case .always: startFsync()
        case .periodic: break
        case .never:
            setTimer(
                .writeback(upTo: broker.journal.count), for: Self.brokerNode, after: config.osWritebackMs)
        }
    }

    private mutating func startFsync() {
        guard !broker.fsyncInFlight, broker.journal.contains(where: { !$0.synced }) else { return }
        broker.fsyncInFlight = true
        fsyncs += 1
        setTimer(.fsyncDone(upTo: broker.journal.count), for: Self.brokerNode, after: config.fsyncMs)
    }

    private mutating func fsyncDone(upTo: Int) {
        broker.fsyncInFlight = false
        markSynced(upTo: upTo)
        let ready = broker.awaitingSync.filter { $0.record < upTo }
        broker.awaitingSync.removeAll { $0.record < upTo }
        for waiting in ready {
            engine.transmit(.receipt(waiting.receipt), from: Self.brokerNode, to: .producer(waiting.producer))
        }
        if config.journalDiskSyncStrategy == .always { startFsync() }
    }

    private mutating func markSynced(upTo: Int) {
        var count = 0
        for index in 0..<min(upTo, broker.journal.count) where !broker.journal[index].synced {
            broker.journal[index].synced = true
            count += 1
        }
        if count > 0 { note(.queue(.fsynced(node: Self.brokerID, messages: count)), at: Self.brokerNode) }
    }

    private mutating func dispatch() {
        for consumer in broker.consumers {
            while broker.inFlight[consumer, default: []].count < max(1, config.prefetch),
                let message = broker.queues["q"]?.first
            {
                broker.queues["q"]?.removeFirst()
                broker.inFlight[consumer, default: []].append(message)
                note(
                    .queue(
                        .delivered(
                            node: Self.brokerID, consumer: consumer, message: message.message,
                            tag: message.copy,
                            redelivered: message.redeliveryCounter > 0,
                            deliveryCount: message.redeliveryCounter + 1)),
                    at: Self.brokerNode)
                engine.transmit(.dispatch(message), from: Self.brokerNode, to: .consumer(consumer))
            }
        }
    }

    private mutating func acknowledge(_ copies: [Int], consumer: Int, poison: Bool) {
        for copy in copies {
            guard let position = broker.inFlight[consumer, default: []].firstIndex(where: { $0.copy == copy })
            else {
                continue
            }
            let message = broker.inFlight[consumer, default: []].remove(at: position)
            if broker.pendingStores[copy] == nil && message.persistent {
                broker.journal.append(JournalRecord(kind: .remove(copy: copy)))
                journalWritten()
            }
            guard poison else { continue }
            if message.persistent || config.processNonPersistent {
                note(
                    .queue(
                        .deadLettered(
                            node: Self.brokerID, message: message.message, exchange: "ActiveMQ.DLQ",
                            reason: "poison ack after \(message.redeliveryCounter) redeliveries")),
                    at: Self.brokerNode)
                nextPosition += 1
                var dead = message
                dead.position = nextPosition
                enqueue(dead, queue: "dlq", producer: nil, receipt: nil)
            } else {
                note(
                    .queue(
                        .discarded(
                            node: Self.brokerID, message: message.message,
                            reason: "poison ack for a non-persistent message (processNonPersistent=false)")),
                    at: Self.brokerNode)
            }
        }
        dispatch()
    }

    // MARK: - Broker faults

    private mutating func crashBroker(_ fault: Fault) {
        guard broker.isUp else { return }
        note(.crashed(node: Self.brokerNode, fault: fault), at: Self.brokerNode)
        broker.isUp = false
        broker.incarnation += 1
        broker.pausedUntil = nil
        broker.fsyncInFlight = false
        broker.awaitingSync = []
        broker.pendingStores = [:]
        engine.resetConnections(of: Self.brokerNode)
        switch fault {
        case .crash, .applicationCrash: break
        case .powerLoss: broker.journal.removeAll { !$0.synced }
        case .diskLoss: broker.journal = []
        }
        for producer in producers.indices { producerLostConnection(producer) }
        for consumer in consumers.indices where consumers[consumer].connected {
            consumers[consumer].connected = false
            consumers[consumer].inbox = []
            consumers[consumer].consumed = []
            if consumers[consumer].active && consumers[consumer].isUp {
                setTimer(.reconnect, for: .consumer(consumer + 1), after: config.reconnectMs)
            }
        }
    }

    private mutating func restartBroker() {
        guard !broker.isUp else { return }
        broker.isUp = true
        note(.restarted(node: Self.brokerNode), at: Self.brokerNode)
        var before = broker.queues
        before["q", default: []] += broker.inFlight.keys.sorted().flatMap { broker.inFlight[$0] ?? [] }
        var removed = Set<Int>()
        var recovered: [String: [AMQMessage]] = ["q": [], "dlq": [], "out": []]
        for record in broker.journal.reversed() {
            switch record.kind {
            case .remove(let copy): removed.insert(copy)
            case .add(let message, let queue) where !removed.contains(message.copy):
                recovered[queue, default: []].insert(message, at: 0)
            case .add: break
            }
        }
        broker.queues = recovered
        broker.inFlight = [:]
        broker.consumers = []
        for queue in ["q", "dlq", "out"] {
            let kept = Set(recovered[queue, default: []].map(\.copy))
            let lost = (before[queue] ?? []).filter { !kept.contains($0.copy) }.map(\.message)
            guard !kept.isEmpty || !lost.isEmpty else { continue }
            note(
                .queue(
                    .recovered(
                        node: Self.brokerID, queue: queueName(queue),
                        kept: recovered[queue, default: []].map(\.message),
                        lost: lost, durable: true)), at: Self.brokerNode)
        }
        if config.journalDiskSyncStrategy == .periodic {
            setTimer(.periodicSync, for: Self.brokerNode, after: config.journalDiskSyncInterval)
        }
    }

    // MARK: - Consumers

    private mutating func connect(_ index: Int) {
        guard consumers[index].active, consumers[index].isUp, !consumers[index].connected else { return }
        guard broker.isUp else {
            setTimer(.reconnect, for: .consumer(index + 1), after: config.reconnectMs)
            return
        }
        consumers[index].connected = true
        engine.transmit(.subscribe(consumer: index + 1), from: .consumer(index + 1), to: Self.brokerNode)
    }

    private mutating func closeConsumer(_ index: Int) {
        consumers[index].incarnation += 1
        consumers[index].busy = false
        consumers[index].waitingForRedelivery = false
        consumers[index].inbox = []
        consumers[index].consumed = []
        guard consumers[index].connected else { return }
        consumers[index].connected = false
        engine.transmit(.closed(consumer: index + 1), from: .consumer(index + 1), to: Self.brokerNode)
    }

    private mutating func consumerReceive(_ index: Int, _ payload: AMQPayload) {
        guard case .dispatch(let message) = payload else {
            preconditionFailure("a consumer got \(payload.kind)")
        }
        guard consumers[index].connected else { return }
        consumers[index].inbox.append(message)
        startProcessing(index)
    }

    private mutating func startProcessing(_ index: Int) {
        guard !consumers[index].busy, !consumers[index].waitingForRedelivery,
            let message = consumers[index].inbox.first
        else { return }
        consumers[index].busy = true
        consumers[index].deliveredCount += 1
        engine.recorder.history.polls.append(
            History.Delivery(
                consumer: index + 1, message: message.message, offset: Offset(message.copy), time: now))
        if message.redeliveryCounter > 0 {
            fact(
                "c\(index + 1): onMessage(\(name(of: message.message))) with JMSRedelivered=true, JMSXDeliveryCount=\(message.redeliveryCounter + 1)",
                message: message.message, at: .consumer(index + 1))
        }
        setTimer(.processed, for: .consumer(index + 1), after: config.processingMs)
    }

    private mutating func finishProcessing(_ index: Int) {
        consumers[index].busy = false
        guard !consumers[index].inbox.isEmpty else { return }
        let message = consumers[index].inbox.removeFirst()
        let node = NodeID.consumer(index + 1)
        let mode = config.acknowledgeMode
        var outcome = consumers[index].listener
        if outcome == .rollbackFirst { outcome = message.redeliveryCounter == 0 ? .rollback : .returns }
        switch (outcome, mode) {
        case (.returns, _):
            consumers[index].processedCount += 1
            engine.recorder.history.processed.append(
                History.Delivery(
                    consumer: index + 1, message: message.message, offset: Offset(message.copy), time: now))
            note(
                .processed(consumer: index + 1, message: message.message, offset: Offset(message.copy)),
                at: node)
            switch mode {
            case .auto, .dupsOK, .individual:
                engine.transmit(.ack(copies: [message.copy], poison: false), from: node, to: Self.brokerNode)
            case .client:
                // message.acknowledge() acks everything the session has consumed (AMQ-04).
                let all = consumers[index].consumed.map(\.copy) + [message.copy]
                consumers[index].consumed = []
                engine.transmit(.ack(copies: all, poison: false), from: node, to: Self.brokerNode)
            case .transacted:
                let sends = forwarded(message)
                consumers[index].consumed = []
                engine.transmit(.commit(sends: sends, acks: [message.copy]), from: node, to: Self.brokerNode)
            }
        case (.throws, .client), (.throws, .transacted):
            // The exception does not roll back: the next message is delivered (AMQ-04).
            fact(
                "c\(index + 1): onMessage(\(name(of: message.message))) threw; in \(mode.rawValue) the next message is delivered",
                message: message.message, at: node)
            consumers[index].consumed.append(message)
        case (.throws, _), (.rollback, _), (.rollbackFirst, _):
            if mode == .transacted {
                let discarded = forwarded(message)
                fact(
                    "c\(index + 1): session.rollback(): \(discarded.isEmpty ? "" : "\(discarded.map { name(of: $0.message) }.joined(separator: " ")) discarded, ")\(name(of: message.message)) to be redelivered",
                    message: message.message, at: node)
            } else {
                fact(
                    "c\(index + 1): onMessage(\(name(of: message.message))) threw a RuntimeException: redelivery",
                    message: message.message, at: node)
            }
            redeliver(index, message)
            return
        }
        startProcessing(index)
    }

    /// What a transacted consumer sends for `message` when `sim.forward` is on.
    private mutating func forwarded(_ message: AMQMessage) -> [AMQMessage] {
        guard config.forward else { return [] }
        let out = engine.recorder.message(named: name(of: message.message) + "-out")
        nextCopy += 1
        nextPosition += 1
        return [AMQMessage(copy: nextCopy, message: out, persistent: true, position: nextPosition)]
    }

    /// The client redelivers after the policy's delay, or gives up with a poison ack (AMQ-06).
    private mutating func redeliver(_ index: Int, _ message: AMQMessage) {
        var again = message
        again.redeliveryCounter += 1
        let node = NodeID.consumer(index + 1)
        let limit = config.maximumRedeliveries
        if limit != -1 && again.redeliveryCounter > limit {
            fact(
                "c\(index + 1): redeliveryCounter \(again.redeliveryCounter) > maximumRedeliveries \(limit): poison ack for \(name(of: message.message))",
                message: message.message, at: node)
            engine.transmit(.ack(copies: [message.copy], poison: true), from: node, to: Self.brokerNode)
            startProcessing(index)
            return
        }
        consumers[index].inbox.insert(again, at: 0)
        consumers[index].waitingForRedelivery = true
        setTimer(.redeliver, for: node, after: config.redeliveryDelay(before: again.redeliveryCounter))
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
        case .replicated, .leaderIs, .offline, .isr, .committed:
            return false
        }
    }

    public func resolve(_ reference: NodeReference) -> NodeID? {
        switch reference {
        case .broker(let id): return id.value == 1 ? Self.brokerNode : nil
        case .leader: return Self.brokerNode
        case .follower, .controller: return nil
        case .producer(let index): return .producer(index)
        case .consumer(let index): return .consumer(index)
        }
    }

    /// A queue's messages at the end: the broker's memory, or what a restart would recover.
    private func finalMessages(_ queue: String) -> [AMQMessage] {
        guard broker.isUp else {
            var removed = Set<Int>()
            var kept: [AMQMessage] = []
            for record in broker.journal.reversed() {
                switch record.kind {
                case .remove(let copy): removed.insert(copy)
                case .add(let message, let name) where name == queue && !removed.contains(message.copy):
                    kept.insert(message, at: 0)
                case .add: break
                }
            }
            return kept
        }
        let inFlight = queue == "q" ? broker.inFlight.keys.sorted().flatMap { broker.inFlight[$0] ?? [] } : []
        return (broker.queues[queue, default: []] + inFlight).sorted { $0.position < $1.position }
    }

    public func finalContents(ofQueue name: String) -> [MessageID]? {
        guard ["q", "dlq", "out"].contains(name) else { return nil }
        return finalMessages(name).map(\.message)
    }

    public func check() -> CheckerReport {
        let held = (finalMessages("q") + finalMessages("dlq")).map { message in
            QueuedMessage(
                copy: MessageCopy(
                    id: message.copy, message: message.message, persistent: message.persistent, publisher: 0),
                position: message.position)
        }
        return QueueChecker.check(
            history: history, messageCount: messageCount, held: held,
            queueOrder: finalMessages("q").map(\.message), deliveryLimit: nil,
            witness: { Checker.witness(for: $0, trace: trace, recordsTrace: recordsTrace) })
    }
}
