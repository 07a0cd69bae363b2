// Theory of operation
//
// A KafkaWorld is one partition (P0) replicated on N brokers, a controller that is an oracle for
// leadership and ISR (and, for simplicity, the consumer group's coordinator), and any number of
// producers and consumers. It runs on the shared engine (WorldEngine, EngineHosted), like every
// broker: one queue of events ordered by (time, sequence), the network and its faults, simulated
// time and a seeded generator with one child per component, so the same seed and scenario give
// the same trace in any process.
//
// Nodes do not call each other. A broker, the controller and the clients react to a delivered
// message or a timer by changing their own state and sending messages through `send`, which asks
// the network when (and whether) they arrive. Faults are world actions: crash, power loss, disk
// loss, pause, partitions and drop or delay rules. After every event the world checks invariants
// (HW <= LEO, epochs never decrease, the ISR holds the leader); a broken one is a bug in the model
// and stops the run with the seed in the message.

/// The simulated Kafka world: brokers, controller, clients, network, history and trace.
struct KafkaWorld: StepHosted {
    let config: KafkaConfig
    let seed: UInt64
    var engine: WorldEngine<Payload, Timer>

    var brokers: [BrokerState]
    var controller: ControllerState
    var producers: [ProducerState] = []
    var consumers: [ConsumerState] = []

    /// Kafka leaves flushing to the operating system (flush.messages is unset): no fsync is on
    /// the write path, so the simulator counts none.
    var fsyncs: Int { 0 }

    var shared = KafkaShared()

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
        /// max.block.ms for the send() call that waits for buffer space (its history index).
        case maxBlock(call: Int)
        case consumerWake
        case consumerFetchTimeout(request: Int)
        case consumerWorker
        case groupCheck
        case pauseOver
    }

    /// Creates the world with every broker up, B1 the leader at epoch 0 and every replica in sync.
    init(config: KafkaConfig, seed: UInt64, recordsTrace: Bool = true) {
        self.config = config
        self.seed = seed
        engine = WorldEngine(seed: seed, networkDelay: config.networkDelayMs, recordsTrace: recordsTrace)
        let replicas = (1...config.replicationFactor).map(BrokerID.init)
        brokers = (1...config.brokers).map {
            BrokerState(id: BrokerID($0), config: config, replicas: replicas)
        }
        controller = ControllerState(config: config, replicas: replicas, brokers: config.brokers)
        let initial = controller.partition
        for replica in replicas {
            brokers[replica.value - 1].apply(initial, now: 0)
        }
        for index in brokers.indices {
            atBroker(index) { broker, step, _ in broker.start(&step) }
        }
        for replica in replicas where replica != initial.leader {
            atBroker(replica.value - 1) { broker, step, shared in broker.startFetching(&step, &shared) }
        }
        engine.setTimer(.fencingCheck, for: .controller, after: 1_000)
        engine.setTimer(.groupCheck, for: .controller, after: 1_000)
    }

    // MARK: - ScenarioWorld plumbing

    func messageID(named name: String) -> MessageID? { engine.recorder.existingMessage(named: name) }

    // MARK: - The event loop

    mutating func sendPaced(_ message: MessageID, producer: Int) { produce([message], producer: producer) }

    mutating func send(_ payload: Payload, from: NodeID, to: NodeID) {
        engine.transmit(payload, from: from, to: to)
    }

    /// Runs `act` as one step of broker `index` (from 0).
    @inline(__always)
    mutating func atBroker(
        _ index: Int, _ act: (inout BrokerState, inout BrokerState.Step, inout KafkaShared) -> Void
    ) {
        _ = Self.step(
            .broker(BrokerID(index + 1)), engine: &engine, state: &brokers[index], shared: &shared, act)
    }

    mutating func brokerReceive(_ index: Int, _ payload: Payload, from: NodeID) {
        atBroker(index) { broker, step, shared in broker.receive(payload, from: from, &step, &shared) }
    }

    /// A crashed process's host still answers: the connection is refused, and the client learns
    /// at once instead of waiting for its request timeout. (A partitioned host answers nothing.)
    mutating func receiverDown(_ payload: Payload, from: NodeID, to: NodeID) {
        switch payload {
        case .produce(let request, _, let acks) where acks != .none:
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

    mutating func fire(_ timer: Timer, at node: NodeID) {
        switch node {
        case .broker(let id):
            atBroker(id.value - 1) { broker, step, shared in broker.fire(timer, &step, &shared) }
        case .controller: controllerTimer(timer)
        case .producer(let index): producerTimer(index - 1, timer)
        case .consumer(let index): consumerTimer(index - 1, timer)
        }
    }

    // MARK: - Invariants

    @inline(__always)
    func checkInvariants() {
        // By index, reading fields in place: a copy of a broker would retain its log, every event.
        for index in brokers.indices {
            let logEnd = brokers[index].log.count
            precondition(
                brokers[index].highWatermark <= logEnd,
                "invariant broken (seed \(seed)): \(brokers[index].id) HW \(brokers[index].highWatermark) > LEO \(logEnd)"
            )
            precondition(
                brokers[index].flushedOffset <= logEnd,
                "invariant broken (seed \(seed)): \(brokers[index].id) flushed offset beyond LEO")
        }
        if let leader = controller.partition.leader {
            precondition(
                controller.partition.isr.contains(leader),
                "invariant broken (seed \(seed)): leader \(leader) not in ISR \(controller.partition.isr)")
        }
        precondition(!controller.partition.isr.isEmpty, "invariant broken (seed \(seed)): empty ISR")
    }
}
