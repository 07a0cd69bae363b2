import Experiments
import Foundation
import Simulation
import Testing

/// What every catalogue experiment does, pinned: for seeds 1-20, the outcome, the trace hash and a
/// digest of the trace as text, plus a few seed sweeps. A change to the simulator that changes any
/// of them fails here; a change meant to, is re-recorded with `scripts/record-goldens` and
/// explained in the commit (which rule, which source).
@Suite("Trace goldens")
struct TraceGoldenTests {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appending(path: "Goldens")
    static let seeds: ClosedRange<UInt64> = 1...20
    static let sweeps: [(id: String, seeds: ClosedRange<UInt64>)] = [
        ("S01", 1...200), ("S02", 1...200), ("K01", 1...100), ("K03", 1...100), ("R04", 1...100),
        ("R06", 1...100),
        ("Q03", 1...100), ("A02", 1...100),
    ]

    /// FNV-1a, 64 bits: the same in every process, unlike Hasher.
    static func digest(_ text: String) -> String {
        let value = text.utf8.reduce(UInt64(0xcbf2_9ce4_8422_2325)) { ($0 ^ UInt64($1)) &* 0x100_0000_01b3 }
        return String(value, radix: 16)
    }

    /// One line per run: everything a user could see change.
    static func line(_ experiment: Experiment, seed: UInt64) throws -> String {
        let config = try experiment.scenario.resolvedConfig()
        let run = ScenarioRunner.run(experiment.scenario, config: config, seed: seed, recordTrace: true)
        let world = run.world
        let report = run.report
        let trace = world.trace.map {
            "\($0.time) \($0.node) \($0.note.kind) \($0.note.text(world.name(of:)))"
        }
        .joined(separator: "\n")
        let anomalies = AnomalyKind.allCases.compactMap { kind -> String? in
            let messages = report.messages(kind)
            return messages.isEmpty
                ? nil : "\(kind.rawValue):" + messages.map(world.name(of:)).joined(separator: ",")
        }
        return [
            experiment.id, "seed=\(seed)", "hash=\(String(world.traceHash, radix: 16))",
            "text=\(digest(trace))", "events=\(world.eventCount)", "now=\(world.now)",
            "passed=\(run.passed)", "ack=\(report.acknowledged)", "failed=\(report.failed)",
            "indeterminate=\(report.indeterminate)", "recovered=\(report.recovered)",
            "log=" + report.finalLog.map(world.name(of:)).joined(separator: ","),
            "anomalies=" + (anomalies.isEmpty ? "none" : anomalies.joined(separator: ";")),
        ].joined(separator: " ")
    }

    static func sweepLine(_ id: String, seeds: ClosedRange<UInt64>) throws -> String {
        guard let experiment = ExperimentCatalogue.experiment(id) else { return "\(id): missing" }
        let config = try experiment.scenario.resolvedConfig()
        var events = 0
        var passed = 0
        var showing: [AnomalyKind: Int] = [:]
        var messages: [AnomalyKind: Int] = [:]
        for seed in seeds {
            let run = ScenarioRunner.run(experiment.scenario, config: config, seed: seed, recordTrace: false)
            events += run.world.eventCount
            if run.passed { passed += 1 }
            for kind in AnomalyKind.allCases {
                let count = run.report.messages(kind).count
                if count > 0 { showing[kind, default: 0] += 1 }
                messages[kind, default: 0] += count
            }
        }
        let kinds = AnomalyKind.allCases.filter { showing[$0] != nil }.map {
            "\($0.rawValue):\(showing[$0]!)/\(messages[$0]!)"
        }
        return "sweep \(id) \(seeds.lowerBound)...\(seeds.upperBound) events=\(events) passed=\(passed) "
            + (kinds.isEmpty ? "none" : kinds.joined(separator: ";"))
    }

    static func current() throws -> (runs: String, sweeps: String) {
        var runs: [String] = []
        for experiment in ExperimentCatalogue.all {
            for seed in seeds { runs.append(try line(experiment, seed: seed)) }
        }
        let sweeps = try Self.sweeps.map { try sweepLine($0.id, seeds: $0.seeds) }
        return (runs.joined(separator: "\n") + "\n", sweeps.joined(separator: "\n") + "\n")
    }

    @Test("Every catalogue experiment on seeds 1-20, and the sweeps, match the goldens")
    func matchGoldens() throws {
        let (runs, sweeps) = try Self.current()
        let files = [("experiment-runs.txt", runs), ("sweeps.txt", sweeps)]
        // scripts/record-goldens sets this to write the files instead of comparing.
        if ProcessInfo.processInfo.environment["MQPROOF_RECORD_GOLDENS"] == "1" {
            for (name, text) in files {
                try text.write(to: Self.folder.appending(path: name), atomically: true, encoding: .utf8)
            }
            return
        }
        for (name, text) in files {
            let golden = try String(contentsOf: Self.folder.appending(path: name), encoding: .utf8)
            let expected = golden.split(separator: "\n")
            let actual = text.split(separator: "\n")
            #expect(
                actual.count == expected.count, "\(name): \(actual.count) lines, golden has \(expected.count)"
            )
            var differing = 0
            for (new, old) in zip(actual, expected) where new != old {
                differing += 1
                if differing <= 5 { Issue.record("\(name) changed:\n  golden: \(old)\n  now:    \(new)") }
            }
            #expect(differing == 0, "\(name): \(differing) lines differ from the golden")
        }
    }
}

extension TraceGoldenTests {
    @Test("Keeping the trace or not gives the same hash, for every catalogue experiment")
    func hashWithoutTrace() throws {
        for experiment in ExperimentCatalogue.all {
            let config = try experiment.scenario.resolvedConfig()
            let kept = ScenarioRunner.run(experiment.scenario, config: config, seed: 3, recordTrace: true)
            let hashed = ScenarioRunner.run(experiment.scenario, config: config, seed: 3, recordTrace: false)
            #expect(kept.world.traceHash == hashed.world.traceHash, "\(experiment.id)")
        }
    }
}
