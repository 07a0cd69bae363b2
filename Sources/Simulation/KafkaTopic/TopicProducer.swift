// Theory of operation
//
// A producer of the partitioned topic picks each record's partition from the partition count
// its metadata knows, refreshed every metadata.max.age.ms (K-PART-04): a keyed record goes to
// toPositive(murmur2(key)) % N (K-PART-01), a record without a key to the sticky partition,
// which moves to another partition, drawn from the seed, after batch.size bytes (K-PART-02, 3.3+).
// The cluster is healthy, so every batch is appended and acknowledged (SIMPLIFICATION:
// retries and their reordering are the one-partition model's).
//
// With transactional.id set, the producer is transactional (K-TXN-01): `begin` calls
// initTransactions() the first time in each process, then beginTransaction(); sends join the
// transaction; `commit` and `abort` wait for the transaction's sends to be acknowledged (as
// commitTransaction flushes), then end it. A send outside a transaction fails. After
// ProducerFencedException the producer is unusable: every later call fails.

struct TopicProducer: Sendable {
    typealias Step = NodeStep<TopicPayload, TopicTimer>

    enum Ending: Sendable {
        case commit
        case abort
    }

    let index: Int
    let config: KafkaConfig
    var session = 1
    var knownPartitions: Int
    var lastMetadata: Millis = 0
    var random: SeededRandom
    var sticky = -1
    var stickyBytes = 0
    var requests = 0
    /// Requests in flight: request -> history indices of its sends.
    var inFlight: [Int: [TopicSend]] = [:]

    // Transactions.
    var identity: (id: Int, epoch: Int)?
    var initializing = false
    var inTransaction = false
    var fenced = false
    /// Sends made before initTransactions() returned.
    var waiting: [(send: TopicSend, key: String?)] = []
    var ending: Ending?
    /// commitTransaction()/abortTransaction() block until the coordinator answers: what the
    /// application sends meanwhile waits.
    var endInFlight = false
    /// The application's calls made while commitTransaction()/abortTransaction() blocked its
    /// thread, replayed in order once it returns.
    var blocked: [BlockedCall] = []
    /// A send of the open transaction failed: commitTransaction() throws, abortTransaction() is
    /// the way out (K-TXN-02).
    var abortableError: String?

    enum BlockedCall: Sendable {
        case send([(MessageID, key: String?)], tombstones: Set<MessageID>, partitions: Int)
        case begin
        case end(commit: Bool)
    }

    /// Whether the application's thread is inside commitTransaction()/abortTransaction().
    var applicationBlocked: Bool { ending != nil || endInFlight }

    init(
        index: Int, config: KafkaConfig, partitions: Int, random: SeededRandom, transactionalID: String? = nil
    ) {
        self.index = index
        self.config = config
        self.transactionalID = transactionalID ?? config.transactionalID
        knownPartitions = partitions
        self.random = random
    }

    /// This producer's transactional.id: its own, or the scenario's config.
    var transactionalID: String?
    var transactional: Bool { transactionalID != nil }
}

extension TopicProducer {
    /// The application calls send() for each message, in order.
    mutating func send(
        _ messages: [(MessageID, key: String?)], tombstones: Set<MessageID>, partitions: Int,
        _ step: inout Step
    ) {
        guard !applicationBlocked else {
            blocked.append(.send(messages, tombstones: tombstones, partitions: partitions))
            return
        }
        if step.now - lastMetadata >= config.metadataMaxAgeMs || lastMetadata == 0 {
            lastMetadata = max(1, step.now)
            if partitions != knownPartitions {
                knownPartitions = partitions
                step.note(.topic(.metadata(node: .producer(index), partitions: partitions)))
            }
        }
        var batches: [Int: [(TopicSend, String?)]] = [:]
        var order: [Int] = []
        for (message, key) in messages {
            let call = step.history.invoke(
                History.Send(
                    message: message, producer: index, session: session, invoked: step.now, outcome: .pending)
            )
            if transactional && (fenced || !inTransaction) {
                let error =
                    fenced
                    ? "ProducerFencedException" : "IllegalStateException: send() outside a transaction"
                step.history.complete(call, .fail(error: error, time: step.now))
                step.note(
                    .topic(.rejected(producer: index, partition: -1, messages: [message], error: error)))
                continue
            }
            let partition =
                key.map { KafkaPartitioner.partition(forKey: $0, partitions: knownPartitions) }
                ?? stickyPartition()
            let send = TopicSend(
                message: message, partition: partition, call: call, key: key,
                tombstone: tombstones.contains(message))
            if transactional && identity == nil {
                waiting.append((send, key))
                continue
            }
            if batches[partition] == nil { order.append(partition) }
            batches[partition, default: []].append((send, key))
        }
        for partition in order { transmit(batches[partition] ?? [], &step) }
    }

    private mutating func transmit(_ batch: [(TopicSend, String?)], _ step: inout Step) {
        guard let first = batch.first else { return }
        requests += 1
        let request = index * 10_000_000 + requests
        inFlight[request] = batch.map(\.0)
        let keys = Set(batch.compactMap(\.1))
        step.note(
            .topic(
                .sent(
                    producer: index, partition: first.0.partition, messages: batch.map(\.0.message),
                    key: keys.count == 1 ? keys.first : nil)))
        step.send(
            .produce(
                request: request, partition: first.0.partition, sends: batch.map(\.0),
                transactional: transactional ? identity : nil), to: TopicCluster.node)
    }

    /// K-PART-02 (3.3+): the sticky partition moves after batch.size bytes, to a partition drawn
    /// uniformly among all of them (every partition has a leader here).
    private mutating func stickyPartition() -> Int {
        if sticky < 0 || sticky >= knownPartitions || stickyBytes >= config.batchSize {
            sticky = random.next(in: 0...(knownPartitions - 1))
            stickyBytes = 0
        }
        stickyBytes += config.recordBytes
        return sticky
    }

    mutating func begin(_ step: inout Step) {
        guard !applicationBlocked else {
            blocked.append(.begin)
            return
        }
        guard transactional, !fenced else { return }
        if identity == nil && !initializing {
            initializing = true
            step.note(.topic(.transaction(producer: index, event: "initTransactions()")))
            step.send(.initProducerID(transactionalID: transactionalID ?? ""), to: TopicCluster.node)
        }
        inTransaction = true
        ending = nil
        step.note(.topic(.transaction(producer: index, event: "beginTransaction()")))
    }

    mutating func end(commit: Bool, _ step: inout Step) {
        guard !applicationBlocked else {
            blocked.append(.end(commit: commit))
            return
        }
        guard transactional, inTransaction else { return }
        ending = commit ? .commit : .abort
        step.note(
            .topic(
                .transaction(
                    producer: index,
                    event: commit ? "commitTransaction() called" : "abortTransaction() called")))
        finishIfFlushed(&step)
    }

    private mutating func finishIfFlushed(_ step: inout Step) {
        guard let ending, inFlight.isEmpty, waiting.isEmpty, let identity else { return }
        if fenced {
            step.history.raised.append((.producer(index), "ProducerFencedException"))
            step.note(
                .topic(
                    .transaction(
                        producer: index, event: "ProducerFencedException: the transaction cannot end")))
            self.ending = nil
            inTransaction = false
            replayBlocked(&step)
            return
        }
        if ending == .commit, let abortableError {
            // commitTransaction() throws; the transaction stays open until it is aborted.
            let error =
                "KafkaException: cannot commit after a failed send (\(abortableError)); abort the transaction"
            step.history.raised.append((.producer(index), error))
            step.note(.topic(.transaction(producer: index, event: "commitTransaction() fails: \(error)")))
            self.ending = nil
            replayBlocked(&step)
            return
        }
        step.send(
            .endTransaction(id: identity.id, epoch: identity.epoch, commit: ending == .commit),
            to: TopicCluster.node)
        self.ending = nil
        endInFlight = true
        inTransaction = false
    }

    mutating func receive(_ payload: TopicPayload, _ step: inout Step) {
        switch payload {
        case .produceResponse(let request, let partition, let baseOffset, let error):
            guard let sends = inFlight.removeValue(forKey: request) else { return }
            if let baseOffset {
                for (position, send) in sends.enumerated() {
                    step.history.complete(
                        send.call,
                        .ok(offset: Offset(baseOffset + position), broker: BrokerID(1), time: step.now))
                }
                step.note(
                    .topic(
                        .acknowledged(
                            producer: index, partition: partition, messages: sends.map(\.message),
                            offset: baseOffset)))
            } else {
                let error = error ?? "unknown error"
                if error == "ProducerFencedException" {
                    fenced = true
                } else if transactional {
                    abortableError = error
                }
                for send in sends { step.history.complete(send.call, .fail(error: error, time: step.now)) }
                step.note(
                    .topic(
                        .rejected(
                            producer: index, partition: partition, messages: sends.map(\.message),
                            error: error)))
            }
            finishIfFlushed(&step)
        case .producerIdentity(let id, let epoch):
            initializing = false
            identity = (id, epoch)
            step.note(
                .topic(
                    .transaction(
                        producer: index,
                        event: "initTransactions() returns: producer id \(id), epoch \(epoch)")))
            flushWaiting(&step)
        case .endTransactionResponse(let commit, let error):
            endInFlight = false
            abortableError = nil
            defer { replayBlocked(&step) }
            if let error {
                fenced = true
                step.history.raised.append((.producer(index), error))
                step.note(
                    .topic(
                        .transaction(
                            producer: index,
                            event: "\(commit ? "commitTransaction()" : "abortTransaction()") fails: \(error)")
                    ))
            } else {
                step.note(
                    .topic(
                        .transaction(
                            producer: index, event: commit ? "transaction committed" : "transaction aborted"))
                )
            }
        default:
            preconditionFailure("a producer does not handle \(payload.kind.rawValue)")
        }
    }

    /// commitTransaction()/abortTransaction() returned: the application's next calls run.
    private mutating func replayBlocked(_ step: inout Step) {
        while !blocked.isEmpty, !applicationBlocked {
            switch blocked.removeFirst() {
            case .send(let messages, let tombstones, let partitions):
                send(messages, tombstones: tombstones, partitions: partitions, &step)
            case .begin: begin(&step)
            case .end(let commit): end(commit: commit, &step)
            }
        }
    }

    private mutating func flushWaiting(_ step: inout Step) {
        guard identity != nil, !endInFlight else { return }
        let queued = waiting
        waiting = []
        var batches: [Int: [(TopicSend, String?)]] = [:]
        var order: [Int] = []
        for (send, key) in queued {
            if batches[send.partition] == nil { order.append(send.partition) }
            batches[send.partition, default: []].append((send, key))
        }
        for partition in order { transmit(batches[partition] ?? [], &step) }
        finishIfFlushed(&step)
    }
}
