import Experiments
import Simulation
import Testing

/// Runs a shipped scenario with a seed and returns the run, failing the test on parse problems.
func runShipped(_ id: String, seed: UInt64 = 1) throws -> ScenarioRun {
    let entry = try #require(ScenarioLibrary.find(id), "no scenario \(id)")
    let scenario = try ScenarioLibrary.scenario(entry).get()
    return ScenarioRunner.run(scenario, config: try scenario.resolvedConfig(), seed: seed)
}

func describe(_ run: ScenarioRun) -> String {
    run.expectations.filter { !$0.holds }.map {
        "\($0.expectation.subject): expected \($0.expectation.value), got \($0.actual)"
    }
    .joined(separator: "; ")
}

@Suite("Kafka scenarios")
struct KafkaScenarioTests {
    @Test(
        "Every shipped Kafka scenario comes out as it expects",
        arguments: ScenarioLibrary.all.filter { $0.path.hasPrefix("scenarios/kafka/") }.map(\.id))
    func shipped(id: String) throws {
        let run = try runShipped(id)
        let passed = run.passed
        #expect(passed, "\(id): \(describe(run))")
    }
}
