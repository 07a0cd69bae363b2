// Theory of operation
//
// The partitioned-topic Kafka model: one topic `t` of num.partitions partitions on a healthy
// cluster (node B1: every leader, the group coordinator and the transaction coordinator),
// producers p1.. that partition by key, and a consumer group c1... It is where partitioning,
// consumer groups and rebalances, lag across partitions and transactions are shown; replication,
// elections and broker faults are the one-partition model's (KafkaWorld), and the scenario
// parser refuses broker faults here. It runs on the shared engine like every model: the same
// seed and scenario give the same trace.

struct KafkaTopicWorld: StepHosted {
    typealias Step = NodeStep<TopicPayload, TopicTimer>

    let config: KafkaConfig
    let seed: UInt64
    var engine: WorldEngine<TopicPayload, TopicTimer>
    var cluster: TopicCluster
    var producers: [TopicProducer] = []
    var consumers: [TopicConsumer] = []
    var consumerSpecs: [TopicConsumerSpec] = []
    var incarnations: [Int] = []
    /// Message keys, by message id (`produce m1 key user-1`).
    var keys: [MessageID: String] = [:]
    /// Records with a null value (`produce d key user-1 tombstone`).
    var tombstones: Set<MessageID> = []

    var fsyncs: Int { 0 }

    init(config: KafkaConfig, seed: UInt64, recordsTrace: Bool = true) {
        self.config = config
        self.seed = seed
        engine = WorldEngine(seed: seed, networkDelay: config.networkDelayMs, recordsTrace: recordsTrace)
        cluster = TopicCluster(config: config)
        atCluster { cluster, step in cluster.start(&step) }
    }

    var partitionCount: Int { cluster.partitions.count }

    mutating func addProducer(transactionalID: String? = nil) -> Int {
        let index = producers.count + 1
        producers.append(
            TopicProducer(
                index: index, config: config, partitions: partitionCount,
                random: SeededRandom(seed: seed).child("partitioner-p\(index)"),
                transactionalID: transactionalID))
        return index
    }

    mutating func addConsumer(_ spec: TopicConsumerSpec) -> Int {
        let index = consumers.count + 1
        consumers.append(
            TopicConsumer(
                index: index, incarnation: 1, config: config, spec: spec, partitions: partitionCount))
        consumerSpecs.append(spec)
        incarnations.append(1)
        engine.notStarted(.consumer(index))
        return index
    }

    var allNodes: [NodeID] {
        [TopicCluster.node] + producers.indices.map { .producer($0 + 1) }
            + consumers.indices.map { .consumer($0 + 1) }
    }

    // MARK: - Steps

    @inline(__always)
    mutating func atCluster(_ act: (inout TopicCluster, inout Step) -> Void) {
        Self.step(TopicCluster.node, engine: &engine, state: &cluster, act)
    }

    @inline(__always)
    mutating func atProducer(_ producer: Int, _ act: (inout TopicProducer, inout Step) -> Void) {
        Self.step(.producer(producer), engine: &engine, state: &producers[producer - 1], act)
    }

    @inline(__always)
    mutating func atConsumer(_ consumer: Int, _ act: (inout TopicConsumer, inout Step) -> Void) {
        Self.step(.consumer(consumer), engine: &engine, state: &consumers[consumer - 1], act)
    }

    func checkInvariants() {
        for partition in cluster.partitions {
            precondition(
                partition.lastStableOffset <= partition.logEnd,
                "invariant broken (seed \(seed)): LSO beyond the log end")
        }
    }

    mutating func brokerReceive(_: Int, _ payload: TopicPayload, from: NodeID) {
        atCluster { cluster, step in cluster.receive(payload, from: from, &step) }
    }

    mutating func producerReceive(_ index: Int, _ payload: TopicPayload, from _: NodeID) {
        atProducer(index + 1) { producer, step in producer.receive(payload, &step) }
    }

    mutating func consumerReceive(_ index: Int, _ payload: TopicPayload, from _: NodeID) {
        let partitions = partitionCount
        atConsumer(index + 1) { consumer, step in consumer.receive(payload, partitions: partitions, &step) }
    }

    mutating func fire(_ timer: TopicTimer, at node: NodeID) {
        let partitions = partitionCount
        switch node {
        case .broker: atCluster { cluster, step in cluster.fire(timer, &step) }
        case .consumer(let index):
            atConsumer(index) { consumer, step in consumer.fire(timer, partitions: partitions, &step) }
        case .producer, .controller: preconditionFailure("timer \(timer) fired at \(node)")
        }
    }

    // MARK: - Actions

    /// The parser refuses broker faults here; a random fault schedule never names B1 either.
    mutating func crashBroker(_: BrokerID, _: Fault) {}
    mutating func restartBroker(_: BrokerID) {}

    mutating func setProperties(_ properties: MessageProperties, for messages: [MessageID]) {
        if properties.tombstone { tombstones.formUnion(messages) }
        if let cycle = properties.keyCycle {
            for (position, message) in messages.enumerated() { keys[message] = "k\(position % cycle)" }
        } else if let key = properties.key {
            for message in messages { keys[message] = key }
        }
    }

    mutating func produce(_ messages: [MessageID], producer: Int) {
        guard producer <= producers.count else { return }
        let partitions = partitionCount
        let keyed = messages.map { ($0, key: keys[$0]) }
        let tombstones = tombstones
        atProducer(producer) { producer, step in
            producer.send(keyed, tombstones: tombstones, partitions: partitions, &step)
        }
    }

    mutating func transaction(_ producer: Int, _ action: TransactionAction) {
        guard producer <= producers.count else { return }
        atProducer(producer) { producer, step in
            switch action {
            case .begin: producer.begin(&step)
            case .commit: producer.end(commit: true, &step)
            case .abort: producer.end(commit: false, &step)
            }
        }
    }

    mutating func addPartitions(_ count: Int) {
        guard count > partitionCount else { return }
        cluster.addPartitions(to: count)
        note(.topic(.partitionsAdded(count: count)), at: TopicCluster.node)
    }

    /// The application dies and its supervisor starts it again: a new producer instance, which
    /// must call initTransactions() again; what it had in flight is in doubt.
    mutating func crashProducer(_ producer: Int) {
        guard producer <= producers.count else { return }
        note(.crashed(node: .producer(producer), fault: .applicationCrash), at: .producer(producer))
        for sends in producers[producer - 1].inFlight.values {
            for send in sends {
                record.recorder.history.complete(
                    send.call, .info(error: "the application crashed before the answer", time: now))
            }
        }
        var fresh = TopicProducer(
            index: producer, config: config, partitions: partitionCount,
            random: SeededRandom(seed: seed).child(
                "partitioner-p\(producer)-\(producers[producer - 1].session + 1)"),
            transactionalID: producers[producer - 1].transactionalID)
        fresh.session = producers[producer - 1].session + 1
        engine.restartApplication(.producer(producer))
        producers[producer - 1] = fresh
    }

    mutating func resendUnacknowledged(_ producer: Int) {}

    mutating func startConsumer(_ consumer: Int) {
        guard engine.startProcess(.consumer(consumer)) else { return }
        engine.resetConnections(of: .consumer(consumer))
        let partitions = partitionCount
        atConsumer(consumer) { consumer, step in consumer.start(&step, partitions: partitions) }
    }

    /// The process dies: positions and the batch in hand are gone; the group notices only when
    /// the session expires. It comes back with `start cN` as a new member.
    mutating func crashConsumer(_ consumer: Int) {
        guard engine.isUp(.consumer(consumer)) else { return }
        note(.crashed(node: .consumer(consumer), fault: .applicationCrash), at: .consumer(consumer))
        _ = engine.crashProcess(.consumer(consumer))
        replaceConsumer(consumer)
    }

    mutating func stopConsumer(_ consumer: Int) {
        guard engine.isUp(.consumer(consumer)) else { return }
        atConsumer(consumer) { consumer, step in consumer.stop(&step) }
        _ = engine.crashProcess(.consumer(consumer))
        replaceConsumer(consumer)
    }

    private mutating func replaceConsumer(_ consumer: Int) {
        let index = consumer - 1
        incarnations[index] += 1
        let old = consumers[index]
        consumers[index] = TopicConsumer(
            index: consumer, incarnation: incarnations[index], config: config, spec: consumerSpecs[index],
            partitions: partitionCount)
        consumers[index].polled = old.polled
        consumers[index].processed = old.processed
        consumers[index].revokedCount = old.revokedCount
        consumers[index].requests = old.requests
    }

    // MARK: - What scenarios read

    func holds(_ condition: Condition) -> Bool {
        switch condition {
        case .acknowledged(let names):
            return names.allSatisfy { name in
                record.recorder.existingMessage(named: name).map { history.isAcknowledged($0) } ?? false
            }
        case .allCompleted: return history.pendingSends == 0
        case .processed(let consumer, let count):
            return consumer <= consumers.count && consumers[consumer - 1].processed >= count
        case .polled(let consumer, let count):
            return consumer <= consumers.count && consumers[consumer - 1].polled >= count
        case .committed(let offset):
            return cluster.committed.values.reduce(0, +) >= offset
        case .isr, .leaderIs, .offline, .replicated:
            return false
        }
    }

    func resolve(_ reference: NodeReference) -> NodeID? {
        switch reference {
        case .broker, .leader, .follower: TopicCluster.node
        case .controller: .controller
        case .producer(let index): .producer(index)
        case .consumer(let index): .consumer(index)
        }
    }

    var consumerLag: Int? { cluster.lag }

    /// `partition t-0`: that partition's records, markers left out.
    func finalContents(ofQueue name: String) -> [MessageID]? {
        guard name.hasPrefix("t-"), let partition = Int(name.dropFirst(2)), partition < partitionCount else {
            return nil
        }
        return cluster.dataRecords[partition]
    }

    /// Counts only this model has: `rebalances` and `revoked c1`.
    func measure(_ subject: Expectation.Subject) -> Int? {
        switch subject {
        case .rebalances: cluster.completedRebalances
        case .revoked(let consumer): consumer <= consumers.count ? consumers[consumer - 1].revokedCount : nil
        default: nil
        }
    }

    func check() -> CheckerReport { TopicChecker.check(self) }
}
