// Theory of operation
//
// A RabbitMQ world: nodes B1..Bn, publishers p1.., consumers c1.., and one work queue `q` (plus
// `dlq` behind the dead-letter exchange). Each is a state machine (RabbitNode, RabbitPublisher,
// RabbitConsumer) that reads its step and writes effects; this file hands each delivery, timer
// and action to its node and the node's effects to the engine, and plays the connection layer:
// which node a client reaches, and who notices a node's death.
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
    /// The `expiration` property: a per-message TTL in ms (RMQ-13).
    var expirationMs: Millis?
    /// The `priority` property; nil when the publisher sets none (RMQ-18).
    var priority: Int?
}

struct QueuedMessage: Equatable, Sendable {
    var copy: MessageCopy
    /// Enqueue order: a requeued message goes back to its original position.
    var position: Int
    var redelivered = false
    /// Returns counted towards a quorum queue's delivery limit.
    var deliveryCount = 0
    /// When its TTL runs out in this queue; kept across a requeue and a restart (RMQ-13).
    var expiresAt: Millis?
    /// Its priority in this queue: 0 unless the queue has `x-max-priority` (RMQ-18).
    var priority = 0
}

/// A queue's contents on one node: ready messages in order, and deliveries awaiting a settle.
struct QueueState: Sendable {
    var ready: [QueuedMessage] = []
    var unacked: [(tag: Int, consumer: Int, message: QueuedMessage)] = []

    /// Ready messages go highest priority first, then in enqueue order; a requeued message goes
    /// back to its place (RMQ-18, RMQ-24).
    mutating func requeue(_ message: QueuedMessage) {
        let index =
            ready.firstIndex {
                $0.priority < message.priority
                    || ($0.priority == message.priority && $0.position > message.position)
            } ?? ready.count
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
    /// A dead-lettered message handed to B1's `dlq` in the same instant (never on the network).
    case deadLettered(QueuedMessage)
    case appendEntries(
        term: Int, previousIndex: Int, previousTerm: Int, entries: [RaftEntry], leaderCommit: Int)
    case appendResponse(term: Int, success: Bool, matchIndex: Int)
    /// `preVote`: Ra's pre-vote round, which asks whether an election for `term` could win
    /// without anyone changing term (RMQ-16).
    case requestVote(term: Int, lastIndex: Int, lastTerm: Int, preVote: Bool)
    case vote(term: Int, granted: Bool, preVote: Bool)

    var kind: MessageKind {
        switch self {
        case .publish, .deadLettered: .publish
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
    typealias Step = NodeStep<RabbitPayload, RabbitTimer>

    let config: RabbitConfig
    let seed: UInt64
    var engine: WorldEngine<RabbitPayload, RabbitTimer>
    /// Copies, positions and election timeouts, drawn alike by every node.
    var shared: RabbitShared
    var nodes: [RabbitNode]
    var publishers: [RabbitPublisher] = []
    var consumers: [RabbitConsumer] = []
    /// Resource alarms in force, by node (RMQ-21).
    var alarms: [BrokerID: Set<ResourceAlarm>] = [:]
    /// Publishes that reached a node during an alarm, unread, in arrival order.
    var blockedPublishes: [(node: Int, payload: RabbitPayload, from: NodeID)] = []

    init(config: RabbitConfig, seed: UInt64, recordsTrace: Bool = true) {
        self.config = config
        self.seed = seed
        engine = WorldEngine(seed: seed, networkDelay: config.networkDelayMs, recordsTrace: recordsTrace)
        shared = RabbitShared(seed: seed)
        nodes = (0..<config.nodes).map { RabbitNode(index: $0, config: config, seed: seed) }
        // The topology as declared: classic queues on B1.
        nodes[0].memory.queues["q"] = QueueState()
        if config.deadLetterExchange != nil { nodes[0].memory.queues["dlq"] = QueueState() }
        for binding in config.bindings { nodes[0].memory.queues[binding.queue] = QueueState() }
        if config.isQuorum {
            // B1 starts as the leader of term 1, as after the queue's declaration.
            for index in 0..<3 {
                atNode(index) { node, step, shared in
                    node.term = 1
                    node.memory.leader = BrokerID(1)
                    node.memory.electionJitter = shared.electionRandom.next(in: 0...config.electionTimeoutMs)
                    step.setTimer(.electionCheck, after: config.heartbeatMs)
                }
            }
            atNode(0) { node, step, _ in
                node.memory.role = .leader
                node.memory.matchIndex = [0, 0, 0]
                node.memory.nextIndex = [0, 0, 0]
                step.setTimer(.heartbeat, after: config.heartbeatMs)
            }
        }
    }

    mutating func addPublisher() -> Int {
        publishers.append(RabbitPublisher(number: publishers.count + 1, config: config))
        return publishers.count
    }

    mutating func addConsumer(settlement: Settlement, only: [String] = [], times: Int? = nil) -> Int {
        consumers.append(
            RabbitConsumer(
                number: consumers.count + 1, config: config, settlement: settlement, only: only, times: times)
        )
        return consumers.count
    }

    var isQuorum: Bool { config.isQuorum }
    var queueNames: [String] { config.queueNames }
    var fsyncs: Int { nodes.reduce(0) { $0 + $1.fsyncs } }

    var allNodes: [NodeID] {
        nodes.map { .broker($0.id) } + publishers.indices.map { .producer($0 + 1) }
            + consumers.indices.map { .consumer($0 + 1) }
    }

    // MARK: - Steps: a node acts, the engine applies its effects

    @inline(__always)
    mutating func atNode(_ index: Int, _ act: (inout RabbitNode, inout Step, inout RabbitShared) -> Void) {
        let node = NodeID.broker(nodes[index].id)
        let wasLeader = nodes[index].isLeader
        let handOvers = Self.step(node, engine: &engine, state: &nodes[index], shared: &shared, act)
        if !handOvers.isEmpty { deliver(handOvers, from: node) }
        // A new leader: consumers waiting for one connect to it.
        if !wasLeader && nodes[index].isLeader { connectIdleConsumers() }
    }

    @inline(__always)
    mutating func atPublisher(
        _ publisher: Int,
        _ act: (inout RabbitPublisher, inout Step, inout RabbitShared) -> Void
    ) {
        _ = Self.step(
            .producer(publisher), engine: &engine, state: &publishers[publisher - 1], shared: &shared, act)
    }

    @inline(__always)
    mutating func atConsumer(
        _ consumer: Int, _ act: (inout RabbitConsumer, inout Step) -> Void
    ) {
        Self.step(.consumer(consumer), engine: &engine, state: &consumers[consumer - 1], act)
    }

    // MARK: - The connection layer

    /// The node a client talks to: B1 for a classic queue; for a quorum queue the leader if one
    /// is known, else the first live node (which hands the publish to the leader when one exists).
    func entryNode() -> BrokerID? {
        if !isQuorum { return engine.isUp(.broker(BrokerID(1))) ? BrokerID(1) : nil }
        if let leader = currentLeader { return leader }
        return nodes.first { engine.isUp(.broker($0.id)) }?.id
    }

    var currentLeader: BrokerID? {
        nodes.filter { engine.isUp(.broker($0.id)) && $0.isLeader }.max { $0.term < $1.term }?.id
    }

    /// Where a consumer registers: the queue's node for a classic queue, the leader for a quorum one.
    var consumeTarget: BrokerID? {
        isQuorum ? currentLeader : (engine.isUp(.broker(BrokerID(1))) ? BrokerID(1) : nil)
    }

    mutating func connectIdleConsumers() {
        for consumer in consumers.indices
        where consumers[consumer].active && consumers[consumer].connectedTo == nil {
            let target = consumeTarget
            atConsumer(consumer + 1) { consumer, step in consumer.connect(target: target, &step) }
        }
    }

    // MARK: - The event loop

    mutating func brokerReceive(_ index: Int, _ payload: RabbitPayload, from: NodeID) {
        // During a resource alarm no node reads from publishing connections (RMQ-21).
        if case .publish(let copy) = payload, alarms.values.contains(where: { !$0.isEmpty }) {
            blockedPublishes.append((index, payload, from))
            atNode(index) { node, step, _ in
                step.note(.queue(.publishBlocked(node: node.id, message: copy.message)))
            }
            return
        }
        // A consume from a connection that has since closed never reaches the queue.
        if case .consume(let consumer) = payload, consumers[consumer - 1].connectedTo != nodes[index].id {
            return
        }
        atNode(index) { node, step, shared in node.receive(payload, from: from, &step, &shared) }
    }

    mutating func producerReceive(_ index: Int, _ payload: RabbitPayload, from _: NodeID) {
        atPublisher(index + 1) { publisher, step, _ in publisher.receive(payload, &step) }
    }

    mutating func consumerReceive(_ index: Int, _ payload: RabbitPayload, from: NodeID) {
        atConsumer(index + 1) { consumer, step in
            consumer.receive(payload, from: from, &step)
        }
    }

    mutating func fire(_ timer: RabbitTimer, at node: NodeID) {
        switch (node, timer) {
        case (.broker(let id), _):
            atNode(id.value - 1) { node, step, shared in node.fire(timer, &step, &shared) }
        case (.producer(let publisher), _):
            atPublisher(publisher) { publisher, step, _ in publisher.fire(timer, &step) }
        case (.consumer(let consumer), .processed):
            atConsumer(consumer) { consumer, step in consumer.finishProcessing(&step) }
        case (.consumer(let consumer), .reconnect):
            let target = consumeTarget
            atConsumer(consumer) { consumer, step in consumer.connect(target: target, &step) }
        default: preconditionFailure("timer \(timer) fired at \(node)")
        }
    }

    // MARK: - Actions

    /// RMQ-21: an alarm on any node blocks every node's publishing connections; when the last
    /// one clears, the nodes read what waited, in arrival order. Consumers are never blocked.
    mutating func setAlarm(_ broker: BrokerID, _ alarm: ResourceAlarm, raised: Bool) {
        guard engine.isUp(.broker(broker)) else { return }
        if raised {
            guard alarms[broker, default: []].insert(alarm).inserted else { return }
        } else {
            guard alarms[broker]?.remove(alarm) != nil else { return }
        }
        atNode(broker.value - 1) { node, step, _ in
            step.note(.queue(.alarm(node: node.id, resource: alarm.rawValue, raised: raised)))
        }
        readBlockedPublishes()
    }

    /// With no alarm left in force, the nodes read what waited in their connections.
    mutating func readBlockedPublishes() {
        guard !alarms.values.contains(where: { !$0.isEmpty }) else { return }
        let waiting = blockedPublishes
        blockedPublishes = []
        for publish in waiting where engine.isUp(.broker(BrokerID(publish.node + 1))) {
            brokerReceive(publish.node, publish.payload, from: publish.from)
        }
    }

    mutating func crashBroker(_ broker: BrokerID, _ fault: Fault) {
        guard engine.crash(.broker(broker), fault) else { return }
        // The process's alarms end with it, and what waited unread in its sockets is gone.
        alarms[broker] = nil
        blockedPublishes.removeAll { $0.node == broker.value - 1 }
        defer { readBlockedPublishes() }
        engine.resetConnections(of: .broker(broker))
        atNode(broker.value - 1) { node, step, _ in node.crash(fault, &step) }
        // Clients connected to the node see their connections close.
        for publisher in publishers.indices where publishers[publisher].connectedTo == broker {
            atPublisher(publisher + 1) { publisher, step, _ in
                publisher.connectionLost(&step)
            }
        }
        for consumer in consumers.indices where consumers[consumer].connectedTo == broker {
            atConsumer(consumer + 1) { consumer, step in consumer.nodeConnectionLost(&step) }
        }
    }

    mutating func restartBroker(_ broker: BrokerID) {
        guard engine.restart(.broker(broker)) else { return }
        atNode(broker.value - 1) { node, step, shared in node.restart(&step, &shared) }
    }

    mutating func setProperties(_ properties: MessageProperties, for messages: [MessageID]) {
        for message in messages { shared.properties[message.value] = properties }
    }

    mutating func produce(_ messages: [MessageID], producer: Int) {
        let target = entryNode()
        atPublisher(producer) { publisher, step, shared in
            publisher.publish(messages, target: target, &step, &shared)
        }
    }

    mutating func crashProducer(_ producer: Int) {
        engine.restartApplication(.producer(producer))
        atPublisher(producer) { publisher, step, _ in publisher.restarted(&step) }
    }

    mutating func takeUnacknowledged(_ producer: Int) -> [MessageID] {
        publishers[producer - 1].takeUnconfirmed()
    }

    mutating func beginConsuming(_ consumer: Int) {
        consumers[consumer - 1].active = true
        let target = consumeTarget
        atConsumer(consumer) { consumer, step in consumer.connect(target: target, &step) }
    }

    mutating func crashConsumer(_ consumer: Int) {
        guard engine.crash(.consumer(consumer), .applicationCrash) else { return }
        atConsumer(consumer) { consumer, step in
            consumer.busy = false
            consumer.closeConnection(&step)
        }
    }

    mutating func stopConsumer(_ consumer: Int) {
        atConsumer(consumer) { consumer, step in
            consumer.active = false
            consumer.closeConnection(&step)
        }
    }
}

extension RaftEntry {
    var enqueued: MessageID? {
        if case .enqueue(let message) = command { return message.copy.message }
        return nil
    }
}
