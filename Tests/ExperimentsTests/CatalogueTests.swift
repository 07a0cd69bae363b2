import Experiments
import Simulation
import Testing

@Suite("Experiment catalogue")
struct CatalogueTests {
    @Test("Every shipped scenario is a catalogue experiment with a claim in both languages")
    func bilingualClaims() {
        #expect(ExperimentCatalogue.all.count == ScenarioLibrary.all.count)
        for experiment in ExperimentCatalogue.all {
            #expect(experiment.info.title?.zh?.isEmpty == false, "\(experiment.id) has no Chinese title")
            #expect(experiment.info.claim?.zh?.isEmpty == false, "\(experiment.id) has no Chinese claim")
            #expect(experiment.info.claim?.en.isEmpty == false, "\(experiment.id) has no English claim")
            #expect(
                experiment.info.kind != nil,
                "\(experiment.id) does not say whether it proves a hazard or a safety")
        }
    }

    @Test("Claims come in contrast pairs that point at each other; most pair a hazard with its fix")
    func contrastPairs() {
        var opposite = 0
        for experiment in ExperimentCatalogue.all {
            guard let contrast = experiment.info.contrast else { continue }
            let other = ExperimentCatalogue.experiment(contrast)
            #expect(other != nil, "\(experiment.id) names a missing contrast \(contrast)")
            #expect(
                other?.info.contrast == experiment.id, "\(contrast) does not point back at \(experiment.id)")
            if other?.info.kind != experiment.info.kind { opposite += 1 }
        }
        #expect(opposite >= 14)
    }

    @Test(
        "Every hazard's witness seed still shows the hazard",
        arguments: ExperimentCatalogue.all.filter { $0.info.kind == .hazard }.map(\.id))
    func witnessSeeds(id: String) throws {
        let experiment = try #require(ExperimentCatalogue.experiment(id))
        let seed = try #require(experiment.info.witnessSeed, "\(id) keeps no witness seed")
        let run = ScenarioRunner.run(
            experiment.scenario, config: try experiment.scenario.resolvedConfig(), seed: seed)
        let shown = !run.report.isClean
        let passed = run.passed
        #expect(shown, "\(id) seed \(seed) shows no anomaly")
        #expect(passed, "\(id) seed \(seed) does not come out as expected")
    }

    /// A claim is a claim about every seed: an expectation that holds on its witness seed only
    /// is a coincidence of that seed's timing (A02 once expected exactly 10 lost writes).
    @Test(
        "Every experiment's expectations hold on seeds 1-100, not only on its witness seed",
        arguments: ExperimentCatalogue.all.map(\.id))
    func seedRobust(id: String) throws {
        let experiment = try #require(ExperimentCatalogue.experiment(id))
        let config = try experiment.scenario.resolvedConfig()
        let failing = (UInt64(1)...100).filter { seed in
            !ScenarioRunner.run(experiment.scenario, config: config, seed: seed, recordTrace: false).passed
        }
        #expect(failing.isEmpty, "\(id) fails on seeds \(failing.prefix(10))")
    }

    @Test("Every shipped scenario file is in the catalogue: none drops out because it no longer parses")
    func noneDropsOut() {
        // K04 once dropped out silently when a new config check refused its settings.
        let listed = Set(ExperimentCatalogue.all.map(\.id))
        #expect(
            listed == ExperimentCatalogue.ids,
            "missing: \(ExperimentCatalogue.ids.subtracting(listed).sorted())")
    }
}
