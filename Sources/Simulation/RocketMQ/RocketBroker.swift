// The RocketMQ broker's put path and its flushing (SYNC_FLUSH, ASYNC_FLUSH).

extension RocketWorld {
    // MARK: - Broker: the put path

    mutating func brokerReceive(_ index: Int, _ payload: RocketPayload, from: NodeID) {
        switch payload {
        case .send(let request, let entry):
            guard nodes[index].isMaster, case .producer(let producer) = from else { return }
            put(index, entry, request: request, producer: producer)
        case .endTransaction(let copy, let commit):
            endTransaction(index, copy: copy, commit: commit, fromCheck: false)
        case .haTransfer(let from, let entries):
            slaveAppend(index, from: from, entries)
        case .haReport(let offset, let resync):
            nodes[index].memory.slaveOffset = offset
            nodes[index].memory.slaveConnected = true
            nodes[index].memory.slaveHeardAt = now
            completePuts(index)
            nodes[index].memory.pushedUpTo = resync ? offset : max(nodes[index].memory.pushedUpTo, offset)
            pushToSlave(index)
        case .haClosed:
            nodes[index].memory.slaveConnected = false
            fact("\(nodes[index].id): the slave's connection closed", at: .broker(nodes[index].id))
        case .pull(let queue, let offset):
            guard case .consumer(let consumer) = from else { return }
            answerPull(index, consumer: consumer, queue: queue, offset: offset)
        case .commitOffset(let queue, let offset):
            nodes[index].memory.offsets[queue] = max(nodes[index].memory.offsets[queue] ?? 0, offset)
        case .sendBack(let entry):
            sendBack(index, entry)
        case .sendResult, .checkTransaction, .pullResult:
            preconditionFailure("a broker got \(payload.kind)")
        }
    }

    mutating func append(_ index: Int, _ entry: CommitLogEntry) {
        nodes[index].log.append(entry)
        let position = nodes[index].log.count - 1
        switch entry.topic {
        case .topic: nodes[index].memory.topicQueue.append(position)
        case .retry: nodes[index].memory.retryQueue.append(position)
        default: break
        }
        if config.flushDiskType == .syncFlush {
            requestFlush(index)
        } else {
            scheduleFlushTick(index)
        }
        if nodes[index].isMaster {
            pushToSlave(index)
            if entry.topic == .topic || entry.topic == .retry { wakeParkedPulls(index) }
        }
    }

    /// RKT-02: append, then wait for the flush and the slave as configured, then answer.
    mutating func put(_ index: Int, _ entry: CommitLogEntry, request: Int, producer: Int) {
        let id = nodes[index].id
        append(index, entry)
        let what = entry.topic == .half ? "half message" : "message"
        fact(
            "\(id) appends \(what) \(name(of: entry.message)) to its commit log at \(nodes[index].log.count - 1) (page cache; visible to consumers)",
            message: entry.message, at: .broker(id))
        var put = PendingPut(request: request, producer: producer, endOffset: nodes[index].log.count)
        if config.flushDiskType == .asyncFlush { put.flushStatus = .sendOK }
        if config.brokerRole == .asyncMaster {
            put.replicaStatus = .sendOK
        } else if slave(of: index) == nil || !slaveIsConnected(index) {
            put.replicaStatus = .slaveNotAvailable
        } else if nodes[index].memory.slaveOffset >= put.endOffset {
            put.replicaStatus = .sendOK
        }
        if put.flushStatus == nil {
            setTimer(
                .putDeadline(request: request, slave: false), for: .broker(id), after: config.syncFlushTimeout
            )
        }
        if put.replicaStatus == nil {
            setTimer(
                .putDeadline(request: request, slave: true), for: .broker(id), after: config.slaveTimeout)
        }
        nodes[index].memory.pending.append(put)
        completePuts(index)
    }

    func slaveIsConnected(_ index: Int) -> Bool {
        nodes[index].memory.slaveConnected
            && now - nodes[index].memory.slaveHeardAt <= config.haHousekeepingMs
    }

    /// Settles what the flush and the slave's offset now allow, and answers finished puts.
    mutating func completePuts(_ index: Int) {
        guard nodes[index].isMaster else { return }
        // Runs on every flush and slave report while puts wait (hundreds of them while a slave
        // is down): one pass that allocates nothing unless some put is done.
        let flushed = nodes[index].flushed
        let slaveOffset = nodes[index].memory.slaveOffset
        var anyDone = false
        for position in nodes[index].memory.pending.indices {
            let endOffset = nodes[index].memory.pending[position].endOffset
            if nodes[index].memory.pending[position].flushStatus == nil && flushed >= endOffset {
                nodes[index].memory.pending[position].flushStatus = .sendOK
            }
            if nodes[index].memory.pending[position].replicaStatus == nil && slaveOffset >= endOffset {
                nodes[index].memory.pending[position].replicaStatus = .sendOK
            }
            if nodes[index].memory.pending[position].flushStatus != nil
                && nodes[index].memory.pending[position].replicaStatus != nil
            {
                anyDone = true
            }
        }
        guard anyDone else { return }
        let done = nodes[index].memory.pending.filter { $0.flushStatus != nil && $0.replicaStatus != nil }
        nodes[index].memory.pending.removeAll { $0.flushStatus != nil && $0.replicaStatus != nil }
        for put in done { answer(index, put) }
    }

    mutating func answer(_ index: Int, _ put: PendingPut) {
        // The replica status overwrites the flush status (CommitLog, RKT-02).
        var status = SendStatus.sendOK
        if let flush = put.flushStatus, flush != .sendOK { status = flush }
        if let replica = put.replicaStatus, replica != .sendOK { status = replica }
        if status != .sendOK {
            fact("\(nodes[index].id) answers \(status.rawValue)", at: .broker(nodes[index].id))
        }
        engine.transmit(
            .sendResult(request: put.request, status: status), from: .broker(nodes[index].id),
            to: .producer(put.producer))
    }

    mutating func putDeadline(_ index: Int, request: Int, slave: Bool) {
        guard let position = nodes[index].memory.pending.firstIndex(where: { $0.request == request }) else {
            return
        }
        if slave {
            if nodes[index].memory.pending[position].replicaStatus == nil {
                nodes[index].memory.pending[position].replicaStatus = .flushSlaveTimeout
            }
        } else if nodes[index].memory.pending[position].flushStatus == nil {
            nodes[index].memory.pending[position].flushStatus = .flushDiskTimeout
        }
        completePuts(index)
    }

    // MARK: - Broker: flushing

    /// SYNC_FLUSH: the group commit flushes everything appended so far, one flush at a time.
    mutating func requestFlush(_ index: Int) {
        nodes[index].memory.flushRequested = true
        startFlush(index)
    }

    mutating func startFlush(_ index: Int) {
        guard !nodes[index].memory.flushInFlight, nodes[index].flushed < nodes[index].log.count else {
            return
        }
        nodes[index].memory.flushInFlight = true
        nodes[index].memory.flushRequested = false
        fsyncs += 1
        setTimer(
            .flushDone(upTo: nodes[index].log.count), for: .broker(nodes[index].id), after: config.fsyncMs)
    }

    mutating func flushDone(_ index: Int, upTo: Int) {
        nodes[index].memory.flushInFlight = false
        let newlyFlushed = nodes[index].log.sync(upTo: upTo)
        if newlyFlushed > 0 {
            note(
                .queue(.fsynced(node: nodes[index].id, messages: newlyFlushed)), at: .broker(nodes[index].id))
        }
        completePuts(index)
        if config.flushDiskType == .syncFlush {
            startFlush(index)
        } else {
            scheduleFlushTick(index)
        }
    }

    /// ASYNC_FLUSH: FlushRealTimeService wakes every flushIntervalCommitLog from the node's start.
    mutating func scheduleFlushTick(_ index: Int) {
        guard !nodes[index].memory.flushTickScheduled, nodes[index].flushed < nodes[index].log.count else {
            return
        }
        nodes[index].memory.flushTickScheduled = true
        let interval = config.flushIntervalCommitLog
        let elapsed = now - nodes[index].memory.startedAt
        setTimer(.flushTick, for: .broker(nodes[index].id), after: interval - elapsed % interval)
    }

    mutating func flushTick(_ index: Int) {
        nodes[index].memory.flushTickScheduled = false
        let elapsed = now - nodes[index].memory.startedAt
        let thorough = elapsed % config.flushCommitLogThoroughInterval < config.flushIntervalCommitLog
        let page = 4_096
        let dirtyPages =
            nodes[index].log.count * config.messageBytes / page - nodes[index].flushed * config.messageBytes
            / page
        if thorough || dirtyPages >= config.flushCommitLogLeastPages {
            startFlush(index)
        } else {
            scheduleFlushTick(index)
        }
    }
}
