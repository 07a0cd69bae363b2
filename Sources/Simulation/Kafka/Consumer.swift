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

struct ConsumerState: Sendable {
    enum Phase: Sendable {
        case stopped
        case joining
        case fetching(request: Int)
        case processing(records: [(Record, Int)], next: Int)
        case committing(request: Offset, thenProcess: [(Record, Int)])
    }

    let index: Int
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
}

extension KafkaWorld {
    /// Adds a consumer (c1, c2, ...) to the group, not yet started.
    mutating func addConsumer(commit: CommitPolicy, processing: ProcessingMode) -> Int {
        consumers.append(
            ConsumerState(index: consumers.count + 1, commitPolicy: commit, processing: processing))
        engine.notStarted(.consumer(consumers.count))
        return consumers.count
    }

    func processedCount(_ consumer: Int) -> Int { consumers[consumer - 1].processed }
    /// The group's committed offset, as the coordinator stores it.
    var committedOffset: Offset? { controller.committed }
    func polledCount(_ consumer: Int) -> Int { consumers[consumer - 1].polled }

    mutating func startConsumer(_ consumer: Int) {
        let index = consumer - 1
        guard engine.startProcess(.consumer(consumer)) else { return }
        engine.resetConnections(of: .consumer(consumer))
        consumers[index].phase = .joining
        consumers[index].lastPoll = now
        consumers[index].lastAutoCommit = now
        send(.joinGroup(consumer: consumer), from: .consumer(consumer), to: .controller)
        setTimer(.groupCheck, for: .consumer(consumer), after: 3_000)  // heartbeat.interval.ms
    }

    /// The process dies: position, fetched records and the worker's queue are gone.
    mutating func crashConsumer(_ consumer: Int) {
        let index = consumer - 1
        note(.crashed(node: .consumer(consumer), fault: .applicationCrash), at: .consumer(consumer))
        let fresh = ConsumerState(
            index: consumer, commitPolicy: consumers[index].commitPolicy,
            processing: consumers[index].processing)
        _ = engine.crashProcess(.consumer(consumer))
        let counts = (consumers[index].polled, consumers[index].processed)
        consumers[index] = fresh
        (consumers[index].polled, consumers[index].processed) = counts
    }

    /// A clean shutdown: with auto-commit, close() commits the position first (K-CON-03).
    mutating func stopConsumer(_ consumer: Int) {
        let index = consumer - 1
        guard engine.isUp(.consumer(consumer)) else { return }
        if consumers[index].commitPolicy == .auto, consumers[index].assigned,
            let position = consumers[index].position
        {
            send(
                .offsetCommit(
                    consumer: consumer, generation: consumers[index].generation, offset: Offset(position)),
                from: .consumer(consumer), to: .controller)
        }
        send(.leaveGroup(consumer: consumer), from: .consumer(consumer), to: .controller)
        _ = engine.crashProcess(.consumer(consumer))
        consumers[index].phase = .stopped
    }

    mutating func consumerReceive(_ index: Int, _ payload: Payload, from: NodeID) {
        let consumer = index + 1
        switch payload {
        case .joinResponse(let generation, let assigned, let committed):
            consumers[index].generation = generation
            consumers[index].leftGroup = false
            let wasAssigned = consumers[index].assigned
            consumers[index].assigned = assigned
            guard assigned else {
                consumers[index].position = nil
                return
            }
            if !wasAssigned || consumers[index].position == nil {
                let start = committed?.value ?? resetOffset()
                consumers[index].position = start
                note(
                    .assigned(consumer: consumer, generation: generation, position: Offset(start)),
                    at: .consumer(consumer))
            }
            if case .joining = consumers[index].phase { poll(index) }
        case .consumerFetchResponse(let request, let from, let records, let logEnd, let notLeader):
            guard case .fetching(let expected) = consumers[index].phase, expected == request else { return }
            if notLeader {
                consumers[index].phase = .joining
                setTimer(.consumerWake, for: .consumer(consumer), after: max(1, config.retryBackoffMs))
                return
            }
            guard !records.isEmpty else {
                // SIMPLIFICATION (KIP-320 not modelled): after a truncation below the position, the
                // consumer resumes from the new log end.
                if let position = consumers[index].position, position > logEnd.value {
                    consumers[index].position = logEnd.value
                }
                poll(index)
                return
            }
            let batch = records.enumerated().map { ($0.element, from.value + $0.offset) }
            consumers[index].position = from.value + records.count
            consumers[index].polled += records.count
            for (record, offset) in batch {
                engine.recorder.history.polls.append(
                    History.Delivery(
                        consumer: consumer, message: record.message, offset: Offset(offset), time: now))
            }
            note(
                .polled(consumer: consumer, from: from, messages: records.map(\.message)),
                at: .consumer(consumer))
            switch (consumers[index].commitPolicy, consumers[index].processing) {
            case (.beforeProcessing, _):
                commit(index, thenProcess: batch)
            case (_, .async):
                consumers[index].worker += batch
                startWorker(index)
                poll(index)
            case (_, .sync):
                consumers[index].phase = .processing(records: batch, next: 0)
                setTimer(.consumerWake, for: .consumer(consumer), after: config.processingMs)
            }
        case .offsetCommitResponse(let ok, let offset):
            guard case .committing(let expected, let thenProcess) = consumers[index].phase, expected == offset
            else {
                if !ok {
                    note(
                        .committedOffset(consumer: consumer, offset: offset, ok: false),
                        at: .consumer(consumer))
                }
                return
            }
            note(.committedOffset(consumer: consumer, offset: offset, ok: ok), at: .consumer(consumer))
            guard ok else {
                // CommitFailedException: the partition went to another member; rejoin.
                consumers[index].assigned = false
                consumers[index].position = nil
                consumers[index].phase = .joining
                send(.joinGroup(consumer: consumer), from: .consumer(consumer), to: .controller)
                return
            }
            if thenProcess.isEmpty {
                poll(index)
            } else {
                consumers[index].phase = .processing(records: thenProcess, next: 0)
                setTimer(.consumerWake, for: .consumer(consumer), after: config.processingMs)
            }
        default:
            preconditionFailure("a consumer does not handle \(payload.kind.rawValue)")
        }
    }

    mutating func consumerTimer(_ index: Int, _ timer: Timer) {
        let consumer = index + 1
        switch timer {
        case .groupCheck:
            // The heartbeat thread: keep the membership alive, and leave the group when the
            // application has not polled within max.poll.interval.ms (K-CON-04).
            if consumers[index].assigned, !consumers[index].leftGroup,
                now - consumers[index].lastPoll > config.maxPollIntervalMs
            {
                consumers[index].leftGroup = true
                send(.leaveGroup(consumer: consumer), from: .consumer(consumer), to: .controller)
            } else if !consumers[index].leftGroup {
                send(
                    .groupHeartbeat(consumer: consumer, generation: consumers[index].generation),
                    from: .consumer(consumer), to: .controller)
            }
            setTimer(.groupCheck, for: .consumer(consumer), after: 3_000)
        case .consumerWake:
            switch consumers[index].phase {
            case .processing(let records, let next):
                guard next < records.count else {
                    // The loop body after processing: a separate step, so a crash can land
                    // between the last side effect and the commit.
                    if consumers[index].commitPolicy == .afterProcessing {
                        commit(index, thenProcess: [])
                    } else {
                        poll(index)
                    }
                    return
                }
                process(index, records[next])
                consumers[index].phase = .processing(records: records, next: next + 1)
                setTimer(
                    .consumerWake, for: .consumer(consumer),
                    after: next + 1 < records.count ? config.processingMs : 0)
            case .joining:
                if consumers[index].assigned { poll(index) }
            default:
                break
            }
        case .consumerFetchTimeout(let request):
            if case .fetching(let pending) = consumers[index].phase, pending == request { poll(index) }
        case .consumerWorker:
            guard !consumers[index].worker.isEmpty else {
                consumers[index].workerBusy = false
                return
            }
            process(index, consumers[index].worker.removeFirst())
            if consumers[index].worker.isEmpty {
                consumers[index].workerBusy = false
            } else {
                setTimer(.consumerWorker, for: .consumer(consumer), after: config.processingMs)
            }
        default:
            preconditionFailure("a consumer has no timer \(timer)")
        }
    }

    private mutating func startWorker(_ index: Int) {
        guard !consumers[index].workerBusy, !consumers[index].worker.isEmpty else { return }
        consumers[index].workerBusy = true
        setTimer(.consumerWorker, for: .consumer(index + 1), after: config.processingMs)
    }

    private mutating func process(_ index: Int, _ item: (Record, Int)) {
        consumers[index].processed += 1
        engine.recorder.history.processed.append(
            History.Delivery(consumer: index + 1, message: item.0.message, offset: Offset(item.1), time: now))
        note(
            .processed(consumer: index + 1, message: item.0.message, offset: Offset(item.1)),
            at: .consumer(index + 1))
    }

    private mutating func commit(_ index: Int, thenProcess: [(Record, Int)]) {
        let position = Offset(consumers[index].position ?? 0)
        consumers[index].phase = .committing(request: position, thenProcess: thenProcess)
        send(
            .offsetCommit(consumer: index + 1, generation: consumers[index].generation, offset: position),
            from: .consumer(index + 1), to: .controller)
    }

    private mutating func poll(_ index: Int) {
        let consumer = index + 1
        consumers[index].lastPoll = now
        if consumers[index].leftGroup {
            // A member that left (max.poll.interval.ms) rejoins on its next poll.
            consumers[index].assigned = false
            consumers[index].position = nil
            consumers[index].phase = .joining
            send(.joinGroup(consumer: consumer), from: .consumer(consumer), to: .controller)
            return
        }
        guard consumers[index].assigned, let position = consumers[index].position else {
            consumers[index].phase = .joining
            return
        }
        if consumers[index].commitPolicy == .auto,
            now - consumers[index].lastAutoCommit >= config.autoCommitIntervalMs
        {
            // K-CON-03: inside poll, before fetching, commit the current position: the offsets
            // of what the previous poll returned, processed or not.
            consumers[index].lastAutoCommit = now
            send(
                .offsetCommit(
                    consumer: consumer, generation: consumers[index].generation, offset: Offset(position)),
                from: .consumer(consumer), to: .controller)
            note(
                .committedOffset(consumer: consumer, offset: Offset(position), ok: true),
                at: .consumer(consumer))
        }
        guard let leader = controller.partition.leader else {
            consumers[index].phase = .joining
            setTimer(.consumerWake, for: .consumer(consumer), after: max(1, config.retryBackoffMs))
            return
        }
        let request = shared.nextRequest
        shared.nextRequest += 1
        consumers[index].phase = .fetching(request: request)
        setTimer(
            .consumerFetchTimeout(request: request), for: .consumer(consumer), after: config.requestTimeoutMs)
        send(
            .consumerFetch(request: request, offset: Offset(position), maxRecords: config.maxPollRecords),
            from: .consumer(consumer), to: .broker(leader))
    }

    /// auto.offset.reset for a member with no committed offset.
    private func resetOffset() -> Int {
        switch config.autoOffsetReset {
        case "earliest": 0
        default: controller.partition.leader.map { brokers[$0.value - 1].highWatermark } ?? 0
        }
    }
}
