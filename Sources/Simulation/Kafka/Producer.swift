// Theory of operation
//
// The producer groups what the application sends at one instant into batches (up to
// batch.size), assigns each batch its sequence numbers when idempotence is on (K-PRD-06), and
// keeps up to max.in.flight.requests.per.connection requests outstanding to the leader it last
// heard of. A retriable error or a request timeout puts the batch back at the head of the queue,
// in sequence order, while retries and delivery.timeout.ms allow (K-PRD-03); with several
// batches in flight and no idempotence, that is how a retried batch lands after a later one
// (K-PRD-04). OUT_OF_ORDER_SEQUENCE_NUMBER for a batch that waits behind an unfinished earlier
// one re-queues it; for a real gap it fails the batch (K-PRD-09, SIMPLIFICATION: no epoch bump).
//
// Metadata is refreshed from the controller only after an error, as a client does, so a
// producer can keep writing to a deposed leader that does not know it has been deposed.
// Every message is one history operation: invoked when sent, then ok with its offset, fail when
// it certainly was not written, or info when it may have been.

struct ProducerBatch: Sendable {
    var id: Int
    var messages: [MessageID]
    var baseSequence: Int
    var createdAt: Millis
    var attempts = 0
    /// Some attempt may have appended it, so a final failure is indeterminate (info), not fail.
    var possiblyWritten = false
    /// Indexes into the history's sends, one per message.
    var historyIndexes: [Int]
}

struct InFlightRequest: Sendable {
    var request: Int
    var batch: ProducerBatch
    var broker: BrokerID
    var sentAt: Millis
}

/// A Kafka producer as a state machine: it reads its step and writes effects, and records what the
/// application saw in the history. `metadata` in its entry points is the leader the controller's
/// metadata names now, which the producer asks for only when it has none (after an error).
struct ProducerState: Sendable {
    typealias Step = NodeStep<Payload, KafkaWorld.Timer>

    /// The producer's number: p1, p2, ...
    let index: Int
    let config: KafkaConfig
    var session = 0
    var producerID: ProducerID?
    var producerEpoch = 0
    var nextSequence = 0
    /// The highest sequence acknowledged so far, to tell a re-queue from a real gap.
    var lastAcknowledgedSequence = -1
    var leader: BrokerID?
    var queue: [ProducerBatch] = []
    /// Requests awaiting an answer, oldest first (at most max.in.flight.requests.per.connection).
    var inFlight: [InFlightRequest] = []
    /// Sends the application has yet to call: its thread is blocked in an earlier send().
    var waitingCalls: [MessageID] = []
    /// Records accumulated and not yet completed: what holds buffer.memory.
    var bufferedRecords = 0
    /// The send() blocked for buffer space, with its history index (K-PRD-15).
    var blockedCall: (message: MessageID, historyIndex: Int)?
    var requestWatchdogArmed = false
    var deliveryWatchdogArmed = false
    var nextBatch = 1
}

extension ProducerState {
    /// A new session: InitProducerId gives it a new producer id (K-PRD-06, K-PRD-10a).
    mutating func startSession(metadata: BrokerID?, _ step: inout Step, _ shared: inout KafkaShared) {
        session += 1
        leader = metadata
        if config.enableIdempotence {
            producerID = ProducerID(shared.nextProducerID)
            shared.nextProducerID += 1
            producerEpoch = 0
            nextSequence = 0
            lastAcknowledgedSequence = -1
        }
        step.note(.newSession(producer: index, id: producerID))
    }

    /// The application sends `messages` now; they are batched together up to batch.size.
    mutating func produce(
        _ messages: [MessageID], metadata: BrokerID?, _ step: inout Step, _ shared: inout KafkaShared
    ) {
        waitingCalls += messages
        callSends(&step)
        drain(metadata: metadata, &step, &shared)
    }

    /// Bytes the accumulator holds: batches waiting and batches awaiting their response.
    var bufferedBytes: Int { bufferedRecords * config.recordBytes }

    /// The application's thread calls send() for each waiting message in turn. A call that finds
    /// buffer.memory full blocks the thread, and those behind it, for up to max.block.ms.
    private mutating func callSends(_ step: inout Step) {
        if let blocked = blockedCall {
            guard bufferedBytes + config.recordBytes <= config.bufferMemory else { return }
            blockedCall = nil
            accumulate(blocked.message, historyIndex: blocked.historyIndex, &step)
        }
        // One pass, the called prefix dropped once: a step may send 100,000 messages.
        var called = 0
        defer { waitingCalls.removeFirst(called) }
        while called < waitingCalls.count {
            let message = waitingCalls[called]
            called += 1
            let historyIndex = step.history.invoke(
                History.Send(
                    message: message, producer: index, session: session, invoked: step.now, outcome: .pending)
            )
            guard bufferedBytes + config.recordBytes <= config.bufferMemory else {
                blockedCall = (message, historyIndex)
                step.note(.sendBlocked(producer: index, message: message, bufferedBytes: bufferedBytes))
                step.setTimer(.maxBlock(call: historyIndex), after: config.maxBlockMs)
                return
            }
            accumulate(message, historyIndex: historyIndex, &step)
        }
    }

    /// One message into the record accumulator, without sending yet.
    private mutating func accumulate(_ message: MessageID, historyIndex: Int, _ step: inout Step) {
        let perBatch = max(1, config.batchSize / config.recordBytes)
        bufferedRecords += 1
        // The record accumulator: a record joins the newest batch that has not been sent yet
        // while it has room (batch.size), which is how batches grow while requests are in flight.
        if let last = queue.indices.last, queue[last].attempts == 0, queue[last].messages.count < perBatch {
            queue[last].messages.append(message)
            queue[last].historyIndexes.append(historyIndex)
        } else {
            let batch = ProducerBatch(
                id: nextBatch, messages: [message],
                baseSequence: config.enableIdempotence ? nextSequence : -1,
                createdAt: step.now, historyIndexes: [historyIndex])
            nextBatch += 1
            queue.append(batch)
            armDeliveryWatchdog(&step)
        }
        if config.enableIdempotence { nextSequence += 1 }
    }

    /// The application crashed (the engine restarts it): what was buffered or in flight is gone,
    /// and nothing in it was acknowledged to the application.
    mutating func crashed(_ step: inout Step) {
        step.note(.crashed(node: step.node, fault: .applicationCrash))
        for batch in queue {
            let error = "application crashed before the batch was sent again"
            complete(
                batch,
                batch.possiblyWritten
                    ? .info(error: error, time: step.now) : .fail(error: error, time: step.now),
                &step)
        }
        for entry in inFlight {
            complete(
                entry.batch, .info(error: "application crashed awaiting the response", time: step.now), &step)
        }
        if let blocked = blockedCall {
            step.history.complete(
                blocked.historyIndex, .fail(error: "application crashed in a blocked send()", time: step.now))
        }
        // The calls the blocked thread never made die with the application.
        blockedCall = nil
        waitingCalls = []
        bufferedRecords = 0
        queue = []
        inFlight = []
        requestWatchdogArmed = false
        deliveryWatchdogArmed = false
    }

    /// Whether the producer has nothing buffered or in flight.
    var isIdle: Bool { queue.isEmpty && inFlight.isEmpty && blockedCall == nil && waitingCalls.isEmpty }

    private mutating func drain(metadata: BrokerID?, _ step: inout Step, _ shared: inout KafkaShared) {
        // Space a completed batch freed lets a blocked send() go on.
        if blockedCall != nil { callSends(&step) }
        while inFlight.count < config.maxInFlightRequestsPerConnection, !queue.isEmpty {
            guard let target = leader ?? metadata else {
                // No leader: wait and look again (retry.backoff.ms).
                step.setTimer(.producerRetry(batch: 0), after: max(1, config.retryBackoffMs))
                return
            }
            leader = target
            if config.enableIdempotence, queue[0].attempts > 0,
                inFlight.contains(where: { $0.batch.baseSequence < queue[0].baseSequence })
            {
                // A retried batch waits until every earlier sequence has an answer, so the broker
                // sees sequences in order (Sender's in-order retry for idempotent producers).
                return
            }
            var batch = queue.removeFirst()
            batch.attempts += 1
            let request = shared.nextRequest
            shared.nextRequest += 1
            let wireBatch = ProduceBatch(
                messages: batch.messages, producer: producerID, producerEpoch: producerEpoch,
                baseSequence: batch.baseSequence)
            step.note(
                .sent(
                    producer: index, messages: batch.messages, to: target, attempt: batch.attempts,
                    sequence: config.enableIdempotence ? batch.baseSequence : nil))
            step.send(.produce(request: request, batch: wireBatch, acks: config.acks), to: .broker(target))
            if config.acks == .none {
                // acks=0: written to the socket counts as sent; the offset is unknown (-1).
                complete(batch, .ok(offset: nil, broker: target, time: step.now), &step)
                continue
            }
            inFlight.append(InFlightRequest(request: request, batch: batch, broker: target, sentAt: step.now))
            armRequestWatchdog(&step)
        }
    }

    mutating func receive(
        _ payload: Payload, metadata: BrokerID?, _ step: inout Step, _ shared: inout KafkaShared
    ) {
        guard case .produceResponse(let request, let error, let baseOffset) = payload else {
            preconditionFailure("a producer does not handle \(payload.kind.rawValue)")
        }
        guard let position = inFlight.firstIndex(where: { $0.request == request }) else { return }
        let entry = inFlight.remove(at: position)
        handleOutcome(
            entry.batch, broker: entry.broker, error: error, baseOffset: baseOffset, metadata: metadata,
            &step, &shared)
    }

    /// The broker's process died: the kernel closed its connections, and every request in flight to
    /// it fails at once as disconnected, to be retried after a metadata refresh (K-PRD-18).
    mutating func connectionClosed(
        by broker: BrokerID, metadata: BrokerID?, _ step: inout Step, _ shared: inout KafkaShared
    ) {
        let closed = inFlight.filter { $0.broker == broker }
        guard !closed.isEmpty else { return }
        inFlight.removeAll { $0.broker == broker }
        for entry in closed {
            handleOutcome(
                entry.batch, broker: entry.broker, error: .disconnected, baseOffset: nil, metadata: metadata,
                &step, &shared)
        }
    }

    private mutating func armRequestWatchdog(_ step: inout Step) {
        guard !requestWatchdogArmed, let oldest = inFlight.lazy.map(\.sentAt).min() else { return }
        requestWatchdogArmed = true
        step.setTimer(.requestWatchdog, after: oldest + config.requestTimeoutMs - step.now)
    }

    private mutating func armDeliveryWatchdog(_ step: inout Step) {
        let oldestQueued = queue.lazy.map(\.createdAt).min()
        let oldestInFlight = inFlight.lazy.map(\.batch.createdAt).min()
        guard !deliveryWatchdogArmed, let oldest = [oldestQueued, oldestInFlight].compactMap({ $0 }).min()
        else { return }
        deliveryWatchdogArmed = true
        step.setTimer(.deliveryWatchdog, after: max(0, oldest + config.deliveryTimeoutMs - step.now))
    }

    mutating func fire(
        _ timer: KafkaWorld.Timer, metadata: BrokerID?, _ step: inout Step, _ shared: inout KafkaShared
    ) {
        switch timer {
        case .requestWatchdog:
            // request.timeout.ms: a request with no answer fails client side as a timeout; the
            // broker may still have appended it.
            requestWatchdogArmed = false
            let (now, timeout) = (step.now, config.requestTimeoutMs)
            let expired = inFlight.filter { now - $0.sentAt >= timeout }
            inFlight.removeAll { now - $0.sentAt >= timeout }
            for entry in expired {
                handleOutcome(
                    entry.batch, broker: entry.broker, error: .requestTimedOut, baseOffset: nil,
                    metadata: metadata,
                    &step, &shared)
            }
            armRequestWatchdog(&step)
        case .producerRetry:
            drain(metadata: metadata, &step, &shared)
        case .maxBlock(let call):
            // send() gives up: the callback and the future get BufferExhaustedException, a
            // TimeoutException; send() itself does not throw (K-PRD-15). Nothing was written.
            guard let blocked = blockedCall, blocked.historyIndex == call else { return }
            blockedCall = nil
            let error =
                "BufferExhaustedException: failed to allocate memory within the configured max blocking time \(config.maxBlockMs) ms"
            step.note(.failed(producer: index, messages: [blocked.message], error: error, retrying: false))
            step.history.complete(call, .fail(error: error, time: step.now))
            callSends(&step)
            drain(metadata: metadata, &step, &shared)
        case .deliveryWatchdog:
            // K-PRD-17: every batch past createdAt + delivery.timeout.ms fails, queued or in flight;
            // an in-flight one may have been written (indeterminate), and its late answer is
            // ignored.
            deliveryWatchdogArmed = false
            let (now, timeout) = (step.now, config.deliveryTimeoutMs)
            let expired = queue.filter { now - $0.createdAt >= timeout }
            queue.removeAll { now - $0.createdAt >= timeout }
            let expiredInFlight = inFlight.filter { now - $0.batch.createdAt >= timeout }
            inFlight.removeAll { now - $0.batch.createdAt >= timeout }
            for batch in expired {
                expire(
                    batch, error: "TimeoutException: delivery.timeout.ms expired", metadata: metadata, &step,
                    &shared)
            }
            for entry in expiredInFlight {
                var batch = entry.batch
                batch.possiblyWritten = true
                expire(
                    batch, error: "TimeoutException: delivery.timeout.ms expired with the request in flight",
                    metadata: metadata, &step, &shared)
            }
            armDeliveryWatchdog(&step)
        default:
            preconditionFailure("a producer has no timer \(timer)")
        }
    }

    private mutating func handleOutcome(
        _ batch: ProducerBatch, broker: BrokerID, error: KafkaError?, baseOffset: Offset?,
        metadata: BrokerID?,
        _ step: inout Step, _ shared: inout KafkaShared
    ) {
        var batch = batch
        guard let error else {
            step.note(
                .acknowledged(producer: index, messages: batch.messages, offset: baseOffset, broker: broker))
            complete(batch, .ok(offset: baseOffset, broker: broker, time: step.now), &step)
            if config.enableIdempotence {
                lastAcknowledgedSequence = max(
                    lastAcknowledgedSequence, batch.baseSequence + batch.messages.count - 1)
            }
            drain(metadata: metadata, &step, &shared)
            return
        }
        batch.possiblyWritten = batch.possiblyWritten || error.mayHaveAppended
        if error == .notLeaderOrFollower || error == .requestTimedOut || error == .networkException
            || error == .disconnected
        {
            leader = nil  // refresh metadata before the next attempt
        }
        // OUT_OF_ORDER_SEQUENCE_NUMBER for a batch with an earlier one still unanswered means it
        // overtook that batch: send it again behind it. With nothing earlier pending, the gap is
        // real and the batch fails (K-PRD-09).
        let waitsBehindEarlier =
            error == .outOfOrderSequenceNumber
            && (inFlight.contains { $0.batch.baseSequence < batch.baseSequence }
                || queue.contains { $0.baseSequence < batch.baseSequence })
        let withinTime = step.now - batch.createdAt < config.deliveryTimeoutMs
        let retriable = error.isRetriable && (error != .outOfOrderSequenceNumber || waitsBehindEarlier)
        if retriable && withinTime && (batch.attempts <= config.retries || waitsBehindEarlier) {
            step.note(
                .failed(producer: index, messages: batch.messages, error: error.rawValue, retrying: true))
            // Back at the head of the queue (in sequence order with idempotence), so the retry goes
            // before newer batches; those already in flight may still land first (K-PRD-04).
            let position =
                config.enableIdempotence
                ? queue.firstIndex { $0.baseSequence > batch.baseSequence } ?? queue.count : 0
            queue.insert(batch, at: position)
            armDeliveryWatchdog(&step)
            step.setTimer(.producerRetry(batch: batch.id), after: max(1, config.retryBackoffMs))
            return
        }
        let reason =
            withinTime
            ? error.rawValue : "TimeoutException: delivery.timeout.ms expired (last error \(error.rawValue))"
        expire(batch, error: reason, metadata: metadata, &step, &shared)
    }

    private mutating func expire(
        _ batch: ProducerBatch, error: String, metadata: BrokerID?, _ step: inout Step,
        _ shared: inout KafkaShared
    ) {
        step.note(.failed(producer: index, messages: batch.messages, error: error, retrying: false))
        complete(
            batch,
            batch.possiblyWritten ? .info(error: error, time: step.now) : .fail(error: error, time: step.now),
            &step)
        drain(metadata: metadata, &step, &shared)
    }

    private mutating func complete(_ batch: ProducerBatch, _ outcome: History.Outcome, _ step: inout Step) {
        bufferedRecords -= batch.messages.count
        for (position, historyIndex) in batch.historyIndexes.enumerated() {
            var messageOutcome = outcome
            if case .ok(let offset?, let broker, let time) = outcome {
                messageOutcome = .ok(offset: offset + position, broker: broker, time: time)
            }
            step.history.complete(historyIndex, messageOutcome)
        }
    }
}

/// Request and producer ids, numbered across the world: producers, consumers and followers'
/// fetches draw from them alike.
struct KafkaShared: Sendable {
    var nextRequest = 1
    var nextProducerID = 7
}

extension KafkaWorld {
    /// Adds a producer (p1, p2, ...) and returns its number.
    mutating func addProducer() -> Int {
        let number = producers.count + 1
        producers.append(ProducerState(index: number, config: config))
        let metadata = controller.partition.leader
        atProducer(number) { producer, step, shared in
            producer.startSession(metadata: metadata, &step, &shared)
        }
        return number
    }

    @inline(__always)
    mutating func atProducer(
        _ producer: Int, _ act: (inout ProducerState, inout ProducerState.Step, inout KafkaShared) -> Void
    ) {
        _ = Self.step(
            .producer(producer), engine: &engine, state: &producers[producer - 1], shared: &shared, act)
    }

    /// The application sends `messages` now; they are batched together up to batch.size.
    mutating func produce(_ messages: [MessageID], producer: Int) {
        let metadata = controller.partition.leader
        atProducer(producer) { producer, step, shared in
            producer.produce(messages, metadata: metadata, &step, &shared)
        }
    }

    mutating func producerReceive(_ index: Int, _ payload: Payload, from _: NodeID) {
        let metadata = controller.partition.leader
        atProducer(index + 1) { producer, step, shared in
            producer.receive(payload, metadata: metadata, &step, &shared)
        }
    }

    mutating func producerTimer(_ index: Int, _ timer: Timer) {
        let metadata = controller.partition.leader
        atProducer(index + 1) { producer, step, shared in
            producer.fire(timer, metadata: metadata, &step, &shared)
        }
    }

    /// The application crashes and comes back as a new instance with a new session.
    mutating func crashProducer(_ producer: Int) {
        atProducer(producer) { producer, step, _ in producer.crashed(&step) }
        engine.replaceProcess(.producer(producer))
        engine.resetConnections(of: .producer(producer))
        let metadata = controller.partition.leader
        atProducer(producer) { producer, step, shared in
            producer.startSession(metadata: metadata, &step, &shared)
        }
    }

    /// The application sends again every message it never saw acknowledged (K-PRD-10a, b).
    mutating func resendUnacknowledged(_ producer: Int) {
        let pending = Set(
            producers[producer - 1].queue.flatMap(\.messages)
                + producers[producer - 1].inFlight.flatMap(\.batch.messages))
        produce(unacknowledgedMessages(producer).filter { !pending.contains($0) }, producer: producer)
    }

    /// Messages this producer's application sent and never saw acknowledged, in send order.
    func unacknowledgedMessages(_ producer: Int) -> [MessageID] {
        var seen: Set<MessageID> = []
        return history.sends.compactMap { send in
            guard send.producer == producer, !history.isAcknowledged(send.message),
                seen.insert(send.message).inserted
            else { return nil }
            return send.message
        }
    }

    /// Whether the producer has nothing buffered or in flight.
    func producerIsIdle(_ producer: Int) -> Bool { producers[producer - 1].isIdle }
}
