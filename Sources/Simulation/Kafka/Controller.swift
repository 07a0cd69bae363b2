// Theory of operation
//
// The controller is an oracle (SIMPLIFICATION, semantics.md S-05): it never crashes, but the
// network can cut it off from brokers, and then it learns nothing from them and tells them
// nothing. It fences a broker whose heartbeats stop for broker.session.timeout.ms, and a broker
// that restarts is fenced at its first heartbeat (it re-registers) and unfenced at the next.
// Fencing takes the broker out of the ISR unless it is the last member (K-REP-07d) and, if it led
// the partition, elects the first ISR member in assignment order that is alive (K-REP-08); with
// no such member the partition goes offline, or with unclean.leader.election.enable the first
// live replica is elected with the ISR forced to just itself (K-REP-09). Leaders change the ISR
// by AlterPartition, accepted only for their current epoch. Every change is broadcast, and every
// heartbeat is answered with the current state, so a broker that missed a broadcast catches up.
//
// The same oracle coordinates the consumer group (SIMPLIFICATION: a group coordinator is a
// broker in Kafka): it assigns P0 to the first live member, keeps committed offsets durably, and
// rejects commits from a member of an older generation (CommitFailedException).

struct ControllerState: Sendable {
    let replicas: [BrokerID]
    var partition: PartitionState
    var lastHeartbeat: [BrokerID: Millis] = [:]
    var fenced: Set<BrokerID> = []

    // Consumer group.
    var members: [Int] = []
    var memberHeartbeat: [Int: Millis] = [:]
    var generation = 0
    var owner: Int?
    var committed: Offset?

    init(replicas: [BrokerID]) {
        self.replicas = replicas
        partition = PartitionState(
            leader: replicas.first, leaderEpoch: Epoch(0), isr: replicas, partitionEpoch: 0)
    }
}

extension KafkaWorld {
    mutating func controllerReceive(_ payload: Payload, from: NodeID) {
        switch payload {
        case .heartbeat(let broker):
            handleHeartbeat(broker)
        case .alterPartition(let leader, let leaderEpoch, let isr):
            // Accepted only from the current leader for the current epoch, and never adding a
            // fenced broker.
            if leader == controller.partition.leader, leaderEpoch == controller.partition.leaderEpoch,
                isr.contains(leader), isr.allSatisfy({ !controller.fenced.contains($0) })
            {
                controller.partition.isr = isr
                controller.partition.partitionEpoch += 1
                note(.isrChanged(isr: isr, epoch: controller.partition.leaderEpoch), at: .controller)
                broadcastPartitionState()
            } else {
                send(.partitionState(controller.partition), from: .controller, to: from)
            }
        case .joinGroup(let consumer):
            groupJoin(consumer)
        case .groupHeartbeat(let consumer, let generation):
            if generation == controller.generation { controller.memberHeartbeat[consumer] = now }
        case .leaveGroup(let consumer):
            groupLeave(consumer, reason: "left the group")
        case .offsetCommit(let consumer, let generation, let offset):
            // A member of an older generation lost its partition: CommitFailedException (K-CON-04).
            let accepted = generation == controller.generation && controller.owner == consumer
            if accepted { controller.committed = offset }
            send(.offsetCommitResponse(ok: accepted, offset: offset), from: .controller, to: from)
        default:
            preconditionFailure("the controller does not handle \(payload.kind.rawValue)")
        }
    }

    mutating func controllerTimer(_ timer: Timer) {
        switch timer {
        case .fencingCheck:
            for broker in controller.replicas where !controller.fenced.contains(broker) {
                let last = controller.lastHeartbeat[broker] ?? 0
                if now - last > config.brokerSessionTimeoutMs { fence(broker) }
            }
            setTimer(.fencingCheck, for: .controller, after: 1_000)
        case .groupCheck:
            for member in controller.members {
                let last = controller.memberHeartbeat[member] ?? 0
                if now - last > config.sessionTimeoutMs {
                    groupLeave(member, reason: "session.timeout.ms expired")
                }
            }
            setTimer(.groupCheck, for: .controller, after: 1_000)
        default:
            preconditionFailure("the controller has no timer \(timer)")
        }
    }

    private mutating func handleHeartbeat(_ broker: BrokerID) {
        controller.lastHeartbeat[broker] = now
        if engine.processes[.broker(broker)].incarnation > 0, !brokers[broker.value - 1].lastKnownAlive {
            brokers[broker.value - 1].lastKnownAlive = true
            if config.version == .v37 {
                // KRaft: a restarted broker registers again, fenced until its next heartbeat.
                // (ZooKeeper-era controllers, the older profiles, do not notice a restart that is
                // quicker than the session timeout.)
                fence(broker)
            }
        } else if controller.fenced.contains(broker) {
            unfence(broker)
        }
        send(.partitionState(controller.partition), from: .controller, to: .broker(broker))
    }

    private mutating func fence(_ broker: BrokerID) {
        guard controller.fenced.insert(broker).inserted else { return }
        note(.fenced(broker: broker), at: .controller)
        var state = controller.partition
        if state.isr.count > 1 { state.isr.removeAll { $0 == broker } }
        if state.leader == broker {
            state.leader = nil
            elect(&state)
        }
        if state != controller.partition {
            controller.partition = state
            controller.partition.partitionEpoch += 1
            if state.leader == nil {
                note(.offline(epoch: state.leaderEpoch, isr: state.isr), at: .controller)
            }
            broadcastPartitionState()
        }
    }

    private mutating func unfence(_ broker: BrokerID) {
        guard controller.fenced.remove(broker) != nil else { return }
        note(.unfenced(broker: broker), at: .controller)
        var state = controller.partition
        if state.leader == nil { elect(&state) }
        if state != controller.partition {
            controller.partition = state
            controller.partition.partitionEpoch += 1
            broadcastPartitionState()
        }
    }

    /// K-REP-08 and K-REP-09: elect a leader for a leaderless partition if the rules allow one.
    private mutating func elect(_ state: inout PartitionState) {
        let fenced = controller.fenced
        let alive = { (broker: BrokerID) in !fenced.contains(broker) }
        if let clean = controller.replicas.first(where: { state.isr.contains($0) && alive($0) }) {
            state.leader = clean
            state.leaderEpoch = state.leaderEpoch.next
            note(
                .elected(leader: clean, epoch: state.leaderEpoch, clean: true, isr: state.isr),
                at: .controller)
        } else if config.uncleanLeaderElectionEnable, let unclean = controller.replicas.first(where: alive) {
            state.leader = unclean
            state.leaderEpoch = state.leaderEpoch.next
            state.isr = [unclean]  // "This can result in data loss!"
            note(
                .elected(leader: unclean, epoch: state.leaderEpoch, clean: false, isr: state.isr),
                at: .controller)
        }
    }

    private mutating func broadcastPartitionState() {
        for broker in controller.replicas {
            send(.partitionState(controller.partition), from: .controller, to: .broker(broker))
        }
    }

    // MARK: - Consumer group

    private mutating func groupJoin(_ consumer: Int) {
        if !controller.members.contains(consumer) { controller.members.append(consumer) }
        controller.memberHeartbeat[consumer] = now
        rebalance()
    }

    private mutating func groupLeave(_ consumer: Int, reason: String) {
        guard let position = controller.members.firstIndex(of: consumer) else { return }
        controller.members.remove(at: position)
        note(.leftGroup(consumer: consumer, reason: reason), at: .controller)
        rebalance()
    }

    /// Gives P0 to the first member; every member learns the new generation.
    private mutating func rebalance() {
        controller.generation += 1
        controller.owner = controller.members.first
        for member in controller.members {
            send(
                .joinResponse(
                    generation: controller.generation, assigned: member == controller.owner,
                    committed: controller.committed),
                from: .controller, to: .consumer(member))
        }
    }
}
