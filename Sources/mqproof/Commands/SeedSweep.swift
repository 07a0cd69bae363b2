import Foundation
import Simulation

/// `mqproof run --seeds N`: the same scenario over many seeds, summarised.
struct SeedSweep {
    var seeds: Range<UInt64>
    /// Per anomaly kind, how many messages each seed showed (in seed order).
    var counts: [AnomalyKind: [Int]] = [:]
    var passedSeeds = 0
    var hasExpectations: Bool
    var firstFailing: UInt64?
    var events = 0

    var allPassed: Bool { !hasExpectations || passedSeeds == seeds.count }

    static func run(_ scenario: Scenario, config: ResolvedConfig, seeds: Range<UInt64>, progress: Bool)
        -> SeedSweep
    {
        var sweep = SeedSweep(seeds: seeds, hasExpectations: !scenario.expectations.isEmpty)
        let showProgress = progress && isatty(STDERR_FILENO) == 1 && seeds.count >= 50
        for (index, seed) in seeds.enumerated() {
            let run = ScenarioRunner.run(scenario, config: config, seed: seed, recordTrace: false)
            sweep.events += run.world.eventCount
            for kind in AnomalyKind.allCases {
                sweep.counts[kind, default: []].append(run.report.messages(kind).count)
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
                FileHandle.standardError.write(Data("\r[\(bar)] \(done)/\(seeds.count) seeds".utf8))
            }
        }
        if showProgress { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
        return sweep
    }

    /// The smallest seed that shows `kind`.
    func witness(_ kind: AnomalyKind) -> UInt64? {
        guard let position = counts[kind]?.firstIndex(where: { $0 > 0 }) else { return nil }
        return seeds.lowerBound + UInt64(position)
    }

    func print(reference: String, terminal: Terminal) {
        let style = terminal.style
        Output.line(
            style.bold("Sweep     ")
                + "\(seeds.count) seeds (\(seeds.lowerBound)...\(seeds.upperBound - 1)), \(events) events")
        if hasExpectations {
            Output.line(
                style.bold("Expected  ")
                    + "held on \(passedSeeds) of \(seeds.count) seeds"
                    + (firstFailing.map {
                        "; first failing seed \($0): mqproof run \(reference) --seed \($0) --trace"
                    } ?? ""))
        }
        Output.line()
        let shown = AnomalyKind.allCases.filter { (counts[$0] ?? []).contains { $0 > 0 } }
        if shown.isEmpty {
            Output.line(style.good("No anomaly on any seed."))
            return
        }
        for kind in shown {
            let perSeed = counts[kind] ?? []
            let hit = perSeed.filter { $0 > 0 }.count
            let share = Double(hit) / Double(perSeed.count) * 100
            Output.line(
                style.bold(kind.rawValue)
                    + ": \(hit) of \(perSeed.count) seeds (\(String(format: "%.1f", share))%)")
            Output.lines(histogram(perSeed, terminal: terminal))
            if let witness = witness(kind) {
                Output.line(
                    "  smallest witness seed \(witness): "
                        + style.code("mqproof run \(reference) --seed \(witness) --trace"))
            }
            Output.line()
        }
    }

    /// Messages per run, as a terminal bar chart: one bar per value, or per range when many.
    private func histogram(_ values: [Int], terminal: Terminal) -> [String] {
        guard let maximum = values.max() else { return [] }
        let bucketCount = min(maximum + 1, 10)
        let bucketWidth = max(1, (maximum + bucketCount) / bucketCount)
        var buckets = [Int](repeating: 0, count: (maximum / bucketWidth) + 1)
        for value in values { buckets[value / bucketWidth] += 1 }
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
            var perSeed: [Int]
            var smallestWitnessSeed: UInt64?
        }
    }

    func report(scenario: String) -> Report {
        var anomalies: [String: Report.Summary] = [:]
        for kind in AnomalyKind.allCases {
            let perSeed = counts[kind] ?? []
            anomalies[kind.rawValue] = Report.Summary(
                seedsWithAnomaly: perSeed.filter { $0 > 0 }.count, perSeed: perSeed,
                smallestWitnessSeed: witness(kind))
        }
        return Report(
            scenario: scenario, seeds: [seeds.lowerBound, seeds.upperBound - 1], events: events,
            expectationsHeld: hasExpectations ? passedSeeds : nil, firstFailingSeed: firstFailing,
            anomalies: anomalies)
    }
}
