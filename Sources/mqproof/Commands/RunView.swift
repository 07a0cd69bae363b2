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
    let output: Output
    let showTrace: Bool
    /// With `showTrace`: every event, not a window around the anomaly.
    var fullTrace = false
    let showRoutine: Bool
    /// False below a what-if's contrast, which already says what ran.
    var showsHeader = true
    /// The expectations and the verdict: false for a what-if on a built-in scenario, whose
    /// expectations were written for its own settings.
    var showsVerdict = true

    private var ui: UI { UI(languages) }

    /// The label column: every label padded to the widest, so values line up in either language.
    private func label(_ text: UIText) -> String {
        ui(text).rightPadded(to: Self.labelWidth(ui))
    }

    /// The label column's width in `ui`'s language, for views printed above this one.
    static func labelWidth(_ ui: UI) -> Int {
        ([UIText.proof, .scenario, .claim, .setup, .run, .history, .proves, .finalLog, .finalQueue]
            .map { DisplayWidth.of(ui($0)) }.max() ?? 0) + 1
    }

    private var indent: String { String(repeating: " ", count: DisplayWidth.of(label(.proof))) }

    /// Kafka shows its final log; the queue brokers their queue (RocketMQ: the topic's messages).
    private func finalLabel() -> String {
        if case .kafka = scenario.system { return label(.finalLog) }
        return label(.finalQueue)
    }

    func print() {
        let style = terminal.style
        let world = run.world
        if showsHeader { printHeader() }
        output.lines(
            terminal.wrapped(
                ui(
                    .runSummary(
                        seed: run.seed, events: world.eventCount, milliseconds: world.now,
                        hash: String(world.traceHash, radix: 16))),
                first: style.bold(label(.run))))
        printBody()
    }

    private func printHeader() {
        let style = terminal.style
        if let experiment {
            let kind =
                experiment.info.kind.map { ui.isChinese ? "（\(ui(.kind($0)))）" : " (\(ui(.kind($0))))" } ?? ""
            output.lines(terminal.hanging(experiment.id + kind, first: style.bold(label(.proof))))
            for language in languages {
                let title = language == .zh ? experiment.titleZH : experiment.titleEN
                output.lines(terminal.hanging(TerminalSafe.clean(title), first: indent))
            }
        }
        // A scenario's name is written in English in its file; in Chinese the experiment's
        // title above already says what it is.
        if experiment == nil || languages.contains(.en) {
            output.lines(
                terminal.hanging(TerminalSafe.clean(scenario.name), first: style.bold(label(.scenario))))
        }
        for language in languages {
            let claim =
                language == .zh ? experiment?.info.claim?.zh : (experiment?.info.claim?.en ?? scenario.claim)
            if let claim {
                output.lines(terminal.hanging(TerminalSafe.clean(claim), first: style.bold(label(.claim))))
            }
        }
        let settings = scenario.settings.map { "\($0.key)=\($0.value)" }.joined(separator: "  ")
        output.lines(
            terminal.hanging(
                ui(.systemSetup(scenario)) + (settings.isEmpty ? "" : (ui.isChinese ? "，" : ", ") + settings),
                first: style.bold(label(.setup))))
    }

    private func printBody() {
        let style = terminal.style
        let world = run.world
        for step in run.steps where step.timedOut {
            output.lines(
                terminal.wrapped(
                    ui(.stepTimedOut(line: step.step.line, step: step.step.text, at: step.startedAt)),
                    first: "  ",
                    rest: "    "
                ).map(style.bad))
        }
        if showTrace {
            output.line()
            output.lines(
                TraceView(
                    world: world, terminal: terminal, ui: ui, showRoutine: showRoutine,
                    focus: run.report.anomalies.first(where: { !$0.witness.isEmpty })?.witness ?? [],
                    full: fullTrace
                ).lines())
            output.lines(
                ui(terminal.isTerminal ? .traceLegend : .traceLegendASCII).split(separator: "\n").flatMap {
                    terminal.wrapped(String($0), first: "", rest: "  ").map(style.dim)
                })
        }
        output.line()
        let report = run.report
        output.lines(
            terminal.wrapped(
                ui(
                    .historySummary(
                        acknowledged: report.acknowledged, failed: report.failed,
                        indeterminate: report.indeterminate, recovered: report.recovered)),
                first: style.bold(label(.history))))
        output.lines(
            terminal.wrapped(
                report.finalLog.isEmpty
                    ? ui(.empty) : MessageRanges.compact(report.finalLog.map(world.name(of:))),
                first: style.bold(finalLabel())))
        output.line()
        if report.anomalies.isEmpty {
            output.lines(terminal.wrapped(ui(.noAnomalies), first: "").map(style.good))
        } else {
            output.line(style.bold(ui(.anomalies)))
            for kind in AnomalyKind.allCases {
                let found = report.anomalies.filter { $0.kind == kind }
                guard !found.isEmpty else { continue }
                output.lines(
                    terminal.wrapped(
                        MessageRanges.compact(found.map { world.name(of: $0.message) }),
                        first: "  " + style.bad(ui(.anomaly(kind))) + ": "))
            }
            if let example = report.anomalies.first(where: { !$0.witness.isEmpty }) {
                output.line()
                output.line(
                    style.bold(ui(.whyAnomaly(message: world.name(of: example.message), kind: example.kind))))
                for event in example.witness {
                    output.lines(
                        terminal.wrapped(
                            event.note.text(world.name(of:)),
                            first: style.dim(String(event.time).leftPadded(to: 7) + " ms  "),
                            rest: "            "))
                }
            }
        }
        guard showsVerdict, !run.expectations.isEmpty else { return }
        output.line()
        output.line(style.bold(ui(.expectations)))
        for result in run.expectations {
            let mark =
                result.holds
                ? style.good(terminal.isTerminal ? "✓" : ui(.holdsMark))
                : style.bad(terminal.isTerminal ? "✗" : ui(.failsMark))
            let expected = describe(result.expectation.value)
            var line = "\(result.expectation.subject.name): \(expected)"
            if !result.holds { line += "  " + ui(.got(describe(result.actual))) }
            output.lines(terminal.hanging(line, first: "  \(mark) "))
        }
        output.line(
            run.passed
                ? style.good(ui(.verdictHolds))
                : style.bad(ui(.verdictFails)))
        if let experiment, run.passed, let claim = experiment.info.claim {
            let proven = languages.first == .zh ? (claim.zh ?? claim.en) : claim.en
            output.lines(terminal.hanging(TerminalSafe.clean(proven), first: style.bold(label(.proves))))
            if let contrast = experiment.info.contrast {
                output.line(indent + style.dim(ui(.otherSide(contrast))))
            }
        }
    }

    private func describe(_ value: Expectation.Value) -> String {
        switch value {
        case .count(0): ui(.none)
        case .count(let count): "\(count)"
        case .countBetween(let range): "\(range.lowerBound)..\(range.upperBound)"
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
        /// Every field of the note, by name: the same encoding the trace hash reads.
        var fields: [String: String]
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
                text: trace.note.text(world.name(of:)), fields: trace.note.fields(world.name(of:)))
        }
        func text(_ value: Expectation.Value) -> String {
            switch value {
            case .count(let count): "\(count)"
            case .countBetween(let range): "\(range.lowerBound)..\(range.upperBound)"
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
        case .queue(let name) where name.hasPrefix("t-"): "partition \(name)"
        case .queue(let name): "queue \(name)"
        case .deliveries: "deliveries"
        case .deliveriesTo(let consumer): "deliveries c\(consumer)"
        case .processed: "processed"
        case .processedBy(let consumer): "processed c\(consumer)"
        case .lag: "lag"
        case .rebalances: "rebalances"
        case .revoked(let consumer): "revoked c\(consumer)"
        case .raised(let error): "raised \(error)"
        case .returned: "returned"
        case .failedWith(let error): "failed with \(error)"
        case .acknowledged: "acknowledged"
        case .failed: "failed"
        case .indeterminate: "indeterminate"
        }
    }
}
