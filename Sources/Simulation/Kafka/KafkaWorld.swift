// Theory of operation
//
// A KafkaWorld is one partition (P0) replicated on N brokers, a controller that is an oracle for
// leadership and ISR (and, for simplicity, the consumer group's coordinator), and any number of
// producers and consumers. Everything happens as events on one queue ordered by (time, sequence):
// network deliveries, node timers and scheduled faults. The world owns every source of
// nondeterminism: simulated time, the network's latencies, and a seeded generator with one child
// per component, so the same seed and scenario give the same trace in any process.
//
// Nodes do not call each other. A broker, the controller and the clients react to a delivered
// message or a timer by changing their own state and sending messages through `send`, which asks
// the network when (and whether) they arrive. Faults are world actions: crash, power loss, disk
// loss, pause, partitions and drop or delay rules. After every event the world checks invariants
// (HW <= LEO, epochs never decrease, the ISR holds the leader); a broken one is a bug in the model
// and stops the run with the seed in the message.

/// The simulated Kafka world: brokers, controller, clients, network, history and trace.
public struct KafkaWorld: ScenarioWorld {
    public let config: KafkaConfig
    public let seed: UInt64
    public private(set) var now: Millis = 0

    var queue = EventQueue<Event>()
    var network: Network
    var networkRandom: SeededRandom

    var brokers: [BrokerState]
    var controller: ControllerState
    var producers: [ProducerState] = []
    var consumers: [ConsumerState] = []

    public internal(set) var history = History()
    public private(set) var trace: [TraceEvent] = []
    /// Keeping every trace event costs memory; sweeps only hash them.
    public let recordsTrace: Bool
    var hasher = TraceHasher()
    public private(set) var eventCount = 0
    /// Messages put on the network, for `mqproof compare`.
    public private(set) var networkMessages = 0
    /// Kafka leaves flushing to the operating system (flush.messages is unset): no fsync is on
    /// the write path, so the simulator counts none.
    public var fsyncs: Int { 0 }

    var messageNames = MessageNames()
    var nextRequest = 1
    var pacedSends: [PacedSend] = []
    var nextProducerID = 7

    enum Event: Sendable {
        /// The payload first and the nodes packed: the event is copied in and out of the queue,
        /// and this keeps it at 60 bytes instead of 89.
        case deliver(Payload, from: PackedNode, to: PackedNode)
        case timer(node: NodeID, incarnation: Int, timer: Timer)
        case action(WorldAction)
        case pacedTick(Int)
    }

    enum Timer: Sendable {
        case brokerHeartbeat
        case isrExpiration
        /// One watchdog per follower for replica.socket.timeout.ms (armed, not one timer per fetch).
        case fetchWatchdog
        case fetchRetry
        case parkedFetchExpired(request: Int)
        /// One watchdog per leader for its purgatory's request timeouts.
        case purgatoryWatchdog
        case writeback
        case fencingCheck
        case requestWatchdog
        case producerRetry(batch: Int)
        case deliveryWatchdog
        case consumerWake
        case consumerFetchTimeout(request: Int)
        case consumerWorker
        case groupCheck
        case pauseOver
    }

    /// Creates the world with every broker up, B1 the leader at epoch 0 and every replica in sync.
    public init(config: KafkaConfig, seed: UInt64, recordsTrace: Bool = true) {
        self.config = config
        self.seed = seed
        self.recordsTrace = recordsTrace
        let root = SeededRandom(seed: seed)
        networkRandom = root.child("network")
        network = Network(delay: config.networkDelayMs)
        let replicas = (1...config.replicationFactor).map(BrokerID.init)
        brokers = (1...config.brokers).map { BrokerState(id: BrokerID($0)) }
        controller = ControllerState(replicas: replicas)
        let initial = controller.partition
        for replica in replicas {
            brokers[replica.value - 1].apply(initial, now: 0)
        }
        for index in brokers.indices {
            brokers[index].lastKnownAlive = true
            schedule(
                .timer(node: .broker(brokers[index].id), incarnation: 0, timer: .brokerHeartbeat), after: 0)
            schedule(
                .timer(node: .broker(brokers[index].id), incarnation: 0, timer: .writeback),
                after: config.osWritebackMs)
            if brokers[index].isLeader {
                schedule(
                    .timer(node: .broker(brokers[index].id), incarnation: 0, timer: .isrExpiration),
                    after: config.replicaLagTimeMaxMs / 2)
            }
        }
        for replica in replicas where replica != initial.leader {
            startFetching(replica.value - 1)
        }
        schedule(.timer(node: .controller, incarnation: 0, timer: .fencingCheck), after: 1_000)
        schedule(.timer(node: .controller, incarnation: 0, timer: .groupCheck), after: 1_000)
    }

    // MARK: - Names

    public var messageCount: Int { messageNames.count }

    /// The id for an application message name, creating it on first use.
    public mutating func message(named name: String) -> MessageID { messageNames.id(forName: name) }

    /// Ids for `count` new messages with automatic names `#first`, `#first+1`, ...
    public mutating func automaticMessages(count: Int, first: Int) -> [MessageID] {
        messageNames.numbered(count: count, first: first)
    }

    public func name(of message: MessageID) -> String { messageNames[message] }

    public func messageID(named name: String) -> MessageID? { messageNames.id(of: name) }

    // MARK: - The event loop

    mutating func schedule(_ event: Event, after delay: Millis) {
        queue.schedule(event, at: now + max(0, delay))
    }

    mutating func schedule(_ event: Event, at time: Millis) {
        queue.schedule(event, at: max(now, time))
    }

    /// Processes the next event, if any is due at or before `limit`. Returns false when none is.
    public mutating func step(until limit: Millis) -> Bool {
        guard let (time, event) = queue.pop(dueBy: limit) else { return false }
        now = time
        eventCount += 1
        switch consume event {
        case .deliver(let payload, let from, let to): deliver(payload, from: from.node, to: to.node)
        case .timer(let node, let incarnation, let timer): fire(timer, at: node, incarnation: incarnation)
        case .action(let action): perform(action)
        case .pacedTick(let index): pacedTick(index)
        }
        checkInvariants()
        return true
    }

    /// Runs until simulated time reaches `time` (or nothing is left to happen).
    public mutating func run(until time: Millis) {
        while step(until: time) {}
        now = max(now, time)
    }

    // MARK: - Messages and timers

    mutating func send(_ payload: Payload, from: NodeID, to: NodeID) {
        networkMessages += 1
        switch network.route(payload.kind, from: from, to: to, now: now, random: &networkRandom) {
        case .arrives(let arrival, let twice):
            queue.schedule(.deliver(payload, from: PackedNode(from), to: PackedNode(to)), at: arrival)
            if twice {
                queue.schedule(.deliver(payload, from: PackedNode(from), to: PackedNode(to)), at: arrival + 1)
            }
        case .dropped(let reason):
            note(.dropped(kind: payload.kind, from: from, to: to, reason: reason), at: from)
        }
    }

    mutating func setTimer(_ timer: Timer, for node: NodeID, after delay: Millis) {
        schedule(.timer(node: node, incarnation: incarnation(of: node), timer: timer), after: delay)
    }

    private func incarnation(of node: NodeID) -> Int {
        switch node {
        case .controller: 0
        case .broker(let id): brokers[id.value - 1].incarnation
        case .producer(let index): producers[index - 1].incarnation
        case .consumer(let index): consumers[index - 1].incarnation
        }
    }

    /// Until when a node is paused, if it is.
    private func pausedUntil(_ node: NodeID) -> Millis? {
        switch node {
        case .controller: nil
        case .broker(let id): brokers[id.value - 1].pausedUntil
        case .producer: nil
        case .consumer(let index): consumers[index - 1].pausedUntil
        }
    }

    private func isUp(_ node: NodeID) -> Bool {
        switch node {
        case .controller: true
        case .broker(let id): brokers[id.value - 1].isUp
        case .producer(let index): producers[index - 1].isUp
        case .consumer(let index): consumers[index - 1].isUp
        }
    }

    private mutating func deliver(_ payload: Payload, from: NodeID, to: NodeID) {
        // A partition that began while the message was in flight cuts it too.
        if network.isBlocked(from, to) {
            note(.dropped(kind: payload.kind, from: from, to: to, reason: .partition), at: from)
            return
        }
        guard isUp(to) else {
            refuseConnection(payload, from: from, to: to)
            return
        }
        if let until = pausedUntil(to), until > now {
            // A paused process reads its socket when it wakes up.
            queue.schedule(.deliver(payload, from: PackedNode(from), to: PackedNode(to)), at: until)
            return
        }
        switch to {
        case .broker(let id): brokerReceive(id.value - 1, payload, from: from)
        case .controller: controllerReceive(payload, from: from)
        case .producer(let index): producerReceive(index - 1, payload, from: from)
        case .consumer(let index): consumerReceive(index - 1, payload, from: from)
        }
    }

    /// A crashed process's host still answers: the connection is refused, and the client learns
    /// at once instead of waiting for its request timeout. (A partitioned host answers nothing.)
    private mutating func refuseConnection(_ payload: Payload, from: NodeID, to: NodeID) {
        switch payload {
        case .produce(let request, _, let acks) where acks != 0:
            send(
                .produceResponse(request: request, error: .networkException, baseOffset: nil), from: to,
                to: from)
        case .consumerFetch(let request, let offset, _):
            send(
                .consumerFetchResponse(
                    request: request, from: offset, records: [], logEnd: Offset(0), notLeader: true),
                from: to, to: from)
        default:
            break
        }
    }

    private mutating func fire(_ timer: Timer, at node: NodeID, incarnation: Int) {
        guard incarnation == self.incarnation(of: node), isUp(node) else { return }
        if let until = pausedUntil(node), until > now {
            queue.schedule(.timer(node: node, incarnation: incarnation, timer: timer), at: until)
            return
        }
        switch node {
        case .broker(let id): brokerTimer(id.value - 1, timer)
        case .controller: controllerTimer(timer)
        case .producer(let index): producerTimer(index - 1, timer)
        case .consumer(let index): consumerTimer(index - 1, timer)
        }
    }

    // MARK: - Trace

    public mutating func note(_ note: Note, at node: NodeID) {
        hasher.mix(now)
        hasher.mix(node.hashValueForTrace)
        note.encode(into: &hasher)
        if recordsTrace { trace.append(TraceEvent(time: now, node: node, note: note)) }
    }

    /// A follower copied `records`: the `.replicated` note, built only when the trace is kept.
    mutating func noteReplicated(_ records: [Record], broker: BrokerID, from offset: Offset, at node: NodeID)
    {
        guard recordsTrace else {
            hasher.mix(now)
            hasher.mix(node.hashValueForTrace)
            Note.encodeReplicated(
                broker: broker, from: offset, messages: records.lazy.map(\.message), into: &hasher)
            return
        }
        note(.replicated(broker: broker, from: offset, messages: records.map(\.message)), at: node)
    }

    /// A hash of every event noted so far: equal in two runs exactly when their traces are.
    public var traceHash: UInt64 { hasher.value }

    // MARK: - Invariants

    private func checkInvariants() {
        for broker in brokers {
            precondition(
                broker.highWatermark <= broker.log.count,
                "invariant broken (seed \(seed)): \(broker.id) HW \(broker.highWatermark) > LEO \(broker.log.count)"
            )
            precondition(
                broker.flushedOffset <= broker.log.count,
                "invariant broken (seed \(seed)): \(broker.id) flushed offset beyond LEO")
        }
        if let leader = controller.partition.leader {
            precondition(
                controller.partition.isr.contains(leader),
                "invariant broken (seed \(seed)): leader \(leader) not in ISR \(controller.partition.isr)")
        }
        precondition(!controller.partition.isr.isEmpty, "invariant broken (seed \(seed)): empty ISR")
    }
}
