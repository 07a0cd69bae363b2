import Content
import Experiments
import Simulation

/// The text report of one run: what was run, what the checker found, why, and the verdict.
struct RunView {
    let scenario: Scenario
    let experiment: Experiment?
    let languages: [Language]
    let run: ScenarioRun
    let terminal: Terminal
    let showTrace: Bool
    let showRoutine: Bool

    static func setup(of scenario: Scenario) -> String {
        switch scenario.system {
        case .kafka(let version): "Kafka \(version.rawValue), \(scenario.brokers) brokers"
        case .rabbitmq(let version): "RabbitMQ \(version.rawValue), \(scenario.brokers) nodes"
        case .rocketmq(let version): "RocketMQ \(version.rawValue), \(scenario.brokers) nodes"
        case .activemq(let version): "ActiveMQ Classic \(version.rawValue), 1 broker"
        }
    }

    /// Kafka shows its final log; the queue brokers their queue (RocketMQ: the topic's messages).
    static func finalLabel(of scenario: Scenario) -> String {
        if case .kafka = scenario.system { return "Final log " }
        return "Queue q   "
    }

    func print() {
        let style = terminal.style
        let world = run.world
        if let experiment {
            let kind = experiment.info.kind.map { " (\($0.rawValue))" } ?? ""
            Output.lines(terminal.hanging(experiment.id + kind, first: style.bold("Proof     ")))
            for language in languages {
                let title = language == .zh ? experiment.titleZH : experiment.titleEN
                Output.lines(terminal.hanging(TerminalSafe.clean(title), first: "          "))
            }
        }
        Output.lines(terminal.hanging(TerminalSafe.clean(scenario.name), first: style.bold("Scenario  ")))
        for language in languages {
            let claim =
                language == .zh ? experiment?.info.claim?.zh : (experiment?.info.claim?.en ?? scenario.claim)
            if let claim {
                Output.lines(terminal.hanging(TerminalSafe.clean(claim), first: style.bold("Claim     ")))
            }
        }
        let settings = scenario.settings.map { "\($0.key)=\($0.value)" }.joined(separator: "  ")
        Output.lines(
            terminal.hanging(
                Self.setup(of: scenario) + (settings.isEmpty ? "" : ", " + settings),
                first: style.bold("Setup     ")))
        Output.line(
            style.bold("Run       ")
                + "seed \(run.seed), \(world.eventCount) events, \(world.now) ms simulated, trace \(String(world.traceHash, radix: 16))"
        )
        for step in run.steps where step.timedOut {
            Output.line(
                style.bad(
                    "  line \(step.step.line): '\(TerminalSafe.clean(step.step.text))' timed out at \(step.startedAt) ms"
                ))
        }
        if showTrace {
            Output.line()
            Output.lines(TraceView(world: world, terminal: terminal, showRoutine: showRoutine).lines())
            Output.line(style.dim(terminal.isTerminal ? TraceView.legend : TraceView.asciiLegend))
        }
        Output.line()
        let report = run.report
        Output.line(
            style.bold("History   ")
                + "\(report.acknowledged) acknowledged, \(report.failed) failed, \(report.indeterminate) indeterminate (\(report.recovered) of them in the log)"
        )
        Output.lines(
            terminal.hanging(
                report.finalLog.isEmpty
                    ? "(empty)" : report.finalLog.map(world.name(of:)).joined(separator: " "),
                first: style.bold(Self.finalLabel(of: scenario))))
        Output.line()
        if report.anomalies.isEmpty {
            Output.line(
                style.good(
                    "No anomalies: nothing acknowledged was lost, duplicated, reordered or processed twice."))
        } else {
            Output.line(style.bold("Anomalies"))
            for kind in AnomalyKind.allCases {
                let found = report.anomalies.filter { $0.kind == kind }
                guard !found.isEmpty else { continue }
                Output.lines(
                    terminal.hanging(
                        found.map { world.name(of: $0.message) }.joined(separator: " "),
                        first: "  " + style.bad(kind.rawValue) + ": "))
            }
            if let example = report.anomalies.first(where: { !$0.witness.isEmpty }) {
                Output.line()
                Output.line(style.bold("Why \(world.name(of: example.message)) is \(example.kind.rawValue)"))
                for event in example.witness {
                    let text = TerminalSafe.clean(event.note.text(world.name(of:)))
                    Output.lines(
                        terminal.hanging(
                            text, first: style.dim(String(event.time).leftPadded(to: 7) + " ms  "),
                            rest: "           "))
                }
            }
        }
        guard !run.expectations.isEmpty else { return }
        Output.line()
        Output.line(style.bold("Expectations"))
        for result in run.expectations {
            let mark =
                result.holds
                ? style.good(terminal.isTerminal ? "✓" : "ok") : style.bad(terminal.isTerminal ? "✗" : "FAIL")
            let expected = describe(result.expectation.value)
            var line = "  \(mark) \(result.expectation.subject.name): \(expected)"
            if !result.holds { line += "  (got \(describe(result.actual)))" }
            Output.lines(terminal.hanging(line, first: ""))
        }
        Output.line(
            run.passed
                ? style.good("Verdict: the scenario came out as expected.")
                : style.bad("Verdict: an expectation does not hold."))
        if let experiment, run.passed, let claim = experiment.info.claim {
            let proven = languages.first == .zh ? (claim.zh ?? claim.en) : claim.en
            Output.lines(terminal.hanging(TerminalSafe.clean(proven), first: style.bold("Proves    ")))
            if let contrast = experiment.info.contrast {
                Output.line(style.dim("          The other side of the claim: mqproof run \(contrast)"))
            }
        }
    }

    private func describe(_ value: Expectation.Value) -> String {
        switch value {
        case .count(0): "none"
        case .count(let count): "\(count)"
        case .messages(let names): names.isEmpty ? "[]" : "[" + names.joined(separator: ", ") + "]"
        }
    }
}

/// `mqproof run --json`: the same run as data.
struct RunReport: Encodable {
    struct Event: Encodable {
        var time: Int
        var node: String
        var kind: String
        var text: String
    }

    struct Finding: Encodable {
        var kind: String
        var message: String
        var witness: [Event]
    }

    struct Check: Encodable {
        var subject: String
        var expected: String
        var actual: String
        var holds: Bool
        var line: Int
    }

    var scenario: String
    var claim: String?
    var kafka: String?
    var rabbitmq: String?
    var rocketmq: String?
    var activemq: String?
    var settings: [String: String]
    var seed: UInt64
    var events: Int
    var simulatedMilliseconds: Int
    var traceHash: String
    var timedOutSteps: [Int]
    var acknowledged: Int
    var failed: Int
    var indeterminate: Int
    var finalLog: [String]
    var anomalies: [Finding]
    var expectations: [Check]
    var passed: Bool
    var trace: [Event]

    init(scenario: Scenario, config: ResolvedConfig, run: ScenarioRun) {
        let world = run.world
        func event(_ trace: TraceEvent) -> Event {
            Event(
                time: trace.time, node: trace.node.description, kind: trace.note.kind,
                text: trace.note.text(world.name(of:)))
        }
        func text(_ value: Expectation.Value) -> String {
            switch value {
            case .count(let count): "\(count)"
            case .messages(let names): names.joined(separator: " ")
            }
        }
        self.scenario = scenario.name
        claim = scenario.claim
        switch config {
        case .kafka(let config): kafka = config.version.rawValue
        case .rabbitmq(let config): rabbitmq = config.version.rawValue
        case .rocketmq(let config): rocketmq = config.version.rawValue
        case .activemq(let config): activemq = config.version.rawValue
        }
        settings = Dictionary(scenario.settings.map { ($0.key, $0.value) }, uniquingKeysWith: { $1 })
        seed = run.seed
        events = world.eventCount
        simulatedMilliseconds = world.now
        traceHash = String(world.traceHash, radix: 16)
        timedOutSteps = run.steps.filter(\.timedOut).map(\.step.line)
        acknowledged = run.report.acknowledged
        failed = run.report.failed
        indeterminate = run.report.indeterminate
        finalLog = run.report.finalLog.map(world.name(of:))
        anomalies = run.report.anomalies.map {
            Finding(
                kind: $0.kind.rawValue, message: world.name(of: $0.message), witness: $0.witness.map(event))
        }
        expectations = run.expectations.map { result in
            let subject = result.expectation.subject.name
            return Check(
                subject: subject, expected: text(result.expectation.value), actual: text(result.actual),
                holds: result.holds,
                line: result.expectation.line)
        }
        passed = run.passed
        trace = world.trace.map(event)
    }
}

extension Expectation.Subject {
    /// The name a scenario file uses for it.
    var name: String {
        switch self {
        case .anomaly(let kind): kind.rawValue
        case .log: "log"
        case .queue(let name): "queue \(name)"
        case .deliveries: "deliveries"
        case .acknowledged: "acknowledged"
        case .failed: "failed"
        case .indeterminate: "indeterminate"
        }
    }
}
