import ArgumentParser
import Experiments
import Foundation
import RealBrokers
import Simulation

/// Where `run` and `verify` play a scenario.
enum Backend: String, ExpressibleByArgument, CaseIterable {
    case simulator
    case rabbitmq
}

/// `--on rabbitmq` and `--broker URL`, shared by run and verify.
struct BackendOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "Where to run: simulator (default) or rabbitmq, a private RabbitMQ node mqproof starts on 127.0.0.1.",
            discussion:
                "With rabbitmq the same scenario also runs in the simulator, with the profile of the real broker's version, and the two outcomes are shown side by side."
        ))
    var on: Backend?

    @Option(
        help: ArgumentHelp(
            "Run on a RabbitMQ you already have, such as a Docker container: only scenarios without broker faults.",
            valueName: "amqp://user:pass@host:port/vhost"))
    var broker: String?

    var isReal: Bool { on == .rabbitmq || broker != nil }

    func validate() throws {
        if broker != nil && on == .simulator {
            throw ValidationError("--broker runs on a real broker; it cannot go with --on simulator")
        }
    }

    /// Starts the private node or connects to `--broker`; progress goes to standard error.
    func open(output: Output, ui: UI, stop: SweepStop) throws -> RealRabbit {
        do {
            if let broker { return try RealRabbit.connect(url: broker, shouldStop: { stop.isRequested }) }
            output.error(ui(.realStarting))
            return try RealRabbit.startPrivateNode(shouldStop: { stop.isRequested })
        } catch {
            if stop.isRequested { throw ExitCode(stop.exitStatus) }
            throw Failure(message: error.description, exitCode: 69)
        }
    }
}

/// One experiment run in the simulator and on a real broker, compared.
struct RealComparison: Encodable {
    struct Side: Encodable {
        var passed: Bool
        var acknowledged: Int
        var failed: Int
        var indeterminate: Int
        /// Anomaly kind → messages, for the kinds that showed.
        var anomalies: [String: [String]]
    }

    struct Row: Encodable {
        var subject: String
        var expected: String
        var simulated: String
        var real: String
        var simulatedHolds: Bool
        var realHolds: Bool
    }

    var id: String
    var agrees: Bool
    /// Why it did not run, or what differs.
    var reason: String?
    var broker: String
    var simulatorProfile: String?
    var seed: UInt64?
    var simulated: Side?
    var real: Side?
    var expectations: [Row]
    var realDurationMs: Int?
    var notes: [String]

    static func skipped(_ id: String, reason: String, broker: String) -> RealComparison {
        RealComparison(
            id: id, agrees: false, reason: reason, broker: broker, simulatorProfile: nil, seed: nil,
            simulated: nil, real: nil, expectations: [], realDurationMs: nil, notes: [])
    }

    var ran: Bool { real != nil }

    /// Runs `scenario` on `rabbit` and in the simulator with the real broker's version profile.
    static func run(
        id: String, scenario original: Scenario, seed: UInt64, on rabbit: RealRabbit
    ) throws -> RealComparison {
        let brokerName = "\(rabbit.product) \(rabbit.version)"
        if let reason = rabbit.unsupported(original) {
            return .skipped(id, reason: reason, broker: brokerName)
        }
        var scenario = original
        if let profile = rabbit.simulatorProfile { scenario.rabbitmq = profile }
        guard case .rabbitmq(let config) = try scenario.resolvedConfig() else {
            return .skipped(id, reason: "not a RabbitMQ scenario", broker: brokerName)
        }
        let simulated = ScenarioRunner.run(scenario, config: .rabbitmq(config), seed: seed)
        let real = try rabbit.run(scenario, config: config, label: id)
        let world = simulated.world
        var rows: [Row] = []
        for (sim, observed) in zip(simulated.expectations, real.expectations) {
            rows.append(
                Row(
                    subject: sim.expectation.subject.name, expected: text(sim.expectation.value),
                    simulated: text(sim.actual), real: text(observed.actual), simulatedHolds: sim.holds,
                    realHolds: observed.holds))
        }
        let simulatedSide = Side(
            passed: simulated.passed, acknowledged: simulated.report.acknowledged,
            failed: simulated.report.failed,
            indeterminate: simulated.report.indeterminate,
            anomalies: anomalies(simulated.report, name: world.name(of:)))
        let realSide = Side(
            passed: real.passed, acknowledged: real.report.acknowledged, failed: real.report.failed,
            indeterminate: real.report.indeterminate,
            anomalies: anomalies(real.report, name: real.observed.name(of:)))
        var differences: [String] = rows.filter { $0.simulated != $0.real }.map {
            "\($0.subject): simulator \($0.simulated), real \($0.real)"
        }
        for kind in Set(simulatedSide.anomalies.keys).union(realSide.anomalies.keys).sorted()
        where simulatedSide.anomalies[kind] != realSide.anomalies[kind]
            && !rows.contains(where: { $0.subject == kind })
        {
            differences.append(
                "\(kind): simulator \(MessageRanges.compact(simulatedSide.anomalies[kind] ?? [])), real \(MessageRanges.compact(realSide.anomalies[kind] ?? []))"
            )
        }
        for (label, sim, observed) in [
            ("acknowledged", simulatedSide.acknowledged, realSide.acknowledged),
            ("failed", simulatedSide.failed, realSide.failed),
            ("indeterminate", simulatedSide.indeterminate, realSide.indeterminate),
        ] where sim != observed && !rows.contains(where: { $0.subject == label }) {
            differences.append("\(label): simulator \(sim), real \(observed)")
        }
        return RealComparison(
            id: id, agrees: differences.isEmpty,
            reason: differences.isEmpty ? nil : differences.joined(separator: "; "),
            broker: brokerName, simulatorProfile: scenario.rabbitmq?.rawValue, seed: seed,
            simulated: simulatedSide,
            real: realSide, expectations: rows, realDurationMs: real.durationMs, notes: real.notes)
    }

    private static func anomalies(_ report: CheckerReport, name: (MessageID) -> String) -> [String: [String]]
    {
        var found: [String: [String]] = [:]
        for anomaly in report.anomalies {
            found[anomaly.kind.rawValue, default: []].append(name(anomaly.message))
        }
        return found
    }

    private static func text(_ value: Expectation.Value) -> String {
        switch value {
        case .count(let count): "\(count)"
        case .countBetween(let range): "\(range.lowerBound)..\(range.upperBound)"
        case .messages(let names): names.isEmpty ? "[]" : "[" + MessageRanges.compact(names) + "]"
        }
    }

    // MARK: - Text

    func print(title: String?, location: String, ownsNode: Bool, terminal: Terminal, output: Output, ui: UI) {
        let style = terminal.style
        output.lines(
            terminal.wrapped(
                ui(.realHeading(id, broker: broker, location: location, owned: ownsNode)), first: ""))
        if let title { output.lines(terminal.wrapped(title, first: "  ").map(style.dim)) }
        guard let simulated, let real else {
            output.lines(terminal.wrapped(ui(.realSkipped(reason ?? "")), first: "  "))
            return
        }
        output.lines(
            terminal.wrapped(ui(.realProfile(simulatorProfile ?? "?", seed: seed ?? 1)), first: "  ").map(
                style.dim))
        output.line()
        let labels = [UIText.whatIfAcknowledged, .whatIfFailed, .whatIfIndeterminate].map {
            DisplayWidth.of(ui($0))
        }
        let subjectWidth = max(
            (labels.max() ?? 0) + 2, (expectations.map { DisplayWidth.of("  " + $0.subject) }.max() ?? 0) + 2)
        let columns = max(12, (terminal.width - subjectWidth - 2) / 2)
        func cell(_ text: String, holds: Bool?) -> String {
            // Symbols on a terminal; words in a pipe, as the run view writes them.
            let mark =
                holds.map { holds in
                    terminal.isTerminal ? (holds ? "✓ " : "✗ ") : ui(holds ? .holdsMark : .failsMark) + " "
                } ?? ""
            let clipped =
                DisplayWidth.of(mark + text) > columns - 1
                ? String((mark + text).prefix(columns - 2)) + "…" : mark + text
            guard let holds else { return clipped.rightPadded(to: columns) }
            // Padding outside the colour, so that a copied line carries no coloured spaces.
            return (holds ? style.good(clipped) : style.bad(clipped))
                + String(repeating: " ", count: max(0, columns - DisplayWidth.of(clipped)))
        }
        output.line(
            style.bold(
                "".rightPadded(to: subjectWidth) + ui(.realSimulator).rightPadded(to: columns) + broker))
        for (label, sim, observed) in [
            (UIText.whatIfAcknowledged, simulated.acknowledged, real.acknowledged),
            (.whatIfFailed, simulated.failed, real.failed),
            (.whatIfIndeterminate, simulated.indeterminate, real.indeterminate),
        ] {
            output.line(
                (ui(label).rightPadded(to: subjectWidth) + cell("\(sim)", holds: nil)
                    + cell("\(observed)", holds: nil)).trimmingTrailingSpaces)
        }
        if !expectations.isEmpty {
            output.line(style.bold(ui(.realExpectations)))
            for row in expectations {
                output.line(
                    (("  " + row.subject).rightPadded(to: subjectWidth)
                        + cell(row.simulated, holds: row.simulatedHolds)
                        + cell(row.real, holds: row.realHolds))
                        .trimmingTrailingSpaces)
            }
        }
        for note in notes { output.lines(terminal.wrapped(note, first: "  ").map(style.dim)) }
        output.line()
        if agrees {
            output.lines(
                terminal.wrapped(ui(real.passed ? .realAgree : .realAgreeBothFail), first: "").map(style.good)
            )
        } else {
            output.lines(terminal.wrapped(ui(.realDisagree(reason ?? "")), first: "").map(style.bad))
        }
    }
}

extension Run {
    /// `run <scenario> --on rabbitmq`: the simulated and the real outcome side by side.
    func runOnRealBroker(
        _ scenario: Scenario, reference: String, experiment: Experiment?, environment: Environment
    ) throws {
        let output = environment.output
        let ui = language.ui(environment)
        if seeds != nil || trace || traceFull || checkDeterminism {
            throw Failure(
                message:
                    "--seeds, --trace and --check-determinism are the simulator's; a real run has one outcome",
                exitCode: 64)
        }
        guard scenario.rabbitmq != nil else {
            throw Failure(
                message: "\(reference) is not a RabbitMQ scenario: real runs need RabbitMQ (--on rabbitmq)",
                exitCode: 64)
        }
        if let reason = RealRabbit.unsupported(scenario, canInjectBrokerFaults: backend.broker == nil) {
            throw Failure(message: "\(reference) cannot run on a real broker: \(reason)", exitCode: 64)
        }
        let stop = SweepStop.onInterrupt(alsoTermination: true)
        defer { stop.close() }
        let rabbit = try backend.open(output: output, ui: ui, stop: stop)
        defer { rabbit.close() }
        output.error(
            ui(.realRunning(experiment?.id ?? reference, broker: "\(rabbit.product) \(rabbit.version)")))
        let comparison: RealComparison
        do {
            comparison = try RealComparison.run(
                id: experiment?.id ?? reference, scenario: scenario,
                seed: experiment?.info.witnessSeed ?? seed, on: rabbit)
        } catch {
            if stop.isRequested { throw ExitCode(stop.exitStatus) }
            throw Failure(message: "\(error)", exitCode: 1)
        }
        if format.json {
            try output.json(comparison)
        } else {
            let title = experiment.map { ui.isChinese ? $0.titleZH : $0.titleEN }
            comparison.print(
                title: title, location: rabbit.location, ownsNode: rabbit.ownsNode,
                terminal: environment.terminal,
                output: output, ui: ui)
        }
        if !comparison.agrees || comparison.real?.passed != true { throw ExitCode.failure }
    }
}

extension Verify {
    /// `verify --on rabbitmq`: every RabbitMQ experiment a real broker can express, compared.
    func verifyOnRealBroker(environment: Environment) throws {
        let output = environment.output
        let terminal = environment.terminal
        let ui = language.ui(environment)
        let stop = SweepStop.onInterrupt(alsoTermination: true)
        defer { stop.close() }
        // Those that restart the node (4-5 s each) go last, so the first comparisons come quickly.
        let rabbitExperiments = ExperimentCatalogue.all.filter { $0.scenario.rabbitmq != nil }
        let rabbit = try backend.open(output: output, ui: ui, stop: stop)
        defer { rabbit.close() }
        let brokerName = "\(rabbit.product) \(rabbit.version)"
        let restarts = rabbitExperiments.filter { experiment in
            rabbit.unsupported(experiment.scenario) == nil
                && experiment.scenario.steps.contains {
                    if case .restart(.broker) = $0.step { true } else { false }
                }
        }
        let experiments = rabbitExperiments.filter { e in !restarts.contains { $0.id == e.id } } + restarts
        if !format.json {
            output.lines(
                terminal.wrapped(
                    ui(
                        .realVerifyHeading(
                            broker: brokerName, location: rabbit.location, owned: rabbit.ownsNode)), first: ""
                ))
            output.flush()
        }
        var rows: [RealComparison] = []
        for experiment in experiments {
            if stop.isRequested { break }
            let row: RealComparison
            do {
                row = try RealComparison.run(
                    id: experiment.id, scenario: experiment.scenario, seed: experiment.info.witnessSeed ?? 1,
                    on: rabbit)
            } catch {
                if stop.isRequested { break }
                row = RealComparison.skipped(experiment.id, reason: "\(error)", broker: brokerName)
            }
            rows.append(row)
            if !format.json {
                printRow(
                    row, title: ui.isChinese ? experiment.titleZH : experiment.titleEN, terminal: terminal,
                    output: output, ui: ui)
                output.flush()
            }
        }
        if format.json {
            try output.json(rows)
        } else {
            let ran = rows.filter(\.ran)
            let agreed = ran.filter(\.agrees).count
            output.line()
            let summary = ui(
                .realVerifySummary(agreed: agreed, ran: ran.count, skipped: rows.count - ran.count))
            output.lines(
                terminal.wrapped(summary, first: "").map(
                    agreed == ran.count ? terminal.style.good : terminal.style.bad))
        }
        if stop.isRequested { throw ExitCode(stop.exitStatus) }
        if rows.contains(where: { $0.ran && !$0.agrees }) { throw ExitCode.failure }
    }

    private func printRow(_ row: RealComparison, title: String, terminal: Terminal, output: Output, ui: UI) {
        let style = terminal.style
        let mark: String
        let detail: String
        if !row.ran {
            mark = style.dim(terminal.isTerminal ? "–" : ui(.realSkippedMark))
            detail = ui(.realSkipped(row.reason ?? ""))
        } else if row.agrees {
            mark = style.good(terminal.isTerminal ? "✓" : ui(.holdsMark))
            detail = title
        } else {
            mark = style.bad(terminal.isTerminal ? "✗" : ui(.failsMark))
            detail = ui(.realDisagree(row.reason ?? ""))
        }
        let markWidth =
            terminal.isTerminal
            ? 1 : [UIText.holdsMark, .failsMark, .realSkippedMark].map { DisplayWidth.of(ui($0)) }.max() ?? 1
        let plainMark = !row.ran ? ui(.realSkippedMark) : row.agrees ? ui(.holdsMark) : ui(.failsMark)
        let padding = String(
            repeating: " ", count: max(0, markWidth - DisplayWidth.of(terminal.isTerminal ? "✓" : plainMark)))
        let prefix = row.id.rightPadded(to: 6) + mark + padding + " "
        let indent = String(repeating: " ", count: 6 + markWidth + 1)
        output.lines(terminal.hanging(detail, first: prefix, rest: indent))
    }
}

extension Run {
    /// A real run streams what it finds as it goes: a pager would hold it back for seconds.
    var pagesThisRun: Bool { !backend.isReal }
}

extension Verify {
    var pagesThisRun: Bool { !backend.isReal }
}

extension String {
    fileprivate var trimmingTrailingSpaces: String {
        var text = self
        while text.last == " " { text.removeLast() }
        return text
    }
}
