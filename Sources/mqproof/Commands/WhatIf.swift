import Experiments
import Simulation

/// `run <scenario> --set key=value`: the scenario as written and with the user's changes, on the
/// same seed, side by side. The scenario's expectations were written for its own settings, so a
/// built-in scenario's are not a verdict on the what-if; a scenario file's are (its author may
/// have written them for the change).
struct WhatIf {
    struct Change: Encodable {
        var key: String
        var before: String
        var after: String
    }

    /// What a reader compares: the clients' outcomes and each anomaly's count.
    struct Counts: Encodable, Equatable {
        var acknowledged: Int
        var failed: Int
        var indeterminate: Int
        var anomalies: [String: Int]

        init(_ run: ScenarioRun) {
            let report = run.report
            acknowledged = report.acknowledged
            failed = report.failed
            indeterminate = report.indeterminate
            anomalies = Dictionary(
                uniqueKeysWithValues: AnomalyKind.allCases.map { ($0.rawValue, report.messages($0).count) })
        }
    }

    let changes: [Change]
    let before: ScenarioRun
    let after: ScenarioRun

    init(
        settings: [(key: String, value: String)], base: ResolvedConfig, changed: ResolvedConfig,
        before: ScenarioRun, after: ScenarioRun
    ) {
        var seen: Set<String> = []
        changes = settings.reversed().filter { seen.insert($0.key).inserted }.reversed().map { setting in
            Change(
                key: setting.key, before: base.value(of: setting.key) ?? "—",
                after: changed.value(of: setting.key) ?? setting.value)
        }
        self.before = before
        self.after = after
    }

    /// Kinds that showed on either side, in the checker's order.
    var anomalyKinds: [AnomalyKind] {
        AnomalyKind.allCases.filter {
            !before.report.messages($0).isEmpty || !after.report.messages($0).isEmpty
        }
    }

    func print(reference: String, experiment: Experiment?, terminal: Terminal, output: Output, ui: UI) {
        let style = terminal.style
        // As wide as the run view's labels below it, so the two line up.
        let labels = max(
            RunView.labelWidth(ui),
            ([UIText.whatIf, .whatIfSettings].map { DisplayWidth.of(ui($0)) }.max() ?? 0) + 1)
        func label(_ text: UIText) -> String { style.bold(ui(text).rightPadded(to: labels)) }
        let indent = String(repeating: " ", count: labels)
        output.lines(terminal.wrapped(ui(.whatIfOn(reference, seed: after.seed)), first: label(.whatIf)))
        if let experiment {
            let title = ui.isChinese ? experiment.titleZH : experiment.titleEN
            output.lines(terminal.wrapped(title, first: indent).map(style.dim))
        }
        let keyWidth = changes.map { DisplayWidth.of($0.key) }.max() ?? 0
        for (index, change) in changes.enumerated() {
            let first = index == 0 ? label(.whatIfSettings) : indent
            let line = change.key.rightPadded(to: keyWidth) + "  " + change.before + " → " + change.after
            // Keys line up where the line fits; a long value wraps instead.
            if DisplayWidth.of(indent + line) <= terminal.width {
                output.line(first + line)
            } else {
                output.lines(terminal.wrapped(line, first: first))
            }
        }
        output.line()
        let rows: [(String, Int, Int)] =
            [
                (ui(.whatIfAcknowledged), before.report.acknowledged, after.report.acknowledged),
                (ui(.whatIfFailed), before.report.failed, after.report.failed),
                (ui(.whatIfIndeterminate), before.report.indeterminate, after.report.indeterminate),
            ]
            + anomalyKinds.map {
                (ui(.anomaly($0)), before.report.messages($0).count, after.report.messages($0).count)
            }
        let nameWidth = rows.map { DisplayWidth.of($0.0) }.max() ?? 0
        let column = max(DisplayWidth.of(ui(.whatIfBefore)), DisplayWidth.of(ui(.whatIfAfter)), 5) + 2
        output.line(
            "  " + "".rightPadded(to: nameWidth) + ui(.whatIfBefore).leftPadded(to: column)
                + ui(.whatIfAfter).leftPadded(to: column))
        for (name, was, now) in rows {
            let after = "\(now)".leftPadded(to: column)
            output.line(
                "  " + name.rightPadded(to: nameWidth) + "\(was)".leftPadded(to: column)
                    + (was == now ? after : style.bold(after)))
        }
        output.line()
        output.lines(terminal.wrapped(ui(summary), first: ""))
    }

    /// One sentence: which anomalies the change removed, which it brought, or that none moved.
    var summary: UIText {
        let gone = anomalyKinds.filter { after.report.messages($0).isEmpty }
        let came = anomalyKinds.filter { before.report.messages($0).isEmpty }
        if anomalyKinds.isEmpty { return .whatIfNoAnomaly }
        if gone.isEmpty && came.isEmpty { return .whatIfSameAnomalies(anomalyKinds) }
        return .whatIfMoved(gone: gone, came: came)
    }

    struct Report: Encodable {
        var scenario: String
        var seed: UInt64
        var changes: [Change]
        var before: Counts
        var after: Counts
        /// The what-if run itself, as `run --json` reports a run.
        var run: RunReport
    }

    func report(scenario: String, changedScenario: Scenario, config: ResolvedConfig) -> Report {
        Report(
            scenario: scenario, seed: after.seed, changes: changes, before: Counts(before),
            after: Counts(after),
            run: RunReport(scenario: changedScenario, config: config, run: after))
    }
}
