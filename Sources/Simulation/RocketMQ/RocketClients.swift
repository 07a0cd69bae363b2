// Producers (send results, retries, half messages) and push consumers of the RocketMQ world.

extension RocketWorld {
    // MARK: - Producers

    mutating func produce(_ messages: [MessageID], producer: Int) {
        let index = producer - 1
        guard engine.isUp(.producer(producer)) else { return }
        for message in messages {
            let send = engine.recorder.history.invoke(
                History.Send(
                    message: message, producer: producer, session: 0, invoked: now, outcome: .pending))
            let group = producers[index].nextGroup % masters.count
            producers[index].nextGroup += 1
            attempt(index, send: send, message: message, attempt: 1, startedAt: now, group: group)
        }
    }

    /// One attempt of `sendDefaultImpl`: to the master of `group`, within what is left of the budget.
    mutating func attempt(
        _ index: Int, send: Int, message: MessageID, attempt: Int, startedAt: Millis, group: Int
    ) {
        let node = NodeID.producer(index + 1)
        let master = masters[group]
        let total = 1 + config.retryTimesWhenSendFailed
        guard engine.isUp(.broker(nodes[master].id)) else {
            // Connection refused: a RemotingConnectException, retried at once on the next group.
            let retrying = attempt < total
            note(
                .failed(
                    producer: index + 1, messages: [message], error: "connect to \(nodes[master].id) refused",
                    retrying: retrying), at: node)
            if retrying {
                self.attempt(
                    index, send: send, message: message, attempt: attempt + 1, startedAt: startedAt,
                    group: (group + 1) % masters.count)
            } else {
                producers[index].unacknowledged.append(message)
                engine.recorder.history.complete(
                    send, .fail(error: "send failed after \(total) attempts", time: now))
            }
            return
        }
        nextRequest += 1
        nextCopy += 1
        let request = nextRequest
        let topic: RocketTopic = config.transactional ? .half : .topic
        let entry = CommitLogEntry(
            topic: topic, copy: nextCopy, message: message, producer: index + 1, bornAt: now)
        producers[index].requests[request] = InFlightSend(
            send: send, message: message, copy: nextCopy, attempt: attempt, startedAt: startedAt, group: group
        )
        note(
            .sent(
                producer: index + 1, messages: [message], to: nodes[master].id, attempt: attempt,
                sequence: nil),
            at: node)
        engine.transmit(.send(request: request, entry: entry), from: node, to: .broker(nodes[master].id))
        setTimer(.sendTimeout(request: request), for: node, after: config.sendMsgTimeout - (now - startedAt))
    }

    mutating func producerReceive(_ index: Int, _ payload: RocketPayload, from _: NodeID) {
        let node = NodeID.producer(index + 1)
        switch payload {
        case .sendResult(let request, let status):
            guard let pending = producers[index].requests.removeValue(forKey: request) else { return }
            let total = 1 + config.retryTimesWhenSendFailed
            if status != .sendOK && config.retryAnotherBrokerWhenNotStoreOK && pending.attempt < total {
                note(
                    .failed(
                        producer: index + 1, messages: [pending.message], error: status.rawValue,
                        retrying: true),
                    at: node)
                attempt(
                    index, send: pending.send, message: pending.message, attempt: pending.attempt + 1,
                    startedAt: pending.startedAt, group: (pending.group + 1) % masters.count)
                return
            }
            let broker = nodes[masters[pending.group]].id
            if config.transactional {
                guard status == .sendOK else {
                    // executeLocalTransaction does not run: the half message is rolled back.
                    fact(
                        "p\(index + 1): half message \(name(of: pending.message)) got \(status.rawValue): ROLLBACK_MESSAGE without running the local transaction",
                        message: pending.message, at: node)
                    engine.recorder.history.complete(pending.send, .fail(error: status.rawValue, time: now))
                    let copy = pending.copy
                    engine.transmit(
                        .endTransaction(copy: copy, commit: false), from: node, to: .broker(broker))
                    return
                }
                fact(
                    "p\(index + 1): half message \(name(of: pending.message)) SEND_OK; executeLocalTransaction runs",
                    message: pending.message, at: node)
                setTimer(
                    .localTransactionDone(send: pending.send, copy: pending.copy), for: node,
                    after: config.localTransactionMs)
                return
            }
            fact(
                status == .sendOK
                    ? "p\(index + 1): send(\(name(of: pending.message))) returns SEND_OK from \(broker)"
                    : "p\(index + 1): send(\(name(of: pending.message))) returns \(status.rawValue) from \(broker): a result, not an exception",
                message: pending.message, at: node)
            engine.recorder.history.complete(pending.send, .ok(offset: nil, broker: broker, time: now))
        case .checkTransaction(let copy, let message):
            let answer = database[copy] ?? .unknown
            fact(
                "p\(index + 1): checkLocalTransaction(\(name(of: message))) finds \(answer.rawValue) in the database",
                message: message, at: node)
            guard let master = copyMaster(copy) else { return }
            engine.transmit(
                .endTransaction(
                    copy: copy, commit: answer == .commit ? true : answer == .rollback ? false : nil),
                from: node, to: .broker(nodes[master].id))
        default:
            preconditionFailure("a producer got \(payload.kind)")
        }
    }

    /// The master a half message was sent to: the one whose log holds it.
    func copyMaster(_ copy: Int) -> Int? {
        masters.first { master in nodes[master].log.contains { $0.copy == copy && $0.topic == .half } }
    }

    mutating func localTransactionDone(_ index: Int, send: Int, copy: Int) {
        let node = NodeID.producer(index + 1)
        let outcome = config.localTransaction
        database[copy] = outcome
        let message = engine.recorder.history.sends[send].message
        switch outcome {
        case .commit, .commitAnsweredUnknown:
            engine.recorder.history.complete(send, .ok(offset: nil, broker: nil, time: now))
        case .rollback:
            engine.recorder.history.complete(send, .fail(error: "local transaction rolled back", time: now))
        case .unknown:
            engine.recorder.history.complete(send, .info(error: "local transaction state UNKNOW", time: now))
        }
        fact(
            "p\(index + 1): local transaction for \(name(of: message)) \(Self.describe(outcome)); END_TRANSACTION goes oneway",
            message: message, at: node)
        guard let master = copyMaster(copy) else { return }
        engine.transmit(
            .endTransaction(
                copy: copy, commit: outcome == .commit ? true : outcome == .rollback ? false : nil),
            from: node, to: .broker(nodes[master].id))
    }

    static func describe(_ outcome: LocalTransaction) -> String {
        switch outcome {
        case .commit: "commits"
        case .rollback: "rolls back"
        case .unknown: "returns UNKNOW"
        case .commitAnsweredUnknown: "commits, but the listener returns UNKNOW"
        }
    }

    mutating func sendTimedOut(_ index: Int, request: Int) {
        guard let pending = producers[index].requests.removeValue(forKey: request) else { return }
        // The whole sendMsgTimeout budget is spent: sendDefaultImpl does not retry (RKT-04).
        let error =
            "RemotingTooMuchRequestException: sendDefaultImpl call timeout (\(config.sendMsgTimeout) ms)"
        note(
            .failed(producer: index + 1, messages: [pending.message], error: error, retrying: false),
            at: .producer(index + 1))
        producers[index].unacknowledged.append(pending.message)
        engine.recorder.history.complete(pending.send, .info(error: error, time: now))
    }

    mutating func crashProducer(_ producer: Int) {
        let index = producer - 1
        guard engine.crash(.producer(index + 1), .applicationCrash) else { return }
        for pending in producers[index].requests.values {
            engine.recorder.history.complete(pending.send, .info(error: "producer crashed", time: now))
        }
        producers[index].requests = [:]
        producers[index].unacknowledged = []
    }

    // MARK: - Consumers

    mutating func beginConsuming(_ consumer: Int) {
        consumers[consumer - 1].active = true
        startPulling(consumer - 1)
    }

    /// AllocateMessageQueueAveragely, one queue per master and topic: in CLUSTERING each queue
    /// has one consumer; in BROADCASTING every consumer reads every queue.
    func assignedQueues(_ consumer: Int) -> [RocketQueue] {
        let all = masters.flatMap {
            [RocketQueue(master: $0, retry: false), RocketQueue(master: $0, retry: true)]
        }
        if config.messageModel == .broadcasting { return all.filter { !$0.retry } }
        let active = consumers.indices.filter { consumers[$0].active && engine.isUp(.consumer($0 + 1)) }
        guard let rank = active.firstIndex(of: consumer) else { return [] }
        return all.enumerated().filter { $0.offset % active.count == rank }.map(\.element)
    }

    mutating func startPulling(_ index: Int) {
        for queue in assignedQueues(index) {
            if config.messageModel == .clustering {
                consumers[index].pullOffsets[queue] = nodes[queue.master].memory.offsets[queue] ?? 0
            } else if consumers[index].pullOffsets[queue] == nil {
                // BROADCASTING keeps offsets in the client; scenarios start consumers first.
                consumers[index].pullOffsets[queue] = 0
            }
            pull(index, queue)
        }
        setTimer(.persistOffsets, for: .consumer(index + 1), after: config.persistOffsetMs)
    }

    /// How long a pull may go unanswered: brokerSuspendMaxTimeMillis (15 s) plus
    /// consumerTimeoutMillisWhenSuspend (30 s).
    static let pullTimeoutMs: Millis = 45_000

    mutating func pull(_ index: Int, _ queue: RocketQueue) {
        guard consumers[index].active, engine.isUp(.consumer(index + 1)) else { return }
        let offset = consumers[index].pullOffsets[queue] ?? 0
        consumers[index].pullSentAt[queue] = now
        engine.transmit(
            .pull(queue: queue, offset: offset), from: .consumer(index + 1),
            to: .broker(nodes[queue.master].id))
        setTimer(.repull(queue), for: .consumer(index + 1), after: Self.pullTimeoutMs)
    }

    /// persistConsumerOffsetInterval: the client commits what it has processed to each broker.
    mutating func commitOffsets(_ index: Int) {
        guard consumers[index].active, engine.isUp(.consumer(index + 1)) else { return }
        if config.messageModel == .clustering {
            for (queue, offset) in consumers[index].committed.sorted(by: { $0.key.master < $1.key.master })
            where engine.isUp(.broker(nodes[queue.master].id)) {
                engine.transmit(
                    .commitOffset(queue: queue, offset: offset), from: .consumer(index + 1),
                    to: .broker(nodes[queue.master].id))
            }
        }
        setTimer(.persistOffsets, for: .consumer(index + 1), after: config.persistOffsetMs)
    }

    mutating func consumerReceive(_ index: Int, _ payload: RocketPayload, from: NodeID) {
        guard case .pullResult(let queue, let start, let entries) = payload else {
            preconditionFailure("a consumer got \(payload.kind)")
        }
        guard consumers[index].active, consumers[index].pullOffsets[queue] == start else { return }
        for (offset, entry) in entries.enumerated() {
            consumers[index].inbox.append((queue, start + offset, entry))
            consumers[index].deliveredCount += 1
            engine.recorder.history.polls.append(
                History.Delivery(
                    consumer: index + 1, message: entry.message, offset: Offset(entry.copy), time: now))
        }
        consumers[index].pullOffsets[queue] = start + entries.count
        pull(index, queue)
        startProcessing(index)
    }

    mutating func startProcessing(_ index: Int) {
        guard !consumers[index].busy, !consumers[index].inbox.isEmpty else { return }
        consumers[index].busy = true
        setTimer(.processed, for: .consumer(index + 1), after: config.processingMs)
    }

    mutating func finishProcessing(_ index: Int) {
        consumers[index].busy = false
        guard !consumers[index].inbox.isEmpty else { return }
        let (queue, position, entry) = consumers[index].inbox[0]
        let node = NodeID.consumer(index + 1)
        switch consumers[index].status {
        case .success:
            consumers[index].processedCount += 1
            engine.recorder.history.processed.append(
                History.Delivery(
                    consumer: index + 1, message: entry.message, offset: Offset(entry.copy), time: now))
            note(
                .processed(consumer: index + 1, message: entry.message, offset: Offset(entry.copy)), at: node)
        case .reconsumeLater:
            if config.messageModel == .broadcasting {
                fact(
                    "c\(index + 1): RECONSUME_LATER in BROADCASTING: \"the message consume failed, drop it\" (\(name(of: entry.message)))",
                    message: entry.message, at: node)
            } else if engine.isUp(.broker(nodes[queue.master].id)) {
                fact(
                    "c\(index + 1): RECONSUME_LATER for \(name(of: entry.message)) (reconsumeTimes \(entry.reconsumeTimes)): sent back",
                    message: entry.message, at: node)
                engine.transmit(.sendBack(entry: entry), from: node, to: .broker(nodes[queue.master].id))
            } else {
                // sendMessageBack failed: consumed again locally a little later (RKT-09).
                setTimer(.consumeLater, for: node, after: 5_000)
                return
            }
        }
        consumers[index].inbox.removeFirst()
        consumers[index].committed[queue] = position + 1
        startProcessing(index)
    }
}
