extension KafkaWorld {
    /// Every node of the world, for isolating one from all others.
    var allNodes: [NodeID] {
        [.controller] + brokers.map { .broker($0.id) } + producers.indices.map { .producer($0 + 1) }
            + consumers.indices.map { .consumer($0 + 1) }
    }

    /// The controller, an oracle, learns of a crash at once (S-05); what the broker keeps is
    /// its own rule (BrokerState.crash).
    mutating func crashBroker(_ broker: BrokerID, _ fault: Fault) {
        guard engine.crash(.broker(broker), fault) else { return }
        controller.knownAlive.remove(broker)
        atBroker(broker.value - 1) { broker, step, _ in broker.crash(fault, &step) }
        // A process crash: the host's kernel resets its connections, and clients learn at once
        // (K-PRD-18). A power loss or a disk loss takes the host down: no reset, clients wait
        // out request.timeout.ms.
        guard fault == .crash else { return }
        let metadata = controller.partition.leader
        for producer in producers.indices where engine.isUp(.producer(producer + 1)) {
            atProducer(producer + 1) { producer, step, shared in
                producer.connectionClosed(by: broker, metadata: metadata, &step, &shared)
            }
        }
        let consumerMetadata = consumerMetadata
        for consumer in consumers.indices where engine.isUp(.consumer(consumer + 1)) {
            atConsumer(consumer + 1) { consumer, step, shared in
                consumer.connectionClosed(by: broker, consumerMetadata, &step, &shared)
            }
        }
    }

    mutating func restartBroker(_ broker: BrokerID) {
        guard engine.restart(.broker(broker)) else { return }
        engine.resetConnections(of: .broker(broker))
        atBroker(broker.value - 1) { broker, step, _ in broker.restart(&step) }
    }

    // MARK: - What scenarios wait for

    var leader: BrokerID? { controller.partition.leader }
    var isr: [BrokerID] { controller.partition.isr }
    var leaderEpoch: Epoch { controller.partition.leaderEpoch }
    var replicas: [BrokerID] { controller.replicas }

    func isUp(_ broker: BrokerID) -> Bool { engine.isUp(.broker(broker)) }
    func log(of broker: BrokerID) -> [Record] { brokers[broker.value - 1].log.records }
    func highWatermark(of broker: BrokerID) -> Int { brokers[broker.value - 1].highWatermark }

    /// Whether every send of `message` has completed and one was acknowledged.
    func isAcknowledged(_ message: MessageID) -> Bool { history.isAcknowledged(message) }

    /// Whether every send so far has an outcome.
    var allSendsCompleted: Bool { history.pendingSends == 0 }

    /// The log the partition will serve from: the leader's, or with no leader, the first ISR
    /// member's in assignment order (the one a clean election would pick when it returns).
    var authoritativeLog: [Record] {
        if let leader = controller.partition.leader { return log(of: leader) }
        let holder =
            controller.replicas.first { controller.partition.isr.contains($0) } ?? controller.replicas[0]
        return log(of: holder)
    }
}

extension KafkaWorld {
    /// Whether a scenario condition holds now.
    func holds(_ condition: Condition) -> Bool {
        let world = self
        switch condition {
        case .acknowledged(let names):
            return names.allSatisfy { name in world.messageID(named: name).map(world.isAcknowledged) ?? false
            }
        case .allCompleted:
            return world.allSendsCompleted
        case .isr(let isr):
            return world.isr == isr
        case .leaderIs(let broker):
            return world.leader == broker
        case .offline:
            return world.leader == nil
        case .replicated(let name, let broker):
            guard let id = world.messageID(named: name) else { return false }
            return world.log(of: broker).contains { $0.message == id }
        case .processed(let consumer, let count):
            return world.processedCount(consumer) >= count
        case .polled(let consumer, let count):
            return world.polledCount(consumer) >= count
        case .committed(let offset):
            return (world.committedOffset?.value ?? -1) >= offset
        }
    }

}
