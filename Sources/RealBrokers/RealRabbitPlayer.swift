// The script in wall-clock time: the clients, the faults, and reading the queues at the end.
// See RealRabbit.swift for what a real run is.

import Simulation

#if canImport(Glibc)
    import Glibc
#endif

/// The run itself: state for one scenario, thrown away after.
final class RealRabbitPlayer {
    struct Outstanding {
        var tag: UInt64
        var send: Int
        var message: MessageID
        var copy: Int
        var invokedAt: Int
    }

    struct Publisher {
        var connection: AMQPConnection?
        var nextTag: UInt64 = 1
        var outstanding: [Outstanding] = []
        var returnedCopies: Set<Int> = []
        var unconfirmed: [MessageID] = []
    }

    struct Consumer {
        var settlement: Settlement
        var active = false
        var crashed = false
        var connection: AMQPConnection?
        var reconnectAt = 0
        var inbox: [(tag: UInt64, message: MessageID, copy: Int)] = []
        var busyUntil: Int?
        var pausedUntil = 0
        var processed = 0
        var polled = 0
    }

    let scenario: Scenario
    let config: RabbitConfig
    let prefix: String
    let address: AMQPAddress
    let node: PrivateRabbitNode?
    let shouldStop: () -> Bool
    let start = Clock.milliseconds()

    var names: [String] = []
    var ids: [String: MessageID] = [:]
    var history = History()
    var copies = 0
    var publishers: [Publisher]
    var consumers: [Consumer]
    var paced: [(at: Int, message: MessageID, producer: Int)] = []
    var brokerResumeAt: Int?
    /// Per-message TTLs from `publish ... expiration`, sent as the `expiration` property.
    var properties: [MessageID: MessageProperties] = [:]
    var notes: [String] = []

    init(
        scenario: Scenario, config: RabbitConfig, prefix: String, address: AMQPAddress,
        node: PrivateRabbitNode?,
        shouldStop: @escaping () -> Bool
    ) {
        self.scenario = scenario
        self.config = config
        self.prefix = prefix
        self.address = address
        self.node = node
        self.shouldStop = shouldStop
        publishers = Array(repeating: Publisher(), count: max(1, scenario.producers))
        consumers = scenario.consumers.map { spec in
            if case .rabbitmq(let settlement, _, _) = spec { return Consumer(settlement: settlement) }
            return Consumer(settlement: .ack)
        }
    }

    /// Milliseconds since the run began: the history's clock.
    var now: Int { Clock.milliseconds() - start }

    // MARK: - Topology

    /// The queues a run reads at the end, by the scenario's names.
    var queueNames: [String] {
        var queues = ["q"]
        if !config.exchange.isEmpty {
            for binding in config.bindings where !queues.contains(binding.queue) {
                queues.append(binding.queue)
            }
        }
        if config.deadLetterExchange != nil { queues.append("dlq") }
        return queues
    }

    var exchangeName: String { config.exchange.isEmpty ? "" : prefix + config.exchange }
    var routingKey: String { config.exchange.isEmpty ? prefix + config.routingKey : config.routingKey }

    func declareTopology(_ admin: AMQPConnection) throws(AMQPError) {
        if let dlx = config.deadLetterExchange {
            try admin.declareExchange(prefix + dlx, type: "fanout", durable: true)
            try admin.declareQueue(prefix + "dlq", durable: true)
            try admin.bind(queue: prefix + "dlq", exchange: prefix + dlx, key: "")
        }
        var arguments: [(String, AMQPValue)] = []
        if let dlx = config.deadLetterExchange {
            arguments.append(("x-dead-letter-exchange", .string(prefix + dlx)))
        }
        if config.queueType == .quorum { arguments.append(("x-queue-type", .string("quorum"))) }
        if let limit = config.deliveryLimit { arguments.append(("x-delivery-limit", .int(Int64(limit)))) }
        if let ttl = config.messageTTLMs { arguments.append(("x-message-ttl", .int(Int64(ttl)))) }
        if let maximum = config.maxPriority { arguments.append(("x-max-priority", .int(Int64(maximum)))) }
        if config.singleActiveConsumer { arguments.append(("x-single-active-consumer", .bool(true))) }
        if let limit = config.maxLength {
            arguments.append(("x-max-length", .int(Int64(limit))))
            arguments.append(("x-overflow", .string(config.overflow.rawValue)))
        }
        try admin.declareQueue(prefix + "q", durable: config.durable, arguments: arguments)
        guard !config.exchange.isEmpty else { return }
        try admin.declareExchange(exchangeName, type: config.exchangeType.rawValue, durable: true)
        for binding in config.bindings {
            if binding.queue != "q" {
                try admin.declareQueue(prefix + binding.queue, durable: config.durable)
            }
            for key in binding.keys {
                try admin.bind(queue: prefix + binding.queue, exchange: exchangeName, key: key)
            }
        }
    }

    // MARK: - The script

    func play() throws(RealBrokerError) -> RealRun {
        do {
            let admin = try AMQPConnection.open(address, name: "mqproof admin")
            try declareTopology(admin)
            admin.closeCleanly()
        } catch {
            throw RealBrokerError("cannot declare the scenario's queues: \(error.description)")
        }
        var steps: [RealRun.StepTime] = []
        var automatic = 0
        for scripted in scenario.steps {
            let started = now
            var timedOut = false
            switch scripted.step {
            case .produce(let written, let producer, let every, let properties):
                var messages: [MessageID] = []
                for name in written {
                    messages += ScenarioRunner.expand(name, counter: &automatic).map(message(named:))
                }
                if !properties.isEmpty { for message in messages { self.properties[message] = properties } }
                if let every {
                    for (index, message) in messages.enumerated() {
                        paced.append((Clock.milliseconds() + index * every, message, producer))
                    }
                } else {
                    for message in messages { publish(message, producer: producer) }
                }
            case .wait(let milliseconds):
                try pump(until: Clock.milliseconds() + milliseconds)
            case .waitUntil(let condition, let timeout):
                timedOut =
                    !(try pump(until: Clock.milliseconds() + timeout, stopWhen: { self.holds(condition) }))
            case .fault(.producer(let index), _):
                crashPublisher(index)
            case .fault(.consumer(let index), _):
                crashConsumer(index)
            case .fault(.broker, _):
                crashBroker()
            case .restart(.consumer(let index)), .startConsumer(let index):
                consumers[index - 1].crashed = false
                consumers[index - 1].active = true
                connectConsumer(index)
            case .restart(.producer):
                break
            case .restart(.broker):
                try restartBroker()
            case .pause(.broker, let milliseconds):
                node?.pause()
                brokerResumeAt = Clock.milliseconds() + milliseconds
            case .pause(.consumer(let index), let milliseconds):
                consumers[index - 1].pausedUntil = Clock.milliseconds() + milliseconds
            case .resendUnacknowledged(let producer):
                let resend =
                    publishers[producer - 1].unconfirmed + publishers[producer - 1].outstanding.map(\.message)
                publishers[producer - 1].unconfirmed = []
                for message in resend { publish(message, producer: producer) }
            case .stopConsumer(let index):
                consumers[index - 1].active = false
                consumers[index - 1].inbox = []
                consumers[index - 1].connection?.closeCleanly()
                consumers[index - 1].connection = nil
            default:
                break  // refused by `unsupported` before the run
            }
            steps.append(RealRun.StepTime(text: scripted.text, startedAtMs: started, timedOut: timedOut))
        }
        try pump(until: Clock.milliseconds() + RealRabbit.settleMs)
        let observed = try finish()
        let report = observed.check()
        return RealRun(
            observed: observed, report: report,
            expectations: observed.evaluate(scenario.expectations, report: report),
            steps: steps, notes: notes, durationMs: now)
    }

    func message(named name: String) -> MessageID {
        if let id = ids[name] { return id }
        let id = MessageID(names.count)
        names.append(name)
        ids[name] = id
        return id
    }

    func holds(_ condition: Condition) -> Bool {
        switch condition {
        case .acknowledged(let written):
            return written.allSatisfy { name in ids[name].map(history.isAcknowledged) ?? false }
        case .allCompleted: return history.pendingSends == 0
        case .processed(let consumer, let count): return consumers[consumer - 1].processed >= count
        case .polled(let consumer, let count): return consumers[consumer - 1].polled >= count
        default: return false
        }
    }

    /// Runs every client until `deadline`, or until `stopWhen` holds; returns whether it held.
    @discardableResult
    func pump(until deadline: Int, stopWhen: () -> Bool = { false }) throws(RealBrokerError) -> Bool {
        while true {
            if shouldStop() { throw RealBrokerError("interrupted") }
            if stopWhen() { return true }
            let clock = Clock.milliseconds()
            if clock >= deadline { return false }
            if let resume = brokerResumeAt, clock >= resume {
                node?.resume()
                brokerResumeAt = nil
            }
            while let next = paced.first, next.at <= clock {
                paced.removeFirst()
                publish(next.message, producer: next.producer)
            }
            for index in publishers.indices { pollPublisher(index + 1) }
            for index in consumers.indices { pollConsumer(index + 1) }
            usleep(1_000)
        }
    }

    // MARK: - Publishers

    func publish(_ message: MessageID, producer: Int) {
        // A stopped node accepts TCP but never answers the AMQP handshake: a new connection
        // would block the whole run, so the publish waits for the node to resume.
        if publishers[producer - 1].connection == nil, let resume = brokerResumeAt {
            paced.append((resume, message, producer))
            return
        }
        let send = history.invoke(
            History.Send(message: message, producer: producer, session: 0, invoked: now, outcome: .pending))
        if publishers[producer - 1].connection == nil {
            do {
                let connection = try AMQPConnection.open(address, name: "mqproof p\(producer)")
                if config.publisherConfirms { try connection.confirmSelect() }
                publishers[producer - 1].connection = connection
                publishers[producer - 1].nextTag = 1
            } catch {
                history.complete(send, .fail(error: "connection refused", time: now))
                return
            }
        }
        copies += 1
        let body = Array("\(names[message.value])|\(copies)".utf8)
        do {
            try publishers[producer - 1].connection!.publish(
                exchange: exchangeName, routingKey: routingKey, mandatory: config.mandatory,
                persistent: config.deliveryMode == 2,
                expirationMs: properties[message]?.expirationMs ?? config.expirationMs,
                priority: properties[message]?.priority ?? config.priority,
                body: body)
        } catch {
            // Not written to the socket: the broker cannot have it.
            history.complete(send, .fail(error: "connection lost", time: now))
            publisherLost(producer)
            return
        }
        if config.publisherConfirms {
            let tag = publishers[producer - 1].nextTag
            publishers[producer - 1].nextTag += 1
            publishers[producer - 1].outstanding.append(
                Outstanding(tag: tag, send: send, message: message, copy: copies, invokedAt: now))
        } else {
            // Without confirms a publish is done once it is written to the socket (RMQ-04).
            history.complete(send, .ok(offset: nil, broker: BrokerID(1), time: now))
        }
    }

    func pollPublisher(_ producer: Int) {
        guard let connection = publishers[producer - 1].connection else { return }
        let events: [AMQPEvent]
        do { events = try connection.poll(timeoutMs: 0) } catch {
            publisherLost(producer)
            return
        }
        for event in events {
            switch event {
            case .ack(let tag, let multiple), .nack(let tag, let multiple):
                let nack = if case .nack = event { true } else { false }
                let settled = publishers[producer - 1].outstanding.filter {
                    multiple ? $0.tag <= tag : $0.tag == tag
                }
                publishers[producer - 1].outstanding.removeAll { multiple ? $0.tag <= tag : $0.tag == tag }
                for pending in settled {
                    if publishers[producer - 1].returnedCopies.remove(pending.copy) != nil {
                        history.complete(pending.send, .fail(error: History.returnedError, time: now))
                    } else if nack {
                        history.complete(pending.send, .fail(error: "basic.nack", time: now))
                    } else {
                        history.complete(pending.send, .ok(offset: nil, broker: BrokerID(1), time: now))
                    }
                }
            case .returned(_, _, let body):
                if let copy = decode(body)?.copy { publishers[producer - 1].returnedCopies.insert(copy) }
            case .deliver:
                break
            }
        }
        // The confirm timeout, as the simulator's publisher keeps it.
        let expired = publishers[producer - 1].outstanding.filter {
            now - $0.invokedAt >= config.confirmTimeoutMs
        }
        publishers[producer - 1].outstanding.removeAll { now - $0.invokedAt >= config.confirmTimeoutMs }
        for pending in expired {
            publishers[producer - 1].unconfirmed.append(pending.message)
            history.complete(
                pending.send, .info(error: "no confirm within \(config.confirmTimeoutMs) ms", time: now))
        }
    }

    /// The connection broke: every publish awaiting its confirm is in doubt.
    func publisherLost(_ producer: Int) {
        publishers[producer - 1].connection?.abort()
        publishers[producer - 1].connection = nil
        for pending in publishers[producer - 1].outstanding {
            publishers[producer - 1].unconfirmed.append(pending.message)
            history.complete(pending.send, .info(error: "connection lost before the confirm", time: now))
        }
        publishers[producer - 1].outstanding = []
    }

    func crashPublisher(_ producer: Int) {
        publisherLost(producer)
        // The application died: it remembers nothing to resend.
        publishers[producer - 1].unconfirmed = []
    }

    // MARK: - Consumers

    func connectConsumer(_ index: Int) {
        guard consumers[index - 1].active, !consumers[index - 1].crashed,
            consumers[index - 1].connection == nil
        else { return }
        if let resume = brokerResumeAt {
            consumers[index - 1].reconnectAt = resume
            return
        }
        do {
            let connection = try AMQPConnection.open(address, name: "mqproof c\(index)")
            if config.prefetchCount > 0 && !config.noAck {
                try connection.qos(prefetchCount: config.prefetchCount)
            }
            try connection.consume(queue: prefix + "q", noAck: config.noAck)
            consumers[index - 1].connection = connection
        } catch {
            consumers[index - 1].reconnectAt = Clock.milliseconds() + config.reconnectMs
        }
    }

    func pollConsumer(_ index: Int) {
        let clock = Clock.milliseconds()
        guard consumers[index - 1].active, !consumers[index - 1].crashed,
            clock >= consumers[index - 1].pausedUntil
        else { return }
        guard let connection = consumers[index - 1].connection else {
            if clock >= consumers[index - 1].reconnectAt { connectConsumer(index) }
            return
        }
        do {
            for event in try connection.poll(timeoutMs: 0) {
                guard case .deliver(let tag, _, let body) = event, let (message, copy) = decode(body) else {
                    continue
                }
                consumers[index - 1].polled += 1
                history.polls.append(
                    History.Delivery(consumer: index, message: message, offset: Offset(copy), time: now))
                consumers[index - 1].inbox.append((tag, message, copy))
            }
            try process(index)
        } catch {
            // The node went away: the deliveries in hand are void, and it connects again later.
            consumers[index - 1].connection?.abort()
            consumers[index - 1].connection = nil
            consumers[index - 1].inbox = []
            consumers[index - 1].busyUntil = nil
            consumers[index - 1].reconnectAt = Clock.milliseconds() + config.reconnectMs
        }
    }

    /// One delivery at a time, each for `sim.processing.ms`, then its settlement.
    func process(_ index: Int) throws(AMQPError) {
        let clock = Clock.milliseconds()
        guard !consumers[index - 1].inbox.isEmpty else { return }
        guard let busyUntil = consumers[index - 1].busyUntil else {
            consumers[index - 1].busyUntil = clock + config.processingMs
            return
        }
        guard clock >= busyUntil else { return }
        consumers[index - 1].busyUntil = nil
        let (tag, message, copy) = consumers[index - 1].inbox.removeFirst()
        let settlement = consumers[index - 1].settlement
        if settlement == .ack || config.noAck {
            consumers[index - 1].processed += 1
            history.processed.append(
                History.Delivery(consumer: index, message: message, offset: Offset(copy), time: now))
        }
        guard !config.noAck, let connection = consumers[index - 1].connection else { return }
        switch settlement {
        case .ack: try connection.ack(tag)
        case .reject: try connection.reject(tag, requeue: false)
        case .rejectRequeue: try connection.reject(tag, requeue: true)
        case .nackRequeue: try connection.nack(tag, requeue: true)
        }
    }

    /// The application dies: the operating system closes its socket, and the broker requeues
    /// what it had not acked (RMQ-09).
    func crashConsumer(_ index: Int) {
        consumers[index - 1].crashed = true
        consumers[index - 1].connection?.abort()
        consumers[index - 1].connection = nil
        consumers[index - 1].inbox = []
        consumers[index - 1].busyUntil = nil
    }

    // MARK: - The node

    func crashBroker() {
        node?.crash()
        for index in publishers.indices { publisherLost(index + 1) }
    }

    func restartBroker() throws(RealBrokerError) {
        guard let node, !node.isRunning else { return }
        let began = Clock.milliseconds()
        try node.start(shouldStop: shouldStop)
        notes.append("B1 took \(Clock.milliseconds() - began) ms to restart (the script waited for it)")
    }

    // MARK: - The end

    func decode(_ body: [UInt8]) -> (message: MessageID, copy: Int)? {
        let text = String(decoding: body, as: UTF8.self)
        guard let bar = text.lastIndex(of: "|"), let copy = Int(text[text.index(after: bar)...]) else {
            return nil
        }
        return (message(named: String(text[..<bar])), copy)
    }

    /// Closes every client (a clean close requeues what consumers held), brings a killed node back
    /// (what a restart recovers is what the disk held), and reads each queue.
    func finish() throws(RealBrokerError) -> ObservedQueueRun {
        node?.resume()
        for index in publishers.indices {
            publishers[index].connection?.closeCleanly()
            publishers[index].connection = nil
        }
        for index in consumers.indices {
            consumers[index].connection?.closeCleanly()
            consumers[index].connection = nil
        }
        if let node, !node.isRunning { try node.start(shouldStop: shouldStop) }
        var queues: [String: [(message: MessageID, copy: Int)]] = [:]
        do {
            // q last: reading it can expire what waited behind its head (RMQ-14), which the
            // reading then puts back where it stood.
            for queue in queueNames where queue != "q" { queues[queue] = try contents(of: queue) }
            let (work, dropped) = try contentsOfWorkQueue()
            queues["q"] = work
            if dropped > 0 {
                notes.append(
                    "\(dropped) message(s) expired in q while it was read at the end and were dropped; the reading cannot tell which"
                )
            }
        } catch {
            throw RealBrokerError("cannot read the queues at the end: \(error.description)")
        }
        deleteTopology()
        return ObservedQueueRun(
            messageNames: names, history: history, queues: queues, deliveryLimit: config.deliveryLimit)
    }

    /// Drains a queue with basic.get. A queue the broker lost in a restart (a transient one)
    /// holds nothing; asking for it closes the channel, so each queue gets its own connection.
    func contents(of queue: String) throws(AMQPError) -> [(message: MessageID, copy: Int)] {
        let admin = try AMQPConnection.open(address, name: "mqproof reader")
        defer { admin.closeCleanly() }
        guard (try? admin.declareQueue(prefix + queue, durable: true, passive: true)) != nil else {
            return []
        }
        var contents: [(message: MessageID, copy: Int)] = []
        while let body = try admin.get(queue: prefix + queue) {
            if let item = decode(body) { contents.append(item) }
        }
        return contents
    }

    /// Drains q with basic.get. A message that expired behind the head is dead-lettered the
    /// moment the head is taken, so after each get the dead-letter queue is checked, and what
    /// arrived there is counted back into q at its place: at the end of the run it was still in q
    /// (RMQ-14).
    func contentsOfWorkQueue() throws(AMQPError) -> (
        contents: [(message: MessageID, copy: Int)], dropped: Int
    ) {
        let admin = try AMQPConnection.open(address, name: "mqproof reader")
        defer { admin.closeCleanly() }
        guard let before = try? admin.declareQueue(prefix + "q", durable: true, passive: true) else {
            return ([], 0)
        }
        let watchesDeadLetters =
            config.deadLetterExchange != nil
            && (config.messageTTLMs != nil || config.expirationMs != nil
                || properties.values.contains { $0.expirationMs != nil })
        var contents: [(message: MessageID, copy: Int)] = []
        // basic.get takes the head, then drops what expired at the new head (`fetch`, then
        // `drop_expired_msgs`, rabbit_amqqueue_process.erl): what reached dlq stood behind it.
        while let body = try admin.get(queue: prefix + "q") {
            if let item = decode(body) { contents.append(item) }
            if watchesDeadLetters { contents += try self.contents(of: "dlq") }
        }
        return (contents, max(0, before - contents.count))
    }

    func deleteTopology() {
        var deletions: [(queue: Bool, name: String)] = queueNames.map { (true, prefix + $0) }
        if !config.exchange.isEmpty { deletions.append((false, exchangeName)) }
        if let dlx = config.deadLetterExchange { deletions.append((false, prefix + dlx)) }
        var connection: AMQPConnection?
        for deletion in deletions {
            if connection?.isOpen != true {
                connection = try? AMQPConnection.open(address, name: "mqproof cleanup")
            }
            guard let open = connection else { return }
            if deletion.queue {
                try? open.deleteQueue(deletion.name)
            } else {
                try? open.deleteExchange(deletion.name)
            }
        }
        connection?.closeCleanly()
    }
}
