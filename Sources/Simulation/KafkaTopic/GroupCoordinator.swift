// The group coordinator's part of B1 (the classic protocol, K-GRP-01..10): joins, rebalances,
// the assignment, static members. The rules are summed up in TopicCluster.swift.

extension TopicCluster {
    mutating func join(
        _ consumer: Int, member: Int, instance: String?, owned: [Int], known: Int, _ step: inout Step
    ) {
        if fencedMembers.contains(member) {
            step.send(
                .heartbeatResponse(member: member, generation: -1, error: .fencedInstanceID),
                to: .consumer(consumer))
            return
        }
        if let instance, let index = members.firstIndex(where: { $0.instance == instance }),
            members[index].member != member
        {
            // The old instance, if it still runs, is fenced from now on.
            fencedMembers.insert(members[index].member)
            members[index].consumer = consumer
            // A static member's new instance takes the old one's place (its old member id is
            // fenced); in a stable group it gets its partitions back with no rebalance (K-GRP-10).
            members[index].member = member
            members[index].knownPartitions = known
            members[index].lastHeartbeat = step.now
            members[index].owned = owned
            if !rebalancing {
                rejoinStatic(index, &step)
                return
            }
            members[index].joined = true
        } else if let index = members.firstIndex(where: { $0.consumer == consumer && $0.member == member }) {
            members[index].joined = true
            members[index].owned = owned
            members[index].knownPartitions = known
            members[index].lastHeartbeat = step.now
            if !rebalancing {
                // A known member rejoining a stable group asks for a new assignment.
                startRebalance(reason: "c\(consumer) rejoins", &step)
                members[index].joined = true
            }
        } else {
            members.append(
                Member(
                    consumer: consumer, member: member, instance: instance, lastHeartbeat: step.now,
                    joined: true, owned: owned, knownPartitions: known))
            if !rebalancing {
                startRebalance(reason: "c\(consumer) joins", &step)
                members[members.count - 1].joined = true
            } else if initialDelay != nil {
                initialDelay?.newMemberAdded = true
            }
        }
        completeIfAllJoined(&step)
    }

    mutating func rejoinStatic(_ index: Int, _ step: inout Step) {
        let member = members[index]
        step.note(
            .topic(
                .staticRejoin(
                    consumer: member.consumer, instance: member.instance ?? "", partitions: member.assignment)
            ))
        step.send(
            .assignment(
                member: member.member, generation: generation, partitions: member.assignment,
                committed: committed.filter { member.assignment.contains($0.key) },
                leader: member.member == leaderMember), to: .consumer(member.consumer))
    }

    mutating func startRebalance(reason: String, _ step: inout Step) {
        guard !rebalancing else { return }
        rebalancing = true
        rebalanceRound += 1
        for index in members.indices { members[index].joined = false }
        step.note(.topic(.rebalanceStarted(generation: generation, reason: reason)))
        // An empty group (its one member is the one joining) waits for more (K-GRP-01).
        let delay = min(config.groupInitialRebalanceDelayMs, config.maxPollIntervalMs)
        if members.count == 1 && delay > 0 {
            initialDelay = (config.maxPollIntervalMs - delay, false)
            rebalanceEarliestEnd = .max
            step.setTimer(.initialDelay(round: rebalanceRound), after: delay)
        } else {
            initialDelay = nil
            rebalanceEarliestEnd = step.now
            step.setTimer(.rebalanceDeadline(round: rebalanceRound), after: config.maxPollIntervalMs)
        }
    }

    /// Completes the rebalance if nobody it waits for is missing.
    mutating func completeIfAllJoined(_ step: inout Step) {
        guard rebalancing else { return }
        if members.isEmpty {
            // The group is Empty again: its generation moves on, and nothing is assigned.
            rebalancing = false
            initialDelay = nil
            generation += 1
            return
        }
        if members.allSatisfy(\.joined), step.now >= rebalanceEarliestEnd { completeRebalance(&step) }
    }

    mutating func completeRebalance(_ step: inout Step) {
        if step.now < rebalanceEarliestEnd { return }
        if members.isEmpty {
            completeIfAllJoined(&step)
            return
        }
        if !members.allSatisfy(\.joined) {
            // The initial delay ran out with members still to rejoin: wait for them, up to the
            // rebalance timeout.
            step.setTimer(.rebalanceDeadline(round: rebalanceRound), after: config.maxPollIntervalMs)
            return
        }
        rebalancing = false
        generation += 1
        completedRebalances += 1
        // Completing the rebalance restarts every member's session timer.
        for index in members.indices { members[index].lastHeartbeat = step.now }
        // K-GRP-05: static members first by instance id, then dynamic ones (SIMPLIFICATION: by
        // name and incarnation, where Kafka sorts random member ids).
        let ordered = members.sorted {
            switch ($0.instance, $1.instance) {
            case (let a?, let b?): a < b
            case (.some, nil): true
            case (nil, .some): false
            case (nil, nil): ($0.consumer, $0.member) < ($1.consumer, $1.member)
            }
        }
        // The leader assigns from its own metadata: partitions it has not seen yet stay unassigned.
        let leaderView = ordered.first.map { $0.knownPartitions > 0 ? $0.knownPartitions : partitions.count }
        let target = GroupAssignor.assign(
            partitions: min(partitions.count, leaderView ?? partitions.count),
            members: ordered.enumerated().map { ($0.offset, $0.element.owned) },
            strategy: config.assignmentStrategy)
        leaderMember = ordered.first?.member ?? -1
        for (position, member) in ordered.enumerated() {
            var assigned = target[position] ?? []
            if config.assignmentStrategy.isCooperative {
                // A partition changing owner is withheld until its owner revokes it (K-GRP-04).
                assigned = assigned.filter { partition in
                    !ordered.contains { $0.member != member.member && $0.owned.contains(partition) }
                        || member.owned.contains(partition)
                }
            }
            if let index = members.firstIndex(where: {
                $0.consumer == member.consumer && $0.member == member.member
            }) {
                members[index].assignment = assigned
            }
            step.send(
                .assignment(
                    member: member.member, generation: generation, partitions: assigned,
                    committed: committed.filter { assigned.contains($0.key) }, leader: position == 0),
                to: .consumer(member.consumer))
        }
    }
}
