// What `wait until` asks of an ActiveMQ world and what the checker reads.

extension ActiveMQWorld {
    // MARK: - Conditions, checks and final state

    func holds(_ condition: Condition) -> Bool {
        switch condition {
        case .acknowledged, .allCompleted, .processed, .polled: return holdsOnClients(condition)
        case .replicated, .leaderIs, .offline, .isr, .committed:
            return false
        }
    }

    func resolve(_ reference: NodeReference) -> NodeID? {
        switch reference {
        case .broker(let id): return id.value == 1 ? Self.brokerNode : nil
        case .leader: return Self.brokerNode
        case .follower, .controller: return nil
        case .producer(let index): return .producer(index)
        case .consumer(let index): return .consumer(index)
        }
    }

    /// A queue's messages at the end: the broker's memory, or what a restart would recover.
    func finalMessages(_ queue: String) -> [AMQMessage] {
        guard engine.isUp(Self.brokerNode) else {
            return broker.recoveredFromJournal()[queue, default: []]
        }
        let inFlight = broker.memory.inFlight.keys.sorted().filter { broker.source(for: $0) == queue }.flatMap
        {
            broker.memory.inFlight[$0] ?? []
        }
        return (broker.memory.queues[queue, default: []] + inFlight).sorted { $0.position < $1.position }
    }

    /// The queues a check reads: the queue and the DLQ, or on a topic every subscription and the
    /// DLQ.
    var checkedQueues: [String] {
        config.destination == .topic ? consumers.indices.map { "c\($0 + 1)" } + ["dlq"] : ["q", "dlq"]
    }

    func finalContents(ofQueue name: String) -> [MessageID]? {
        guard ["q", "dlq", "out"].contains(name) || checkedQueues.contains(name) else { return nil }
        return finalMessages(name).map(\.message)
    }

    func check() -> CheckerReport {
        let held = checkedQueues.flatMap(finalMessages).map { message in
            QueuedMessage(
                copy: MessageCopy(
                    id: message.copy, message: message.message, persistent: message.persistent, publisher: 0),
                position: message.position)
        }
        // On a topic every subscription gets its own copy: a message processed once by each
        // subscriber is not processed twice.
        return QueueChecker.check(
            history: history, messageCount: messageCount, held: held,
            queueOrder: finalMessages("q").map(\.message), deliveryLimit: nil,
            twicePerConsumer: config.destination == .topic,
            witness: { Checker.witness(for: $0, trace: trace, recordsTrace: recordsTrace) })
    }
}
