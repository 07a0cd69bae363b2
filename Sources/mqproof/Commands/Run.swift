import ArgumentParser
import Experiments
import Foundation
import Simulation

/// Runs a scenario file or a built-in scenario and reports what the checker found.
struct Run: EnvironmentCommand {
    static let pagesOutput = true

    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract:
            "Run a scenario: a deterministic mini-Kafka with faults, checked for lost and duplicated messages.",
        discussion: """
            <scenario> is a scenario file (see scenarios/README.md) or the id of a built-in scenario \
            (`mqproof scenarios` lists them; a unique prefix such as K01 is enough). The same seed gives \
            the same run in any process. Exit status: 0 when every expectation holds, 1 when one does not \
            or the scenario cannot be read.
            """)

    @Argument(help: "A scenario file or a built-in scenario id.")
    var scenario: String

    @Option(parsing: .unconditional, help: "The seed for network latencies and random faults.")
    var seed: UInt64 = 1

    /// The most seeds one sweep runs: about twenty minutes of the largest scenario on one core.
    static let maximumSeeds = 1_000_000

    @Option(
        name: .customLong("set"),
        help: ArgumentHelp("Override a config, e.g. --set acks=1 (repeatable).", valueName: "key=value"))
    var settings: [String] = []

    @Flag(
        help: ArgumentHelp(
            "Print the event-by-event trace as a lane view: at most 40 lines, around the anomaly.",
            discussion: "`--trace full` prints every event."))
    var trace = false

    /// `--trace full`, as the command line spells it (MQProof.main rewrites it to this).
    @Flag(name: .customLong("trace-full"), help: .hidden)
    var traceFull = false

    @Flag(help: "With --trace, include routine events (high-watermark moves).")
    var allEvents = false

    @Option(
        parsing: .unconditional,
        help: "Run this many seeds (from --seed on, at most 1000000) and report how often each anomaly shows."
    )
    var seeds: Int?

    @Option(
        help: ArgumentHelp(
            "With --seeds: how many threads run seeds at once (default: one per core).",
            discussion: "The result is the same for any number of threads."))
    var threads: Int?

    @Flag(help: "Run twice and check that both runs have the same trace hash.")
    var checkDeterminism = false

    @OptionGroup var backend: BackendOptions

    @OptionGroup var language: LanguageOption

    @OptionGroup var format: JSONOption

    func validate() throws {
        if let threads, !(1...256).contains(threads) {
            throw ValidationError("--threads must be from 1 to 256, not \(threads)")
        }
        if let seeds {
            guard (1...Self.maximumSeeds).contains(seeds) else {
                throw ValidationError("--seeds must be from 1 to \(Self.maximumSeeds), not \(seeds)")
            }
            guard UInt64.max - seed >= UInt64(seeds - 1) else {
                throw ValidationError(
                    "--seed \(seed) plus --seeds \(seeds) runs past the largest seed, \(UInt64.max)")
            }
        }
    }

    func run(in environment: Environment) throws {
        let output = environment.output
        if !FileManager.default.fileExists(atPath: scenario), let live = LiveCatalogue.experiment(scenario) {
            return try runLive(live, in: environment)
        }
        let reference = scenario
        var scenario = try Self.load(scenario, output: output)
        let original = scenario
        for setting in settings {
            let parts = setting.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, !parts[0].isEmpty else {
                throw Failure(
                    message: "--set takes key=value, not '\(TerminalSafe.clean(setting))'", exitCode: 64)
            }
            scenario.settings.append(.init(key: parts[0], value: parts[1]))
        }
        let config: ResolvedConfig
        do {
            config = try scenario.resolvedConfig()
        } catch {
            for problem in error.problems.dropLast() { output.error("mqproof: config \(problem)") }
            throw Failure(message: "config \(error.problems.last.map(\.description) ?? "")", exitCode: 64)
        }
        let experiment =
            ExperimentCatalogue.experiment(reference)
            ?? ExperimentCatalogue.all.first { $0.scenarioID == reference }
        let languages = language.languages(environment)
        let ui = language.ui(environment)
        if backend.isReal {
            return try runOnRealBroker(
                scenario, reference: reference, experiment: experiment, environment: environment)
        }
        if let seeds {
            let range = seed...(seed + UInt64(seeds - 1))
            let progress =
                format.json || !environment.terminal.isErrorTerminal
                ? nil
                : SweepProgress(
                    total: seeds, output: output, clock: environment.clock,
                    label: { ui(.sweepProgress($0, of: $1)) })
            let stop = SweepStop.onInterrupt()
            let sweep = SeedSweep.run(
                scenario, config: config, seeds: range, threads: threads ?? environment.processors,
                progress: progress, stop: stop)
            stop.close()
            if format.json {
                try output.json(sweep.report(scenario: reference))
            } else {
                sweep.print(reference: reference, terminal: environment.terminal, output: output, ui: ui)
            }
            // 130: what a shell reports for a process ended by SIGINT.
            if sweep.interrupted { throw ExitCode(130) }
            if !sweep.allPassed { throw ExitCode.failure }
            return
        }
        if !settings.isEmpty, !checkDeterminism, let baseConfig = try? original.resolvedConfig() {
            try runWhatIf(
                original: original, changed: scenario, base: baseConfig, config: config,
                experiment: experiment,
                reference: reference, environment: environment)
            return
        }
        let run = ScenarioRunner.run(scenario, config: config, seed: seed)
        if run.hitEventBudget {
            output.error(ui(.eventBudget(events: ScenarioRunner.eventBudget, at: run.world.now)))
        }
        if checkDeterminism {
            let again = ScenarioRunner.run(scenario, config: config, seed: seed)
            let hashes = (String(run.world.traceHash, radix: 16), String(again.world.traceHash, radix: 16))
            let same = hashes.0 == hashes.1
            output.error(
                ui(
                    same
                        ? .deterministic(seed: seed, hash: hashes.0)
                        : .notDeterministic(seed: seed, first: hashes.0, second: hashes.1)))
            if !same { throw ExitCode.failure }
        }
        if format.json {
            try output.json(RunReport(scenario: scenario, config: config, run: run))
        } else {
            RunView(
                scenario: scenario, experiment: experiment, languages: languages, run: run,
                terminal: environment.terminal, output: output,
                showTrace: trace || traceFull, fullTrace: traceFull, showRoutine: allEvents
            ).print()
        }
        if !run.passed { throw ExitCode.failure }
    }

    /// A live experiment measures this machine: the simulator's options have no meaning there.
    private func runLive(_ experiment: LiveCatalogue.Experiment, in environment: Environment) throws {
        let simulatorOnly = [
            ("--seed", seed != 1), ("--seeds", seeds != nil), ("--set", !settings.isEmpty),
            ("--trace", trace || traceFull), ("--check-determinism", checkDeterminism),
            ("--threads", threads != nil),
        ].filter(\.1).map(\.0)
        guard simulatorOnly.isEmpty else {
            throw Failure(
                message:
                    "\(experiment.id) is measured live on this machine, not simulated: \(simulatorOnly.joined(separator: ", ")) do not apply",
                exitCode: 64)
        }
        try experiment.run(language: language.lang, json: format.json, in: environment)
    }

    /// The scenario as written and with `--set`, on one seed: the contrast, then the changed run.
    /// Only a scenario file's own expectations decide the exit status (see WhatIf).
    private func runWhatIf(
        original: Scenario, changed: Scenario, base: ResolvedConfig, config: ResolvedConfig,
        experiment: Experiment?, reference: String, environment: Environment
    ) throws {
        let output = environment.output
        let whatIf = WhatIf(
            settings: changed.settings.suffix(settings.count).map { ($0.key, $0.value) }, base: base,
            changed: config, before: ScenarioRunner.run(original, config: base, seed: seed),
            after: ScenarioRunner.run(changed, config: config, seed: seed))
        let ownExpectations = FileManager.default.fileExists(atPath: reference)
        if format.json {
            try output.json(whatIf.report(scenario: reference, changedScenario: changed, config: config))
        } else {
            let ui = language.ui(environment)
            whatIf.print(
                reference: reference, experiment: experiment, terminal: environment.terminal, output: output,
                ui: ui)
            output.line()
            RunView(
                scenario: changed, experiment: experiment, languages: language.languages(environment),
                run: whatIf.after, terminal: environment.terminal, output: output,
                showTrace: trace || traceFull,
                fullTrace: traceFull, showRoutine: allEvents, showsHeader: false,
                showsVerdict: ownExpectations
            ).print()
        }
        if ownExpectations && !whatIf.after.passed { throw ExitCode.failure }
    }

    /// A scenario from a file path, or a built-in one by id.
    static func load(_ reference: String, output: Output) throws -> Scenario {
        if FileManager.default.fileExists(atPath: reference) {
            let size = (try? FileManager.default.attributesOfItem(atPath: reference)[.size] as? Int) ?? 0
            guard size <= ScenarioFile.Limits.fileSize else {
                throw Failure(
                    message:
                        "\(reference): over \(ScenarioFile.Limits.fileSize / 1024) KiB; a scenario is a page")
            }
            guard let data = FileManager.default.contents(atPath: reference),
                let text = String(data: data, encoding: .utf8)
            else {
                throw Failure(message: "\(reference): cannot read the file")
            }
            return try parse(text, file: reference, output: output)
        }
        guard let entry = ScenarioLibrary.find(reference) else {
            let ids = ScenarioLibrary.all.map(\.id)
            let suggestions = Suggestions.closest(to: reference, among: ids)
            throw Failure(
                message: "no scenario file or built-in scenario '\(TerminalSafe.clean(reference))'"
                    + (suggestions.isEmpty
                        ? "; see mqproof scenarios"
                        : ". Did you mean \(suggestions.map { "'\($0)'" }.joined(separator: " or "))?"))
        }
        return try parse(entry.text, file: entry.path, output: output)
    }

    private static func parse(_ text: String, file: String, output: Output) throws -> Scenario {
        switch ScenarioFile.parse(text, file: file) {
        case .success(let scenario): return scenario
        case .failure(let problems):
            for problem in problems.problems.dropLast() { output.error(MQProof.oneLine(problem.description)) }
            throw Failure(message: problems.problems.last?.description ?? "\(file): cannot be read")
        }
    }
}

/// Lists the built-in scenarios.
struct Scenarios: EnvironmentCommand {
    static let pagesOutput = true

    static let configuration = CommandConfiguration(
        commandName: "scenarios",
        abstract: "List the built-in scenarios that `mqproof run` knows by id.")

    @OptionGroup var language: LanguageOption
    @OptionGroup var format: JSONOption

    struct Item: Encodable {
        var id: String
        var name: String
        var claim: String?
    }

    func run(in environment: Environment) throws {
        let output = environment.output
        let items = ScenarioLibrary.all.compactMap { entry -> Item? in
            guard case .success(let scenario) = ScenarioLibrary.scenario(entry) else { return nil }
            return Item(id: entry.id, name: scenario.name, claim: scenario.claim)
        }
        if format.json {
            try output.json(items)
            return
        }
        let terminal = environment.terminal
        let width = items.map(\.id.count).max() ?? 0
        for item in items {
            // A scenario file's name is English; in Chinese, its experiment's title says the same.
            let experiment = ExperimentCatalogue.all.first { $0.scenarioID == item.id }
            let name = language.ui(environment).isChinese ? (experiment?.titleZH ?? item.name) : item.name
            output.lines(
                terminal.hanging(
                    name, first: terminal.style.accent(item.id.rightPadded(to: width)) + "  ",
                    rest: String(repeating: " ", count: width + 2)))
        }
    }
}
