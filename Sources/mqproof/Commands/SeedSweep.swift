import Foundation
import Simulation

/// `mqproof run --seeds N`: the same scenario over many seeds, summarised.
///
/// Statistics are streamed: per anomaly kind, how many seeds showed each number of affected
/// messages, and the first seed that showed any. Memory stays flat however many seeds run.
///
/// Seeds run on several threads, in chunks taken in turn; each thread sums its own statistics,
/// and the sums are merged at the end. Every statistic is a count or a smallest seed, so the
/// merge gives the same sweep in any order, with any number of threads.
struct SeedSweep: Equatable, Sendable {
    var seeds: ClosedRange<UInt64>
    /// Per anomaly kind: number of messages in a run -> how many seeds had that many.
    var histograms: [AnomalyKind: [Int: Int]] = [:]
    /// Per anomaly kind, the smallest seed that showed it.
    var witnesses: [AnomalyKind: UInt64] = [:]
    var passedSeeds = 0
    var hasExpectations: Bool
    var firstFailing: UInt64?
    var events = 0
    /// Seeds that ran: all of them, unless the sweep was interrupted.
    var completed = 0

    var allPassed: Bool { !hasExpectations || passedSeeds == seeds.count }
    var interrupted: Bool { completed < seeds.count }

    /// Seeds per chunk a thread takes at a time: small enough to share the work evenly, large
    /// enough that taking one costs nothing next to running it.
    static let chunkSize: UInt64 = 8

    static func run(
        _ scenario: Scenario, config: ResolvedConfig, seeds: ClosedRange<UInt64>, threads: Int,
        progress: SweepProgress?, stop: SweepStop? = nil
    ) -> SeedSweep {
        let empty = SeedSweep(seeds: seeds, hasExpectations: !scenario.expectations.isEmpty)
        let chunks = (UInt64(seeds.count) + chunkSize - 1) / chunkSize
        let work = SweepWork(chunks: chunks, threads: threads)
        DispatchQueue.concurrentPerform(iterations: max(1, threads)) { thread in
            var partial = empty
            while stop?.isRequested != true, let chunk = work.takeChunk() {
                let first = seeds.lowerBound + chunk * chunkSize
                // Measured from the top down: a chunk near UInt64.max must not overflow.
                let last = first + min(chunkSize - 1, seeds.upperBound - first)
                for seed in first...last {
                    partial.add(
                        ScenarioRunner.run(scenario, config: config, seed: seed, recordTrace: false),
                        seed: seed)
                }
                progress?.advance(by: Int(last - first + 1))
            }
            work.finish(thread, with: partial)
        }
        progress?.finish()
        return work.partials.reduce(empty) { $0.merged(with: $1) }
    }

    mutating func add(_ run: ScenarioRun, seed: UInt64) {
        completed += 1
        events += run.world.eventCount
        for kind in AnomalyKind.allCases {
            let count = run.report.messages(kind).count
            histograms[kind, default: [:]][count, default: 0] += 1
            if count > 0 { witnesses[kind] = min(witnesses[kind] ?? seed, seed) }
        }
        if run.passed {
            passedSeeds += 1
        } else {
            firstFailing = min(firstFailing ?? seed, seed)
        }
    }

    func merged(with other: SeedSweep) -> SeedSweep {
        var merged = self
        merged.completed += other.completed
        merged.events += other.events
        merged.passedSeeds += other.passedSeeds
        for (kind, histogram) in other.histograms {
            merged.histograms[kind, default: [:]].merge(histogram, uniquingKeysWith: +)
        }
        merged.witnesses.merge(other.witnesses, uniquingKeysWith: min)
        if let failing = other.firstFailing {
            merged.firstFailing = min(merged.firstFailing ?? failing, failing)
        }
        return merged
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
        if interrupted {
            output.line(style.bad(ui(.sweepInterrupted(completed, of: seeds.count))))
        }
        if hasExpectations {
            output.line(
                style.bold(ui.label(.expected, width: labelWidth))
                    + ui(.heldOn(passedSeeds, of: completed))
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
            let share = Double(hit) / Double(completed) * 100
            output.lines(
                terminal.wrapped(
                    ui(.seedsShowing(hit: hit, of: completed, percent: String(format: "%.1f", share))),
                    first: style.bold(ui(.anomaly(kind))), rest: "  "))
            output.lines(histogram(histograms[kind] ?? [:], terminal: terminal))
            if let witness = witness(kind) {
                let command = "mqproof run \(reference) --seed \(witness) --trace"
                if DisplayWidth.of(ui(.smallestWitness(witness)) + command) <= terminal.width {
                    output.line(ui(.smallestWitness(witness)) + style.code(command))
                } else {
                    output.line(ui(.smallestWitness(witness)))
                    output.line("    " + style.code(command))
                }
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
        /// Seeds that ran: fewer than asked when the sweep was interrupted.
        var seedsRun: Int
        var interrupted: Bool
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
            scenario: scenario, seeds: [seeds.lowerBound, seeds.upperBound], seedsRun: completed,
            interrupted: interrupted, events: events,
            expectationsHeld: hasExpectations ? passedSeeds : nil, firstFailingSeed: firstFailing,
            anomalies: anomalies)
    }
}
