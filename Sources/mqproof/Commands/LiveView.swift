import Foundation
import LiveExperiments

/// A measure over repeated runs: the median, and the lowest and highest as the spread.
struct Spread {
    let median: Double
    let low: Double
    let high: Double

    init(_ values: [Double]) {
        let sorted = values.sorted()
        median =
            sorted.count % 2 == 1
            ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
        low = sorted.first ?? 0
        high = sorted.last ?? 0
    }

    /// `416 (380-450)`; a measure that did not move is one number.
    func text(_ format: String) -> String {
        let median = String(format: format, self.median)
        let low = String(format: format, low)
        let high = String(format: format, high)
        return low == high ? median : "\(median) (\(low)-\(high))"
    }
}

/// `mqproof live` as text: each experiment's measures as median and spread over the repeats,
/// and one sentence on what they mean here, or that the effect did not show on this machine.
struct LiveView {
    let terminal: Terminal
    let output: Output
    let ui: UI
    let writers: Int

    func print(_ report: Live.Report) {
        let style = terminal.style
        output.lines(terminal.wrapped(ui(.measuredOn(report.machine)), first: "").map(style.dim))
        output.lines(terminal.wrapped(ui(.liveRepeats(report.repeats)), first: "").map(style.dim))
        if let runs = report.peakShaving, let first = runs.first {
            output.line()
            output.lines(
                terminal.wrapped(
                    ui(.peakShavingTitle(writes: first.direct.writes, writers: writers)), first: ""
                )
                .map(style.bold))
            let sides = [runs.map(\.direct), runs.map(\.queued)]
            table(
                columns: [.liveDirect, .liveThroughQueue],
                rows: [
                    (.liveSucceeded, sides.map { Spread($0.map { Double($0.succeeded) }).text("%.0f") }),
                    (.liveBusy, sides.map { Spread($0.map { Double($0.busyErrors) }).text("%.0f") }),
                    (.liveWritesPerSecond, sides.map { Spread($0.map(\.writesPerSecond)).text("%.0f") }),
                    (.liveP50, sides.map { Spread($0.map(\.latencyP50)).text("%.1f") }),
                    (.liveP99, sides.map { Spread($0.map(\.latencyP99)).text("%.1f") }),
                    (
                        .livePeakWriters,
                        sides.map { Spread($0.map { Double($0.peakDatabaseConcurrency) }).text("%.0f") }
                    ),
                    (.liveDoneInSeconds, sides.map { Spread($0.map(\.seconds)).text("%.2f") }),
                ])
            let directBusy = Spread(runs.map { Double($0.direct.busyErrors) }).median
            meaning(directBusy > 0 ? .peakShavingMeaning : .peakShavingNotShown)
        }
        if let runs = report.asyncSignup, let first = runs.first {
            output.line()
            output.lines(
                terminal.wrapped(ui(.asyncTitle(signups: first.synchronous.signups)), first: "").map(
                    style.bold))
            let sides: [(UIText, [SignupResult])] = [
                (.liveSynchronous, runs.map(\.synchronous)), (.liveQueued, runs.map(\.queued)),
                (.liveSynchronousSMSDown, runs.map(\.synchronousWithSMSDown)),
                (.liveQueuedSMSDown, runs.map(\.queuedWithSMSDown)),
            ]
            table(
                columns: [.liveP50, .liveP99, .liveFailedSignups],
                rows: sides.map { label, results in
                    (
                        label,
                        [
                            Spread(results.map(\.responseP50)).text("%.2f"),
                            Spread(results.map(\.responseP99)).text("%.2f"),
                            Spread(results.map { Double($0.failed) }).text("%.0f"),
                        ]
                    )
                })
            let synchronous = Spread(runs.map(\.synchronous.responseP50)).median
            let queued = Spread(runs.map(\.queued.responseP50)).median
            let failedWhenDown = Spread(runs.map { Double($0.synchronousWithSMSDown.failed) }).median
            meaning(synchronous > 2 * queued && failedWhenDown > 0 ? .asyncMeaning : .asyncNotShown)
        }
        if let runs = report.fsyncBatching, let first = runs.first {
            output.line()
            output.lines(
                terminal.wrapped(ui(.fsyncTitle(messages: first.perMessage.messages)), first: "").map(
                    style.bold))
            table(
                columns: [.liveFsyncEach, .liveFsyncPer(first.batchSize)],
                rows: [
                    (
                        .liveMessagesPerSecond,
                        [runs.map(\.perMessage), runs.map(\.batched)].map {
                            Spread($0.map(\.messagesPerSecond)).text("%.0f")
                        }
                    ),
                    (
                        .liveFsyncsPerMessage,
                        [runs.map(\.perMessage), runs.map(\.batched)].map {
                            Spread($0.map(\.fsyncsPerMessage)).text("%.3f")
                        }
                    ),
                ])
            let factor =
                Spread(runs.map(\.batched.messagesPerSecond)).median
                / max(1, Spread(runs.map(\.perMessage.messagesPerSecond)).median)
            meaning(factor >= 2 ? .fsyncMeaning(factor: Int(factor.rounded())) : .fsyncNotShown)
        }
        printLogIO(report)
    }

    /// Sequential writes, the page cache and zero-copy: Kafka's way against the other, MiB/s
    /// (and CPU for zero-copy), and whether the difference showed on this file system.
    private func printLogIO(_ report: Live.Report) {
        let style = terminal.style
        func ratio(_ runs: [IOComparison], _ measure: (IOSide) -> Double) -> Double {
            Spread(runs.map { measure($0.kafkaWay) }).median
                / max(1e-9, Spread(runs.map { measure($0.otherWay) }).median)
        }
        func rows(_ runs: [IOComparison], cpu: Bool) -> [(UIText, [String])] {
            var rows: [(UIText, [String])] = [
                (
                    .liveMegabytesPerSecond,
                    [runs.map(\.kafkaWay), runs.map(\.otherWay)].map {
                        Spread($0.map(\.megabytesPerSecond)).text("%.0f")
                    }
                )
            ]
            if cpu {
                rows.append(
                    (
                        .liveSenderCPU,
                        [runs.map(\.kafkaWay), runs.map(\.otherWay)].map {
                            Spread($0.map { $0.cpuSeconds * 1_000 }).text("%.0f")
                        }
                    ))
            }
            return rows
        }
        if let runs = report.sequentialWrites, let first = runs.first {
            output.line()
            output.lines(
                terminal.wrapped(ui(.sequentialTitle(blocks: first.kafkaWay.bytes / 4_096)), first: "").map(
                    style.bold))
            table(columns: [.liveSequential, .liveRandom], rows: rows(runs, cpu: false))
            let factor = ratio(runs, \.megabytesPerSecond)
            meaning(
                factor >= 1.5 ? .sequentialMeaning(factor: factor) : .sequentialNotShown(first.fileSystem))
        }
        if let runs = report.pageCache, let first = runs.first {
            output.line()
            output.lines(
                terminal.wrapped(ui(.pageCacheTitle(megabytes: first.kafkaWay.bytes / 1_048_576)), first: "")
                    .map(
                        style.bold))
            table(columns: [.livePageCache, .liveDisk], rows: rows(runs, cpu: false))
            let factor = ratio(runs, \.megabytesPerSecond)
            meaning(factor >= 1.5 ? .pageCacheMeaning(factor: factor) : .pageCacheNotShown(first.fileSystem))
        }
        if let runs = report.zeroCopy, let first = runs.first {
            output.line()
            output.lines(
                terminal.wrapped(ui(.zeroCopyTitle(megabytes: first.kafkaWay.bytes / 1_048_576)), first: "")
                    .map(
                        style.bold))
            table(columns: [.liveSendfile, .liveReadWrite], rows: rows(runs, cpu: true))
            let speed = ratio(runs, \.megabytesPerSecond)
            // Both sides move the same bytes, so CPU time compares directly.
            let cpu = 1 / max(1e-9, ratio(runs, \.cpuSeconds))
            meaning(
                cpu >= 1.3 || speed >= 1.3
                    ? .zeroCopyMeaning(cpuFactor: cpu, speedFactor: speed) : .zeroCopyNotShown)
        }
    }

    /// Measures as rows, sides as columns; a terminal too narrow for the columns gets one
    /// measure per line instead.
    private func table(columns: [UIText], rows: [(UIText, [String])]) {
        let labelWidth = rows.map { DisplayWidth.of(ui($0.0)) }.max() ?? 0
        let widths = columns.indices.map { index in
            max(DisplayWidth.of(ui(columns[index])), rows.map { DisplayWidth.of($0.1[index]) }.max() ?? 0) + 2
        }
        if 2 + labelWidth + widths.reduce(0, +) <= terminal.width {
            output.line(
                "  " + "".rightPadded(to: labelWidth)
                    + zip(columns, widths).map { ui($0).leftPadded(to: $1) }.joined())
            for (label, values) in rows {
                output.line(
                    "  " + ui(label).rightPadded(to: labelWidth)
                        + zip(values, widths).map { $0.leftPadded(to: $1) }.joined())
            }
        } else {
            for (label, values) in rows {
                let cells = zip(columns, values).map { "\(ui($0)) \($1)" }.joined(separator: " · ")
                output.lines(terminal.wrapped(cells, first: "  " + ui(label) + ": ", rest: "    "))
            }
        }
    }

    private func meaning(_ text: UIText) {
        output.lines(terminal.wrapped(ui(text), first: "").map(terminal.style.dim))
    }
}

/// Which measurement runs now, on standard error, so `live` never sits on a blank screen.
struct LiveProgress {
    let output: Output
    let ui: UI
    let repeats: Int

    func show(_ experiment: UIText, run: Int) {
        let text = ui(.liveMeasuring(ui(experiment), run: run, of: repeats))
        output.progress("\r" + text.rightPadded(to: 60))
    }

    func finish() {
        output.progress("\r" + String(repeating: " ", count: 60) + "\r")
    }
}
