extension KafkaWorld {
    /// Every node of the world, for isolating one from all others.
    public var allNodes: [NodeID] {
        [.controller] + brokers.map { .broker($0.id) } + producers.indices.map { .producer($0 + 1) }
            + consumers.indices.map { .consumer($0 + 1) }
    }

    /// Schedules `action` at an absolute time (random fault schedules).
    public mutating func schedule(_ action: WorldAction, at time: Millis) {
        engine.schedule(action, at: time)
    }

    /// Applies `action` now.
    public mutating func perform(_ action: WorldAction) {
        if engine.applyNetworkFault(action, allNodes: allNodes) { return }
        switch action {
        case .crash(let broker, let fault):
            crashBroker(broker.value - 1, fault)
        case .restart(let broker):
            restartBroker(broker.value - 1)
        case .pause(let node, let milliseconds):
            note(.paused(node: node, milliseconds: milliseconds), at: node)
            switch node {
            case .broker(let id): brokers[id.value - 1].pausedUntil = now + milliseconds
            case .consumer(let index): consumers[index - 1].pausedUntil = now + milliseconds
            default: break
            }
        case .partition, .isolate, .heal, .drop, .delay:
            break  // The engine's: applyNetworkFault above.
        case .produce(let messages, let producer):
            produce(messages, producer: producer)
        case .crashApplication(let producer):
            crashProducerApplication(producer)
        case .resendUnacknowledged(let producer):
            resendUnacknowledged(producer)
        case .startConsumer(let consumer):
            startConsumer(consumer)
        case .crashConsumer(let consumer):
            crashConsumer(consumer)
        case .stopConsumer(let consumer):
            stopConsumer(consumer)
        }
    }

    /// A process crash keeps the page cache; a power loss keeps only what was flushed; a disk
    /// loss keeps nothing (K-REP-12, S-02).
    private mutating func crashBroker(_ index: Int, _ fault: Fault) {
        let node = brokerNode(index)
        guard brokers[index].isUp else { return }
        note(.crashed(node: node, fault: fault), at: node)
        var broker = brokers[index]
        broker.isUp = false
        broker.lastKnownAlive = false
        broker.incarnation += 1
        broker.pausedUntil = nil
        switch fault {
        case .powerLoss:
            let removed = broker.truncate(to: broker.flushedOffset)
            if !removed.isEmpty {
                note(
                    .truncated(
                        broker: broker.id, to: Offset(broker.logEndOffset), removed: removed,
                        reason: .powerLoss), at: node)
            }
        case .diskLoss:
            let removed = broker.truncate(to: 0)
            broker.epochCache = []
            if !removed.isEmpty {
                note(
                    .truncated(broker: broker.id, to: Offset(0), removed: removed, reason: .diskLoss),
                    at: node)
            }
        case .crash, .applicationCrash:
            break
        }
        // Memory is gone; the log (and its checkpoints) is what the restart finds.
        broker.partitionEpoch = -1
        broker.leader = nil
        broker.leaderEpoch = Epoch(-1)
        broker.isr = []
        broker.followers = [FollowerState?](repeating: nil, count: 10)
        broker.purgatory = []
        broker.parkedFetches = []
        broker.proposedIsr = nil
        broker.fetchInFlight = nil
        broker.fetchWatchdogArmed = false
        broker.purgatoryWatchdogArmed = false
        brokers[index] = broker
    }

    private mutating func restartBroker(_ index: Int) {
        guard !brokers[index].isUp else { return }
        engine.resetConnections(of: brokerNode(index))
        brokers[index].isUp = true
        brokers[index].incarnation += 1
        brokers[index].rebuildProducerStates()
        note(.restarted(node: brokerNode(index)), at: brokerNode(index))
        setTimer(.brokerHeartbeat, for: brokerNode(index), after: 0)
        setTimer(.writeback, for: brokerNode(index), after: config.osWritebackMs)
    }

    // MARK: - What scenarios wait for

    public var leader: BrokerID? { controller.partition.leader }
    public var isr: [BrokerID] { controller.partition.isr }
    public var leaderEpoch: Epoch { controller.partition.leaderEpoch }
    public var replicas: [BrokerID] { controller.replicas }

    public func isUp(_ broker: BrokerID) -> Bool { brokers[broker.value - 1].isUp }
    public func log(of broker: BrokerID) -> [Record] { brokers[broker.value - 1].log.records }
    public func highWatermark(of broker: BrokerID) -> Int { brokers[broker.value - 1].highWatermark }

    /// Whether every send of `message` has completed and one was acknowledged.
    public func isAcknowledged(_ message: MessageID) -> Bool { history.isAcknowledged(message) }

    /// Whether every send so far has an outcome.
    public var allSendsCompleted: Bool { history.pendingSends == 0 }

    /// The log the partition will serve from: the leader's, or with no leader, the first ISR
    /// member's in assignment order (the one a clean election would pick when it returns).
    public var authoritativeLog: [Record] {
        if let leader = controller.partition.leader { return log(of: leader) }
        let holder =
            controller.replicas.first { controller.partition.isr.contains($0) } ?? controller.replicas[0]
        return log(of: holder)
    }
}

extension KafkaWorld {
    /// Whether a scenario condition holds now.
    public func holds(_ condition: Condition) -> Bool {
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

    /// The application sends one message every `every` ms: one pending event at a time, not
    /// one per message, so the event queue stays small.
    public mutating func producePaced(_ messages: [MessageID], producer: Int, every: Millis) {
        engine.producePaced(messages, producer: producer, every: every)
    }
}
