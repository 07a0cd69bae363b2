// RocketMQ's clients as state machines: producers (send results, retries, half messages and the
// local transaction) and push consumers (pulls, processing, offset commits). Each acts only
// through its step's effects, and records what the application saw in the history.

/// What the clients of a RocketMQ world number or keep alike: requests and stored copies,
/// numbered across the world, and the transactional producer group's application database.
struct RocketShared: Sendable {
    var nextRequest = 0
    var nextCopy = 0
    /// Local transaction outcomes by half message copy: any producer of the group answers a
    /// check from it.
    var database: [Int: LocalTransaction] = [:]
    /// `delayTimeLevel` by message, as the script set it (RKT-14).
    var delayLevels: [Int: Int] = [:]
}

struct RocketProducer: Sendable {
    typealias Step = NodeStep<RocketPayload, RocketTimer>

    /// One attempt of a send: the history entry it answers, the copy it stored (a half message's
    /// copy is what END_TRANSACTION names), and where the attempt went.
    struct InFlightSend: Sendable {
        var send: Int
        var message: MessageID
        var copy: Int
        var attempt: Int
        var startedAt: Millis
        var group: Int
    }

    let number: Int
    let config: RocketConfig
    /// The masters' indices, one per broker group, as the name server lists them.
    let masters: [Int]
    var nextGroup = 0
    /// Sends in flight, by request id.
    var requests: [Int: InFlightSend] = [:]
    var unacknowledged: [MessageID] = []

    mutating func produce(
        _ messages: [MessageID], _ step: inout Step, _ shared: inout RocketShared
    ) {
        guard step.isUp(step.node) else { return }
        for message in messages {
            let send = step.history.invoke(
                History.Send(
                    message: message, producer: number, session: 0, invoked: step.now, outcome: .pending))
            let group = nextGroup % masters.count
            nextGroup += 1
            attempt(
                send: send, message: message, attempt: 1, startedAt: step.now, group: group, &step, &shared)
        }
    }

    /// One attempt of `sendDefaultImpl`: to the master of `group`, within what is left of the budget.
    mutating func attempt(
        send: Int, message: MessageID, attempt: Int, startedAt: Millis, group: Int, _ step: inout Step,
        _ shared: inout RocketShared
    ) {
        let master = BrokerID(masters[group] + 1)
        let total = 1 + config.producer.retryTimesWhenSendFailed
        guard step.isUp(.broker(master)) else {
            // Connection refused: a RemotingConnectException, retried at once on the next group.
            let retrying = attempt < total
            step.note(
                .failed(
                    producer: number, messages: [message], error: "connect to \(master) refused",
                    retrying: retrying))
            if retrying {
                self.attempt(
                    send: send, message: message, attempt: attempt + 1, startedAt: startedAt,
                    group: (group + 1) % masters.count, &step, &shared)
            } else {
                unacknowledged.append(message)
                step.history.complete(
                    send, .fail(error: "send failed after \(total) attempts", time: step.now))
            }
            return
        }
        shared.nextRequest += 1
        shared.nextCopy += 1
        let request = shared.nextRequest
        let topic: RocketTopic = config.producer.transactional ? .half : .topic
        // UNIQ_KEY (the msgId a consumer sees) is set once per send(): every attempt of it keeps
        // it, and an application re-send is a new send with a new key (RKT-11).
        let entry = CommitLogEntry(
            topic: topic, copy: shared.nextCopy, message: message, producer: number, bornAt: step.now,
            uniqueKey: send, delayLevel: shared.delayLevels[message.value] ?? 0)
        requests[request] = InFlightSend(
            send: send, message: message, copy: shared.nextCopy, attempt: attempt, startedAt: startedAt,
            group: group)
        step.note(.sent(producer: number, messages: [message], to: master, attempt: attempt, sequence: nil))
        step.send(.send(request: request, entry: entry), to: .broker(master))
        step.setTimer(
            .sendTimeout(request: request), after: config.producer.sendMsgTimeout - (step.now - startedAt))
    }

    mutating func receive(
        _ payload: RocketPayload, from: NodeID, _ step: inout Step, _ shared: inout RocketShared
    ) {
        switch payload {
        case .sendResult(let request, let status):
            guard let pending = requests.removeValue(forKey: request) else { return }
            let total = 1 + config.producer.retryTimesWhenSendFailed
            if status != .sendOK && config.producer.retryAnotherBrokerWhenNotStoreOK
                && pending.attempt < total
            {
                step.note(
                    .failed(
                        producer: number, messages: [pending.message], error: status.rawValue, retrying: true)
                )
                attempt(
                    send: pending.send, message: pending.message, attempt: pending.attempt + 1,
                    startedAt: pending.startedAt, group: (pending.group + 1) % masters.count, &step, &shared)
                return
            }
            let broker = BrokerID(masters[pending.group] + 1)
            if config.producer.transactional {
                guard status == .sendOK else {
                    // executeLocalTransaction does not run: the half message is rolled back.
                    step.note(
                        .queue(
                            .rocket(
                                .halfNotStored(producer: number, message: pending.message, status: status))))
                    step.history.complete(pending.send, .fail(error: status.rawValue, time: step.now))
                    step.send(.endTransaction(copy: pending.copy, commit: false), to: .broker(broker))
                    return
                }
                step.note(.queue(.rocket(.halfStored(producer: number, message: pending.message))))
                step.setTimer(
                    .localTransactionDone(send: pending.send, copy: pending.copy, group: pending.group),
                    after: config.producer.localTransactionMs)
                return
            }
            step.note(
                .queue(
                    .rocket(
                        .sendReturned(
                            producer: number, message: pending.message, status: status, broker: broker))))
            step.history.complete(pending.send, .ok(offset: nil, broker: broker, time: step.now))
        case .checkTransaction(let copy, let message):
            let answer = shared.database[copy] ?? .unknown
            step.note(.queue(.rocket(.transactionChecked(producer: number, message: message, found: answer))))
            // The answer goes back to the broker that asked, which holds the half message.
            step.send(
                .endTransaction(
                    copy: copy, commit: answer == .commit ? true : answer == .rollback ? false : nil),
                to: from)
        default:
            preconditionFailure("a producer got \(payload.kind)")
        }
    }

    mutating func fire(
        _ timer: RocketTimer, _ step: inout Step, _ shared: inout RocketShared
    ) {
        switch timer {
        case .sendTimeout(let request): sendTimedOut(request, &step)
        case .localTransactionDone(let send, let copy, let group):
            localTransactionDone(send: send, copy: copy, group: group, &step, &shared)
        default: preconditionFailure("timer \(timer) fired at p\(number)")
        }
    }

    /// The local transaction ends: its outcome goes to the database, and END_TRANSACTION oneway
    /// to the master the half message went to.
    mutating func localTransactionDone(
        send: Int, copy: Int, group: Int, _ step: inout Step, _ shared: inout RocketShared
    ) {
        let outcome = config.producer.localTransaction
        shared.database[copy] = outcome
        let message = step.history.sends[send].message
        switch outcome {
        case .commit, .commitAnsweredUnknown:
            step.history.complete(send, .ok(offset: nil, broker: nil, time: step.now))
        case .rollback:
            step.history.complete(send, .fail(error: "local transaction rolled back", time: step.now))
        case .unknown:
            step.history.complete(send, .info(error: "local transaction state UNKNOW", time: step.now))
        }
        step.note(
            .queue(.rocket(.localTransactionEnded(producer: number, message: message, outcome: outcome))))
        step.send(
            .endTransaction(
                copy: copy, commit: outcome == .commit ? true : outcome == .rollback ? false : nil),
            to: .broker(BrokerID(masters[group] + 1)))
    }

    mutating func sendTimedOut(_ request: Int, _ step: inout Step) {
        guard let pending = requests.removeValue(forKey: request) else { return }
        // The whole sendMsgTimeout budget is spent: sendDefaultImpl does not retry (RKT-04).
        let error =
            "RemotingTooMuchRequestException: sendDefaultImpl call timeout (\(config.producer.sendMsgTimeout) ms)"
        step.note(.failed(producer: number, messages: [pending.message], error: error, retrying: false))
        unacknowledged.append(pending.message)
        step.history.complete(pending.send, .info(error: error, time: step.now))
    }

    /// The application died (the engine has stopped its process): what it waited for is lost.
    mutating func crash(_ step: inout Step) {
        for pending in requests.values {
            step.history.complete(pending.send, .info(error: "producer crashed", time: step.now))
        }
        requests = [:]
        unacknowledged = []
    }
}

struct RocketConsumer: CountingConsumer, Sendable {
    typealias Step = NodeStep<RocketPayload, RocketTimer>

    /// How long a pull may go unanswered: brokerSuspendMaxTimeMillis (15 s) plus
    /// consumerTimeoutMillisWhenSuspend (30 s).
    static let pullTimeoutMs: Millis = 45_000

    let number: Int
    let config: RocketConfig
    let spec: RocketConsumerSpec
    var active = false
    /// The dedupe keys of what the application has processed: written in the same step as the
    /// side effect, as a unique key in the same database transaction would be (RKT-12).
    var processedKeys: [String: Millis] = [:]
    /// An orderly consumer's local retries so far, by stored copy (RKT-19).
    var localFailures: [Int: Int] = [:]
    /// An orderly consumer's queue waits `suspendCurrentQueueTimeMillis` after a failure.
    var suspended = false
    /// Next offset to pull, per queue; processed up to, per queue (what is committed).
    var pullOffsets: [RocketQueue: Int] = [:]
    var committed: [RocketQueue: Int] = [:]
    var pullSentAt: [RocketQueue: Millis] = [:]
    var inbox: [(queue: RocketQueue, position: Int, entry: CommitLogEntry)] = []
    var busy = false
    var processedCount = 0
    var deliveredCount = 0

    /// Pulls the queues the rebalance assigned, from the brokers' stored offsets in CLUSTERING.
    mutating func startPulling(
        _ queues: [RocketQueue], brokerOffsets: [RocketQueue: Int], _ step: inout Step
    ) {
        for queue in queues {
            if config.consumer.messageModel == .clustering {
                pullOffsets[queue] = brokerOffsets[queue] ?? 0
            } else if pullOffsets[queue] == nil {
                // BROADCASTING keeps offsets in the client; scenarios start consumers first.
                pullOffsets[queue] = 0
            }
            pull(queue, &step)
        }
        step.setTimer(.persistOffsets, after: config.consumer.persistOffsetMs)
    }

    /// A broker restarted: pull its queues again, from its restored offsets in CLUSTERING.
    mutating func pullAgain(_ queues: [RocketQueue], brokerOffsets: [RocketQueue: Int], _ step: inout Step) {
        for queue in queues {
            if config.consumer.messageModel == .clustering { pullOffsets[queue] = brokerOffsets[queue] ?? 0 }
            pull(queue, &step)
        }
    }

    mutating func pull(_ queue: RocketQueue, _ step: inout Step) {
        guard active, step.isUp(step.node) else { return }
        let offset = pullOffsets[queue] ?? 0
        pullSentAt[queue] = step.now
        step.send(.pull(queue: queue, offset: offset), to: .broker(BrokerID(queue.master + 1)))
        step.setTimer(.repull(queue), after: Self.pullTimeoutMs)
    }

    /// persistConsumerOffsetInterval: the client commits what it has processed to each broker.
    mutating func commitOffsets(_ step: inout Step) {
        guard active, step.isUp(step.node) else { return }
        if config.consumer.messageModel == .clustering {
            for (queue, offset) in committed.sorted(by: { $0.key.master < $1.key.master })
            where step.isUp(.broker(BrokerID(queue.master + 1))) {
                step.send(
                    .commitOffset(queue: queue, offset: offset), to: .broker(BrokerID(queue.master + 1)))
            }
        }
        step.setTimer(.persistOffsets, after: config.consumer.persistOffsetMs)
    }

    mutating func receive(_ payload: RocketPayload, _ step: inout Step) {
        guard case .pullResult(let queue, let start, let entries) = payload else {
            preconditionFailure("a consumer got \(payload.kind)")
        }
        guard active, pullOffsets[queue] == start else { return }
        for (offset, entry) in entries.enumerated() {
            inbox.append((queue, start + offset, entry))
            deliveredCount += 1
            step.history.polls.append(
                History.Delivery(
                    consumer: number, message: entry.message, offset: Offset(entry.copy), time: step.now))
        }
        pullOffsets[queue] = start + entries.count
        pull(queue, &step)
        startProcessing(&step)
    }

    mutating func fire(_ timer: RocketTimer, _ step: inout Step) {
        switch timer {
        case .persistOffsets: commitOffsets(&step)
        case .processed: finishProcessing(&step)
        case .repull(let queue):
            // No answer within the long-polling timeout: the pull was lost; pull again.
            if step.now - (pullSentAt[queue] ?? 0) >= Self.pullTimeoutMs { pull(queue, &step) }
        case .consumeLater:
            suspended = false
            startProcessing(&step)
        default: preconditionFailure("timer \(timer) fired at c\(number)")
        }
    }

    mutating func startProcessing(_ step: inout Step) {
        guard !busy, !suspended, !inbox.isEmpty else { return }
        busy = true
        step.setTimer(.processed, after: config.processingMs)
    }

    /// What the listener returns for this delivery of `entry`: the spec's status for the messages
    /// it names, for as many deliveries as it says; success otherwise.
    func status(for entry: CommitLogEntry, _ step: Step) -> ConsumeStatus {
        let applies = spec.only.isEmpty || spec.only.contains(step.name(of: entry.message))
        let deliveriesBefore = entry.reconsumeTimes + localFailures[entry.copy, default: 0]
        return applies && deliveriesBefore < (spec.times ?? .max) ? spec.status : .success
    }

    /// What the application deduplicates `entry` on, if anything.
    func dedupeKey(_ entry: CommitLogEntry, _ step: Step) -> String? {
        switch spec.dedupe {
        case .none: nil
        case .msgId: "msgId \(entry.uniqueKey)"
        case .key: "key \(step.name(of: entry.message))"
        }
    }

    mutating func finishProcessing(_ step: inout Step) {
        busy = false
        guard !inbox.isEmpty else { return }
        let (queue, position, entry) = inbox[0]
        let master = BrokerID(queue.master + 1)
        switch status(for: entry, step) {
        case .success:
            if let key = dedupeKey(entry, step) {
                // A key older than the dedupe window has expired from the store.
                if let seen = processedKeys[key], spec.dedupeWindowMs.map({ step.now - seen <= $0 }) ?? true {
                    step.note(
                        .queue(
                            .rocket(.duplicateSkipped(consumer: number, message: entry.message, key: key))))
                    break
                }
                processedKeys[key] = step.now
            }
            processedCount += 1
            step.history.processed.append(
                History.Delivery(
                    consumer: number, message: entry.message, offset: Offset(entry.copy), time: step.now))
            step.note(.processed(consumer: number, message: entry.message, offset: Offset(entry.copy)))
        case .suspendCurrentQueue where config.consumer.messageModel == .clustering:
            // MessageListenerOrderly retries the same message in place, the queue blocked meanwhile;
            // only past a set maxReconsumeTimes (-1: never) does it go to %RETRY% and on (RKT-19).
            let failures = localFailures[entry.copy, default: 0]
            let limit = config.consumer.maxReconsumeTimes
            guard limit != -1 && failures >= limit else {
                localFailures[entry.copy] = failures + 1
                suspended = true
                step.note(
                    .queue(
                        .rocket(
                            .queueSuspended(
                                consumer: number, message: entry.message, reconsumeTimes: failures + 1,
                                delay: config.consumer.suspendCurrentQueueTimeMillis))))
                step.setTimer(.consumeLater, after: config.consumer.suspendCurrentQueueTimeMillis)
                return
            }
            var back = entry
            back.reconsumeTimes = failures + 1
            step.note(
                .queue(
                    .rocket(
                        .orderlyGaveUp(
                            consumer: number, message: entry.message, reconsumeTimes: back.reconsumeTimes))))
            step.send(.sendBack(entry: back), to: .broker(master))
        case .reconsumeLater, .suspendCurrentQueue:
            if config.consumer.messageModel == .broadcasting {
                step.note(.queue(.rocket(.broadcastFailureDropped(consumer: number, message: entry.message))))
            } else if step.isUp(.broker(master)) {
                step.note(
                    .queue(
                        .rocket(
                            .sentBack(
                                consumer: number, message: entry.message, reconsumeTimes: entry.reconsumeTimes
                            ))))
                step.send(.sendBack(entry: entry), to: .broker(master))
            } else {
                // sendMessageBack failed: consumed again locally a little later (RKT-09).
                step.setTimer(.consumeLater, after: 5_000)
                return
            }
        }
        inbox.removeFirst()
        committed[queue] = position + 1
        startProcessing(&step)
    }
}
