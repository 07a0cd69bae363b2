import Foundation
import Simulation

/// `mqproof run --seeds N`: the same scenario over many seeds, summarised.
///
/// Statistics are streamed: per anomaly kind, how many seeds showed each number of affected
/// messages, and the first seed that showed any. Memory stays flat however many seeds run.
struct SeedSweep {
    var seeds: ClosedRange<UInt64>
    /// Per anomaly kind: number of messages in a run -> how many seeds had that many.
    var histograms: [AnomalyKind: [Int: Int]] = [:]
    /// Per anomaly kind, the smallest seed that showed it.
    var witnesses: [AnomalyKind: UInt64] = [:]
    var passedSeeds = 0
    var hasExpectations: Bool
    var firstFailing: UInt64?
    var events = 0

    var allPassed: Bool { !hasExpectations || passedSeeds == seeds.count }

    static func run(
        _ scenario: Scenario, config: ResolvedConfig, seeds: ClosedRange<UInt64>, progress: Output?,
        ui: UI
    )
        -> SeedSweep
    {
        var sweep = SeedSweep(seeds: seeds, hasExpectations: !scenario.expectations.isEmpty)
        let showProgress = progress != nil && seeds.count >= 50
        for (index, seed) in seeds.enumerated() {
            let run = ScenarioRunner.run(scenario, config: config, seed: seed, recordTrace: false)
            sweep.events += run.world.eventCount
            for kind in AnomalyKind.allCases {
                let count = run.report.messages(kind).count
                sweep.histograms[kind, default: [:]][count, default: 0] += 1
                if count > 0 && sweep.witnesses[kind] == nil { sweep.witnesses[kind] = seed }
            }
            if run.passed {
                sweep.passedSeeds += 1
            } else if sweep.firstFailing == nil {
                sweep.firstFailing = seed
            }
            if showProgress && (index % 10 == 0 || index == seeds.count - 1) {
                let done = index + 1
                let filled = done * 30 / seeds.count
                let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: 30 - filled)
                progress?.progress("\r[\(bar)] \(ui(.sweepProgress(done, of: seeds.count)))")
            }
        }
        // Blanks over the bar rather than an erase-line escape: no escape codes, whatever the terminal.
        if showProgress {
            progress?.progress("\r" + String(repeating: " ", count: 60) + "\r")
        }
        return sweep
    }

    /// The smallest seed that shows `kind`.
    func witness(_ kind: AnomalyKind) -> UInt64? { witnesses[kind] }

    /// How many seeds showed `kind` at all.
    func seedsShowing(_ kind: AnomalyKind) -> Int {
        (histograms[kind] ?? [:]).filter { $0.key > 0 }.reduce(0) { $0 + $1.value }
    }

    func print(reference: String, terminal: Terminal, output: Output, ui: UI) {
        let style = terminal.style
        let labelWidth = max(DisplayWidth.of(ui(.sweep)), DisplayWidth.of(ui(.expected))) + 2
        output.line(
            style.bold(ui.label(.sweep, width: labelWidth))
                + ui(
                    .sweepSummary(
                        seeds: seeds.count, from: seeds.lowerBound, to: seeds.upperBound, events: events)))
        if hasExpectations {
            output.line(
                style.bold(ui.label(.expected, width: labelWidth))
                    + ui(.heldOn(passedSeeds, of: seeds.count))
                    + (firstFailing.map { ui(.firstFailingSeed($0, reference: reference)) } ?? ""))
        }
        output.line()
        let shown = AnomalyKind.allCases.filter { seedsShowing($0) > 0 }
        if shown.isEmpty {
            output.line(style.good(ui(.noAnomalyOnAnySeed)))
            return
        }
        for kind in shown {
            let hit = seedsShowing(kind)
            let share = Double(hit) / Double(seeds.count) * 100
            output.line(
                style.bold(ui(.anomaly(kind)))
                    + ui(.seedsShowing(hit: hit, of: seeds.count, percent: String(format: "%.1f", share))))
            output.lines(histogram(histograms[kind] ?? [:], terminal: terminal))
            if let witness = witness(kind) {
                output.line(
                    ui(.smallestWitness(witness))
                        + style.code("mqproof run \(reference) --seed \(witness) --trace"))
            }
            output.line()
        }
    }

    /// Messages per run, as a terminal bar chart: one bar per value, or per range when many.
    private func histogram(_ seedsByValue: [Int: Int], terminal: Terminal) -> [String] {
        guard let maximum = seedsByValue.keys.max() else { return [] }
        let bucketCount = min(maximum + 1, 10)
        let bucketWidth = max(1, (maximum + bucketCount) / bucketCount)
        var buckets = [Int](repeating: 0, count: (maximum / bucketWidth) + 1)
        for (value, seeds) in seedsByValue { buckets[value / bucketWidth] += seeds }
        let largest = buckets.max() ?? 1
        let barWidth = max(10, min(50, terminal.width - 30))
        let block = terminal.isTerminal ? "█" : "#"
        return buckets.enumerated().map { index, count in
            let low = index * bucketWidth
            let label = bucketWidth == 1 ? "\(low)" : "\(low)-\(low + bucketWidth - 1)"
            let bar = String(repeating: block, count: count == 0 ? 0 : max(1, count * barWidth / largest))
            return "  " + label.leftPadded(to: 9) + " │ " + bar + " \(count)"
        }
    }

    struct Report: Encodable {
        var scenario: String
        var seeds: [UInt64]
        var events: Int
        var expectationsHeld: Int?
        var firstFailingSeed: UInt64?
        var anomalies: [String: Summary]

        struct Summary: Encodable {
            var seedsWithAnomaly: Int
            /// Messages in a run (as text, a JSON key) -> how many seeds had that many.
            var seedsByMessages: [String: Int]
            var smallestWitnessSeed: UInt64?
        }
    }

    func report(scenario: String) -> Report {
        var anomalies: [String: Report.Summary] = [:]
        for kind in AnomalyKind.allCases {
            anomalies[kind.rawValue] = Report.Summary(
                seedsWithAnomaly: seedsShowing(kind),
                seedsByMessages: Dictionary(
                    uniqueKeysWithValues: (histograms[kind] ?? [:]).map { (String($0.key), $0.value) }),
                smallestWitnessSeed: witness(kind))
        }
        return Report(
            scenario: scenario, seeds: [seeds.lowerBound, seeds.upperBound], events: events,
            expectationsHeld: hasExpectations ? passedSeeds : nil, firstFailingSeed: firstFailing,
            anomalies: anomalies)
    }
}
