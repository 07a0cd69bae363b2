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

struct ProducerState: Sendable {
    let index: Int
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
    var requestWatchdogArmed = false
    var deliveryWatchdogArmed = false
    var nextBatch = 1
}

extension KafkaWorld {
    /// Adds a producer (p1, p2, ...) and returns its index.
    mutating func addProducer() -> Int {
        let index = producers.count + 1
        producers.append(ProducerState(index: index))
        startProducerSession(index - 1)
        return index
    }

    private mutating func startProducerSession(_ index: Int) {
        producers[index].session += 1
        producers[index].leader = controller.partition.leader
        if config.enableIdempotence {
            // InitProducerId: a new session gets a new producer id (K-PRD-06, K-PRD-10a).
            producers[index].producerID = ProducerID(nextProducerID)
            nextProducerID += 1
            producers[index].producerEpoch = 0
            producers[index].nextSequence = 0
            producers[index].lastAcknowledgedSequence = -1
        }
        note(.newSession(producer: index + 1, id: producers[index].producerID), at: .producer(index + 1))
    }

    /// The application sends `messages` now; they are batched together up to batch.size.
    mutating func produce(_ messages: [MessageID], producer: Int) {
        let index = producer - 1
        for message in messages { accumulate(message, producer: index) }
        drain(index)
    }

    /// One message into the record accumulator, without sending yet.
    private mutating func accumulate(_ message: MessageID, producer index: Int) {
        let perBatch = max(1, config.batchSize / config.recordBytes)
        let producer = index + 1
        let historyIndex = engine.recorder.history.invoke(
            History.Send(
                message: message, producer: producer, session: producers[index].session, invoked: now,
                outcome: .pending))
        // The record accumulator: a record joins the newest batch that has not been sent yet
        // while it has room (batch.size), which is how batches grow while requests are in flight.
        if let last = producers[index].queue.indices.last, producers[index].queue[last].attempts == 0,
            producers[index].queue[last].messages.count < perBatch
        {
            producers[index].queue[last].messages.append(message)
            producers[index].queue[last].historyIndexes.append(historyIndex)
        } else {
            let batch = ProducerBatch(
                id: producers[index].nextBatch, messages: [message],
                baseSequence: config.enableIdempotence ? producers[index].nextSequence : -1,
                createdAt: now,
                historyIndexes: [historyIndex])
            producers[index].nextBatch += 1
            producers[index].queue.append(batch)
            armDeliveryWatchdog(index)
        }
        if config.enableIdempotence { producers[index].nextSequence += 1 }
    }

    /// The paced application's next send: one message, sent at once.
    mutating func produceOne(_ message: MessageID, producer: Int) {
        let index = producer - 1
        accumulate(message, producer: index)
        drain(index)
    }

    /// The application crashes and comes back as a new instance: what was buffered or in
    /// flight is gone, and nothing in it was acknowledged to the application.
    mutating func crashProducer(_ producer: Int) {
        let index = producer - 1
        note(.crashed(node: .producer(producer), fault: .applicationCrash), at: .producer(producer))
        for batch in producers[index].queue {
            let error = "application crashed before the batch was sent again"
            complete(
                batch, batch.possiblyWritten ? .info(error: error, time: now) : .fail(error: error, time: now)
            )
        }
        for entry in producers[index].inFlight {
            complete(entry.batch, .info(error: "application crashed awaiting the response", time: now))
        }
        producers[index].queue = []
        producers[index].inFlight = []
        producers[index].requestWatchdogArmed = false
        producers[index].deliveryWatchdogArmed = false
        engine.replaceProcess(.producer(producer))
        engine.resetConnections(of: .producer(producer))
        startProducerSession(index)
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
    func producerIsIdle(_ producer: Int) -> Bool {
        producers[producer - 1].queue.isEmpty && producers[producer - 1].inFlight.isEmpty
    }

    private mutating func drain(_ index: Int) {
        let node = NodeID.producer(index + 1)
        while producers[index].inFlight.count < config.maxInFlightRequestsPerConnection,
            !producers[index].queue.isEmpty
        {
            guard let leader = producers[index].leader ?? controller.partition.leader else {
                // No leader: wait and look again (retry.backoff.ms).
                setTimer(.producerRetry(batch: 0), for: node, after: max(1, config.retryBackoffMs))
                return
            }
            producers[index].leader = leader
            if config.enableIdempotence, producers[index].queue[0].attempts > 0,
                producers[index].inFlight.contains(where: {
                    $0.batch.baseSequence < producers[index].queue[0].baseSequence
                })
            {
                // A retried batch waits until every earlier sequence has an answer, so the broker
                // sees sequences in order (Sender's in-order retry for idempotent producers).
                return
            }
            var batch = producers[index].queue.removeFirst()
            batch.attempts += 1
            let request = nextRequest
            nextRequest += 1
            let wireBatch = ProduceBatch(
                messages: batch.messages, producer: producers[index].producerID,
                producerEpoch: producers[index].producerEpoch,
                baseSequence: batch.baseSequence)
            note(
                .sent(
                    producer: index + 1, messages: batch.messages, to: leader, attempt: batch.attempts,
                    sequence: config.enableIdempotence ? batch.baseSequence : nil), at: node)
            send(
                .produce(request: request, batch: wireBatch, acks: config.acks), from: node,
                to: .broker(leader))
            if config.acks == .none {
                // acks=0: written to the socket counts as sent; the offset is unknown (-1).
                complete(batch, .ok(offset: nil, broker: leader, time: now))
                continue
            }
            producers[index].inFlight.append(
                InFlightRequest(request: request, batch: batch, broker: leader, sentAt: now))
            armRequestWatchdog(index)
        }
    }

    mutating func producerReceive(_ index: Int, _ payload: Payload, from: NodeID) {
        guard case .produceResponse(let request, let error, let baseOffset) = payload else {
            preconditionFailure("a producer does not handle \(payload.kind.rawValue)")
        }
        guard let position = producers[index].inFlight.firstIndex(where: { $0.request == request }) else {
            return
        }
        let entry = producers[index].inFlight.remove(at: position)
        handleOutcome(index, batch: entry.batch, broker: entry.broker, error: error, baseOffset: baseOffset)
    }

    private mutating func armRequestWatchdog(_ index: Int) {
        guard !producers[index].requestWatchdogArmed,
            let oldest = producers[index].inFlight.lazy.map(\.sentAt).min()
        else { return }
        producers[index].requestWatchdogArmed = true
        setTimer(.requestWatchdog, for: .producer(index + 1), after: oldest + config.requestTimeoutMs - now)
    }

    private mutating func armDeliveryWatchdog(_ index: Int) {
        guard !producers[index].deliveryWatchdogArmed,
            let oldest = producers[index].queue.lazy.map(\.createdAt).min()
        else { return }
        producers[index].deliveryWatchdogArmed = true
        setTimer(
            .deliveryWatchdog, for: .producer(index + 1),
            after: max(0, oldest + config.deliveryTimeoutMs - now))
    }

    mutating func producerTimer(_ index: Int, _ timer: Timer) {
        switch timer {
        case .requestWatchdog:
            // request.timeout.ms: a request with no answer fails client side as a timeout; the
            // broker may still have appended it.
            producers[index].requestWatchdogArmed = false
            let (now, timeout) = (self.now, config.requestTimeoutMs)
            let expired = producers[index].inFlight.filter { now - $0.sentAt >= timeout }
            producers[index].inFlight.removeAll { now - $0.sentAt >= timeout }
            for entry in expired {
                handleOutcome(
                    index, batch: entry.batch, broker: entry.broker, error: .requestTimedOut, baseOffset: nil)
            }
            armRequestWatchdog(index)
        case .producerRetry:
            drain(index)
        case .deliveryWatchdog:
            // Only a batch still waiting in the queue expires here; one in flight expires when its
            // request completes.
            producers[index].deliveryWatchdogArmed = false
            let (now, timeout) = (self.now, config.deliveryTimeoutMs)
            let expired = producers[index].queue.filter { now - $0.createdAt >= timeout }
            producers[index].queue.removeAll { now - $0.createdAt >= timeout }
            for batch in expired {
                expire(index, batch, error: "TimeoutException: delivery.timeout.ms expired")
            }
            armDeliveryWatchdog(index)
        default:
            preconditionFailure("a producer has no timer \(timer)")
        }
    }

    private mutating func handleOutcome(
        _ index: Int, batch: ProducerBatch, broker: BrokerID, error: KafkaError?, baseOffset: Offset?
    ) {
        let node = NodeID.producer(index + 1)
        var batch = batch
        guard let error else {
            note(
                .acknowledged(
                    producer: index + 1, messages: batch.messages, offset: baseOffset, broker: broker),
                at: node)
            complete(batch, .ok(offset: baseOffset, broker: broker, time: now))
            if config.enableIdempotence {
                producers[index].lastAcknowledgedSequence = max(
                    producers[index].lastAcknowledgedSequence, batch.baseSequence + batch.messages.count - 1)
            }
            drain(index)
            return
        }
        batch.possiblyWritten = batch.possiblyWritten || error.mayHaveAppended
        if error == .notLeaderOrFollower || error == .requestTimedOut || error == .networkException {
            producers[index].leader = nil  // refresh metadata before the next attempt
        }
        // OUT_OF_ORDER_SEQUENCE_NUMBER for a batch with an earlier one still unanswered means it
        // overtook that batch: send it again behind it. With nothing earlier pending, the gap is
        // real and the batch fails (K-PRD-09).
        let waitsBehindEarlier =
            error == .outOfOrderSequenceNumber
            && (producers[index].inFlight.contains { $0.batch.baseSequence < batch.baseSequence }
                || producers[index].queue.contains { $0.baseSequence < batch.baseSequence })
        let withinTime = now - batch.createdAt < config.deliveryTimeoutMs
        let retriable = error.isRetriable && (error != .outOfOrderSequenceNumber || waitsBehindEarlier)
        if retriable && withinTime && (batch.attempts <= config.retries || waitsBehindEarlier) {
            note(
                .failed(producer: index + 1, messages: batch.messages, error: error.rawValue, retrying: true),
                at: node)
            // Back at the head of the queue (in sequence order with idempotence), so the retry goes
            // before newer batches; those already in flight may still land first (K-PRD-04).
            let position =
                config.enableIdempotence
                ? producers[index].queue.firstIndex { $0.baseSequence > batch.baseSequence }
                    ?? producers[index].queue.count : 0
            producers[index].queue.insert(batch, at: position)
            armDeliveryWatchdog(index)
            setTimer(.producerRetry(batch: batch.id), for: node, after: max(1, config.retryBackoffMs))
            return
        }
        let reason =
            withinTime
            ? error.rawValue : "TimeoutException: delivery.timeout.ms expired (last error \(error.rawValue))"
        expire(index, batch, error: reason)
    }

    private mutating func expire(_ index: Int, _ batch: ProducerBatch, error: String) {
        note(
            .failed(producer: index + 1, messages: batch.messages, error: error, retrying: false),
            at: .producer(index + 1))
        complete(
            batch, batch.possiblyWritten ? .info(error: error, time: now) : .fail(error: error, time: now))
        drain(index)
    }

    private mutating func complete(_ batch: ProducerBatch, _ outcome: History.Outcome) {
        for (position, historyIndex) in batch.historyIndexes.enumerated() {
            var messageOutcome = outcome
            if case .ok(let offset?, let broker, let time) = outcome {
                messageOutcome = .ok(offset: offset + position, broker: broker, time: time)
            }
            engine.recorder.history.complete(historyIndex, messageOutcome)
        }
    }
}
