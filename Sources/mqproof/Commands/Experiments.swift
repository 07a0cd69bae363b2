import ArgumentParser
import Experiments
import Simulation

/// Lists the experiment catalogue: every executable proof an answer can link to.
struct ExperimentsCommand: EnvironmentCommand {
    static let pagesOutput = true

    static let configuration = CommandConfiguration(
        commandName: "experiments",
        abstract: "List the experiments (executable proofs) answers link to, with their claims.")

    @OptionGroup var language: LanguageOption

    @OptionGroup var format: JSONOption

    struct Item: Encodable {
        var id: String
        /// The simulator's scenario, or for a live experiment the `mqproof live` it runs.
        var scenario: String
        /// Measured on this machine (real files, threads, clocks) rather than simulated.
        var live: Bool
        var proves: String?
        var contrast: String?
        var title: [String: String]
        var claim: [String: String]
    }

    func run(in environment: Environment) throws {
        let output = environment.output
        let items = ExperimentCatalogue.all.map { experiment in
            Item(
                id: experiment.id, scenario: experiment.scenarioID, live: false,
                proves: experiment.info.kind?.rawValue,
                contrast: experiment.info.contrast,
                title: ["zh": experiment.titleZH, "en": experiment.titleEN],
                claim: ["zh": experiment.info.claim?.zh ?? "", "en": experiment.info.claim?.en ?? ""])
        }
        let liveItems = LiveCatalogue.all.map { experiment in
            Item(
                id: experiment.id, scenario: "live \(experiment.name.rawValue)", live: true, proves: nil,
                contrast: nil, title: ["zh": experiment.title.zh, "en": experiment.title.en],
                claim: ["zh": experiment.claim.zh, "en": experiment.claim.en])
        }
        if format.json {
            try output.json(items + liveItems)
            return
        }
        let terminal = environment.terminal
        let languages = language.languages(environment)
        for experiment in ExperimentCatalogue.all {
            let kind = experiment.info.kind.map { language.ui(environment)(.kind($0)) } ?? ""
            let pair = experiment.info.contrast.map { " ↔ \($0)" } ?? ""
            output.line(
                terminal.style.accent(experiment.id.rightPadded(to: 5))
                    + terminal.style.dim(" \(kind)\(pair)"))
            for language in languages {
                let title = language == .zh ? experiment.titleZH : experiment.titleEN
                output.lines(terminal.hanging(title, first: "      "))
            }
        }
        for experiment in LiveCatalogue.all {
            output.line(
                terminal.style.accent(experiment.id.rightPadded(to: 5))
                    + terminal.style.dim(" " + language.ui(environment)(.liveExperiment)))
            for language in languages {
                output.lines(terminal.wrapped(experiment.title[language], first: "      "))
            }
        }
    }
}

/// Runs every claim's experiments and says whether each claim still holds.
struct Verify: EnvironmentCommand {
    static let pagesOutput = true

    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract:
            "Run every experiment and check every claim: hazards on their witness seed, safety over a seed sweep.",
        discussion:
            "Exit status 1 when any claim fails: a claim whose experiment stops proving it is a failing build."
    )

    @Option(help: "Seeds per safety sweep (default: each experiment's own, else 50).")
    var seeds: Int?

    @OptionGroup var backend: BackendOptions

    @OptionGroup var language: LanguageOption

    @OptionGroup var format: JSONOption

    struct Row: Encodable {
        var id: String
        var proves: String
        var contrast: String?
        var claim: String
        var seedsRun: Int
        var seedsPassed: Int
        var witnessSeed: UInt64?
        var failingSeed: UInt64?
        var holds: Bool
    }

    func validate() throws {
        if let seeds, seeds < 1 { throw ValidationError("--seeds must be at least 1") }
    }

    func run(in environment: Environment) throws {
        if backend.isReal { return try verifyOnRealBroker(environment: environment) }
        let output = environment.output
        let terminal = environment.terminal
        let ui = language.ui(environment)
        var rows: [Row] = []
        for experiment in ExperimentCatalogue.all {
            let config = try experiment.scenario.resolvedConfig()
            let kind = experiment.info.kind ?? .safety
            let seedList: [UInt64] =
                kind == .hazard
                ? [experiment.info.witnessSeed ?? 1]
                : Array(1...UInt64(seeds ?? experiment.info.sweepSeeds ?? 50))
            var passed = 0
            var failing: UInt64?
            for seed in seedList {
                let run = ScenarioRunner.run(
                    experiment.scenario, config: config, seed: seed, recordTrace: false)
                // A hazard with no written expectations must at least show an anomaly.
                let holds =
                    run.passed
                    && (kind == .safety || !experiment.scenario.expectations.isEmpty || !run.report.isClean)
                if holds { passed += 1 } else if failing == nil { failing = seed }
            }
            let claim = ui.isChinese ? experiment.titleZH : experiment.titleEN
            rows.append(
                Row(
                    id: experiment.id, proves: kind.rawValue, contrast: experiment.info.contrast,
                    claim: claim,
                    seedsRun: seedList.count, seedsPassed: passed,
                    witnessSeed: kind == .hazard ? seedList[0] : nil, failingSeed: failing,
                    holds: passed == seedList.count))
        }
        if format.json {
            try output.json(rows)
        } else {
            let style = terminal.style
            output.line(
                style.bold(
                    ui.label(.verifyExperiment, width: 6) + ui.label(.verifyKind, width: 8)
                        + ui.label(.verifyResult, width: 22) + ui(.verifyClaim)))
            for row in rows {
                let result = ui(
                    row.proves == "hazard"
                        ? .witnessSeed(row.witnessSeed ?? 1) : .seedsPassed(row.seedsPassed, of: row.seedsRun)
                )
                let mark =
                    row.holds
                    ? style.good(terminal.isTerminal ? "✓" : ui(.holdsMark))
                    : style.bad(terminal.isTerminal ? "✗" : ui(.failsMark))
                let prefix =
                    row.id.rightPadded(to: 6)
                    + ui(.kind(ExperimentInfo.Kind(rawValue: row.proves) ?? .safety)).rightPadded(to: 8)
                    + (mark + " " + result).rightPadded(to: 22)
                let restIndent = String(repeating: " ", count: 36)
                // With --lang both, each claim in both languages, under each other.
                let experiment = ExperimentCatalogue.experiment(row.id)
                let claims = language.languages(environment).map { language in
                    (language == .zh ? experiment?.titleZH : experiment?.titleEN) ?? row.claim
                }
                for (index, claim) in claims.enumerated() {
                    output.lines(
                        terminal.hanging(claim, first: index == 0 ? prefix : restIndent, rest: restIndent))
                }
                if let seed = row.failingSeed {
                    output.line(
                        restIndent
                            + style.bad(ui(.failsOnSeed(seed, experiment: row.id)))
                    )
                }
            }
            let failed = rows.filter { !$0.holds }.count
            output.line()
            output.line(
                failed == 0
                    ? style.good(ui(.allProve(rows.count)))
                    : style.bad(ui(.someFail(failed, of: rows.count))))
        }
        if rows.contains(where: { !$0.holds }) { throw ExitCode.failure }
    }
}
