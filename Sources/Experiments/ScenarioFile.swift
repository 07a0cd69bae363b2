import Simulation
import YAMLGuard
import Yams

// Theory of operation
//
// A scenario file is YAML (scenarios/README.md documents it): the cluster and its config in
// Kafka's own names, consumers, optional random faults, a script of steps written as short
// sentences ("crash leader", "wait until acknowledged m"), and expectations on the checker's
// findings. Steps are sentences rather than nested YAML because that is how people describe
// fault scenarios, and a sentence per line keeps a script readable top to bottom. Every problem
// is reported as file:line: reason, all of them at once.

/// Parses scenario files.
public enum ScenarioFile {
    /// A problem in a scenario file.
    public struct Problem: Error, Equatable, Sendable, CustomStringConvertible {
        public var file: String
        public var line: Int
        public var reason: String
        public var description: String { "\(file):\(line): \(reason)" }
    }

    /// All problems of one file.
    public struct Problems: Error, Equatable, Sendable, CustomStringConvertible {
        public var problems: [Problem]
        public var description: String { problems.map(\.description).joined(separator: "\n") }
    }

    public static func parse(_ text: String, file: String) -> Result<Scenario, Problems> {
        parseDocument(text, file: file).map(\.scenario)
    }

    /// A scenario and, when the file is a catalogue experiment, what the catalogue says of it.
    public struct Document: Sendable {
        public var scenario: Scenario
        public var experiment: ExperimentInfo
    }

    public static func parseDocument(_ text: String, file: String) -> Result<Document, Problems> {
        var problems: [Problem] = []
        func report(_ line: Int, _ reason: String) {
            problems.append(Problem(file: file, line: line, reason: reason))
        }
        let root: Node
        do {
            // The basic resolver: every field is read as the type its key expects, and the
            // default resolver's implicit typing costs an ICU regex compile per process, a
            // quarter of the time `mqproof show` takes.
            guard text.utf8.count <= Limits.fileSize else {
                return .failure(
                    Problems(problems: [
                        Problem(
                            file: file, line: 1,
                            reason: "over \(Limits.fileSize / 1024) KiB; a scenario is a page")
                    ]))
            }
            if let line = YAMLGuard.firstAnchorOrAlias(in: text) {
                return .failure(
                    Problems(problems: [
                        Problem(
                            file: file, line: line,
                            reason: "YAML anchors and aliases (& and *) are not used in scenarios")
                    ]))
            }
            guard let node = try Yams.compose(yaml: text, .basic) else {
                return .failure(
                    Problems(problems: [Problem(file: file, line: 1, reason: "the file is empty")]))
            }
            root = node
        } catch let error as YamlError {
            return .failure(
                Problems(problems: [
                    Problem(file: file, line: error.line ?? 1, reason: "YAML: \(error.problem)")
                ]))
        } catch {
            return .failure(Problems(problems: [Problem(file: file, line: 1, reason: "YAML: \(error)")]))
        }
        guard let mapping = root.mapping else {
            return .failure(
                Problems(problems: [Problem(file: file, line: 1, reason: "a scenario is a mapping of fields")]
                ))
        }
        var scenario = Scenario(name: "")
        var info = ExperimentInfo()
        var seenName = false
        var consumerFields: [(line: Int, spec: Node)] = []
        var seenBrokers = false
        for (keyNode, value) in mapping {
            let key = keyNode.string ?? ""
            let line = keyNode.mark?.line ?? 1
            switch key {
            case "name":
                scenario.name = value.string ?? ""
                seenName = !scenario.name.isEmpty
            case "claim":
                if let text = value.string {
                    scenario.claim = text
                    info.claim = Bilingual(zh: nil, en: text)
                } else if let zh = value.mapping?["zh"]?.string, let en = value.mapping?["en"]?.string {
                    scenario.claim = en
                    info.claim = Bilingual(zh: zh, en: en)
                } else {
                    report(line, "'claim' is one sentence, or zh and en sentences")
                }
            case "title":
                guard let zh = value.mapping?["zh"]?.string, let en = value.mapping?["en"]?.string else {
                    report(line, "'title' needs zh and en")
                    continue
                }
                info.title = Bilingual(zh: zh, en: en)
            case "proves":
                guard let kind = value.string.flatMap(ExperimentInfo.Kind.init(rawValue:)) else {
                    report(line, "'proves' is hazard (the failure happens) or safety (the fix holds)")
                    continue
                }
                info.kind = kind
            case "contrast":
                info.contrast = value.string
            case "witness-seed":
                guard let seed = value.string.flatMap(UInt64.init) else {
                    report(line, "'witness-seed' is a seed number")
                    continue
                }
                info.witnessSeed = seed
            case "sweep":
                guard let seeds = value.string.flatMap(Int.init), seeds > 0 else {
                    report(line, "'sweep' is how many seeds verify runs")
                    continue
                }
                info.sweepSeeds = seeds
            case "kafka", "version":
                guard let text = value.string, let version = KafkaVersion(parsing: text) else {
                    report(
                        line,
                        "unknown Kafka version '\(value.string ?? "")' (profiles: \(KafkaVersion.allCases.map(\.rawValue).joined(separator: ", ")), or a release such as 3.9)"
                    )
                    continue
                }
                scenario.version = version
            case "rabbitmq":
                guard let text = value.string, let version = RabbitVersion(parsing: text) else {
                    report(
                        line,
                        "unknown RabbitMQ version '\(value.string ?? "")' (profiles: \(RabbitVersion.allCases.map(\.rawValue).joined(separator: ", ")), or a release such as 4.1)"
                    )
                    continue
                }
                scenario.rabbitmq = version
            case "rocketmq":
                guard let text = value.string, let version = RocketVersion(parsing: text) else {
                    report(
                        line,
                        "unknown RocketMQ version '\(value.string ?? "")' (the simulator models 4.x classic master/slave, such as 4.9)"
                    )
                    continue
                }
                scenario.rocketmq = version
            case "activemq":
                guard let text = value.string, let version = ActiveMQVersion(parsing: text) else {
                    report(
                        line,
                        "unknown ActiveMQ version '\(value.string ?? "")' (the simulator models ActiveMQ Classic 5.x, such as 5.18)"
                    )
                    continue
                }
                scenario.activemq = version
            case "brokers", "nodes":
                guard let count = value.string.flatMap(Int.init), (1...9).contains(count) else {
                    report(line, "'\(key)' must be a number from 1 to 9")
                    continue
                }
                scenario.brokers = count
                seenBrokers = true
            case "producers":
                if let entries = value.mapping {
                    // Kafka's partitioned topic: producers by name, each with its own
                    // transactional.id or none.
                    var ids: [String?] = []
                    for (offset, (name, spec)) in entries.enumerated() {
                        let specLine = name.mark?.line ?? line
                        guard name.string == "p\(offset + 1)", offset < 9 else {
                            report(
                                specLine,
                                "producers are named p1, p2, ... (at most 9) in order; expected p\(offset + 1)"
                            )
                            continue
                        }
                        let fields = spec.mapping ?? [:]
                        let unknown = fields.keys.compactMap(\.string).filter { $0 != "transactional.id" }
                        if !unknown.isEmpty {
                            report(
                                specLine,
                                "a producer here takes transactional.id, not \(unknown.sorted().joined(separator: ", "))"
                            )
                        }
                        let id = fields.first { $0.key.string == "transactional.id" }?.value.string
                        if let id, id.isEmpty { report(specLine, "transactional.id is a name") }
                        ids.append(id)
                    }
                    scenario.producers = max(1, ids.count)
                    scenario.producerTransactionalIDs = ids
                    continue
                }
                guard let count = value.string.flatMap(Int.init), (1...9).contains(count) else {
                    report(
                        line,
                        "'producers' must be a number from 1 to 9, or p1, p2, ... each with its transactional.id"
                    )
                    continue
                }
                scenario.producers = count
            case "settle":
                guard let milliseconds = value.string.flatMap(duration) else {
                    report(line, "'settle' must be a duration from 0 to 24h, such as 5000, 500ms or 5s")
                    continue
                }
                scenario.settleMs = milliseconds
            case "config":
                guard let entries = value.mapping else {
                    report(line, "'config' maps Kafka config names to values")
                    continue
                }
                for (name, setting) in entries {
                    scenario.settings.append(.init(key: name.string ?? "", value: setting.string ?? ""))
                }
            case "consumers":
                guard let entries = value.mapping else {
                    report(line, "'consumers' maps c1, c2, ... to {commit: ..., processing: ...}")
                    continue
                }
                for (offset, (name, spec)) in entries.enumerated() {
                    let specLine = name.mark?.line ?? line
                    guard name.string == "c\(offset + 1)" else {
                        report(specLine, "consumers are named c1, c2, ... in order; expected c\(offset + 1)")
                        continue
                    }
                    // What a consumer does is named per product, so it is read once the product is known.
                    consumerFields.append((specLine, spec))
                }
            case "random-faults":
                scenario.randomFaults = parseRandomFaults(value, line: line, report: report)
            case "steps":
                guard let list = value.sequence else {
                    report(line, "'steps' is a list of sentences")
                    continue
                }
                for item in list {
                    let stepLine = item.mark?.line ?? line
                    guard let text = item.string else {
                        report(stepLine, "a step is one sentence, such as: crash leader")
                        continue
                    }
                    switch StepParser.parse(text) {
                    case .success(let step):
                        scenario.steps.append(ScriptStep(line: stepLine, text: text, step: step))
                    case .failure(let error): report(stepLine, error.reason)
                    }
                }
            case "expect":
                guard let entries = value.mapping else {
                    report(line, "'expect' maps checker findings to message lists or counts")
                    continue
                }
                for (name, expected) in entries {
                    let entryLine = name.mark?.line ?? line
                    guard let subject = subject(name.string ?? "") else {
                        let known =
                            AnomalyKind.allCases.map(\.rawValue) + [
                                "log", "acknowledged", "failed", "indeterminate", "queue q", "queue dlq",
                                "deliveries", "deliveries c1", "processed", "processed c1", "lag", "returned",
                                "rebalances", "revoked c1", "partition t-0", "raised <exception>",
                                "failed with <error>",
                            ]
                        report(
                            entryLine,
                            "unknown expectation '\(name.string ?? "")' (known: \(known.joined(separator: ", ")))"
                        )
                        continue
                    }
                    if subject == .lag && (expected.sequence != nil || expected.string == "none") {
                        report(entryLine, "'lag' is a number of records or a range such as 50..70")
                        continue
                    }
                    if case .revoked = subject, expected.sequence != nil {
                        report(entryLine, "'\(name.string ?? "")' is a number of partitions or a range")
                        continue
                    }
                    if subject == .rebalances, expected.sequence != nil {
                        report(entryLine, "'rebalances' is a number or a range such as 1..2")
                        continue
                    }
                    if case .raised = subject, expected.sequence != nil {
                        report(entryLine, "'\(name.string ?? "")' is how many times, or a range such as 1..3")
                        continue
                    }
                    if let list = expected.sequence {
                        scenario.expectations.append(
                            .init(
                                subject: subject, value: .messages(list.compactMap(\.string)), line: entryLine
                            ))
                    } else if expected.string == "none" {
                        scenario.expectations.append(
                            .init(subject: subject, value: .count(0), line: entryLine))
                    } else if let count = expected.string.flatMap(Int.init) {
                        scenario.expectations.append(
                            .init(subject: subject, value: .count(count), line: entryLine))
                    } else if let bounds = expected.string?.components(separatedBy: ".."), bounds.count == 2,
                        let low = Int(bounds[0]), let high = Int(bounds[1]), 0 <= low, low <= high
                    {
                        scenario.expectations.append(
                            .init(subject: subject, value: .countBetween(low...high), line: entryLine))
                    } else {
                        report(
                            entryLine,
                            "expect a list of messages, a count, a range of counts such as 5..15, or none")
                    }
                }
            default:
                report(
                    line,
                    "unknown field '\(key)' (fields: name, title, claim, proves, contrast, witness-seed, sweep, kafka, rabbitmq, rocketmq, activemq, brokers, nodes, producers, config, consumers, random-faults, steps, expect, settle)"
                )
            }
        }
        if !seenName { report(1, "missing field 'name'") }
        // ActiveMQ here is one broker, so a file need not say so.
        if !seenBrokers && scenario.activemq != nil { scenario.brokers = 1 }
        var messages = 0
        for scripted in scenario.steps {
            guard case .produce(let names, _, _, _) = scripted.step else { continue }
            messages += names.reduce(0) { $0 + StepParser.messageCount($1) }
            if messages > Limits.messagesPerScript {
                report(
                    scripted.line,
                    "the script sends more than \(Limits.messagesPerScript) messages; a scenario is a small experiment"
                )
                break
            }
        }
        for (line, spec) in consumerFields {
            if let consumer = consumer(spec, for: scenario.system, line: line, report: report) {
                scenario.consumers.append(consumer)
            }
        }
        // Fault rules name message kinds; a kind this broker never sends would match nothing.
        for scripted in scenario.steps {
            let kind: MessageKind? =
                switch scripted.step {
                case .drop(let kind, _, _, _), .delay(let kind, _, _, _): kind
                default: nil
                }
            if let kind, !kind.isSent(in: scenario.system) {
                report(
                    scripted.line,
                    "'\(kind.rawValue)' is not a message this broker sends (it sends: "
                        + MessageKind.sent(in: scenario.system).map(\.rawValue).joined(separator: ", ") + ")")
            }
        }
        do {
            if case .activemq(let config) = try scenario.resolvedConfig(), config.destination == .queue,
                let durable = scenario.consumers.firstIndex(where: {
                    if case .activemq(let spec) = $0 { spec.subscription == .durable } else { false }
                })
            {
                report(
                    consumerFields.indices.contains(durable) ? consumerFields[durable].line : 1,
                    "a durable subscription is a topic's: set sim.destination: topic")
            }
        } catch {
            // Every problem, each at the line of its key.
            for problem in error.problems {
                let line = mapping.first { $0.key.string == "config" }?.value.mapping?.first {
                    $0.key.string == problem.key
                }?.key.mark?.line
                report(line ?? 1, "config \(problem)")
            }
        }
        if scenario.producerTransactionalIDs.contains(where: { $0 != nil }) {
            let producersLine = mapping.first { $0.key.string == "producers" }?.key.mark?.line ?? 1
            if scenario.system != .kafka(scenario.version) {
                report(producersLine, "transactional.id is a Kafka producer's; this scenario is not Kafka")
            } else if case .kafka(let config)? = try? scenario.resolvedConfig(), !config.isPartitionedTopic {
                report(
                    producersLine,
                    "transactions run on the partitioned-topic model: set num.partitions under config")
            }
        }
        if case .kafka(let config)? = try? scenario.resolvedConfig(), config.isPartitionedTopic {
            // What the partitioned-topic model does not run is refused, not ignored.
            if scenario.randomFaults != nil {
                report(
                    mapping.first { $0.key.string == "random-faults" }?.key.mark?.line ?? 1,
                    "random faults hit brokers, and the partitioned-topic model runs on a healthy cluster")
            }
            if config.autoOffsetReset == "none" {
                report(1, "auto.offset.reset=none is modelled on the one-partition topic only")
            }
            for (index, consumer) in scenario.consumers.enumerated() {
                if case .kafka(_, .async, _) = consumer {
                    report(
                        consumerFields.indices.contains(index) ? consumerFields[index].line : 1,
                        "processing: async is modelled on the one-partition topic only")
                }
            }
        }
        if let problem = checkReferences(scenario) { report(problem.line, problem.reason) }
        return problems.isEmpty
            ? .success(Document(scenario: scenario, experiment: info))
            : .failure(Problems(problems: problems.sorted { $0.line < $1.line }))
    }

    /// Steps may name only brokers, producers and consumers the scenario has.
    private static func checkReferences(_ scenario: Scenario) -> (line: Int, reason: String)? {
        let partitioned: Bool =
            if scenario.system == .kafka(scenario.version),
                case .kafka(let config)? = try? scenario.resolvedConfig()
            {
                config.isPartitionedTopic
            } else { false }
        for scripted in scenario.steps {
            if let problem = partitionedTopicProblem(scripted, partitioned: partitioned, scenario: scenario) {
                return (scripted.line, problem)
            }
            if case .seek = scripted.step,
                scenario.rabbitmq != nil || scenario.rocketmq != nil || scenario.activemq != nil
            {
                return (scripted.line, "'seek' moves a Kafka consumer's position; this scenario is not Kafka")
            }
            if case .alarm = scripted.step, scenario.rabbitmq == nil {
                return (scripted.line, "resource alarms are RabbitMQ's; this scenario is not RabbitMQ")
            }
            if case .produce(_, _, _, let properties) = scripted.step {
                if (properties.expirationMs != nil || properties.priority != nil) && scenario.rabbitmq == nil
                {
                    return (
                        scripted.line,
                        "'expiration' and 'priority' are RabbitMQ message properties; this scenario is not RabbitMQ"
                    )
                }
                if properties.delayLevel != nil && scenario.rocketmq == nil {
                    return (
                        scripted.line,
                        "'delay-level' is a RocketMQ message property; this scenario is not RocketMQ"
                    )
                }
            }
            for node in scripted.step.references {
                switch node {
                case .broker(let id) where id.value > scenario.brokers:
                    return (
                        scripted.line, "\(id) does not exist: the scenario has \(scenario.brokers) brokers"
                    )
                case .producer(let index) where index > max(1, scenario.producers):
                    return (
                        scripted.line,
                        "p\(index) does not exist: the scenario has \(max(1, scenario.producers)) producers"
                    )
                case .consumer(let index) where index > scenario.consumers.count:
                    return (scripted.line, "c\(index) does not exist: declare it under 'consumers'")
                default: continue
                }
            }
        }
        return nil
    }

    /// What the partitioned-topic model (num.partitions or transactional.id set) takes, and what
    /// only it takes.
    private static func partitionedTopicProblem(_ scripted: ScriptStep, partitioned: Bool, scenario: Scenario)
        -> String?
    {
        let isKafka = scenario.system == .kafka(scenario.version)
        switch scripted.step {
        case .addPartitions where !partitioned, .transaction where !partitioned:
            return isKafka
                ? "'\(scripted.text)' needs the partitioned-topic model: set num.partitions (and transactional.id for transactions) under config"
                : "'\(scripted.text)' is Kafka's; this scenario is not Kafka"
        case .transaction(let producer, _)
        where scenario.settings.allSatisfy({ $0.key != "transactional.id" })
            && (producer > scenario.producerTransactionalIDs.count
                || scenario.producerTransactionalIDs[producer - 1] == nil):
            return "'\(scripted.text)' needs a transactional producer: set transactional.id under config"
        case .produce(_, _, _, let properties)
        where properties.tombstone && properties.key == nil && properties.keyCycle == nil:
            return "a tombstone deletes a key: give it one, e.g. 'produce d key user-1 tombstone'"
        case .produce(_, _, _, let properties)
        where (properties.key != nil || properties.keyCycle != nil) && !partitioned:
            return isKafka
                ? "a record key picks a partition: set num.partitions under config"
                : "'key' is a Kafka record key; this scenario is not Kafka"
        default: break
        }
        guard partitioned else { return nil }
        let brokerFault =
            "the partitioned-topic model runs on a healthy cluster: broker faults, elections and replication are the one-partition model's (leave num.partitions and transactional.id unset)"
        switch scripted.step {
        case .fault(let node, _), .restart(let node), .pause(let node, _), .isolate(let node):
            switch node {
            case .producer, .consumer: return nil
            default: return brokerFault
            }
        case .waitUntil(.isr, _), .waitUntil(.leaderIs, _), .waitUntil(.offline, _),
            .waitUntil(.replicated, _):
            return brokerFault
        case .seek: return "'seek' is modelled on the one-partition topic only"
        case .resendUnacknowledged:
            return "'resend unacknowledged' is modelled on the one-partition topic only"
        default: return nil
        }
    }

    private static func subject(_ name: String) -> Expectation.Subject? {
        if let kind = AnomalyKind(rawValue: name) { return .anomaly(kind) }
        switch name {
        case "log": return .log
        case "acknowledged": return .acknowledged
        case "failed": return .failed
        case "indeterminate": return .indeterminate
        case "deliveries": return .deliveries
        case "processed": return .processed
        case "lag": return .lag
        case "rebalances": return .rebalances
        case _ where name.hasPrefix("raised ") && name.count > "raised ".count:
            return .raised(String(name.dropFirst("raised ".count)))
        case _ where name.hasPrefix("revoked c"):
            return Int(name.dropFirst("revoked c".count)).map { .revoked(consumer: $0) }
        case _ where name.hasPrefix("partition t-"): return .queue(String(name.dropFirst("partition ".count)))
        case _ where name.hasPrefix("processed c"):
            return Int(name.dropFirst("processed c".count)).map { .processedBy(consumer: $0) }
        case "returned": return .returned
        case _ where name.hasPrefix("failed with ") && name.count > "failed with ".count:
            return .failedWith(String(name.dropFirst("failed with ".count)))
        case _ where name.hasPrefix("deliveries c"):
            return Int(name.dropFirst("deliveries c".count)).map { .deliveriesTo(consumer: $0) }
        case _ where name.hasPrefix("queue "): return .queue(String(name.dropFirst("queue ".count)))
        default: return nil
        }
    }

    /// One consumer, in the words of the scenario's product: Kafka's `commit` and `processing`,
    /// or the queue brokers' `settle`. A field of another product is refused, not ignored.
    private static func consumer(
        _ spec: Node, for system: BrokerSystem, line: Int, report: (Int, String) -> Void
    )
        -> ConsumerSpec?
    {
        let fields = Dictionary(
            (spec.mapping ?? [:]).compactMap { key, value in key.string.map { ($0, value.string ?? "") } },
            uniquingKeysWith: { first, _ in first })
        func only(_ allowed: [String]) -> Bool {
            let others = fields.keys.filter { !allowed.contains($0) }.sorted()
            guard others.isEmpty else {
                report(
                    line,
                    "a consumer here takes \(allowed.dropLast().joined(separator: ", "))\(allowed.count > 1 ? " and " : "")\(allowed.last ?? ""), not \(others.joined(separator: ", "))"
                )
                return false
            }
            return true
        }
        func choice<Value: RawRepresentable<String> & CaseIterable>(_ field: String, default: Value) -> Value?
        {
            guard let text = fields[field] else { return `default` }
            guard let value = Value(rawValue: text) else {
                report(
                    line,
                    "\(field) must be \(Value.allCases.map(\.rawValue).joined(separator: ", ")), not '\(text)'"
                )
                return nil
            }
            return value
        }
        /// `for: [m1]` (or `for: m1`): the messages the listener's outcome applies to; empty when
        /// absent, nil after reporting a bad value.
        func named(_ field: String) -> [String]? {
            guard let node = spec.mapping?.first(where: { $0.key.string == field })?.value else { return [] }
            let names = node.sequence?.compactMap(\.string) ?? [node.string].compactMap { $0 }
            if names.isEmpty {
                report(line, "'\(field)' names the messages the listener's outcome applies to, such as [m1]")
                return nil
            }
            return names
        }
        switch system {
        case .kafka:
            guard only(["commit", "processing", "group.instance.id"]),
                let commit = choice("commit", default: CommitPolicy.auto),
                let processing = choice("processing", default: ProcessingMode.sync)
            else { return nil }
            return .kafka(commit: commit, processing: processing, instance: fields["group.instance.id"])
        case .rabbitmq:
            guard only(["settle", "for", "times"]),
                let settlement = choice("settle", default: Settlement.ack),
                let messages = named("for")
            else {
                return nil
            }
            var times: Int?
            if let text = fields["times"] {
                guard let count = Int(text), (1...1_000).contains(count) else {
                    report(
                        line,
                        "'times' is how many deliveries get the settlement before one is acked, 1 to 1000")
                    return nil
                }
                times = count
            }
            return .rabbitmq(settlement, only: messages, times: times)
        case .rocketmq:
            guard only(["settle", "dedupe", "dedupe-window", "listener", "for", "times"]),
                let status = choice("settle", default: ConsumeStatus.success),
                let dedupe = choice("dedupe", default: RocketConsumerSpec.Dedupe.none),
                let listener = choice("listener", default: RocketConsumerSpec.Listener.concurrently),
                let messages = named("for")
            else { return nil }
            // The two listener interfaces return different enums (RKT-09, RKT-19).
            switch (listener, status) {
            case (.orderly, .reconsumeLater):
                report(
                    line, "an orderly listener fails with SUSPEND_CURRENT_QUEUE_A_MOMENT, not RECONSUME_LATER"
                )
                return nil
            case (.concurrently, .suspendCurrentQueue):
                report(
                    line,
                    "SUSPEND_CURRENT_QUEUE_A_MOMENT is an orderly listener's: add listener: orderly, or use RECONSUME_LATER"
                )
                return nil
            default: break
            }
            var times: Int?
            if let text = fields["times"] {
                guard let count = Int(text), (1...1_000).contains(count) else {
                    report(line, "'times' is how many deliveries fail before one succeeds, 1 to 1000")
                    return nil
                }
                times = count
            }
            var window: Millis?
            if let text = fields["dedupe-window"] {
                guard dedupe != .none, let milliseconds = duration(text), milliseconds > 0 else {
                    report(
                        line,
                        "'dedupe-window' is how long the dedupe store keeps a key, such as 10s, with dedupe: key or msgid"
                    )
                    return nil
                }
                window = milliseconds
            }
            return .rocketmq(
                RocketConsumerSpec(
                    status: status, dedupe: dedupe, listener: listener, only: messages, times: times,
                    dedupeWindowMs: window))
        case .activemq:
            guard only(["settle", "for", "subscription"]),
                let listener = choice("settle", default: ListenerOutcome.returns),
                let subscription = choice(
                    "subscription", default: ActiveMQConsumerSpec.Subscription.nonDurable)
            else { return nil }
            guard let only = named("for") else { return nil }
            return .activemq(ActiveMQConsumerSpec(listener: listener, only: only, subscription: subscription))
        }
    }

    private static func parseRandomFaults(_ node: Node, line: Int, report: (Int, String) -> Void)
        -> RandomFaults?
    {
        guard let fields = node.mapping else {
            report(line, "'random-faults' needs count, kinds, window and recover-after")
            return nil
        }
        let count = fields["count"].map { $0.string.flatMap(Int.init) ?? -1 } ?? 1
        let kindNames =
            fields["kinds"]?.sequence?.compactMap(\.string) ?? RandomFaults.Kind.allCases.map(\.rawValue)
        var kinds: [RandomFaults.Kind] = []
        for name in kindNames {
            guard let kind = RandomFaults.Kind(rawValue: name) else {
                report(
                    line,
                    "unknown fault kind '\(name)' (kinds: \(RandomFaults.Kind.allCases.map(\.rawValue).joined(separator: ", ")))"
                )
                return nil
            }
            kinds.append(kind)
        }
        guard let window = fields["window"].map({ $0.string.flatMap(range) }) ?? 0...5_000 else {
            report(line, "'window' is a range of durations from 0 to 24h, such as 0-5s")
            return nil
        }
        guard let recover = fields["recover-after"].map({ $0.string.flatMap(duration) }) ?? 10_000 else {
            report(line, "'recover-after' is a duration from 0 to 24h, such as 10s")
            return nil
        }
        guard (0...Limits.randomFaults).contains(count), !kinds.isEmpty else {
            report(
                line, "'random-faults' needs a count from 0 to \(Limits.randomFaults) and at least one kind")
            return nil
        }
        return RandomFaults(count: count, kinds: kinds, windowMs: window, recoverAfterMs: recover)
    }

    /// What a scenario may ask for. A scenario is a small, bounded experiment; these keep a typo
    /// (or a hostile file) from asking for years of simulated time or a trillion messages, which
    /// would overflow, hang or exhaust memory instead of teaching anything.
    public enum Limits {
        /// The longest duration any step, window or settle time may name (RocketMQ's retry ladder,
        /// the longest real need, spans under five hours).
        public static let durationMs: Millis = 24 * 3_600_000
        /// Messages one `produce` step may send, and a whole script.
        public static let messagesPerStep = 100_000
        public static let messagesPerScript = 1_000_000
        /// Random faults one scenario may draw.
        public static let randomFaults = 100
        /// The largest scenario file read.
        public static let fileSize = 256 * 1024
    }

    /// `500`, `500ms`, `2s`, `2m`, `1h`: a whole number of milliseconds from 0 to 24h, or nil.
    static func duration(_ text: String) -> Millis? {
        let units: [(suffix: String, milliseconds: Int)] = [
            ("ms", 1), ("s", 1_000), ("m", 60_000), ("h", 3_600_000),
        ]
        // RocketMQ's retry ladder and transaction checks run for minutes and hours.
        let (digits, unit) =
            units.first { text.hasSuffix($0.suffix) }.map {
                (text.dropLast($0.suffix.count), $0.milliseconds)
            }
            ?? (Substring(text), 1)
        guard !digits.isEmpty, digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber),
            let value = Int(digits)
        else { return nil }
        let (milliseconds, overflow) = value.multipliedReportingOverflow(by: unit)
        guard !overflow, milliseconds <= Limits.durationMs else { return nil }
        return milliseconds
    }

    /// `0-5000` or `0-5s`.
    static func range(_ text: String) -> ClosedRange<Millis>? {
        let bounds = text.split(separator: "-").compactMap { duration(String($0)) }
        guard bounds.count == 2, bounds[0] <= bounds[1] else { return nil }
        return bounds[0]...bounds[1]
    }
}

extension Step {
    /// Every node the step names.
    var references: [NodeReference] {
        switch self {
        case .produce(_, let producer, _, _): [.producer(producer)]
        case .fault(let node, _), .restart(let node), .pause(let node, _), .isolate(let node),
            .alarm(let node, _, _):
            [node]
        case .partition(let a, let b, _): a + b
        case .drop(_, let from, let to, _), .delay(_, let from, let to, _): [from, to].compactMap { $0 }
        case .resendUnacknowledged(let producer): [.producer(producer)]
        case .startConsumer(let consumer), .stopConsumer(let consumer), .seek(let consumer, _):
            [.consumer(consumer)]
        case .waitUntil(.processed(let consumer, _), _), .waitUntil(.polled(let consumer, _), _):
            [.consumer(consumer)]
        case .waitUntil(.leaderIs(let broker), _), .waitUntil(.replicated(_, let broker), _):
            [.broker(broker)]
        case .waitUntil(.isr(let isr), _): isr.map(NodeReference.broker)
        case .transaction(let producer, _): [.producer(producer)]
        case .wait, .waitUntil, .heal, .addPartitions: []
        }
    }
}

/// Namespace for the scenario files the EmbedContent plugin compiles in.
enum EmbeddedScenarios {}
