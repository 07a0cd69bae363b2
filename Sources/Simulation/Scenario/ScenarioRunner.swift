// Theory of operation
//
// The runner plays a scenario's script against a fresh world: actions apply at the current
// simulated time, `wait` steps let the world run, and `wait until` steps run it event by event
// until their condition holds (or their time runs out, which is recorded, not fatal: a claim
// that never reaches its condition is a failed claim, not a crash). Random faults are drawn from
// the seed's "faults" child generator before the first step and scheduled as world events, so
// they interleave with the script deterministically. After the last step the world settles for
// `settleMs`, and the checker reads the history and the final log. Every run is bounded: by the
// script's time, the settle time and an event budget.

/// The outcome of one run of a scenario with one seed.
public struct ScenarioRun: Sendable {
    public struct StepResult: Equatable, Sendable {
        public var step: ScriptStep
        public var startedAt: Millis
        /// Set when a `wait until` ran out of time.
        public var timedOut: Bool
    }

    public struct ExpectationResult: Equatable, Sendable {
        public var expectation: Expectation
        public var actual: Expectation.Value
        public var holds: Bool
    }

    public var seed: UInt64
    public var world: any ScenarioWorld
    public var report: CheckerReport
    public var steps: [StepResult]
    public var expectations: [ExpectationResult]
    /// Random faults drawn for this seed, as (time, action).
    public var drawnFaults: [(time: Millis, action: WorldAction)]
    public var hitEventBudget: Bool

    public var passed: Bool { expectations.allSatisfy(\.holds) }
}

public enum ScenarioRunner {
    /// At most this many events per run: far above any scripted scenario, it only stops a
    /// configuration that livelocks.
    public static let eventBudget = 20_000_000

    public static func run(
        _ scenario: Scenario, config: ResolvedConfig, seed: UInt64, recordTrace: Bool = true
    )
        -> ScenarioRun
    {
        switch config {
        case .kafka(let config) where config.isPartitionedTopic:
            var world = KafkaTopicWorld(config: config, seed: seed, recordsTrace: recordTrace)
            for producer in 0..<max(1, scenario.producers) {
                let own =
                    producer < scenario.producerTransactionalIDs.count
                    ? scenario.producerTransactionalIDs[producer] : nil
                _ = world.addProducer(transactionalID: own)
            }
            for consumer in scenario.consumers {
                guard case .kafka(let commit, _, let instance) = consumer else { continue }
                _ = world.addConsumer(TopicConsumerSpec(commit: commit, instance: instance))
            }
            return play(scenario, in: world, nodes: 1, seed: seed)
        case .kafka(let config):
            var world = KafkaWorld(config: config, seed: seed, recordsTrace: recordTrace)
            for _ in 0..<max(1, scenario.producers) { _ = world.addProducer() }
            for consumer in scenario.consumers {
                guard case .kafka(let commit, let processing, _) = consumer else { continue }
                _ = world.addConsumer(commit: commit, processing: processing)
            }
            return play(scenario, in: world, nodes: config.brokers, seed: seed)
        case .rabbitmq(let config):
            var world = RabbitWorld(config: config, seed: seed, recordsTrace: recordTrace)
            for _ in 0..<max(1, scenario.producers) { _ = world.addPublisher() }
            for case .rabbitmq(let settlement, let only, let times) in scenario.consumers {
                _ = world.addConsumer(settlement: settlement, only: only, times: times)
            }
            return play(scenario, in: world, nodes: config.nodes, seed: seed)
        case .rocketmq(let config):
            var world = RocketWorld(config: config, seed: seed, recordsTrace: recordTrace)
            for _ in 0..<max(1, scenario.producers) { _ = world.addProducer() }
            for case .rocketmq(let spec) in scenario.consumers { _ = world.addConsumer(spec) }
            return play(scenario, in: world, nodes: config.nodes, seed: seed)
        case .activemq(let config):
            var world = ActiveMQWorld(config: config, seed: seed, recordsTrace: recordTrace)
            for _ in 0..<max(1, scenario.producers) { _ = world.addProducer() }
            for case .activemq(let spec) in scenario.consumers { _ = world.addConsumer(spec) }
            return play(scenario, in: world, nodes: 1, seed: seed)
        }
    }

    static func play<World: ScenarioWorld>(_ scenario: Scenario, in start: World, nodes: Int, seed: UInt64)
        -> ScenarioRun
    {
        var world = start
        var faults = SeededRandom(seed: seed).child("faults")
        var workload = SeededRandom(seed: seed).child("workload")
        _ = workload.next()
        let drawn = scenario.randomFaults.map { draw($0, brokers: nodes, random: &faults) } ?? []
        for fault in drawn { world.schedule(fault.action, at: fault.time) }

        var results: [ScenarioRun.StepResult] = []
        var autoNames = 0
        for scripted in scenario.steps {
            let started = world.now
            var timedOut = false
            world.note(.step(scripted.text), at: .controller)
            switch scripted.step {
            case .produce(let names, let producer, let every, let properties):
                var ids: [MessageID] = []
                for name in names {
                    if let count = Int(name) {
                        ids += world.automaticMessages(count: max(1, count), first: autoNames + 1)
                        autoNames += max(1, count)
                    } else {
                        ids += expand(name, counter: &autoNames).map { world.message(named: $0) }
                    }
                }
                if !properties.isEmpty { world.setProperties(properties, for: ids) }
                if let every {
                    world.producePaced(ids, producer: producer, every: every)
                } else {
                    world.perform(.produce(ids, producer: producer))
                }
            case .wait(let milliseconds):
                // Event by event, so that the budget bounds a long wait on a busy world too.
                let end = world.now + milliseconds
                while world.eventCount <= eventBudget, world.step(until: end) {}
                if world.eventCount <= eventBudget { world.run(until: end) }
            case .waitUntil(let condition, let timeout):
                timedOut = !world.run(untilHolds: condition, timeout: timeout)
            case .fault(let node, let fault):
                if case .producer(let index) = node {
                    world.perform(.crashApplication(producer: index))
                } else if case .consumer(let index) = node {
                    world.perform(.crashConsumer(index))
                } else if let broker = resolve(node, in: world) {
                    world.perform(.crash(broker, fault))
                }
            case .restart(let node):
                if case .consumer(let index) = node {
                    world.perform(.startConsumer(index))
                } else if let broker = resolve(node, in: world) {
                    world.perform(.restart(broker))
                }
            case .pause(let node, let milliseconds):
                if let target = world.resolve(node) { world.perform(.pause(target, milliseconds)) }
            case .partition(let sideA, let sideB, let oneWay):
                world.perform(
                    .partition(
                        sideA.compactMap { world.resolve($0) }, sideB.compactMap { world.resolve($0) },
                        oneWay: oneWay))
            case .isolate(let node):
                if let target = world.resolve(node) { world.perform(.isolate(target)) }
            case .heal:
                world.perform(.heal)
            case .drop(let kind, let from, let to, let effect):
                let rule = DropRule(
                    kind: kind, from: from.flatMap { world.resolve($0) },
                    to: to.flatMap { world.resolve($0) },
                    effect: effect)
                world.perform(.drop(rule))
            case .delay(let kind, let from, let to, let milliseconds):
                world.perform(
                    .delay(
                        DelayRule(
                            kind: kind, from: from.flatMap { world.resolve($0) },
                            to: to.flatMap { world.resolve($0) },
                            milliseconds: milliseconds)))
            case .resendUnacknowledged(let producer):
                world.perform(.resendUnacknowledged(producer: producer))
            case .startConsumer(let consumer):
                world.perform(.startConsumer(consumer))
            case .stopConsumer(let consumer):
                world.perform(.stopConsumer(consumer))
            case .seek(let consumer, let offset):
                world.perform(.seek(consumer: consumer, offset: offset))
            case .addPartitions(let count):
                world.perform(.addPartitions(count))
            case .transaction(let producer, let action):
                world.perform(.transaction(producer: producer, action))
            case .alarm(let node, let alarm, let raised):
                if let broker = resolve(node, in: world) {
                    world.perform(.alarm(broker, alarm, raised: raised))
                }
            }
            results.append(ScenarioRun.StepResult(step: scripted, startedAt: started, timedOut: timedOut))
            if world.eventCount > eventBudget { break }
        }
        let lastFault = drawn.map(\.time).max() ?? 0
        let end = max(world.now, lastFault) + scenario.settleMs
        while world.eventCount <= eventBudget, world.step(until: end) {}
        if world.eventCount <= eventBudget { world.run(until: end) }

        let report = world.check()
        let expectations = scenario.expectations.map { evaluate($0, report: report, world: world) }
        return ScenarioRun(
            seed: seed, world: world, report: report, steps: results, expectations: expectations,
            drawnFaults: drawn,
            hitEventBudget: world.eventCount > eventBudget)
    }

    /// `m1..m5` expands to m1, m2, m3, m4, m5; a bare number N to the next N automatic names.
    public static func expand(_ name: String, counter: inout Int) -> [String] {
        if let count = Int(name) {
            defer { counter += count }
            return (1...max(1, count)).map { "#\(counter + $0)" }
        }
        let parts = name.split(separator: ".", omittingEmptySubsequences: false)
        if parts.count == 3, parts[1].isEmpty {
            let head = parts[0]
            let tail = parts[2]
            let prefix = head.prefix { !$0.isNumber }
            if let low = Int(head.dropFirst(prefix.count)), let high = Int(tail.drop { !$0.isNumber }),
                low <= high
            {
                return (low...high).map { "\(prefix)\($0)" }
            }
        }
        return [name]
    }

    static func draw(_ faults: RandomFaults, brokers: Int, random: inout SeededRandom) -> [(
        time: Millis, action: WorldAction
    )] {
        var drawn: [(time: Millis, action: WorldAction)] = []
        for _ in 0..<faults.count {
            let time = random.next(in: faults.windowMs)
            let broker = BrokerID(random.next(in: 1...brokers))
            let kind = faults.kinds[random.next(in: 0...(faults.kinds.count - 1))]
            let recover = time + faults.recoverAfterMs
            switch kind {
            case .crash: drawn += [(time, .crash(broker, .crash)), (recover, .restart(broker))]
            case .powerLoss: drawn += [(time, .crash(broker, .powerLoss)), (recover, .restart(broker))]
            case .diskLoss: drawn += [(time, .crash(broker, .diskLoss)), (recover, .restart(broker))]
            case .isolate: drawn += [(time, .isolate(.broker(broker))), (recover, .heal)]
            case .pause: drawn += [(time, .pause(.broker(broker), faults.recoverAfterMs))]
            }
        }
        return drawn.sorted { $0.time < $1.time }
    }

    static func resolve(_ node: NodeReference, in world: some ScenarioWorld) -> BrokerID? {
        if case .broker(let id) = world.resolve(node) { return id }
        return nil
    }

    static func evaluate(_ expectation: Expectation, report: CheckerReport, world: some ScenarioWorld)
        -> ScenarioRun.ExpectationResult
    {
        evaluate(
            expectation, report: report, history: world.history, name: world.name(of:),
            queue: world.finalContents(ofQueue:), lag: world.consumerLag, measure: world.measure)
    }

    /// Whether `expectation` holds, for any run: simulated, or observed on a real broker.
    public static func evaluate(
        _ expectation: Expectation, report: CheckerReport, history: History, name: (MessageID) -> String,
        queue: (String) -> [MessageID]?, lag: Int? = nil,
        measure: (Expectation.Subject) -> Int? = { _ in nil }
    ) -> ScenarioRun.ExpectationResult {
        let names: [String]
        var sequence = false
        switch expectation.subject {
        case .lag, .rebalances, .revoked, .raised:
            // A number, not messages: the parser allows only a count or a range.
            let actual: Int =
                switch expectation.subject {
                case .lag: lag ?? 0
                case .raised(let error): history.raised.filter { $0.error.contains(error) }.count
                default: measure(expectation.subject) ?? 0
                }
            let holds =
                switch expectation.value {
                case .count(let count): actual == count
                case .countBetween(let range): range.contains(actual)
                case .messages: false
                }
            return ScenarioRun.ExpectationResult(
                expectation: expectation, actual: .count(actual), holds: holds)
        case .anomaly(let kind): names = report.messages(kind).map(name)
        case .log:
            names = report.finalLog.map(name)
            sequence = true
        case .queue(let queueName):
            names = (queue(queueName) ?? []).map(name)
            sequence = true
        case .deliveries:
            names = history.polls.map { name($0.message) }
            sequence = true
        case .deliveriesTo(let consumer):
            names = history.polls.filter { $0.consumer == consumer }.map { name($0.message) }
            sequence = true
        case .processed:
            names = history.processed.map { name($0.message) }
            sequence = true
        case .processedBy(let consumer):
            names = history.processed.filter { $0.consumer == consumer }.map { name($0.message) }
            sequence = true
        case .returned:
            names = history.sends.filter { send in
                if case .fail(let error, _) = send.outcome { error == History.returnedError } else { false }
            }.map { name($0.message) }
        case .failedWith(let error):
            names = history.sends.filter { send in
                switch send.outcome {
                case .fail(let text, _), .info(let text, _): text.contains(error)
                default: false
                }
            }.map { name($0.message) }
        case .acknowledged, .failed, .indeterminate:
            names = history.sends.filter { send in
                switch (expectation.subject, send.outcome) {
                case (.acknowledged, .ok), (.failed, .fail), (.indeterminate, .info): true
                default: false
                }
            }.map { name($0.message) }
        }
        let actual: Expectation.Value
        let holds: Bool
        switch expectation.value {
        case .count(let count):
            actual = .count(names.count)
            holds = names.count == count
        case .countBetween(let range):
            actual = .count(names.count)
            holds = range.contains(names.count)
        case .messages(let expected):
            actual = .messages(names)
            // Logs, queues and deliveries are sequences; every other subject is a set.
            holds =
                sequence ? names == expected : Set(names) == Set(expected) && names.count == expected.count
        }
        return ScenarioRun.ExpectationResult(expectation: expectation, actual: actual, holds: holds)
    }
}

extension KafkaWorld {
    public func resolve(_ reference: NodeReference) -> NodeID? {
        switch reference {
        case .broker(let id): return .broker(id)
        case .leader: return leader.map(NodeID.broker)
        case .follower:
            return replicas.first { $0 != leader && isr.contains($0) }.map(NodeID.broker)
                ?? replicas.first { $0 != leader }.map(NodeID.broker)
        case .controller: return .controller
        case .producer(let index): return .producer(index)
        case .consumer(let index): return .consumer(index)
        }
    }

    public func check() -> CheckerReport { Checker.check(self) }

    public func finalContents(ofQueue name: String) -> [MessageID]? { nil }
}
