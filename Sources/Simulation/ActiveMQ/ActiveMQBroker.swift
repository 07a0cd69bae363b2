// The ActiveMQ broker as a state machine: dispatch, the KahaDB journal and its syncs, and what a
// crash or power loss leaves of it. It acts only through its step's effects.

/// A KahaDB journal record: a message added to a queue, one removed from it (acknowledged), or
/// a durable topic subscription created.
enum AMQJournalRecord: Sendable {
    case add(AMQMessage, queue: String)
    case remove(copy: Int, queue: String)
    case subscribed(consumer: Int)
}

struct AMQBroker: CrashableNode {
    typealias Step = NodeStep<AMQPayload, AMQTimer>

    static let id = BrokerID(1)
    static let node = NodeID.broker(id)

    let config: ActiveMQConfig
    /// On disk: the KahaDB journal.
    var journal = DurableLog<AMQJournalRecord>()
    var memory = Memory()
    /// Not the broker's: what its queues held when it crashed, for the trace to say what the
    /// restart lost; and how often it called fsync, for `mqproof compare`.
    var heldAtCrash: [String: [AMQMessage]] = [:]
    var fsyncs = 0

    /// The broker's memory; the queues are rebuilt from the journal at restart.
    struct Memory: Sendable {
        /// The queues by name; on a topic, also each subscription's messages, by its consumer
        /// ("c1").
        var queues: [String: [AMQMessage]] = ["q": [], "dlq": [], "out": []]
        /// Dispatched and not yet acked, per consumer.
        var inFlight: [Int: [AMQMessage]] = [:]
        /// Connected consumers.
        var consumers: [Int] = []
        /// The topic's durable subscriptions, connected or not (AMQ-10).
        var durableSubscribers: Set<Int> = []
        var fsyncInFlight = false
        /// Sync sends waiting for their journal write to be synced: (journal index, producer, receipt).
        var awaitingSync: [(record: Int, producer: Int, receipt: Int)] = []
        /// Store tasks not yet run, by copy, with the receipt to send once stored.
        var pendingStores: [Int: (queue: String, producer: Int?, receipt: Int?)] = [:]
    }

    static var freshMemory: Memory { Memory() }

    mutating func diskSurvives(_ fault: Fault) { journal.survive(fault) }

    init(config: ActiveMQConfig) {
        self.config = config
    }

    /// Where it starts: with a periodic sync strategy, the first sync is due.
    func start(_ step: inout Step) {
        if config.journal.journalDiskSyncStrategy == .periodic {
            step.setTimer(.periodicSync, after: config.journal.journalDiskSyncInterval)
        }
    }

    // MARK: - Deliveries and timers

    mutating func receive(
        _ payload: AMQPayload, from: NodeID, _ step: inout Step, _ numbers: inout AMQNumbers
    ) {
        switch payload {
        case .send(let message, let queue, let receipt):
            guard case .producer(let producer) = from else { return }
            enqueue(message, queue: queue, producer: producer, receipt: receipt, &step)
        case .commit(let sends, let acks):
            step.note(
                .queue(
                    .activeMQ(
                        .transactionCommitted(broker: AMQBroker.id, sent: sends.count, acked: acks.count))))
            for message in sends { enqueue(message, queue: "out", producer: nil, receipt: nil, &step) }
            if case .consumer(let consumer) = from {
                acknowledge(acks, consumer: consumer, poison: false, &step, &numbers)
            }
        case .subscribe(let consumer, let durable):
            if !memory.consumers.contains(consumer) { memory.consumers.append(consumer) }
            if config.destination == .topic { subscribe(consumer, durable: durable, &step) }
            dispatch(&step)
        case .ack(let copies, let poison):
            guard case .consumer(let consumer) = from else { return }
            acknowledge(copies, consumer: consumer, poison: poison, &step, &numbers)
        case .closed(let consumer):
            memory.consumers.removeAll { $0 == consumer }
            let returned = memory.inFlight.removeValue(forKey: consumer) ?? []
            let queue = source(for: consumer)
            if config.destination == .topic && !memory.durableSubscribers.contains(consumer) {
                // A non-durable subscription ends with its consumer: what it held is gone.
                let dropped = returned + (memory.queues.removeValue(forKey: queue) ?? [])
                if !dropped.isEmpty {
                    step.note(
                        .queue(
                            .discarded(
                                node: Self.id, message: dropped[0].message,
                                reason:
                                    "c\(consumer)'s non-durable subscription ended with its connection, and \(dropped.count) message(s) with it"
                            )))
                }
                dispatch(&step)
                return
            }
            for var message in returned {
                message.redeliveryCounter += 1
                requeue(message, queue: queue)
            }
            if !returned.isEmpty {
                step.note(
                    .queue(
                        .requeued(
                            node: Self.id, messages: returned.map(\.message),
                            reason: "consumer connection closed")))
            }
            dispatch(&step)
        case .receipt, .dispatch:
            preconditionFailure("the broker got \(payload.kind)")
        }
    }

    mutating func fire(_ timer: AMQTimer, _ step: inout Step) {
        switch timer {
        case .storeTask(let copy): runStoreTask(copy, &step)
        case .fsyncDone(let upTo): fsyncDone(upTo: upTo, &step)
        case .periodicSync:
            startFsync(&step)
            step.setTimer(.periodicSync, after: config.journal.journalDiskSyncInterval)
        case .writeback(let upTo): markSynced(upTo: upTo, &step)
        case .processed, .redeliver, .reconnect: preconditionFailure("timer \(timer) fired at the broker")
        }
    }

    // MARK: - Queues

    mutating func enqueue(
        _ message: AMQMessage, queue: String, producer: Int?, receipt: Int?, _ step: inout Step
    ) {
        if queue == "q" && config.destination == .topic {
            publish(message, producer: producer, receipt: receipt, &step)
            return
        }
        memory.queues[queue, default: []].append(message)
        step.note(
            .queue(
                .enqueued(
                    node: Self.id, queue: Self.queueName(queue), message: message.message,
                    persistent: message.persistent)))
        if message.persistent {
            // The store task runs beside dispatch (KahaDB concurrentStoreAndDispatch for queues).
            memory.pendingStores[message.copy] = (queue, producer, receipt)
            step.setTimer(.storeTask(copy: message.copy), after: 1)
        } else if let producer, let receipt {
            step.send(.receipt(receipt), to: .producer(producer))
        }
        if queue == "q" { dispatch(&step) }
    }

    /// A message sent to the topic: a copy for every subscription there is now, durable ones
    /// whose consumer is away included (AMQ-10). A persistent message is stored only when a
    /// durable subscription exists (Topic.canOptimizeOutPersistence).
    mutating func publish(_ message: AMQMessage, producer: Int?, receipt: Int?, _ step: inout Step) {
        let subscribers = Set(memory.consumers).union(memory.durableSubscribers).filter {
            memory.queues["c\($0)"] != nil
        }.sorted()
        if subscribers.isEmpty {
            step.note(
                .queue(
                    .discarded(
                        node: Self.id, message: message.message,
                        reason: "the topic has no subscription, durable or connected")))
        }
        for subscriber in subscribers {
            memory.queues["c\(subscriber)", default: []].append(message)
            step.note(
                .queue(
                    .enqueued(
                        node: Self.id, queue: Self.queueName("c\(subscriber)"), message: message.message,
                        persistent: message.persistent)))
        }
        if message.persistent && !memory.durableSubscribers.isDisjoint(with: subscribers) {
            memory.pendingStores[message.copy] = ("topic", producer, receipt)
            step.setTimer(.storeTask(copy: message.copy), after: 1)
        } else if let producer, let receipt {
            step.send(.receipt(receipt), to: .producer(producer))
        }
        dispatch(&step)
    }

    /// A topic subscription: a durable one is created once and kept in the journal, so it
    /// outlives its consumer's connection and a restart; a non-durable one starts empty each time
    /// its consumer connects (AMQ-10).
    mutating func subscribe(_ consumer: Int, durable: Bool, _ step: inout Step) {
        if memory.queues["c\(consumer)"] == nil { memory.queues["c\(consumer)"] = [] }
        guard durable, !memory.durableSubscribers.contains(consumer) else { return }
        memory.durableSubscribers.insert(consumer)
        journal.append(.subscribed(consumer: consumer))
        journalWritten(&step)
    }

    /// The queue a consumer's messages come from: the queue, or on a topic its subscription.
    func source(for consumer: Int) -> String { config.destination == .topic ? "c\(consumer)" : "q" }

    static func queueName(_ queue: String) -> String {
        switch queue {
        case "dlq": "ActiveMQ.DLQ"
        case _ where queue.hasPrefix("c"): "t:\(queue)"
        default: queue
        }
    }

    mutating func requeue(_ message: AMQMessage, queue: String) {
        var messages = memory.queues[queue, default: []]
        let index = messages.firstIndex { $0.position > message.position } ?? messages.count
        messages.insert(message, at: index)
        memory.queues[queue] = messages
    }

    mutating func dispatch(_ step: inout Step) {
        for consumer in memory.consumers {
            let queue = source(for: consumer)
            while memory.inFlight[consumer, default: []].count < max(1, config.consumer.prefetch),
                let message = memory.queues[queue]?.first
            {
                memory.queues[queue]?.removeFirst()
                memory.inFlight[consumer, default: []].append(message)
                step.note(
                    .queue(
                        .delivered(
                            node: Self.id, consumer: consumer, message: message.message, tag: message.copy,
                            redelivered: message.redeliveryCounter > 0,
                            deliveryCount: message.redeliveryCounter + 1)))
                step.send(.dispatch(message), to: .consumer(consumer))
            }
        }
    }

    mutating func acknowledge(
        _ copies: [Int], consumer: Int, poison: Bool, _ step: inout Step, _ numbers: inout AMQNumbers
    ) {
        for copy in copies {
            guard let position = memory.inFlight[consumer, default: []].firstIndex(where: { $0.copy == copy })
            else { continue }
            let message = memory.inFlight[consumer, default: []].remove(at: position)
            if memory.pendingStores[copy] == nil && message.persistent {
                journal.append(.remove(copy: copy, queue: source(for: consumer)))
                journalWritten(&step)
            }
            guard poison else { continue }
            if message.persistent || config.processNonPersistent {
                step.note(
                    .queue(
                        .deadLettered(
                            node: Self.id, message: message.message, exchange: "ActiveMQ.DLQ",
                            reason: "poison ack after \(message.redeliveryCounter) redeliveries")))
                var dead = message
                dead.position = numbers.nextPosition()
                enqueue(dead, queue: "dlq", producer: nil, receipt: nil, &step)
            } else {
                step.note(
                    .queue(
                        .discarded(
                            node: Self.id, message: message.message,
                            reason: "poison ack for a non-persistent message (processNonPersistent=false)")))
            }
        }
        dispatch(&step)
    }

    // MARK: - The journal

    /// The store task: a journal entry for each place the message still waits in (its queue, or
    /// on a topic each durable subscription that has not acked it), then the producer's receipt.
    /// Acked everywhere before it ran, it is cancelled and the message never touches disk.
    mutating func runStoreTask(_ copy: Int, _ step: inout Step) {
        guard let pending = memory.pendingStores.removeValue(forKey: copy) else { return }
        let places: [(queue: String, held: AMQMessage?)] =
            pending.queue == "topic"
            ? memory.durableSubscribers.sorted().map { subscriber in
                (
                    "c\(subscriber)",
                    memory.queues["c\(subscriber)", default: []].first { $0.copy == copy }
                        ?? memory.inFlight[subscriber, default: []].first { $0.copy == copy }
                )
            }
            : [
                (
                    pending.queue,
                    memory.queues[pending.queue, default: []].first { $0.copy == copy }
                        ?? memory.inFlight.values.joined().first { $0.copy == copy }
                )
            ]
        let stored = places.compactMap { place in place.held.map { ($0, place.queue) } }
        guard !stored.isEmpty else {
            step.note(.queue(.activeMQ(.storeCancelled(broker: AMQBroker.id))))
            if let producer = pending.producer, let receipt = pending.receipt {
                step.send(.receipt(receipt), to: .producer(producer))
            }
            return
        }
        for (message, queue) in stored { journal.append(.add(message, queue: queue)) }
        if let producer = pending.producer, let receipt = pending.receipt {
            if config.journal.journalDiskSyncStrategy == .always {
                memory.awaitingSync.append((journal.count - 1, producer, receipt))
            } else {
                step.send(.receipt(receipt), to: .producer(producer))
            }
        }
        journalWritten(&step)
    }

    mutating func journalWritten(_ step: inout Step) {
        switch config.journal.journalDiskSyncStrategy {
        case .always: startFsync(&step)
        case .periodic: break
        case .never: step.setTimer(.writeback(upTo: journal.count), after: config.osWritebackMs)
        }
    }

    mutating func startFsync(_ step: inout Step) {
        guard !memory.fsyncInFlight, journal.hasUnsynced else { return }
        memory.fsyncInFlight = true
        fsyncs += 1
        step.setTimer(.fsyncDone(upTo: journal.count), after: config.fsyncMs)
    }

    mutating func fsyncDone(upTo: Int, _ step: inout Step) {
        memory.fsyncInFlight = false
        markSynced(upTo: upTo, &step)
        let ready = memory.awaitingSync.filter { $0.record < upTo }
        memory.awaitingSync.removeAll { $0.record < upTo }
        for waiting in ready {
            step.send(.receipt(waiting.receipt), to: .producer(waiting.producer))
        }
        if config.journal.journalDiskSyncStrategy == .always { startFsync(&step) }
    }

    mutating func markSynced(upTo: Int, _ step: inout Step) {
        let count = journal.sync(upTo: upTo)
        if count > 0 { step.note(.queue(.fsynced(node: Self.id, messages: count))) }
    }

    // MARK: - Crash and restart

    /// Every queue as replaying the journal rebuilds it: each added message not removed later.
    func recoveredFromJournal() -> [String: [AMQMessage]] {
        struct Placed: Hashable {
            let queue: String
            let copy: Int
        }
        var removed = Set<Placed>()
        var recovered: [String: [AMQMessage]] = ["q": [], "dlq": [], "out": []]
        for record in journal.records.reversed() {
            switch record {
            case .remove(let copy, let queue): removed.insert(Placed(queue: queue, copy: copy))
            case .add(let message, let queue)
            where !removed.contains(Placed(queue: queue, copy: message.copy)):
                recovered[queue, default: []].insert(message, at: 0)
            case .add: break
            case .subscribed(let consumer): recovered["c\(consumer)", default: []] += []
            }
        }
        return recovered
    }

    /// The durable subscriptions the journal holds.
    func recoveredSubscribers() -> Set<Int> {
        Set(
            journal.records.compactMap { record in
                if case .subscribed(let consumer) = record { consumer } else { nil }
            })
    }

    /// The process dies: memory is gone, the journal keeps what `fault` leaves.
    mutating func crash(_ fault: Fault) {
        var held = memory.queues
        for consumer in memory.inFlight.keys.sorted() {
            held[source(for: consumer), default: []] += memory.inFlight[consumer] ?? []
        }
        heldAtCrash = held
        lose(fault)
    }

    /// A new process replays the journal (AMQ-03).
    mutating func restart(_ step: inout Step) {
        let recovered = recoveredFromJournal()
        memory.queues = recovered
        memory.durableSubscribers = recoveredSubscribers()
        let subscriptions = Set(recovered.keys).union(heldAtCrash.keys).filter { $0.hasPrefix("c") }
        for queue in ["q", "dlq", "out"] + subscriptions.sorted() {
            let kept = Set(recovered[queue, default: []].map(\.copy))
            let lost = (heldAtCrash[queue] ?? []).filter { !kept.contains($0.copy) }.map(\.message)
            guard !kept.isEmpty || !lost.isEmpty else { continue }
            step.note(
                .queue(
                    .recovered(
                        node: Self.id, queue: Self.queueName(queue),
                        kept: recovered[queue, default: []].map(\.message),
                        lost: lost, durable: true)))
        }
        start(&step)
    }
}
