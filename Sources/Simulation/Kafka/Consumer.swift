// Theory of operation
//
// A consumer is an application loop around poll(): fetch from its position (records below the
// high watermark only), process, and commit by one of three policies: `auto`
// (enable.auto.commit: inside poll, before fetching, commit the position, i.e. what the previous
// poll returned, K-CON-03), `before-processing` (commitSync, then process: at-most-once) or
// `after-processing` (process, then commitSync: at-least-once) (K-CON-02). Processing is `sync`
// (in the loop, one record per sim.processing.ms) or `async` (handed to a worker, and the loop
// polls again at once). Each processed record is one side effect in an external sink.
//
// The group coordinator gives P0 to one member; a member that does not poll within
// max.poll.interval.ms leaves the group itself, and its later commit fails with
// CommitFailedException (K-CON-04). A crash loses the position and the worker's queue; the
// restarted member starts from the committed offset, or from auto.offset.reset without one.

/// When the application commits consumed offsets.
public enum CommitPolicy: String, CaseIterable, Sendable {
    case auto
    case beforeProcessing = "before-processing"
    case afterProcessing = "after-processing"
}

/// Where the application processes what it polled.
public enum ProcessingMode: String, CaseIterable, Sendable {
    case sync
    case async
}

/// A Kafka consumer as a state machine: it reads its step and writes effects, and records what the
/// application saw in the history. `metadata` in its entry points is what it would learn from
/// the cluster now: the partition's leader, and its high watermark for auto.offset.reset=latest.
struct ConsumerState: Sendable {
    typealias Step = NodeStep<Payload, KafkaWorld.Timer>

    struct Metadata {
        var leader: BrokerID?
        var latestOffset: Int
    }

    enum Phase: Sendable {
        case stopped
        case joining
        case fetching(request: Int)
        case processing(records: [(Record, Int)], next: Int)
        case committing(request: Offset, thenProcess: [(Record, Int)])
    }

    /// The consumer's number: c1, c2, ...
    let index: Int
    let config: KafkaConfig
    let commitPolicy: CommitPolicy
    let processing: ProcessingMode
    var phase = Phase.stopped
    var generation = 0
    var assigned = false
    var leftGroup = false
    var position: Int?
    var lastPoll: Millis = 0
    var lastAutoCommit: Millis = 0
    var worker: [(Record, Int)] = []
    var workerBusy = false
    var polled = 0
    var processed = 0
    /// The broker the fetch in flight went to.
    var fetchingFrom: BrokerID?
}

extension ConsumerState {
    /// The process starts: it joins the group and begins its heartbeats.
    mutating func start(_ step: inout Step) {
        phase = .joining
        lastPoll = step.now
        lastAutoCommit = step.now
        step.send(.joinGroup(consumer: index), to: .controller)
        step.setTimer(.groupCheck, after: 3_000)  // heartbeat.interval.ms
    }

    /// A clean shutdown: with auto-commit, close() commits the position first (K-CON-03).
    mutating func stop(_ step: inout Step) {
        if commitPolicy == .auto, assigned, let position {
            step.send(
                .offsetCommit(consumer: index, generation: generation, offset: Offset(position)),
                to: .controller)
        }
        step.send(.leaveGroup(consumer: index), to: .controller)
    }

    mutating func receive(
        _ payload: Payload, metadata: Metadata, _ step: inout Step, _ shared: inout KafkaShared
    ) {
        switch payload {
        case .joinResponse(let generation, let assigned, let committed):
            self.generation = generation
            leftGroup = false
            let wasAssigned = self.assigned
            self.assigned = assigned
            guard assigned else {
                position = nil
                return
            }
            if !wasAssigned || position == nil {
                let start = committed?.value ?? resetOffset(metadata)
                position = start
                step.note(.assigned(consumer: index, generation: generation, position: Offset(start)))
            }
            if case .joining = phase { poll(metadata, &step, &shared) }
        case .consumerFetchResponse(let request, let from, let records, let logEnd, let notLeader):
            guard case .fetching(let expected) = phase, expected == request else { return }
            if notLeader {
                phase = .joining
                step.setTimer(.consumerWake, after: max(1, config.retryBackoffMs))
                return
            }
            guard !records.isEmpty else {
                // SIMPLIFICATION (KIP-320 not modelled): after a truncation below the position, the
                // consumer resumes from the new log end.
                if let position, position > logEnd.value { self.position = logEnd.value }
                poll(metadata, &step, &shared)
                return
            }
            let batch = records.enumerated().map { ($0.element, from.value + $0.offset) }
            position = from.value + records.count
            polled += records.count
            for (record, offset) in batch {
                step.history.polls.append(
                    History.Delivery(
                        consumer: index, message: record.message, offset: Offset(offset), time: step.now))
            }
            step.note(.polled(consumer: index, from: from, messages: records.map(\.message)))
            switch (commitPolicy, processing) {
            case (.beforeProcessing, _):
                commit(thenProcess: batch, &step)
            case (_, .async):
                worker += batch
                startWorker(&step)
                poll(metadata, &step, &shared)
            case (_, .sync):
                phase = .processing(records: batch, next: 0)
                step.setTimer(.consumerWake, after: config.processingMs)
            }
        case .offsetCommitResponse(let ok, let offset):
            guard case .committing(let expected, let thenProcess) = phase, expected == offset else {
                if !ok { step.note(.committedOffset(consumer: index, offset: offset, ok: false)) }
                return
            }
            step.note(.committedOffset(consumer: index, offset: offset, ok: ok))
            guard ok else {
                step.history.raised.append((.consumer(index), "CommitFailedException"))
                // CommitFailedException: the partition went to another member; rejoin.
                assigned = false
                position = nil
                phase = .joining
                step.send(.joinGroup(consumer: index), to: .controller)
                return
            }
            if thenProcess.isEmpty {
                poll(metadata, &step, &shared)
            } else {
                phase = .processing(records: thenProcess, next: 0)
                step.setTimer(.consumerWake, after: config.processingMs)
            }
        default:
            preconditionFailure("a consumer does not handle \(payload.kind.rawValue)")
        }
    }

    mutating func fire(
        _ timer: KafkaWorld.Timer, metadata: Metadata, _ step: inout Step, _ shared: inout KafkaShared
    ) {
        switch timer {
        case .groupCheck:
            // The heartbeat thread: keep the membership alive, and leave the group when the
            // application has not polled within max.poll.interval.ms (K-CON-04).
            if assigned, !leftGroup, step.now - lastPoll > config.maxPollIntervalMs {
                leftGroup = true
                step.send(.leaveGroup(consumer: index), to: .controller)
            } else if !leftGroup {
                step.send(.groupHeartbeat(consumer: index, generation: generation), to: .controller)
            }
            step.setTimer(.groupCheck, after: 3_000)
        case .consumerWake:
            switch phase {
            case .processing(let records, let next):
                guard next < records.count else {
                    // The loop body after processing: a separate step, so a crash can land
                    // between the last side effect and the commit.
                    if commitPolicy == .afterProcessing {
                        commit(thenProcess: [], &step)
                    } else {
                        poll(metadata, &step, &shared)
                    }
                    return
                }
                process(records[next], &step)
                phase = .processing(records: records, next: next + 1)
                step.setTimer(.consumerWake, after: next + 1 < records.count ? config.processingMs : 0)
            case .joining:
                if assigned { poll(metadata, &step, &shared) }
            default:
                break
            }
        case .consumerFetchTimeout(let request):
            if case .fetching(let pending) = phase, pending == request { poll(metadata, &step, &shared) }
        case .consumerWorker:
            guard !worker.isEmpty else {
                workerBusy = false
                return
            }
            process(worker.removeFirst(), &step)
            if worker.isEmpty {
                workerBusy = false
            } else {
                step.setTimer(.consumerWorker, after: config.processingMs)
            }
        default:
            preconditionFailure("a consumer has no timer \(timer)")
        }
    }

    private mutating func startWorker(_ step: inout Step) {
        guard !workerBusy, !worker.isEmpty else { return }
        workerBusy = true
        step.setTimer(.consumerWorker, after: config.processingMs)
    }

    private mutating func process(_ item: (Record, Int), _ step: inout Step) {
        processed += 1
        step.history.processed.append(
            History.Delivery(consumer: index, message: item.0.message, offset: Offset(item.1), time: step.now)
        )
        step.note(.processed(consumer: index, message: item.0.message, offset: Offset(item.1)))
    }

    private mutating func commit(thenProcess: [(Record, Int)], _ step: inout Step) {
        let position = Offset(self.position ?? 0)
        phase = .committing(request: position, thenProcess: thenProcess)
        step.send(.offsetCommit(consumer: index, generation: generation, offset: position), to: .controller)
    }

    /// The broker of the fetch in flight died: the connection closes, and the consumer asks for
    /// metadata and fetches again after retry.backoff.ms (K-PRD-18, as for the producer).
    mutating func connectionClosed(
        by broker: BrokerID, _ metadata: Metadata, _ step: inout Step, _ shared: inout KafkaShared
    ) {
        guard case .fetching = phase, fetchingFrom == broker else { return }
        phase = .joining
        step.setTimer(.consumerWake, after: max(1, config.retryBackoffMs))
    }

    mutating func seek(to offset: Int, _ metadata: Metadata, _ step: inout Step, _ shared: inout KafkaShared)
    {
        position = offset
        step.note(.seeked(consumer: index, offset: Offset(offset)))
        if case .fetching = phase { poll(metadata, &step, &shared) }
    }

    private mutating func poll(_ metadata: Metadata, _ step: inout Step, _ shared: inout KafkaShared) {
        lastPoll = step.now
        if leftGroup {
            // A member that left (max.poll.interval.ms) rejoins on its next poll.
            assigned = false
            position = nil
            phase = .joining
            step.send(.joinGroup(consumer: index), to: .controller)
            return
        }
        guard assigned, let position else {
            phase = .joining
            return
        }
        if commitPolicy == .auto, step.now - lastAutoCommit >= config.autoCommitIntervalMs {
            // K-CON-03: inside poll, before fetching, commit the current position: the offsets
            // of what the previous poll returned, processed or not.
            lastAutoCommit = step.now
            step.send(
                .offsetCommit(consumer: index, generation: generation, offset: Offset(position)),
                to: .controller)
            step.note(.committedOffset(consumer: index, offset: Offset(position), ok: true))
        }
        guard let leader = metadata.leader else {
            phase = .joining
            step.setTimer(.consumerWake, after: max(1, config.retryBackoffMs))
            return
        }
        let request = shared.nextRequest
        shared.nextRequest += 1
        phase = .fetching(request: request)
        fetchingFrom = leader
        step.setTimer(.consumerFetchTimeout(request: request), after: config.requestTimeoutMs)
        step.send(
            .consumerFetch(request: request, offset: Offset(position), maxRecords: config.maxPollRecords),
            to: .broker(leader))
    }

    /// auto.offset.reset for a member with no committed offset.
    private func resetOffset(_ metadata: Metadata) -> Int {
        switch config.autoOffsetReset {
        case "earliest": 0
        default: metadata.latestOffset
        }
    }
}

extension KafkaWorld {
    /// Adds a consumer (c1, c2, ...) to the group, not yet started.
    mutating func addConsumer(commit: CommitPolicy, processing: ProcessingMode) -> Int {
        consumers.append(
            ConsumerState(
                index: consumers.count + 1, config: config, commitPolicy: commit, processing: processing))
        engine.notStarted(.consumer(consumers.count))
        return consumers.count
    }

    func processedCount(_ consumer: Int) -> Int { consumers[consumer - 1].processed }
    /// The group's committed offset, as the coordinator stores it.
    var committedOffset: Offset? { controller.committed }
    /// The group's lag, as `kafka-consumer-groups --describe` computes it: the leader's high
    /// watermark minus the committed offset (K-CON-10, one partition).
    public var consumerLag: Int? {
        guard let leader = controller.partition.leader else { return nil }
        return max(0, brokers[leader.value - 1].highWatermark - (committedOffset?.value ?? 0))
    }
    func polledCount(_ consumer: Int) -> Int { consumers[consumer - 1].polled }

    /// What a consumer would learn from the cluster now (ConsumerState.Metadata).
    var consumerMetadata: ConsumerState.Metadata {
        let leader = controller.partition.leader
        return ConsumerState.Metadata(
            leader: leader, latestOffset: leader.map { brokers[$0.value - 1].highWatermark } ?? 0)
    }

    @inline(__always)
    mutating func atConsumer(
        _ consumer: Int, _ act: (inout ConsumerState, inout ConsumerState.Step, inout KafkaShared) -> Void
    ) {
        _ = Self.step(
            .consumer(consumer), engine: &engine, state: &consumers[consumer - 1], shared: &shared, act)
    }

    mutating func startConsumer(_ consumer: Int) {
        guard engine.startProcess(.consumer(consumer)) else { return }
        engine.resetConnections(of: .consumer(consumer))
        atConsumer(consumer) { consumer, step, _ in consumer.start(&step) }
    }

    /// The process dies: position, fetched records and the worker's queue are gone.
    mutating func crashConsumer(_ consumer: Int) {
        let index = consumer - 1
        note(.crashed(node: .consumer(consumer), fault: .applicationCrash), at: .consumer(consumer))
        let fresh = ConsumerState(
            index: consumer, config: config, commitPolicy: consumers[index].commitPolicy,
            processing: consumers[index].processing)
        _ = engine.crashProcess(.consumer(consumer))
        let counts = (consumers[index].polled, consumers[index].processed)
        consumers[index] = fresh
        (consumers[index].polled, consumers[index].processed) = counts
    }

    /// A clean shutdown: with auto-commit, close() commits the position first (K-CON-03).
    /// The application calls seek(): the position moves; a fetch in flight for the old position
    /// is dropped and a new one sent (the fetcher discards buffered data on seek).
    mutating func seekConsumer(_ consumer: Int, to offset: Int) {
        guard engine.isUp(.consumer(consumer)), consumers[consumer - 1].assigned else { return }
        let metadata = consumerMetadata
        atConsumer(consumer) { consumer, step, shared in consumer.seek(to: offset, metadata, &step, &shared) }
    }

    mutating func stopConsumer(_ consumer: Int) {
        guard engine.isUp(.consumer(consumer)) else { return }
        atConsumer(consumer) { consumer, step, _ in consumer.stop(&step) }
        _ = engine.crashProcess(.consumer(consumer))
        consumers[consumer - 1].phase = .stopped
    }

    mutating func consumerReceive(_ index: Int, _ payload: Payload, from _: NodeID) {
        let metadata = consumerMetadata
        atConsumer(index + 1) { consumer, step, shared in
            consumer.receive(payload, metadata: metadata, &step, &shared)
        }
    }

    mutating func consumerTimer(_ index: Int, _ timer: Timer) {
        let metadata = consumerMetadata
        atConsumer(index + 1) { consumer, step, shared in
            consumer.fire(timer, metadata: metadata, &step, &shared)
        }
    }
}
