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

public struct RabbitWorld: ScenarioWorld, EngineHosted {
    public let config: RabbitConfig
    public let seed: UInt64
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

    struct Node: Sendable {
        var id: BrokerID
        var isUp = true
        var incarnation = 0
        var pausedUntil: Millis?
        // Classic queues (q on B1, and dlq on B1).
        var queues: [String: QueueState] = [:]
        var store: [StoredCopy] = []
        var syncScheduled = false
        /// Confirms waiting for the fsync that makes their copy durable: (store index, publisher, sequence).
        var awaitingSync: [(storeIndex: Int, publisher: Int, sequence: Int)] = []
        var consumers: [Int: Int] = [:]  // consumer -> prefetch (0 unlimited)
        var nextTag = 1
        // Quorum queue member.
        var term = 0
        var votedFor: BrokerID?
        var log: [RaftEntry] = []
        var fsyncedUpTo = 0
        var fsyncInFlight = false
        var commitIndex = 0
        var applied = 0
        var isLeader = false
        var leader: BrokerID?
        var votes: Set<Int> = []
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

    struct Publisher: Sendable {
        var isUp = true
        var incarnation = 0
        var nextSequence = 1
        var connectedTo: BrokerID?
        /// Publishes awaiting their confirm: (sequence, history index, message).
        var outstanding: [(sequence: Int, send: Int, message: MessageID)] = []
        var unconfirmed: [MessageID] = []
    }

    struct Consumer: Sendable {
        var settlement: Settlement
        var isUp = true
        var incarnation = 0
        var active = false
        var connectedTo: BrokerID?
        var inbox: [(tag: Int, message: QueuedMessage)] = []
        var busy = false
        var processedCount = 0
        var deliveredCount = 0
    }

    private var electionRandom: SeededRandom
    private(set) var nodes: [Node]
    private var publishers: [Publisher] = []
    private var consumers: [Consumer] = []
    private var nextCopy = 0
    private var nextPosition = 0
    /// Costs, for `mqproof compare`.
    public private(set) var fsyncs = 0

    public init(config: RabbitConfig, seed: UInt64, recordsTrace: Bool = true) {
        self.config = config
        self.seed = seed
        engine = WorldEngine(seed: seed, networkDelay: config.networkDelayMs, recordsTrace: recordsTrace)
        electionRandom = SeededRandom(seed: seed).child("elections")
        nodes = (1...config.nodes).map { Node(id: BrokerID($0)) }
        nodes[0].queues["q"] = QueueState()
        if config.deadLetterExchange != nil { nodes[0].queues["dlq"] = QueueState() }
        for binding in config.bindings { nodes[0].queues[binding.queue] = QueueState() }
        if config.queueType == .quorum {
            // B1 starts as the leader of term 1, as after the queue's declaration.
            for index in 0..<3 {
                nodes[index].term = 1
                nodes[index].leader = BrokerID(1)
                nodes[index].electionJitter = electionRandom.next(in: 0...config.electionTimeoutMs)
                setTimer(.electionCheck, for: .broker(BrokerID(index + 1)), after: config.heartbeatMs)
            }
            nodes[0].isLeader = true
            nodes[0].matchIndex = [0, 0, 0]
            nodes[0].nextIndex = [0, 0, 0]
            setTimer(.heartbeat, for: .broker(BrokerID(1)), after: config.heartbeatMs)
        }
    }

    public mutating func addPublisher() -> Int {
        publishers.append(Publisher())
        return publishers.count
    }

    public mutating func addConsumer(settlement: Settlement) -> Int {
        consumers.append(Consumer(settlement: settlement))
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

    // MARK: - The event loop

    public mutating func step(until limit: Millis) -> Bool { stepEngine(until: limit) }

    public mutating func run(until time: Millis) { runEngine(until: time) }

    mutating func sendPaced(_ message: MessageID, producer: Int) { publish([message], publisher: producer) }

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
        case .producer(let index): publishers[index - 1].incarnation
        case .consumer(let index): consumers[index - 1].incarnation
        case .controller: 0
        }
    }

    @inline(__always)
    func isUp(_ node: NodeID) -> Bool {
        switch node {
        case .broker(let id): nodes[id.value - 1].isUp
        case .producer(let index): publishers[index - 1].isUp
        case .consumer(let index): consumers[index - 1].isUp
        case .controller: true
        }
    }

    @inline(__always)
    func pausedUntil(_ node: NodeID) -> Millis? {
        if case .broker(let id) = node { return nodes[id.value - 1].pausedUntil }
        return nil
    }

    mutating func receive(_ payload: RabbitPayload, from: NodeID, at to: NodeID) {
        switch to {
        case .broker(let id): nodeReceive(id.value - 1, payload, from: from)
        case .producer(let index): publisherReceive(index - 1, payload)
        case .consumer(let index): consumerReceive(index - 1, payload, from: from)
        case .controller: break
        }
    }

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

    public mutating func perform(_ action: WorldAction) {
        if engine.applyNetworkFault(action, allNodes: allNodes) { return }
        switch action {
        case .crash(let broker, let fault): crashNode(broker.value - 1, fault)
        case .restart(let broker): restartNode(broker.value - 1)
        case .pause(let node, let milliseconds):
            note(.paused(node: node, milliseconds: milliseconds), at: node)
            if case .broker(let id) = node { nodes[id.value - 1].pausedUntil = now + milliseconds }
        case .partition, .isolate, .heal, .drop, .delay: break
        case .produce(let messages, let producer): publish(messages, publisher: producer)
        case .crashApplication(let producer): crashPublisher(producer - 1)
        case .resendUnacknowledged(let producer): republishUnconfirmed(producer - 1)
        case .startConsumer(let index):
            if !consumers[index - 1].isUp {
                consumers[index - 1].isUp = true
                note(.restarted(node: .consumer(index)), at: .consumer(index))
            }
            consumers[index - 1].active = true
            connectConsumer(index - 1)
        case .crashConsumer(let index): crashConsumer(index - 1)
        case .stopConsumer(let index):
            consumers[index - 1].active = false
            closeConsumerConnection(index - 1)
        }
    }

    public var allNodes: [NodeID] {
        nodes.map { .broker($0.id) } + publishers.indices.map { .producer($0 + 1) }
            + consumers.indices.map { .consumer($0 + 1) }
    }

    // MARK: - Publishers

    private var isQuorum: Bool { config.queueType == .quorum }

    /// The node a client talks to: B1 for a classic queue; for a quorum queue the leader if one
    /// is known, else the first live node (which hands the publish to the leader when one exists).
    private func entryNode() -> BrokerID? {
        if !isQuorum { return nodes[0].isUp ? BrokerID(1) : nil }
        if let leader = currentLeader { return leader }
        return nodes.first { $0.isUp }?.id
    }

    var currentLeader: BrokerID? {
        nodes.filter { $0.isUp && $0.isLeader }.max { $0.term < $1.term }?.id
    }

    private mutating func publish(_ messages: [MessageID], publisher: Int) {
        let index = publisher - 1
        let node = NodeID.producer(publisher)
        guard publishers[index].isUp else { return }
        for message in messages {
            let send = engine.recorder.history.invoke(
                History.Send(
                    message: message, producer: publisher, session: 0, invoked: now, outcome: .pending))
            guard let target = entryNode() else {
                note(
                    .failed(
                        producer: publisher, messages: [message], error: "connection refused", retrying: false
                    ), at: node)
                engine.recorder.history.complete(send, .fail(error: "connection refused", time: now))
                continue
            }
            publishers[index].connectedTo = target
            var sequence: Int?
            if config.publisherConfirms {
                let next = publishers[index].nextSequence
                publishers[index].nextSequence += 1
                publishers[index].outstanding.append((next, send, message))
                sequence = next
                setTimer(.confirmTimeout(sequence: next), for: node, after: config.confirmTimeoutMs)
            }
            nextCopy += 1
            let copy = MessageCopy(
                id: nextCopy, message: message, persistent: config.deliveryMode == 2, publisher: publisher,
                sequence: sequence)
            note(
                .sent(producer: publisher, messages: [message], to: target, attempt: 1, sequence: sequence),
                at: node)
            engine.transmit(.publish(copy), from: node, to: .broker(target))
            if !config.publisherConfirms {
                // Without confirms a publish is done once it is written to the socket (RMQ-04).
                engine.recorder.history.complete(send, .ok(offset: nil, broker: target, time: now))
            }
        }
    }

    private mutating func publisherReceive(_ index: Int, _ payload: RabbitPayload) {
        let node = NodeID.producer(index + 1)
        switch payload {
        case .confirm(let sequence, let nack):
            guard let position = publishers[index].outstanding.firstIndex(where: { $0.sequence == sequence })
            else {
                return
            }
            let pending = publishers[index].outstanding.remove(at: position)
            if nack {
                note(
                    .failed(
                        producer: index + 1, messages: [pending.message], error: "basic.nack", retrying: false
                    ), at: node)
                engine.recorder.history.complete(pending.send, .fail(error: "basic.nack", time: now))
            } else {
                note(
                    .queue(
                        .confirmed(
                            producer: index + 1, message: pending.message,
                            node: publishers[index].connectedTo ?? BrokerID(1))), at: node)
                engine.recorder.history.complete(
                    pending.send, .ok(offset: nil, broker: publishers[index].connectedTo, time: now))
            }
        case .returned(_, let message):
            note(.queue(.returned(producer: index + 1, message: message)), at: node)
        default:
            preconditionFailure("a publisher got \(payload.kind)")
        }
    }

    private mutating func confirmTimedOut(_ index: Int, _ sequence: Int) {
        guard let position = publishers[index].outstanding.firstIndex(where: { $0.sequence == sequence })
        else {
            return
        }
        let pending = publishers[index].outstanding.remove(at: position)
        publishers[index].unconfirmed.append(pending.message)
        let error = "no confirm within \(config.confirmTimeoutMs) ms"
        note(
            .failed(producer: index + 1, messages: [pending.message], error: error, retrying: false),
            at: .producer(index + 1))
        engine.recorder.history.complete(pending.send, .info(error: error, time: now))
    }

    /// The connection to `node` broke: every publish still awaiting its confirm is in doubt.
    private mutating func publisherLostConnection(_ index: Int) {
        let outstanding = publishers[index].outstanding
        guard !outstanding.isEmpty else { return }
        publishers[index].outstanding = []
        publishers[index].connectedTo = nil
        publishers[index].unconfirmed += outstanding.map(\.message)
        let error = "connection lost before the confirm"
        note(
            .failed(producer: index + 1, messages: outstanding.map(\.message), error: error, retrying: false),
            at: .producer(index + 1))
        for pending in outstanding {
            engine.recorder.history.complete(pending.send, .info(error: error, time: now))
        }
    }

    /// RMQ-11: after a connection failure a publisher re-sends what was never confirmed.
    private mutating func republishUnconfirmed(_ index: Int) {
        let messages = publishers[index].unconfirmed + publishers[index].outstanding.map(\.message)
        publishers[index].unconfirmed = []
        publishers[index].outstanding = []
        publish(messages, publisher: index + 1)
    }

    private mutating func crashPublisher(_ index: Int) {
        note(.crashed(node: .producer(index + 1), fault: .applicationCrash), at: .producer(index + 1))
        publisherLostConnection(index)
        publishers[index].incarnation += 1
        publishers[index].unconfirmed = []
    }

    // MARK: - Broker: routing and classic queues

    private mutating func nodeReceive(_ index: Int, _ payload: RabbitPayload, from: NodeID) {
        switch payload {
        case .publish(let copy):
            receivePublish(index, copy)
        case .consume(let consumer):
            registerConsumer(index, consumer)
        case .closed(let consumer):
            requeueConsumerDeliveries(index, consumer: consumer)
        case .settle(let tag, let settlement):
            guard case .consumer(let consumer) = from else { return }
            if isQuorum {
                quorumSettle(index, consumer: consumer, tag: tag, settlement)
            } else {
                classicSettle(index, consumer: consumer, tag: tag, settlement)
            }
        case .appendEntries(let term, let previousIndex, let previousTerm, let entries, let leaderCommit):
            guard case .broker(let leader) = from else { return }
            receiveAppend(index, from: leader, term: term, previousIndex, previousTerm, entries, leaderCommit)
        case .appendResponse(let term, let success, let matchIndex):
            guard case .broker(let follower) = from else { return }
            receiveAppendResponse(index, from: follower, term: term, success: success, matchIndex: matchIndex)
        case .requestVote(let term, let lastIndex, let lastTerm):
            guard case .broker(let candidate) = from else { return }
            receiveVoteRequest(index, from: candidate, term: term, lastIndex: lastIndex, lastTerm: lastTerm)
        case .vote(let term, let granted):
            guard case .broker(let voter) = from else { return }
            receiveVote(index, from: voter, term: term, granted: granted)
        case .confirm, .returned, .deliver, .cancel:
            preconditionFailure("a node got \(payload.kind)")
        }
    }

    /// The queues a publish reaches (RMQ-01): the default exchange routes by queue name; a
    /// declared exchange through its bindings, each queue at most once.
    private func route(_ routingKey: String) -> [String] {
        if config.exchange.isEmpty {
            return queueNames.contains(routingKey) ? [routingKey] : []
        }
        return config.bindings.filter { binding in
            binding.keys.contains { config.exchangeType.matches(routingKey: routingKey, bindingKey: $0) }
        }.map(\.queue)
    }

    /// Every queue the topology declares, `q` first.
    var queueNames: [String] {
        ["q"] + config.bindings.map(\.queue).filter { $0 != "q" }
            + (config.deadLetterExchange != nil ? ["dlq"] : [])
    }

    private mutating func receivePublish(_ index: Int, _ copy: MessageCopy) {
        let node = NodeID.broker(nodes[index].id)
        let queues = route(config.routingKey)
        guard !queues.isEmpty else {
            note(
                .queue(.unroutable(node: nodes[index].id, message: copy.message, returned: config.mandatory)),
                at: node)
            if config.mandatory {
                engine.transmit(
                    .returned(sequence: copy.sequence, message: copy.message), from: node,
                    to: .producer(copy.publisher))
            }
            // The confirm still comes, after the return: a confirm does not mean queued (RMQ-01).
            if let sequence = copy.sequence {
                engine.transmit(
                    .confirm(sequence: sequence, nack: false), from: node, to: .producer(copy.publisher))
            }
            return
        }
        nextPosition += 1
        let message = QueuedMessage(copy: copy, position: nextPosition)
        // A quorum q is the only queue then: more bound queues are classic-only (RabbitConfig).
        if isQuorum && queues == ["q"] {
            guard nodes[index].isLeader else {
                // Not the leader: hand it to the leader if one is known; else it waits for none.
                if let leader = nodes[index].leader, leader != nodes[index].id {
                    engine.transmit(.publish(copy), from: node, to: .broker(leader))
                } else {
                    note(
                        .queue(
                            .discarded(
                                node: nodes[index].id, message: copy.message,
                                reason: "no quorum queue leader to take it")), at: node)
                }
                return
            }
            raftAppend(index, .enqueue(message))
            return
        }
        for queue in queues { enqueueClassic(index, queue: queue, message) }
        // Confirmed once every queue has it: for persistent messages, after the store's fsync.
        if let sequence = copy.sequence {
            if copy.persistent && config.durable {
                nodes[index].awaitingSync.append((nodes[index].store.count - 1, copy.publisher, sequence))
            } else {
                engine.transmit(
                    .confirm(sequence: sequence, nack: false), from: node, to: .producer(copy.publisher))
            }
        }
    }

    private mutating func enqueueClassic(_ index: Int, queue: String, _ message: QueuedMessage) {
        let id = nodes[index].id
        nodes[index].queues[queue, default: QueueState()].ready.append(message)
        note(
            .queue(
                .enqueued(
                    node: id, queue: queue, message: message.copy.message, persistent: message.copy.persistent
                )), at: .broker(id))
        // The dead-letter queue is durable; the others are as configured.
        if message.copy.persistent && (config.durable || queue == "dlq") {
            nodes[index].store.append(StoredCopy(queue: queue, message: message))
            scheduleStoreSync(index)
        }
        dispatch(index)
    }

    private mutating func scheduleStoreSync(_ index: Int) {
        guard !nodes[index].syncScheduled else { return }
        nodes[index].syncScheduled = true
        setTimer(.storeSync, for: .broker(nodes[index].id), after: config.storeSyncIntervalMs)
    }

    private mutating func storeSync(_ index: Int) {
        fsyncs += 1
        setTimer(
            .storeSyncDone(upTo: nodes[index].store.count), for: .broker(nodes[index].id),
            after: config.fsyncMs)
    }

    private mutating func storeSyncDone(_ index: Int, upTo: Int) {
        let node = NodeID.broker(nodes[index].id)
        var synced = 0
        for position in 0..<min(upTo, nodes[index].store.count) {
            if !nodes[index].store[position].synced { synced += 1 }
            nodes[index].store[position].synced = true
            if nodes[index].store[position].deleted { nodes[index].store[position].deleteSynced = true }
        }
        nodes[index].syncScheduled = false
        if synced > 0 { note(.queue(.fsynced(node: nodes[index].id, messages: synced)), at: node) }
        let ready = nodes[index].awaitingSync.filter { $0.storeIndex < upTo }
        nodes[index].awaitingSync.removeAll { $0.storeIndex < upTo }
        for waiting in ready {
            engine.transmit(
                .confirm(sequence: waiting.sequence, nack: false), from: node,
                to: .producer(waiting.publisher))
        }
        if nodes[index].store.contains(where: { !$0.synced || ($0.deleted && !$0.deleteSynced) }) {
            scheduleStoreSync(index)
        }
    }

    private mutating func deleteFromStore(_ index: Int, copy: Int) {
        guard
            let position = nodes[index].store.firstIndex(where: { $0.message.copy.id == copy && !$0.deleted })
        else {
            return
        }
        nodes[index].store[position].deleted = true
        scheduleStoreSync(index)
    }

    private mutating func registerConsumer(_ index: Int, _ consumer: Int) {
        guard consumers[consumer - 1].connectedTo == nodes[index].id else { return }
        if isQuorum && !nodes[index].isLeader {
            engine.transmit(.cancel, from: .broker(nodes[index].id), to: .consumer(consumer))
            return
        }
        nodes[index].consumers[consumer] = config.noAck ? 0 : config.effectivePrefetch
        dispatch(index)
    }

    private func unackedCount(_ index: Int, consumer: Int) -> Int {
        if isQuorum { return nodes[index].checkedOut.filter { $0.consumer == consumer }.count }
        return nodes[index].queues["q"]?.unacked.filter { $0.consumer == consumer }.count ?? 0
    }

    /// Pushes ready messages to registered consumers in turn, within their prefetch (RMQ-10).
    private mutating func dispatch(_ index: Int) {
        let id = nodes[index].id
        for consumer in nodes[index].consumers.keys.sorted() {
            let prefetch = nodes[index].consumers[consumer] ?? 0
            while prefetch == 0 || unackedCount(index, consumer: consumer) < prefetch {
                guard let message = nextReady(index) else { return }
                let tag = nodes[index].nextTag
                nodes[index].nextTag += 1
                if config.noAck {
                    // Done the moment it is written to the socket (RMQ-08).
                    settleAway(index, copy: message.copy.id)
                } else if isQuorum {
                    nodes[index].checkedOut.append((tag, consumer, message.copy.id))
                } else {
                    nodes[index].queues["q"]?.unacked.append((tag, consumer, message))
                }
                note(
                    .queue(
                        .delivered(
                            node: id, consumer: consumer, message: message.copy.message, tag: tag,
                            redelivered: message.redelivered, deliveryCount: message.deliveryCount)),
                    at: .broker(id))
                engine.transmit(.deliver(message, tag: tag), from: .broker(id), to: .consumer(consumer))
            }
        }
    }

    private mutating func nextReady(_ index: Int) -> QueuedMessage? {
        if isQuorum {
            let held = Set(nodes[index].checkedOut.map(\.copy))
            return nodes[index].quorum.first { !held.contains($0.copy.id) }
        }
        guard let first = nodes[index].queues["q"]?.ready.first else { return nil }
        nodes[index].queues["q"]?.ready.removeFirst()
        return first
    }

    /// An auto-ack delivery is settled as it leaves.
    private mutating func settleAway(_ index: Int, copy: Int) {
        if isQuorum {
            raftAppend(index, .settle(copy: copy))
            // Not handed out again while the settle commits.
            nodes[index].checkedOut.append((0, 0, copy))
        } else {
            deleteFromStore(index, copy: copy)
        }
    }

    private mutating func classicSettle(_ index: Int, consumer: Int, tag: Int, _ settlement: Settlement) {
        guard
            let position = nodes[index].queues["q"]?.unacked.firstIndex(where: {
                $0.tag == tag && $0.consumer == consumer
            }),
            let delivery = nodes[index].queues["q"]?.unacked.remove(at: position)
        else {
            // Acking an unknown tag is a channel error (RMQ-08); a settle after a requeue is one.
            return
        }
        var message = delivery.message
        switch settlement {
        case .ack:
            deleteFromStore(index, copy: message.copy.id)
        case .reject:
            deleteFromStore(index, copy: message.copy.id)
            deadLetter(index, message, reason: "rejected with requeue=false")
        case .rejectRequeue, .nackRequeue:
            message.redelivered = true
            nodes[index].queues["q"]?.requeue(message)
            note(
                .queue(
                    .requeued(
                        node: nodes[index].id, messages: [message.copy.message], reason: settlement.rawValue)),
                at: .broker(nodes[index].id))
        }
        dispatch(index)
    }

    /// To the dead-letter exchange if the queue has one, else dropped (RMQ-08).
    private mutating func deadLetter(_ index: Int, _ message: QueuedMessage, reason: String) {
        let id = nodes[index].id
        guard let exchange = config.deadLetterExchange else {
            note(
                .queue(
                    .discarded(
                        node: id, message: message.copy.message, reason: reason + ", no dead-letter exchange")
                ), at: .broker(id))
            return
        }
        note(
            .queue(
                .deadLettered(node: id, message: message.copy.message, exchange: exchange, reason: reason)),
            at: .broker(id))
        guard nodes[0].isUp else { return }
        nextPosition += 1
        var dead = message
        dead.position = nextPosition
        dead.copy.sequence = nil
        enqueueClassic(0, queue: "dlq", dead)
    }

    private mutating func requeueConsumerDeliveries(_ index: Int, consumer: Int) {
        let id = nodes[index].id
        nodes[index].consumers[consumer] = nil
        if isQuorum {
            let held = nodes[index].checkedOut.filter { $0.consumer == consumer }
            nodes[index].checkedOut.removeAll { $0.consumer == consumer }
            for delivery in held { raftAppend(index, .giveBack(copy: delivery.copy, countsDelivery: true)) }
            return
        }
        guard var queue = nodes[index].queues["q"] else { return }
        let returned = queue.unacked.filter { $0.consumer == consumer }
        queue.unacked.removeAll { $0.consumer == consumer }
        for delivery in returned {
            var message = delivery.message
            message.redelivered = true
            queue.requeue(message)
        }
        nodes[index].queues["q"] = queue
        if !returned.isEmpty {
            note(
                .queue(
                    .requeued(
                        node: id, messages: returned.map(\.message.copy.message),
                        reason: "consumer connection closed")),
                at: .broker(id))
        }
        dispatch(index)
    }

    // MARK: - Node faults

    private mutating func crashNode(_ index: Int, _ fault: Fault) {
        guard nodes[index].isUp else { return }
        let id = nodes[index].id
        note(.crashed(node: .broker(id), fault: fault), at: .broker(id))
        nodes[index].isUp = false
        nodes[index].incarnation += 1
        nodes[index].pausedUntil = nil
        nodes[index].syncScheduled = false
        nodes[index].awaitingSync = []
        nodes[index].consumers = [:]
        nodes[index].checkedOut = []
        nodes[index].isLeader = false
        nodes[index].fsyncInFlight = false
        engine.resetConnections(of: .broker(id))
        // The disk as the fault leaves it.
        switch fault {
        case .crash, .applicationCrash: break
        case .powerLoss:
            nodes[index].store = nodes[index].store.compactMap { stored in
                guard stored.synced else { return nil }
                var kept = stored
                if !stored.deleteSynced { kept.deleted = false }
                return kept
            }
            if nodes[index].log.count > nodes[index].fsyncedUpTo {
                let removed = nodes[index].log[nodes[index].fsyncedUpTo...].compactMap(\.enqueued)
                nodes[index].log.removeSubrange(nodes[index].fsyncedUpTo...)
                if !removed.isEmpty {
                    note(
                        .truncated(
                            broker: id, to: Offset(nodes[index].log.count), removed: removed,
                            reason: .powerLoss), at: .broker(id))
                }
            }
        case .diskLoss:
            nodes[index].store = []
            nodes[index].log = []
            nodes[index].fsyncedUpTo = 0
            nodes[index].term = 0
            nodes[index].votedFor = nil
        }
        // Clients connected to the node see their connections close.
        for publisher in publishers.indices where publishers[publisher].connectedTo == id {
            publisherLostConnection(publisher)
        }
        for consumer in consumers.indices where consumers[consumer].connectedTo == id {
            consumers[consumer].connectedTo = nil
            consumers[consumer].inbox = []
            if consumers[consumer].active && consumers[consumer].isUp {
                setTimer(.reconnect, for: .consumer(consumer + 1), after: config.reconnectMs)
            }
        }
    }

    private mutating func restartNode(_ index: Int) {
        guard !nodes[index].isUp else { return }
        let id = nodes[index].id
        nodes[index].isUp = true
        note(.restarted(node: .broker(id)), at: .broker(id))
        if isQuorum {
            // Raft state on disk survives; what was applied is rebuilt as the commit index is relearned.
            nodes[index].commitIndex = 0
            nodes[index].applied = 0
            nodes[index].quorum = []
            nodes[index].leader = nil
            nodes[index].verifiedUpTo = 0
            nodes[index].fsyncedUpTo = min(nodes[index].fsyncedUpTo, nodes[index].log.count)
            nodes[index].lastHeard = now
            nodes[index].electionJitter = electionRandom.next(in: 0...config.electionTimeoutMs)
            setTimer(.electionCheck, for: .broker(id), after: config.heartbeatMs)
        }
        guard index == 0 || !isQuorum else { return }
        // Classic queues: recover what the message store holds (RMQ-05).
        for name in nodes[index].queues.keys.sorted() {
            let before = nodes[index].queues[name]?.all ?? []
            let durable = config.durable || name == "dlq"
            var recovered = QueueState()
            if durable {
                recovered.ready = nodes[index].store.filter { $0.queue == name && !$0.deleted }.map {
                    stored in
                    var message = stored.message
                    // RabbitMQ cannot tell whether a recovered message was delivered before.
                    message.redelivered =
                        message.redelivered || before.first { $0.copy.id == message.copy.id } == nil
                    return message
                }
            }
            let kept = Set(recovered.ready.map(\.copy.id))
            nodes[index].queues[name] = recovered
            note(
                .queue(
                    .recovered(
                        node: id, queue: name, kept: recovered.ready.map(\.copy.message),
                        lost: before.filter { !kept.contains($0.copy.id) }.map(\.copy.message),
                        durable: durable)), at: .broker(id))
        }
        nodes[index].store.removeAll { $0.deleted }
        if nodes[index].store.contains(where: { !$0.synced }) { scheduleStoreSync(index) }
    }

    // MARK: - Consumers

    private mutating func connectConsumer(_ index: Int) {
        guard consumers[index].active, consumers[index].isUp, consumers[index].connectedTo == nil else {
            return
        }
        let target = isQuorum ? currentLeader : (nodes[0].isUp ? BrokerID(1) : nil)
        guard let target else {
            setTimer(.reconnect, for: .consumer(index + 1), after: config.reconnectMs)
            return
        }
        consumers[index].connectedTo = target
        engine.transmit(.consume(consumer: index + 1), from: .consumer(index + 1), to: .broker(target))
    }

    private mutating func consumerReceive(_ index: Int, _ payload: RabbitPayload, from: NodeID) {
        switch payload {
        case .deliver(let message, let tag):
            guard case .broker(let node) = from, node == consumers[index].connectedTo else { return }
            consumers[index].deliveredCount += 1
            engine.recorder.history.polls.append(
                History.Delivery(
                    consumer: index + 1, message: message.copy.message, offset: Offset(message.copy.id),
                    time: now))
            consumers[index].inbox.append((tag, message))
            startProcessing(index)
        case .cancel:
            consumers[index].connectedTo = nil
            consumers[index].inbox = []
            setTimer(.reconnect, for: .consumer(index + 1), after: config.reconnectMs)
        default:
            preconditionFailure("a consumer got \(payload.kind)")
        }
    }

    private mutating func startProcessing(_ index: Int) {
        guard !consumers[index].busy, !consumers[index].inbox.isEmpty else { return }
        consumers[index].busy = true
        setTimer(.processed, for: .consumer(index + 1), after: config.processingMs)
    }

    private mutating func finishProcessing(_ index: Int) {
        consumers[index].busy = false
        guard !consumers[index].inbox.isEmpty else { return }
        let (tag, message) = consumers[index].inbox.removeFirst()
        let node = NodeID.consumer(index + 1)
        let settlement = consumers[index].settlement
        if settlement == .ack || config.noAck {
            consumers[index].processedCount += 1
            engine.recorder.history.processed.append(
                History.Delivery(
                    consumer: index + 1, message: message.copy.message, offset: Offset(message.copy.id),
                    time: now))
            note(
                .processed(
                    consumer: index + 1, message: message.copy.message, offset: Offset(message.copy.id)),
                at: node)
        }
        if !config.noAck, let connected = consumers[index].connectedTo {
            if settlement != .ack {
                note(
                    .queue(
                        .settled(consumer: index + 1, message: message.copy.message, settlement: settlement)),
                    at: node)
            }
            engine.transmit(.settle(tag: tag, settlement), from: node, to: .broker(connected))
        }
        startProcessing(index)
    }

    private mutating func crashConsumer(_ index: Int) {
        guard consumers[index].isUp else { return }
        note(.crashed(node: .consumer(index + 1), fault: .applicationCrash), at: .consumer(index + 1))
        consumers[index].isUp = false
        consumers[index].incarnation += 1
        consumers[index].busy = false
        closeConsumerConnection(index)
    }

    /// The operating system closes a dead process's connections: the broker sees the close after
    /// whatever the consumer sent before it, and takes back the unacked deliveries (RMQ-09).
    private mutating func closeConsumerConnection(_ index: Int) {
        consumers[index].inbox = []
        guard let node = consumers[index].connectedTo else { return }
        consumers[index].connectedTo = nil
        engine.transmit(.closed(consumer: index + 1), from: .consumer(index + 1), to: .broker(node))
    }

    // MARK: - Quorum queue: Raft

    private mutating func raftAppend(_ index: Int, _ command: RaftEntry.Command) {
        precondition(nodes[index].isLeader, "only the leader appends")
        nodes[index].log.append(RaftEntry(term: nodes[index].term, command: command))
        if case .enqueue(let message) = command {
            note(
                .queue(
                    .raftAppended(
                        node: nodes[index].id, index: nodes[index].log.count - 1, term: nodes[index].term,
                        message: message.copy.message, leader: true)), at: .broker(nodes[index].id))
        }
        raftFsync(index)
        replicate(index)
    }

    private mutating func raftFsync(_ index: Int) {
        guard !nodes[index].fsyncInFlight, nodes[index].fsyncedUpTo < nodes[index].log.count else { return }
        nodes[index].fsyncInFlight = true
        fsyncs += 1
        setTimer(
            .raftFsyncDone(upTo: nodes[index].log.count), for: .broker(nodes[index].id), after: config.fsyncMs
        )
    }

    private mutating func raftFsyncDone(_ index: Int, upTo: Int) {
        nodes[index].fsyncInFlight = false
        nodes[index].fsyncedUpTo = max(nodes[index].fsyncedUpTo, min(upTo, nodes[index].log.count))
        if nodes[index].isLeader {
            advanceCommit(index)
        } else if let leader = nodes[index].leader {
            // Acknowledge only what is on disk and known to match the leader's log.
            engine.transmit(
                .appendResponse(
                    term: nodes[index].term, success: true,
                    matchIndex: min(nodes[index].fsyncedUpTo, nodes[index].verifiedUpTo)),
                from: .broker(nodes[index].id), to: .broker(leader))
        }
        raftFsync(index)
    }

    private mutating func replicate(_ index: Int) {
        let leader = nodes[index]
        for follower in 0..<3 where follower != index {
            let next = min(leader.nextIndex[follower], leader.log.count)
            let previousTerm = next > 0 ? leader.log[next - 1].term : 0
            let entries = Array(leader.log[next..<min(leader.log.count, next + 200)])
            engine.transmit(
                .appendEntries(
                    term: leader.term, previousIndex: next, previousTerm: previousTerm, entries: entries,
                    leaderCommit: leader.commitIndex),
                from: .broker(leader.id), to: .broker(BrokerID(follower + 1)))
        }
    }

    private mutating func leaderHeartbeat(_ index: Int) {
        guard nodes[index].isLeader else { return }
        replicate(index)
        setTimer(.heartbeat, for: .broker(nodes[index].id), after: config.heartbeatMs)
    }

    private mutating func becomeFollower(_ index: Int, term: Int, leader: BrokerID?) {
        let wasLeader = nodes[index].isLeader
        if term > nodes[index].term {
            nodes[index].term = term
            nodes[index].votedFor = nil
            nodes[index].verifiedUpTo = 0
        }
        nodes[index].isLeader = false
        nodes[index].leader = leader
        nodes[index].votes = []
        if wasLeader {
            // Consumers follow the queue to its new leader.
            let registered = nodes[index].consumers.keys.sorted()
            nodes[index].consumers = [:]
            nodes[index].checkedOut = []
            for consumer in registered {
                engine.transmit(.cancel, from: .broker(nodes[index].id), to: .consumer(consumer))
            }
            note(
                .becameFollower(broker: nodes[index].id, leader: leader, epoch: Epoch(term)),
                at: .broker(nodes[index].id))
        }
    }

    private mutating func receiveAppend(
        _ index: Int, from leader: BrokerID, term: Int, _ previousIndex: Int, _ previousTerm: Int,
        _ entries: [RaftEntry], _ leaderCommit: Int
    ) {
        let me = NodeID.broker(nodes[index].id)
        guard term >= nodes[index].term else {
            engine.transmit(
                .appendResponse(term: nodes[index].term, success: false, matchIndex: 0), from: me,
                to: .broker(leader))
            return
        }
        becomeFollower(index, term: term, leader: leader)
        nodes[index].lastHeard = now
        guard previousIndex <= nodes[index].log.count,
            previousIndex == 0 || nodes[index].log[previousIndex - 1].term == previousTerm
        else {
            engine.transmit(
                .appendResponse(
                    term: term, success: false,
                    matchIndex: min(nodes[index].log.count, max(0, previousIndex - 1))),
                from: me, to: .broker(leader))
            return
        }
        for (offset, entry) in entries.enumerated() {
            let position = previousIndex + offset
            if position < nodes[index].log.count {
                guard nodes[index].log[position].term != entry.term else { continue }
                let removed = nodes[index].log[position...].compactMap(\.enqueued)
                nodes[index].log.removeSubrange(position...)
                nodes[index].fsyncedUpTo = min(nodes[index].fsyncedUpTo, position)
                precondition(
                    position >= nodes[index].applied, "Raft: a committed entry was overwritten (seed \(seed))"
                )
                if !removed.isEmpty {
                    note(
                        .truncated(
                            broker: nodes[index].id, to: Offset(position), removed: removed,
                            reason: .divergingEpoch), at: me)
                }
            }
            nodes[index].log.append(entry)
            if case .enqueue(let message) = entry.command {
                note(
                    .queue(
                        .raftAppended(
                            node: nodes[index].id, index: position, term: entry.term,
                            message: message.copy.message,
                            leader: false)), at: me)
            }
        }
        nodes[index].verifiedUpTo = max(nodes[index].verifiedUpTo, previousIndex + entries.count)
        nodes[index].commitIndex = max(nodes[index].commitIndex, min(leaderCommit, nodes[index].verifiedUpTo))
        applyCommitted(index)
        if nodes[index].fsyncedUpTo >= previousIndex + entries.count || entries.isEmpty {
            engine.transmit(
                .appendResponse(
                    term: term, success: true,
                    matchIndex: min(nodes[index].fsyncedUpTo, nodes[index].verifiedUpTo)),
                from: me, to: .broker(leader))
        }
        raftFsync(index)
    }

    private mutating func receiveAppendResponse(
        _ index: Int, from follower: BrokerID, term: Int, success: Bool, matchIndex: Int
    ) {
        if term > nodes[index].term {
            becomeFollower(index, term: term, leader: nil)
            return
        }
        guard nodes[index].isLeader, term == nodes[index].term else { return }
        let position = follower.value - 1
        if success {
            nodes[index].matchIndex[position] = max(nodes[index].matchIndex[position], matchIndex)
            nodes[index].nextIndex[position] = max(nodes[index].nextIndex[position], matchIndex)
            advanceCommit(index)
        } else {
            nodes[index].nextIndex[position] = min(nodes[index].nextIndex[position], matchIndex)
            replicate(index)
        }
    }

    /// An entry of the current term on a majority's disk commits it and everything before it.
    private mutating func advanceCommit(_ index: Int) {
        guard nodes[index].isLeader else { return }
        var matches = nodes[index].matchIndex
        matches[index] = nodes[index].fsyncedUpTo
        let majority = matches.sorted(by: >)[1]
        if majority > nodes[index].commitIndex, nodes[index].log[majority - 1].term == nodes[index].term {
            nodes[index].commitIndex = majority
            applyCommitted(index)
        }
    }

    private mutating func applyCommitted(_ index: Int) {
        let id = nodes[index].id
        while nodes[index].applied < nodes[index].commitIndex {
            let entry = nodes[index].log[nodes[index].applied]
            nodes[index].applied += 1
            let leading = nodes[index].isLeader
            switch entry.command {
            case .noop: break
            case .enqueue(let message):
                nodes[index].quorum.append(message)
                if leading {
                    note(
                        .queue(
                            .enqueued(node: id, queue: "q", message: message.copy.message, persistent: true)),
                        at: .broker(id))
                    if let sequence = message.copy.sequence {
                        engine.transmit(
                            .confirm(sequence: sequence, nack: false), from: .broker(id),
                            to: .producer(message.copy.publisher))
                    }
                }
            case .settle(let copy):
                nodes[index].quorum.removeAll { $0.copy.id == copy }
                nodes[index].checkedOut.removeAll { $0.copy == copy }
            case .giveBack(let copy, let countsDelivery):
                guard let position = nodes[index].quorum.firstIndex(where: { $0.copy.id == copy }) else {
                    break
                }
                nodes[index].quorum[position].redelivered = true
                if countsDelivery { nodes[index].quorum[position].deliveryCount += 1 }
                let message = nodes[index].quorum[position]
                if let limit = config.deliveryLimit, message.deliveryCount > limit {
                    nodes[index].quorum.remove(at: position)
                    if leading {
                        deadLetter(
                            index, message, reason: "returned more than x-delivery-limit=\(limit) times")
                    }
                } else if leading {
                    note(
                        .queue(
                            .requeued(
                                node: id, messages: [message.copy.message],
                                reason: countsDelivery
                                    ? "returned (counts towards the delivery limit)"
                                    : "returned (not counted)")), at: .broker(id))
                }
                nodes[index].checkedOut.removeAll { $0.copy == copy }
            }
        }
        if nodes[index].isLeader { dispatch(index) }
    }

    private mutating func quorumSettle(_ index: Int, consumer: Int, tag: Int, _ settlement: Settlement) {
        guard nodes[index].isLeader,
            let position = nodes[index].checkedOut.firstIndex(where: {
                $0.tag == tag && $0.consumer == consumer
            })
        else { return }
        let copy = nodes[index].checkedOut[position].copy
        // Still checked out until the command commits, so it is not handed out twice.
        nodes[index].checkedOut[position] = (0, 0, copy)
        switch settlement {
        case .ack:
            raftAppend(index, .settle(copy: copy))
        case .reject:
            if let message = nodes[index].quorum.first(where: { $0.copy.id == copy }) {
                deadLetter(index, message, reason: "rejected with requeue=false")
            }
            raftAppend(index, .settle(copy: copy))
        case .rejectRequeue:
            raftAppend(index, .giveBack(copy: copy, countsDelivery: true))
        case .nackRequeue:
            // 4.3 stopped counting basic.nack towards the delivery limit (RMQ-07).
            raftAppend(index, .giveBack(copy: copy, countsDelivery: config.version == .v40))
        }
    }

    private mutating func electionCheck(_ index: Int) {
        let id = nodes[index].id
        setTimer(.electionCheck, for: .broker(id), after: config.heartbeatMs)
        guard !nodes[index].isLeader,
            now - nodes[index].lastHeard >= config.electionTimeoutMs + nodes[index].electionJitter
        else { return }
        // Stand for election in a new term.
        nodes[index].term += 1
        nodes[index].votedFor = id
        nodes[index].votes = [id.value]
        nodes[index].leader = nil
        nodes[index].lastHeard = now
        nodes[index].electionJitter = electionRandom.next(in: 0...config.electionTimeoutMs)
        let lastTerm = nodes[index].log.last?.term ?? 0
        for other in 0..<3 where other != index {
            engine.transmit(
                .requestVote(term: nodes[index].term, lastIndex: nodes[index].log.count, lastTerm: lastTerm),
                from: .broker(id), to: .broker(BrokerID(other + 1)))
        }
    }

    private mutating func receiveVoteRequest(
        _ index: Int, from candidate: BrokerID, term: Int, lastIndex: Int, lastTerm: Int
    ) {
        if term > nodes[index].term { becomeFollower(index, term: term, leader: nil) }
        let myLastTerm = nodes[index].log.last?.term ?? 0
        let upToDate =
            lastTerm > myLastTerm || (lastTerm == myLastTerm && lastIndex >= nodes[index].log.count)
        let granted =
            term == nodes[index].term && upToDate
            && (nodes[index].votedFor == nil || nodes[index].votedFor == candidate)
        if granted {
            nodes[index].votedFor = candidate
            nodes[index].lastHeard = now
        }
        engine.transmit(
            .vote(term: nodes[index].term, granted: granted), from: .broker(nodes[index].id),
            to: .broker(candidate))
    }

    private mutating func receiveVote(_ index: Int, from voter: BrokerID, term: Int, granted: Bool) {
        if term > nodes[index].term {
            becomeFollower(index, term: term, leader: nil)
            return
        }
        guard granted, term == nodes[index].term, !nodes[index].isLeader,
            nodes[index].votedFor == nodes[index].id
        else {
            return
        }
        nodes[index].votes.insert(voter.value)
        guard nodes[index].votes.count >= 2 else { return }
        let id = nodes[index].id
        nodes[index].isLeader = true
        nodes[index].leader = id
        nodes[index].matchIndex = [0, 0, 0]
        nodes[index].nextIndex = [Int](repeating: nodes[index].log.count, count: 3)
        nodes[index].checkedOut = []
        note(.becameLeader(broker: id, epoch: Epoch(nodes[index].term)), at: .broker(id))
        // A no-op of the new term commits what earlier terms left uncommitted (Raft §5.4.2).
        raftAppend(index, .noop)
        setTimer(.heartbeat, for: .broker(id), after: config.heartbeatMs)
        for consumer in consumers.indices
        where consumers[consumer].active && consumers[consumer].connectedTo == nil {
            connectConsumer(consumer)
        }
    }

    // MARK: - Conditions, checks and final state

    public func holds(_ condition: Condition) -> Bool {
        switch condition {
        case .acknowledged(let names):
            return engine.recorder.acknowledged(names)
        case .allCompleted:
            return history.pendingSends == 0
        case .leaderIs(let broker):
            return currentLeader == broker
        case .offline:
            return isQuorum && currentLeader == nil
        case .processed(let consumer, let count):
            return consumer <= consumers.count && consumers[consumer - 1].processedCount >= count
        case .polled(let consumer, let count):
            return consumer <= consumers.count && consumers[consumer - 1].deliveredCount >= count
        case .replicated(let name, let broker):
            guard let id = engine.recorder.existingMessage(named: name) else { return false }
            return nodes[broker.value - 1].log.contains { $0.enqueued == id }
        case .isr, .committed:
            return false
        }
    }

    public func resolve(_ reference: NodeReference) -> NodeID? {
        switch reference {
        case .broker(let id): return .broker(id)
        case .leader: return (isQuorum ? currentLeader : BrokerID(1)).map(NodeID.broker)
        case .follower:
            guard isQuorum, let leader = currentLeader else { return nil }
            return nodes.first { $0.isUp && $0.id != leader }.map { .broker($0.id) }
        case .controller: return nil
        case .producer(let index): return .producer(index)
        case .consumer(let index): return .consumer(index)
        }
    }

    /// Where the queue's messages are authoritatively held at the end: B1 for classic queues,
    /// the leader (or the most up-to-date live member) for a quorum queue.
    func finalCopies(ofQueue name: String) -> [QueuedMessage] {
        if isQuorum && name == "q" {
            let holder =
                currentLeader.map { nodes[$0.value - 1] }
                ?? nodes.filter(\.isUp).max { $0.applied < $1.applied }
            return holder?.quorum ?? []
        }
        guard nodes[0].isUp else {
            // A node that is down still has its disk: what a restart would recover.
            return nodes[0].store.filter { $0.queue == name && !$0.deleted }.map(\.message)
        }
        return nodes[0].queues[name]?.all ?? []
    }

    public func finalContents(ofQueue name: String) -> [MessageID]? {
        guard queueNames.contains(name) else { return nil }
        return finalCopies(ofQueue: name).map(\.copy.message)
    }

    public func check() -> CheckerReport {
        QueueChecker.check(
            history: history, messageCount: messageCount,
            held: queueNames.flatMap { finalCopies(ofQueue: $0) },
            queueOrder: finalCopies(ofQueue: "q").map(\.copy.message), deliveryLimit: config.deliveryLimit,
            witness: { Checker.witness(for: $0, trace: trace, recordsTrace: recordsTrace) })
    }

    /// After every event, so it reads the nodes in place: copying a node copies its log.
    func checkInvariants() {
        guard isQuorum else { return }
        for index in nodes.indices {
            precondition(
                nodes[index].applied <= nodes[index].commitIndex,
                "invariant broken (seed \(seed)): applied beyond commit")
            precondition(
                nodes[index].fsyncedUpTo <= nodes[index].log.count,
                "invariant broken (seed \(seed)): fsynced beyond the log")
        }
        for a in nodes.indices where nodes[a].isUp && nodes[a].isLeader {
            for b in nodes.indices where b > a && nodes[b].isUp && nodes[b].isLeader {
                precondition(
                    nodes[a].term != nodes[b].term,
                    "invariant broken (seed \(seed)): two leaders in term \(nodes[a].term)")
            }
        }
    }
}

extension RaftEntry {
    var enqueued: MessageID? {
        if case .enqueue(let message) = command { return message.copy.message }
        return nil
    }
}
