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

/// The controller as a state machine: it reads its step and writes effects.
struct ControllerState: Sendable {
    typealias Step = NodeStep<Payload, KafkaWorld.Timer>

    let config: KafkaConfig
    let replicas: [BrokerID]
    var partition: PartitionState
    /// By broker id (entry 0 unused): a world has a handful of brokers, and a heartbeat arrives
    /// every two seconds from each, so these are arrays rather than hashed sets.
    var lastHeartbeat: [Millis]
    var fenced: BrokerSet = []
    /// Brokers whose current process the controller has heard from. The oracle (S-05) learns of
    /// a crash at once; a restarted broker is fenced at its first heartbeat in KRaft.
    var knownAlive: BrokerSet

    // Consumer group.
    var members: [Int] = []
    var memberHeartbeat: [Int: Millis] = [:]
    var generation = 0
    var owner: Int?
    var committed: Offset?

    init(config: KafkaConfig, replicas: [BrokerID], brokers: Int) {
        self.config = config
        self.replicas = replicas
        knownAlive = BrokerSet((1...brokers).map(BrokerID.init))
        lastHeartbeat = [Millis](repeating: 0, count: brokers + 1)
        partition = PartitionState(
            leader: replicas.first, leaderEpoch: Epoch(0), isr: replicas, partitionEpoch: 0)
    }
}

extension ControllerState {
    mutating func receive(_ payload: Payload, from: NodeID, _ step: inout Step) {
        switch payload {
        case .heartbeat(let broker):
            handleHeartbeat(broker, &step)
        case .alterPartition(let leader, let leaderEpoch, let isr):
            // Accepted only from the current leader for the current epoch, and never adding a
            // fenced broker.
            if leader == partition.leader, leaderEpoch == partition.leaderEpoch,
                isr.contains(leader), isr.allSatisfy({ !fenced.contains($0) })
            {
                partition.isr = isr
                partition.partitionEpoch += 1
                step.note(.isrChanged(isr: isr, epoch: partition.leaderEpoch))
                broadcastPartitionState(&step)
            } else {
                step.send(.partitionState(partition), to: from)
            }
        case .joinGroup(let consumer):
            groupJoin(consumer, &step)
        case .groupHeartbeat(let consumer, let generation):
            if generation == generation { memberHeartbeat[consumer] = step.now }
        case .leaveGroup(let consumer):
            groupLeave(consumer, reason: "left the group", &step)
        case .offsetCommit(let consumer, let generation, let offset):
            // A member of an older generation lost its partition: CommitFailedException (K-CON-04).
            let accepted = generation == generation && owner == consumer
            if accepted { committed = offset }
            step.send(.offsetCommitResponse(ok: accepted, offset: offset), to: from)
        default:
            preconditionFailure("the controller does not handle \(payload.kind.rawValue)")
        }
    }

    mutating func fire(_ timer: KafkaWorld.Timer, _ step: inout Step) {
        switch timer {
        case .fencingCheck:
            for broker in replicas where !fenced.contains(broker) {
                if step.now - lastHeartbeat[broker.value] > config.brokerSessionTimeoutMs {
                    fence(broker, &step)
                }
            }
            step.setTimer(.fencingCheck, after: 1_000)
        case .groupCheck:
            for member in members {
                let last = memberHeartbeat[member] ?? 0
                if step.now - last > config.sessionTimeoutMs {
                    groupLeave(member, reason: "session.timeout.ms expired", &step)
                }
            }
            step.setTimer(.groupCheck, after: 1_000)
        default:
            preconditionFailure("the controller has no timer \(timer)")
        }
    }

    private mutating func handleHeartbeat(_ broker: BrokerID, _ step: inout Step) {
        lastHeartbeat[broker.value] = step.now
        if !knownAlive.contains(broker) {
            knownAlive.insert(broker)
            if config.version == .v37 {
                // KRaft: a restarted broker registers again, fenced until its next heartbeat.
                // (ZooKeeper-era controllers, the older profiles, do not notice a restart that is
                // quicker than the session timeout.)
                fence(broker, &step)
            }
        } else if fenced.contains(broker) {
            unfence(broker, &step)
        }
        step.send(.partitionState(partition), to: .broker(broker))
    }

    private mutating func fence(_ broker: BrokerID, _ step: inout Step) {
        guard fenced.insert(broker).inserted else { return }
        step.note(.fenced(broker: broker))
        var state = partition
        if state.isr.count > 1 { state.isr.removeAll { $0 == broker } }
        if state.leader == broker {
            state.leader = nil
            elect(&state, &step)
        }
        if state != partition {
            partition = state
            partition.partitionEpoch += 1
            if state.leader == nil {
                step.note(.offline(epoch: state.leaderEpoch, isr: state.isr))
            }
            broadcastPartitionState(&step)
        }
    }

    private mutating func unfence(_ broker: BrokerID, _ step: inout Step) {
        guard fenced.remove(broker) else { return }
        step.note(.unfenced(broker: broker))
        var state = partition
        if state.leader == nil { elect(&state, &step) }
        if state != partition {
            partition = state
            partition.partitionEpoch += 1
            broadcastPartitionState(&step)
        }
    }

    /// K-REP-08 and K-REP-09: elect a leader for a leaderless partition if the rules allow one.
    private mutating func elect(_ state: inout PartitionState, _ step: inout Step) {
        let fenced = fenced
        let alive = { (broker: BrokerID) in !fenced.contains(broker) }
        if let clean = replicas.first(where: { state.isr.contains($0) && alive($0) }) {
            state.leader = clean
            state.leaderEpoch = state.leaderEpoch.next
            step.note(.elected(leader: clean, epoch: state.leaderEpoch, clean: true, isr: state.isr))
        } else if config.uncleanLeaderElectionEnable, let unclean = replicas.first(where: alive) {
            state.leader = unclean
            state.leaderEpoch = state.leaderEpoch.next
            state.isr = [unclean]  // "This can result in data loss!"
            step.note(.elected(leader: unclean, epoch: state.leaderEpoch, clean: false, isr: state.isr))
        }
    }

    private mutating func broadcastPartitionState(_ step: inout Step) {
        for broker in replicas {
            step.send(.partitionState(partition), to: .broker(broker))
        }
    }

    // MARK: - Consumer group

    private mutating func groupJoin(_ consumer: Int, _ step: inout Step) {
        if !members.contains(consumer) { members.append(consumer) }
        memberHeartbeat[consumer] = step.now
        rebalance(&step)
    }

    private mutating func groupLeave(_ consumer: Int, reason: String, _ step: inout Step) {
        guard let position = members.firstIndex(of: consumer) else { return }
        members.remove(at: position)
        step.note(.leftGroup(consumer: consumer, reason: reason))
        rebalance(&step)
    }

    /// Gives P0 to the first member; every member learns the new generation.
    private mutating func rebalance(_ step: inout Step) {
        generation += 1
        owner = members.first
        for member in members {
            step.send(
                .joinResponse(
                    generation: generation, assigned: member == owner,
                    committed: committed), to: .consumer(member))
        }
    }
}

extension KafkaWorld {
    mutating func controllerReceive(_ payload: Payload, from: NodeID) {
        var none: Void = ()
        _ = Self.step(.controller, engine: &engine, state: &controller, shared: &none) {
            controller, step, _ in
            controller.receive(payload, from: from, &step)
        }
    }

    mutating func controllerTimer(_ timer: Timer) {
        var none: Void = ()
        _ = Self.step(.controller, engine: &engine, state: &controller, shared: &none) {
            controller, step, _ in
            controller.fire(timer, &step)
        }
    }
}

/// A set of brokers as bits: B1 to B63, without hashing (the controller asks on every heartbeat).
struct BrokerSet: Equatable, Sendable, ExpressibleByArrayLiteral {
    private var bits: UInt64 = 0

    init(_ brokers: some Sequence<BrokerID>) {
        for broker in brokers { insert(broker) }
    }

    init(arrayLiteral brokers: BrokerID...) {
        self.init(brokers)
    }

    func contains(_ broker: BrokerID) -> Bool { bits & (1 << UInt64(broker.value)) != 0 }

    /// Whether it was not in the set before.
    @discardableResult
    mutating func insert(_ broker: BrokerID) -> (inserted: Bool, memberAfterInsert: BrokerID) {
        precondition((1...63).contains(broker.value), "a BrokerSet holds B1 to B63")
        let inserted = !contains(broker)
        bits |= 1 << UInt64(broker.value)
        return (inserted, broker)
    }

    /// Whether it was in the set.
    @discardableResult
    mutating func remove(_ broker: BrokerID) -> Bool {
        let present = contains(broker)
        bits &= ~(1 << UInt64(broker.value))
        return present
    }
}
