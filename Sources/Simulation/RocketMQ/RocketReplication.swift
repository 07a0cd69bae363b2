// Master/slave replication (SYNC_MASTER, ASYNC_MASTER) and what node faults do to a broker.

extension RocketWorld {
    // MARK: - Broker: master/slave replication

    mutating func connectSlave(_ index: Int) {
        slaveReport(index, heartbeat: true)
    }

    mutating func slaveReport(_ index: Int, heartbeat: Bool) {
        engine.transmit(
            .haReport(offset: nodes[index].log.count, resync: true), from: .broker(nodes[index].id),
            to: .broker(nodes[index - 1].id))
        setTimer(.haHeartbeat, for: .broker(nodes[index].id), after: config.haHeartbeatMs)
    }

    mutating func pushToSlave(_ index: Int) {
        guard let slave = slave(of: index), slaveIsConnected(index),
            nodes[index].memory.pushedUpTo < nodes[index].log.count
        else { return }
        let from = nodes[index].memory.pushedUpTo
        let entries = Array(nodes[index].log[from...])
        nodes[index].memory.pushedUpTo = nodes[index].log.count
        engine.transmit(
            .haTransfer(from: from, entries: entries), from: .broker(nodes[index].id),
            to: .broker(nodes[slave].id))
    }

    mutating func slaveAppend(_ index: Int, from: Int, _ entries: [CommitLogEntry]) {
        // HAClient: a push must continue the slave's own log.
        if from <= nodes[index].log.count && from + entries.count > nodes[index].log.count {
            let fresh = entries[(nodes[index].log.count - from)...]
            for entry in fresh { append(index, entry) }
            for entry in fresh where entry.topic == .topic || entry.topic == .half {
                fact(
                    "\(nodes[index].id) (slave) gets \(name(of: entry.message)) from its master's HA push",
                    message: entry.message, at: .broker(nodes[index].id))
            }
        }
        engine.transmit(
            .haReport(offset: nodes[index].log.count, resync: false), from: .broker(nodes[index].id),
            to: .broker(nodes[index - 1].id))
    }

    // MARK: - Node faults

    mutating func crashBroker(_ broker: BrokerID, _ fault: Fault) {
        let index = broker.value - 1
        let id = nodes[index].id
        guard engine.crash(.broker(id), fault) else { return }
        engine.resetConnections(of: .broker(id))
        let removed = nodes[index].log.unsynced.filter { $0.topic == .topic }.map(\.message)
        nodes[index].lose(fault)
        switch fault {
        case .crash, .applicationCrash:
            // The kernel closes the process's sockets: a slave's master sees it go at once.
            if !nodes[index].isMaster {
                engine.transmit(.haClosed, from: .broker(id), to: .broker(nodes[index - 1].id))
            }
        case .powerLoss:
            if !removed.isEmpty {
                note(
                    .truncated(
                        broker: id, to: Offset(nodes[index].flushed), removed: removed, reason: .powerLoss),
                    at: .broker(id))
            }
        case .diskLoss: break
        }
        // A crash keeps the page cache, still dirty: the restarted node flushes it.
    }

    mutating func restartBroker(_ broker: BrokerID) {
        let index = broker.value - 1
        let id = nodes[index].id
        guard engine.restart(.broker(id)) else { return }
        nodes[index].memory.startedAt = now
        // The consume queues are rebuilt from the commit log; offsets come back as last persisted.
        nodes[index].memory.topicQueue = nodes[index].log.indices.filter {
            nodes[index].log[$0].topic == .topic
        }
        nodes[index].memory.retryQueue = nodes[index].log.indices.filter {
            nodes[index].log[$0].topic == .retry
        }
        nodes[index].memory.offsets = nodes[index].persistedOffsets
        if config.flushDiskType == .syncFlush { requestFlush(index) } else { scheduleFlushTick(index) }
        if nodes[index].isMaster {
            setTimer(.transactionCheck, for: .broker(id), after: config.transactionCheckInterval)
            setTimer(.persistOffsets, for: .broker(id), after: config.persistOffsetMs)
            for entry in nodes[index].log where entry.topic == .schedule {
                setTimer(
                    .scheduleDue(copy: entry.copy, reconsumeTimes: entry.reconsumeTimes), for: .broker(id),
                    after: max(0, entry.dueAt - now))
            }
        } else {
            connectSlave(index)
        }
        // Consumers reconnect and pull from the restored offsets.
        for consumer in consumers.indices
        where consumers[consumer].active && engine.isUp(.consumer(consumer + 1)) {
            for queue in assignedQueues(consumer) where queue.master == index {
                if config.messageModel == .clustering {
                    consumers[consumer].pullOffsets[queue] = nodes[index].memory.offsets[queue] ?? 0
                }
                pull(consumer, queue)
            }
        }
    }
}
