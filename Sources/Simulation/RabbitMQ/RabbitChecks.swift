// What `wait until` asks of a RabbitMQ world, what the checker reads, and the invariants.

extension RabbitWorld {
    // MARK: - Conditions, checks and final state

    func holds(_ condition: Condition) -> Bool {
        switch condition {
        case .acknowledged, .allCompleted, .processed, .polled: return holdsOnClients(condition)
        case .leaderIs(let broker):
            return currentLeader == broker
        case .offline:
            return isQuorum && currentLeader == nil
        case .replicated(let name, let broker):
            guard let id = engine.recorder.existingMessage(named: name) else { return false }
            return nodes[broker.value - 1].log.contains { $0.enqueued == id }
        case .isr, .committed:
            return false
        }
    }

    func resolve(_ reference: NodeReference) -> NodeID? {
        switch reference {
        case .broker(let id): return .broker(id)
        case .leader: return (isQuorum ? currentLeader : BrokerID(1)).map(NodeID.broker)
        case .follower:
            guard isQuorum, let leader = currentLeader else { return nil }
            return nodes.first { engine.isUp(.broker($0.id)) && $0.id != leader }.map { .broker($0.id) }
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
                ?? nodes.filter { engine.isUp(.broker($0.id)) }.max { $0.memory.applied < $1.memory.applied }
            return holder?.memory.quorum ?? []
        }
        guard engine.isUp(.broker(nodes[0].id)) else {
            // A node that is down still has its disk: what a restart would recover.
            return nodes[0].store.filter { $0.queue == name && !$0.deleted }.map(\.message)
        }
        return nodes[0].memory.queues[name]?.all ?? []
    }

    func finalContents(ofQueue name: String) -> [MessageID]? {
        guard queueNames.contains(name) else { return nil }
        return finalCopies(ofQueue: name).map(\.copy.message)
    }

    func check() -> CheckerReport {
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
                nodes[index].memory.applied <= nodes[index].memory.commitIndex,
                "invariant broken (seed \(seed)): applied beyond commit")
            precondition(
                nodes[index].fsyncedUpTo <= nodes[index].log.count,
                "invariant broken (seed \(seed)): fsynced beyond the log")
        }
        for a in nodes.indices where engine.isUp(.broker(nodes[a].id)) && nodes[a].isLeader {
            for b in nodes.indices where b > a && engine.isUp(.broker(nodes[b].id)) && nodes[b].isLeader {
                precondition(
                    nodes[a].term != nodes[b].term,
                    "invariant broken (seed \(seed)): two leaders in term \(nodes[a].term)")
            }
        }
    }
}
