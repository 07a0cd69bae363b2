import Experiments
import Simulation
import Testing

@Suite("Seed sweeps")
struct SweepTests {
    func scenario(_ id: String) throws -> (Scenario, ResolvedConfig) {
        let scenario = try ScenarioLibrary.scenario(try #require(ScenarioLibrary.find(id))).get()
        return (scenario, try scenario.resolvedConfig())
    }

    @Test(
        "acks=all, min.insync.replicas=2, RF=3: no single broker failure loses an acknowledged write (1,000 seeds)"
    )
    func safetyUnderSingleFailures() throws {
        let (scenario, config) = try scenario("S01")
        var kindsSeen: Set<String> = []
        var acknowledged = 0
        for seed in UInt64(1)...1_000 {
            let run = ScenarioRunner.run(scenario, config: config, seed: seed, recordTrace: false)
            let lost = run.report.messages(.lostWrite).count
            #expect(
                lost == 0,
                "seed \(seed): \(lost) acknowledged writes lost; replay: mqproof run S01 --seed \(seed) --trace"
            )
            if lost > 0 { break }
            acknowledged += run.report.acknowledged
            for fault in run.drawnFaults {
                kindsSeen.insert("\(fault.action)".prefix(while: { $0 != "(" }).description)
            }
        }
        // The sweep really exercised faults and writes: it is not vacuously safe.
        #expect(kindsSeen.isSuperset(of: ["crash", "restart", "isolate", "heal", "pause"]))
        #expect(acknowledged > 900_000)
    }

    @Test("acks=1 under the same failures: some seeds lose acknowledged writes (the hazard is real)")
    func hazardUnderSingleFailures() throws {
        let (scenario, config) = try scenario("S02")
        let losing = (UInt64(1)...200).filter { seed in
            !ScenarioRunner.run(scenario, config: config, seed: seed, recordTrace: false).report.messages(
                .lostWrite
            ).isEmpty
        }
        #expect(!losing.isEmpty)
        #expect(losing.count < 200)
    }
}

@Suite("Determinism")
struct DeterminismTests {
    @Test("The same seed gives the same trace; another seed gives another")
    func sameSeedSameTrace() throws {
        let scenario = try ScenarioLibrary.scenario(try #require(ScenarioLibrary.find("S02"))).get()
        let config = try scenario.resolvedConfig()
        let first = ScenarioRunner.run(scenario, config: config, seed: 42)
        let again = ScenarioRunner.run(scenario, config: config, seed: 42)
        let other = ScenarioRunner.run(scenario, config: config, seed: 43)
        #expect(first.world.traceHash == again.world.traceHash)
        #expect(first.world.trace == again.world.trace)
        #expect(first.world.traceHash != other.world.traceHash)
        // Keeping the trace or not does not change what happens.
        let untraced = ScenarioRunner.run(scenario, config: config, seed: 42, recordTrace: false)
        #expect(untraced.world.traceHash == first.world.traceHash)
    }

    @Test(
        "A sweep hashes the trace it does not keep exactly as a traced run does",
        arguments: ["S01", "K01", "K05", "K07", "K07b", "K09", "K12", "K16"])
    func untracedHashMatches(id: String) throws {
        let scenario = try ScenarioLibrary.scenario(try #require(ScenarioLibrary.find(id))).get()
        let config = try scenario.resolvedConfig()
        for seed in UInt64(1)...5 {
            let traced = ScenarioRunner.run(scenario, config: config, seed: seed)
            let untraced = ScenarioRunner.run(scenario, config: config, seed: seed, recordTrace: false)
            #expect(traced.world.traceHash == untraced.world.traceHash, "\(id) seed \(seed)")
            #expect(untraced.world.trace.isEmpty)
        }
    }
}
