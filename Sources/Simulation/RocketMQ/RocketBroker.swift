// A RocketMQ broker (master or slave) as a state machine: the put path and its flushing, master/
// slave replication, transactional half messages and their check-back, and consumption with
// retries and the DLQ. It acts only through its step's effects.

/// The brokers' and the clients' timers.
enum RocketTimer: Sendable {
    case flushTick
    case flushDone(upTo: Int)
    case putDeadline(request: Int, slave: Bool)
    case scheduleDue(copy: Int, reconsumeTimes: Int)
    case transactionCheck
    case persistOffsets
    case haHeartbeat
    case sendTimeout(request: Int)
    case localTransactionDone(send: Int, copy: Int, group: Int)
    case processed
    case repull(RocketQueue)
    case consumeLater
}

struct RocketBroker: CrashableNode {
    typealias Step = NodeStep<RocketPayload, RocketTimer>

    /// A node's role in its broker group.
    enum Role: Sendable { case master, slave }

    struct PendingPut: Sendable {
        var request: Int
        var producer: Int
        var endOffset: Int
        var flushStatus: SendStatus?
        var replicaStatus: SendStatus?
    }

    let id: BrokerID
    let index: Int
    /// A master takes writes; its slave (the next node) copies them. Fixed for the run: 4.x
    /// classic master/slave has no automatic failover (RKT-05).
    let role: Role
    var isMaster: Bool { role == .master }
    /// A master's slave, by index; nil for a slave or a master without one.
    let slave: Int?
    let config: RocketConfig
    // On disk: the commit log, and the consumer offsets as last persisted
    // (consumerOffset.json).
    var log = DurableLog<CommitLogEntry>()
    var persistedOffsets: [RocketQueue: Int] = [:]
    /// How much of the commit log is on disk.
    var flushed: Int { log.syncedCount }
    var memory = Memory()
    /// Not the broker's: how often it flushed, for `mqproof compare`.
    var fsyncs = 0

    /// The broker's memory: the consume queues and offsets are rebuilt from the disk at restart.
    struct Memory: Sendable {
        var startedAt: Millis = 0
        var flushInFlight = false
        var flushTickScheduled = false
        /// SYNC_FLUSH: a put is waiting for the group commit.
        var flushRequested = false
        // Master only.
        var slaveOffset = 0
        var slaveConnected = false
        var slaveHeardAt: Millis = 0
        var pushedUpTo = 0
        var pending: [PendingPut] = []
        var topicQueue: [Int] = []
        var retryQueue: [Int] = []
        var offsets: [RocketQueue: Int] = [:]
        var parkedPulls: [(consumer: Int, queue: RocketQueue, offset: Int)] = []
    }

    static var freshMemory: Memory { Memory() }

    mutating func diskSurvives(_ fault: Fault) {
        log.survive(fault)
        if fault == .diskLoss { persistedOffsets = [:] }
    }

    init(index: Int, nodes: Int, config: RocketConfig) {
        self.index = index
        id = BrokerID(index + 1)
        role = index % 2 == 0 ? .master : .slave
        slave = role == .master && index + 1 < nodes ? index + 1 : nil
        self.config = config
    }

    /// At boot: a master schedules its transaction check and offset persistence; a slave
    /// connects to its master.
    mutating func start(_ step: inout Step) {
        if isMaster {
            step.setTimer(.transactionCheck, after: config.transactionCheck.transactionCheckInterval)
            step.setTimer(.persistOffsets, after: config.consumer.persistOffsetMs)
        } else {
            connectSlave(&step)
        }
    }

    /// `producers`: how many producers the group has, for the transaction check.
    mutating func fire(_ timer: RocketTimer, producers: Int, _ step: inout Step) {
        switch timer {
        case .flushTick: flushTick(&step)
        case .flushDone(let upTo): flushDone(upTo: upTo, &step)
        case .putDeadline(let request, let slave): putDeadline(request: request, slave: slave, &step)
        case .scheduleDue(let copy, let times): scheduleDue(copy, times, &step)
        case .transactionCheck: transactionCheck(producers: producers, &step)
        case .persistOffsets:
            persistedOffsets = memory.offsets
            step.setTimer(.persistOffsets, after: config.consumer.persistOffsetMs)
        case .haHeartbeat: slaveReport(heartbeat: true, &step)
        case .sendTimeout, .localTransactionDone, .processed, .repull, .consumeLater:
            preconditionFailure("timer \(timer) fired at \(id)")
        }
    }

    // MARK: - Crash and restart

    /// The process dies: memory is gone, the commit log keeps what `fault` leaves.
    mutating func crash(_ fault: Fault, _ step: inout Step) {
        let removed = log.unsynced.filter { $0.topic == .topic }.map(\.message)
        lose(fault)
        switch fault {
        case .crash, .applicationCrash:
            // The kernel closes the process's sockets: a slave's master sees it go at once.
            if !isMaster { step.send(.haClosed, to: .broker(BrokerID(index))) }
        case .powerLoss:
            if !removed.isEmpty {
                step.note(.truncated(broker: id, to: Offset(flushed), removed: removed, reason: .powerLoss))
            }
        case .diskLoss: break
        }
        // A crash keeps the page cache, still dirty: the restarted node flushes it.
    }

    /// A new process rebuilds the consume queues from the commit log; offsets come back as last
    /// persisted.
    mutating func restart(_ step: inout Step) {
        memory.startedAt = step.now
        memory.topicQueue = log.indices.filter { log[$0].topic == .topic }
        memory.retryQueue = log.indices.filter { log[$0].topic == .retry }
        memory.offsets = persistedOffsets
        if config.flush.flushDiskType == .syncFlush { requestFlush(&step) } else { scheduleFlushTick(&step) }
        if isMaster {
            step.setTimer(.transactionCheck, after: config.transactionCheck.transactionCheckInterval)
            step.setTimer(.persistOffsets, after: config.consumer.persistOffsetMs)
            for entry in log where entry.topic == .schedule {
                step.setTimer(
                    .scheduleDue(copy: entry.copy, reconsumeTimes: entry.reconsumeTimes),
                    after: max(0, entry.dueAt - step.now))
            }
        } else {
            connectSlave(&step)
        }
    }

    // MARK: - Broker: the put path

    mutating func receive(_ payload: RocketPayload, from: NodeID, _ step: inout Step) {
        switch payload {
        case .send(let request, let entry):
            guard isMaster, case .producer(let producer) = from else { return }
            put(entry, request: request, producer: producer, &step)
        case .endTransaction(let copy, let commit):
            endTransaction(copy: copy, commit: commit, fromCheck: false, &step)
        case .haTransfer(let from, let entries):
            slaveAppend(from: from, entries, &step)
        case .haReport(let offset, let resync):
            memory.slaveOffset = offset
            memory.slaveConnected = true
            memory.slaveHeardAt = step.now
            completePuts(&step)
            memory.pushedUpTo = resync ? offset : max(memory.pushedUpTo, offset)
            pushToSlave(&step)
        case .haClosed:
            memory.slaveConnected = false
            step.note(.queue(.rocket(.slaveDisconnected(broker: id))))
        case .pull(let queue, let offset):
            guard case .consumer(let consumer) = from else { return }
            answerPull(consumer: consumer, queue: queue, offset: offset, &step)
        case .commitOffset(let queue, let offset):
            memory.offsets[queue] = max(memory.offsets[queue] ?? 0, offset)
        case .sendBack(let entry):
            sendBack(entry, &step)
        case .sendResult, .checkTransaction, .pullResult:
            preconditionFailure("a broker got \(payload.kind)")
        }
    }

    mutating func append(_ entry: CommitLogEntry, _ step: inout Step) {
        log.append(entry)
        let position = log.count - 1
        switch entry.topic {
        case .topic: memory.topicQueue.append(position)
        case .retry: memory.retryQueue.append(position)
        default: break
        }
        if config.flush.flushDiskType == .syncFlush {
            requestFlush(&step)
        } else {
            scheduleFlushTick(&step)
        }
        if isMaster {
            pushToSlave(&step)
            if entry.topic == .topic || entry.topic == .retry { wakeParkedPulls(&step) }
        }
    }

    /// RKT-02: append, then wait for the flush and the slave as configured, then answer.
    mutating func put(_ sent: CommitLogEntry, request: Int, producer: Int, _ step: inout Step) {
        var entry = sent
        if entry.topic == .topic && entry.delayLevel > 0 {
            // A delayed message waits in SCHEDULE_TOPIC_XXXX, queue level-1; a level past the
            // table is clamped to its last (RKT-14).
            let level = min(entry.delayLevel, RocketConfig.delayLevels.count)
            let delay = RocketConfig.delayLevels[level - 1]
            entry.topic = .schedule
            entry.dueAt = step.now + delay
            step.note(
                .queue(.rocket(.delayed(broker: id, message: entry.message, level: level, delay: delay))))
            step.setTimer(.scheduleDue(copy: entry.copy, reconsumeTimes: 0), after: delay)
        }
        append(entry, &step)
        if entry.topic != .schedule {
            step.note(
                .queue(
                    .rocket(
                        .appended(
                            broker: id, message: entry.message, half: entry.topic == .half,
                            offset: log.count - 1))))
        }
        var put = PendingPut(request: request, producer: producer, endOffset: log.count)
        if config.flush.flushDiskType == .asyncFlush { put.flushStatus = .sendOK }
        if config.replication.brokerRole == .asyncMaster {
            put.replicaStatus = .sendOK
        } else if slave == nil || !slaveIsConnected(step.now) {
            put.replicaStatus = .slaveNotAvailable
        } else if memory.slaveOffset >= put.endOffset {
            put.replicaStatus = .sendOK
        }
        if put.flushStatus == nil {
            step.setTimer(.putDeadline(request: request, slave: false), after: config.flush.syncFlushTimeout)
        }
        if put.replicaStatus == nil {
            step.setTimer(.putDeadline(request: request, slave: true), after: config.replication.slaveTimeout)
        }
        memory.pending.append(put)
        completePuts(&step)
    }

    func slaveIsConnected(_ now: Millis) -> Bool {
        memory.slaveConnected
            && now - memory.slaveHeardAt <= config.replication.haHousekeepingMs
    }

    /// Settles what the flush and the slave's offset now allow, and answers finished puts.
    mutating func completePuts(_ step: inout Step) {
        guard isMaster else { return }
        // Runs on every flush and slave report while puts wait (hundreds of them while a slave
        // is down): one pass that allocates nothing unless some put is done.
        let flushed = flushed
        let slaveOffset = memory.slaveOffset
        var anyDone = false
        for position in memory.pending.indices {
            let endOffset = memory.pending[position].endOffset
            if memory.pending[position].flushStatus == nil && flushed >= endOffset {
                memory.pending[position].flushStatus = .sendOK
            }
            if memory.pending[position].replicaStatus == nil && slaveOffset >= endOffset {
                memory.pending[position].replicaStatus = .sendOK
            }
            if memory.pending[position].flushStatus != nil
                && memory.pending[position].replicaStatus != nil
            {
                anyDone = true
            }
        }
        guard anyDone else { return }
        let done = memory.pending.filter { $0.flushStatus != nil && $0.replicaStatus != nil }
        memory.pending.removeAll { $0.flushStatus != nil && $0.replicaStatus != nil }
        for put in done { answer(put, &step) }
    }

    mutating func answer(_ put: PendingPut, _ step: inout Step) {
        // The replica status overwrites the flush status (CommitLog, RKT-02).
        var status = SendStatus.sendOK
        if let flush = put.flushStatus, flush != .sendOK { status = flush }
        if let replica = put.replicaStatus, replica != .sendOK { status = replica }
        if status != .sendOK {
            step.note(.queue(.rocket(.answered(broker: id, status: status))))
        }
        step.send(.sendResult(request: put.request, status: status), to: .producer(put.producer))
    }

    mutating func putDeadline(request: Int, slave: Bool, _ step: inout Step) {
        guard let position = memory.pending.firstIndex(where: { $0.request == request }) else {
            return
        }
        if slave {
            if memory.pending[position].replicaStatus == nil {
                memory.pending[position].replicaStatus = .flushSlaveTimeout
            }
        } else if memory.pending[position].flushStatus == nil {
            memory.pending[position].flushStatus = .flushDiskTimeout
        }
        completePuts(&step)
    }

    // MARK: - Broker: flushing

    /// SYNC_FLUSH: the group commit flushes everything appended so far, one flush at a time.
    mutating func requestFlush(_ step: inout Step) {
        memory.flushRequested = true
        startFlush(&step)
    }

    mutating func startFlush(_ step: inout Step) {
        guard !memory.flushInFlight, flushed < log.count else {
            return
        }
        memory.flushInFlight = true
        memory.flushRequested = false
        fsyncs += 1
        step.setTimer(.flushDone(upTo: log.count), after: config.fsyncMs)
    }

    mutating func flushDone(upTo: Int, _ step: inout Step) {
        memory.flushInFlight = false
        let newlyFlushed = log.sync(upTo: upTo)
        if newlyFlushed > 0 {
            step.note(
                .queue(.fsynced(node: id, messages: newlyFlushed)))
        }
        completePuts(&step)
        if config.flush.flushDiskType == .syncFlush {
            startFlush(&step)
        } else {
            scheduleFlushTick(&step)
        }
    }

    /// ASYNC_FLUSH: FlushRealTimeService wakes every flushIntervalCommitLog from the node's start.
    mutating func scheduleFlushTick(_ step: inout Step) {
        guard !memory.flushTickScheduled, flushed < log.count else {
            return
        }
        memory.flushTickScheduled = true
        let interval = config.flush.flushIntervalCommitLog
        let elapsed = step.now - memory.startedAt
        step.setTimer(.flushTick, after: interval - elapsed % interval)
    }

    mutating func flushTick(_ step: inout Step) {
        memory.flushTickScheduled = false
        let elapsed = step.now - memory.startedAt
        let thorough =
            elapsed % config.flush.flushCommitLogThoroughInterval < config.flush.flushIntervalCommitLog
        let page = 4_096
        let dirtyPages =
            log.count * config.messageBytes / page - flushed * config.messageBytes
            / page
        if thorough || dirtyPages >= config.flush.flushCommitLogLeastPages {
            startFlush(&step)
        } else {
            scheduleFlushTick(&step)
        }
    }

    // MARK: - Broker: master/slave replication

    mutating func connectSlave(_ step: inout Step) {
        slaveReport(heartbeat: true, &step)
    }

    mutating func slaveReport(heartbeat: Bool, _ step: inout Step) {
        step.send(.haReport(offset: log.count, resync: true), to: .broker(BrokerID(index)))
        step.setTimer(.haHeartbeat, after: config.replication.haHeartbeatMs)
    }

    mutating func pushToSlave(_ step: inout Step) {
        guard let slave, slaveIsConnected(step.now),
            memory.pushedUpTo < log.count
        else { return }
        let from = memory.pushedUpTo
        let entries = Array(log[from...])
        memory.pushedUpTo = log.count
        step.send(.haTransfer(from: from, entries: entries), to: .broker(BrokerID(slave + 1)))
    }

    mutating func slaveAppend(from: Int, _ entries: [CommitLogEntry], _ step: inout Step) {
        // HAClient: a push must continue the slave's own log.
        if from <= log.count && from + entries.count > log.count {
            let fresh = entries[(log.count - from)...]
            for entry in fresh { append(entry, &step) }
            for entry in fresh where entry.topic == .topic || entry.topic == .half {
                step.note(.queue(.rocket(.slaveReceived(broker: id, message: entry.message))))
            }
        }
        step.send(.haReport(offset: log.count, resync: false), to: .broker(BrokerID(index)))
    }

    // MARK: - Broker: transactions

    func halfResolved(copy: Int) -> Bool {
        log.contains { $0.topic == .op && $0.copy == copy }
    }

    mutating func endTransaction(copy: Int, commit: Bool?, fromCheck: Bool, _ step: inout Step) {
        guard let commit, let half = log.last(where: { $0.topic == .half && $0.copy == copy }),
            !halfResolved(copy: copy)
        else { return }
        if commit {
            var visible = half
            visible.topic = .topic
            append(visible, &step)
            step.note(.queue(.rocket(.halfCommitted(broker: id, message: half.message))))
        } else {
            step.note(.queue(.rocket(.halfRolledBack(broker: id, message: half.message))))
        }
        var op = half
        op.topic = .op
        append(op, &step)
    }

    mutating func transactionCheck(producers: Int, _ step: inout Step) {
        step.setTimer(.transactionCheck, after: config.transactionCheck.transactionCheckInterval)
        var latest: [Int: CommitLogEntry] = [:]
        var order: [Int] = []
        for entry in log where entry.topic == .half {
            if latest[entry.copy] == nil { order.append(entry.copy) }
            latest[entry.copy] = entry
        }
        for copy in order {
            guard var half = latest[copy], !halfResolved(copy: copy),
                step.now - half.bornAt >= config.transactionCheck.transactionTimeOut
            else { continue }
            if half.checkTimes >= config.transactionCheck.transactionCheckMax {
                var discarded = half
                discarded.topic = .checkMax
                append(discarded, &step)
                var op = half
                op.topic = .op
                append(op, &step)
                step.note(
                    .queue(
                        .rocket(.halfDiscarded(broker: id, message: half.message, checks: half.checkTimes))))
                continue
            }
            // The half message is put back with its check count raised, then checked.
            half.checkTimes += 1
            append(half, &step)
            guard let producer = (0..<producers).first(where: { step.isUp(.producer($0 + 1)) }) else {
                step.note(.queue(.rocket(.noProducerToCheck(broker: id, message: half.message))))
                continue
            }
            step.note(
                .queue(
                    .rocket(
                        .checkedBack(
                            broker: id, message: half.message, producer: producer + 1, check: half.checkTimes)
                    )))
            step.send(.checkTransaction(copy: copy, message: half.message), to: .producer(producer + 1))
        }
    }

    // MARK: - Broker: consumption, retries and the DLQ

    func queueEntries(_ queue: RocketQueue) -> [Int] {
        queue.retry ? memory.retryQueue : memory.topicQueue
    }

    mutating func answerPull(consumer: Int, queue: RocketQueue, offset: Int, _ step: inout Step) {
        let positions = queueEntries(queue)
        guard offset < positions.count else {
            // Long polling: the pull is held until a message arrives.
            memory.parkedPulls.append((consumer, queue, offset))
            return
        }
        let entries = positions[offset..<min(positions.count, offset + 32)].map { log[$0] }
        step.send(.pullResult(queue: queue, from: offset, entries: entries), to: .consumer(consumer))
    }

    mutating func wakeParkedPulls(_ step: inout Step) {
        let parked = memory.parkedPulls
        memory.parkedPulls = []
        for pull in parked {
            answerPull(consumer: pull.consumer, queue: pull.queue, offset: pull.offset, &step)
        }
    }

    mutating func sendBack(_ entry: CommitLogEntry, _ step: inout Step) {
        if entry.reconsumeTimes >= config.consumer.effectiveMaxReconsumeTimes {
            var dead = entry
            dead.topic = .dlq
            append(dead, &step)
            step.note(
                .queue(
                    .rocket(.deadLettered(broker: id, message: entry.message, retries: entry.reconsumeTimes)))
            )
            return
        }
        let level = 3 + entry.reconsumeTimes
        let delay = RocketConfig.delayLevels[min(level, RocketConfig.delayLevels.count) - 1]
        var scheduled = entry
        scheduled.topic = .schedule
        scheduled.delayLevel = 0
        scheduled.reconsumeTimes += 1
        scheduled.dueAt = step.now + delay
        append(scheduled, &step)
        step.note(
            .queue(
                .rocket(
                    .retryScheduled(
                        broker: id, message: entry.message, retry: scheduled.reconsumeTimes, level: level,
                        delay: delay))))
        step.setTimer(.scheduleDue(copy: entry.copy, reconsumeTimes: scheduled.reconsumeTimes), after: delay)
    }

    mutating func scheduleDue(_ copy: Int, _ reconsumeTimes: Int, _ step: inout Step) {
        guard
            let scheduled = log.last(where: {
                $0.topic == .schedule && $0.copy == copy && $0.reconsumeTimes == reconsumeTimes
            }),
            !log.contains(where: {
                ($0.topic == .retry || $0.topic == .topic) && $0.copy == copy
                    && $0.reconsumeTimes == reconsumeTimes
            })
        else { return }
        // The producer's delay ends in the message's own topic; a consumer retry in %RETRY%.
        var due = scheduled
        due.topic = scheduled.delayLevel > 0 ? .topic : .retry
        if due.topic == .topic { step.note(.queue(.rocket(.delayDue(broker: id, message: due.message)))) }
        append(due, &step)
    }
}
