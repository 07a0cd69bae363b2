import Experiments
import Foundation
import Simulation

// Measures the simulator in release, on one core:
//
//     swift run -c release simulation-benchmarks
//
// Targets (issue 3): at least 5 million simulated events per second; a sweep of 1,000 seeds of
// a 1,000-message acks scenario, with checking, in at most 1 second; memory per run bounded by
// the scenario, not by the number of seeds. Figures are printed, never asserted.

func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}

func residentMegabytes() -> Double {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
        let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") })
    else { return 0 }
    let kilobytes = Double(line.split(separator: " ").dropFirst().first ?? "0") ?? 0
    return kilobytes / 1024
}

func load(_ id: String) -> (Scenario, ResolvedConfig) {
    let scenario = try! ScenarioLibrary.scenario(ScenarioLibrary.find(id)!).get()
    return (scenario, try! scenario.resolvedConfig())
}

/// Scenario ids named on the command line (`simulation-benchmarks S01 S02`) run alone.
let only = Set(CommandLine.arguments.dropFirst())

/// A sweep: every seed of `seeds`, trace off, checker on.
func sweep(_ id: String, seeds: ClosedRange<UInt64>, label: String) {
    guard only.isEmpty || only.contains(id) else { return }
    let (scenario, config) = load(id)
    var events = 0
    var lost = 0
    var acknowledged = 0
    let start = ContinuousClock.now
    for seed in seeds {
        let run = ScenarioRunner.run(scenario, config: config, seed: seed, recordTrace: false)
        events += run.world.eventCount
        lost += run.report.messages(.lostWrite).count
        acknowledged += run.report.acknowledged
    }
    let elapsed = seconds(ContinuousClock.now - start)
    let runs = seeds.count
    print(
        "\(label.padding(toLength: 52, withPad: " ", startingAt: 0)) \(runs) runs in \(String(format: "%.3f", elapsed)) s"
            + "  \(String(format: "%.2f", Double(events) / elapsed / 1e6)) M events/s"
            + "  \(events / runs) events/run  \(acknowledged / runs) acked/run  \(lost) lost"
            + "  RSS \(String(format: "%.1f", residentMegabytes())) MB")
}

print("simulation benchmarks, one core, release build")
sweep("S01", seeds: 1...1_000, label: "acks=all min.insync=2, 1000 msgs, 1 random fault")
sweep("S02", seeds: 1...1_000, label: "acks=1, 1000 msgs, 1 random fault")
sweep("S01", seeds: 1_001...2_000, label: "acks=all again (memory must not grow)")
sweep("K01", seeds: 1...1_000, label: "K01 scripted (small)")
sweep("R06", seeds: 1...1_000, label: "RabbitMQ quorum queue, random single failures")
sweep("R04b", seeds: 1...1_000, label: "RabbitMQ classic queue, consumer crash")
sweep("Q06", seeds: 1...1_000, label: "RocketMQ SYNC_FLUSH+SYNC_MASTER, 1 random fault")
sweep("Q01", seeds: 1...1_000, label: "RocketMQ ASYNC_FLUSH power loss (small)")
sweep("A07", seeds: 1...1_000, label: "ActiveMQ persistent sync sends, 1 random fault")
sweep("A02", seeds: 1...1_000, label: "ActiveMQ async sends, power loss")

if !only.isEmpty { exit(0) }

// `mqproof compare`: eight runs, one per broker and profile.
let compared = ContinuousClock.now
for seed in UInt64(1)...100 { _ = try! Comparison.run(ComparisonWorkload(seed: seed)) }
print(
    "compare (8 runs of 200 messages): \(String(format: "%.2f", seconds(ContinuousClock.now - compared) / 100 * 1000)) ms per table"
)

// Trace recording cost, for `mqproof run --trace`.
let (k05, k05Config) = load("K05")
let traced = ContinuousClock.now
for seed in UInt64(1)...200 { _ = ScenarioRunner.run(k05, config: k05Config, seed: seed, recordTrace: true) }
print(
    "K05 with the trace kept: \(String(format: "%.3f", seconds(ContinuousClock.now - traced) / 200 * 1000)) ms per run"
)
