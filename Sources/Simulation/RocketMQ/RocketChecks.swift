// What `wait until` asks of a RocketMQ world, what the checker reads, and the invariants.

extension RocketWorld {
    // MARK: - Conditions, checks and final state

    func holds(_ condition: Condition) -> Bool {
        switch condition {
        case .acknowledged, .allCompleted, .processed, .polled: return holdsOnClients(condition)
        case .replicated(let name, let broker):
            guard let id = engine.recorder.existingMessage(named: name) else { return false }
            return nodes[broker.value - 1].log.contains { $0.message == id }
        case .leaderIs, .offline, .isr, .committed:
            return false
        }
    }

    func resolve(_ reference: NodeReference) -> NodeID? {
        switch reference {
        case .broker(let id): return id.value <= nodes.count ? .broker(id) : nil
        case .leader: return .broker(BrokerID(1))
        case .follower: return nodes.count > 1 ? .broker(BrokerID(2)) : nil
        case .controller: return nil
        case .producer(let index): return .producer(index)
        case .consumer(let index): return .consumer(index)
        }
    }

    /// What each broker group holds at the end, master and slave together (a slave's copy
    /// survives its master's disk), as on disk for a node that is down.
    func stored(where keep: (RocketTopic) -> Bool) -> [(message: MessageID, copy: Int)] {
        var seen = Set<Int>()
        var result: [(message: MessageID, copy: Int)] = []
        for node in nodes {
            for entry in node.log where keep(entry.topic) && seen.insert(entry.copy).inserted {
                result.append((entry.message, entry.copy))
            }
        }
        return result
    }

    func finalContents(ofQueue name: String) -> [MessageID]? {
        switch name {
        case "q": stored { $0 == .topic }.map(\.message)
        case "dlq": stored { $0 == .dlq }.map(\.message)
        default: nil
        }
    }

    func check() -> CheckerReport {
        QueueChecker.checkStore(
            history: history, messageCount: messageCount,
            stored: stored { [.topic, .retry, .schedule, .dlq].contains($0) },
            order: stored { $0 == .topic }.map(\.message),
            retrying: Set(stored { [.retry, .schedule, .dlq].contains($0) }.map(\.message)),
            witness: { Checker.witness(for: $0, trace: trace, recordsTrace: recordsTrace) })
    }

    func checkInvariants() {
        for node in nodes {
            precondition(
                node.flushed <= node.log.count, "invariant broken (seed \(seed)): flushed beyond the log")
        }
    }
}
