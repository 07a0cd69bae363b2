import Experiments
import Foundation
import Simulation
import TestSupport
import Testing

@testable import mqproof

/// `mqproof run` and `mqproof scenarios`, end to end through the built binary.
@Suite("mqproof run")
struct RunCommandTests {
    let directory = TemporaryDirectory()
    let binary = BuiltBinary.mqproof

    var environment: [String: String] {
        [
            "MQPROOF_DB": directory.file("run.sqlite"), "HOME": directory.path, "LANG": "C.UTF-8",
            "COLUMNS": "200",
        ]
    }

    func run(_ arguments: String...) throws -> BuiltBinary.Result {
        try binary.run(arguments, environment: environment)
    }

    @Test("A built-in scenario by id: the lost write, its witness and the verdict")
    func builtInScenario() throws {
        let result = try run("run", "K01")
        #expect(result.status == 0)
        #expect(result.standardOutput.contains("lost-write: m"))
        #expect(result.standardOutput.contains("Why m is lost-write"))
        #expect(
            result.standardOutput.contains(
                "B1 truncates its log to offset 0: m removed (diverging leader epoch)"))
        #expect(result.standardOutput.contains("Verdict: the scenario came out as expected."))
    }

    @Test("--trace draws the lane view in plain ASCII when piped")
    func trace() throws {
        let output = try run("run", "K01", "--trace").standardOutput
        #expect(output.contains("ctl B1  B2  B3  p1"))
        #expect(output.contains("B1 appends m at offset 0 (leader epoch 0)"))
        #expect(output.contains("Legend:"))
        #expect(!output.contains("\u{1B}"))
        #expect(!output.contains("●"))
    }

    @Test("--set changes the outcome: acks=all turns K01's loss into no loss; the changed run is in the JSON")
    func setOverridesConfig() throws {
        let result = try run("run", "K01", "--set", "acks=all", "--set", "min.insync.replicas=2", "--json")
        #expect(result.status == 0)
        let report = try #require(
            try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any])
        let changed = try #require(report["run"] as? [String: Any])
        #expect((changed["anomalies"] as? [[String: Any]])?.isEmpty == true)
        // The catalogue's expectation (m is lost) no longer holds with the fix.
        #expect(changed["passed"] as? Bool == false)
    }

    @Test(
        "The same seed gives the same trace in two separate processes, for every broker model",
        arguments: ["S02", "R06", "Q06", "A07"])
    func determinismAcrossProcesses(experiment: String) throws {
        func hash(_ seed: String) throws -> String? {
            let output = try run("run", experiment, "--seed", seed, "--json").standardOutput
            let report = try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any]
            return report?["traceHash"] as? String
        }
        let first = try hash("7")
        #expect(first != nil)
        #expect(try hash("7") == first)
        #expect(try hash("8") != first)
    }

    @Test("A scenario file with mistakes: every problem as file:line: reason, exit 1")
    func badScenarioFile() throws {
        let path = directory.file("bad.yaml")
        try """
        name: broken
        brokers: 3
        config:
          acks: 2
        steps:
          - produce m
          - crash B7
          - explode leader
        """.write(toFile: path, atomically: true, encoding: .utf8)
        let result = try run("run", path)
        #expect(result.status == 1)
        #expect(result.standardError.contains("\(path):4: config acks: expected 0, 1, all or -1, got '2'"))
        #expect(result.standardError.contains("\(path):7: B7 does not exist: the scenario has 3 brokers"))
        #expect(result.standardError.contains("\(path):8: unknown step 'explode'"))
    }

    @Test("A user's own scenario file runs; an unknown id gets suggestions")
    func userScenario() throws {
        let path = directory.file("mine.yaml")
        try """
        name: my what-if
        config:
          acks: 0
        steps:
          - produce a b c
          - wait 1s
        expect:
          acknowledged: [a, b, c]
          lost-write: none
        """.write(toFile: path, atomically: true, encoding: .utf8)
        #expect(try run("run", path).status == 0)
        let unknown = try run("run", "K0l")
        #expect(unknown.status == 1)
        #expect(unknown.standardError.hasPrefix("mqproof: no scenario file or built-in scenario 'K0l'"))
    }

    @Test("scenarios lists the built-in ones, as JSON too")
    func scenariosList() throws {
        let text = try run("scenarios").standardOutput
        #expect(text.contains("K01-acks-1-leader-crash"))
        let json = try run("scenarios", "--json").standardOutput
        let items = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [[String: Any]]
        #expect((items?.count ?? 0) >= 17)
    }
}

@Suite("mqproof experiments, verify and sweeps")
struct ProofCommandTests {
    let directory = TemporaryDirectory()
    let binary = BuiltBinary.mqproof

    func run(_ arguments: String...) throws -> BuiltBinary.Result {
        try binary.run(
            arguments,
            environment: ["MQPROOF_DB": directory.file("p.sqlite"), "HOME": directory.path, "COLUMNS": "200"])
    }

    @Test("run narrates the claim in the chosen language and points at the other side")
    func narration() throws {
        let output = try run("run", "K01", "--lang", "zh").standardOutput
        #expect(output.contains("证明     K01（隐患）"))
        #expect(output.contains("acks=1：Leader 在复制前宕机，已确认的消息丢失"))
        #expect(output.contains("结论的另一面：mqproof run K02"))
        let english = try run("run", "K01", "--lang", "en").standardOutput
        #expect(english.contains("Proof     K01 (hazard)"))
        #expect(english.contains("The other side of the claim: mqproof run K02"))
    }

    @Test("--seeds sweeps: share of seeds with the anomaly, a histogram, and the smallest witness seed")
    func sweep() throws {
        let output = try run("run", "S02", "--seeds", "20").standardOutput
        #expect(output.contains("Sweep     20 seeds (1...20)"))
        #expect(output.contains("lost-write: "))
        #expect(output.contains("smallest witness seed 2: mqproof run S02 --seed 2 --trace"))
    }

    @Test("--check-determinism runs twice and compares trace hashes")
    func determinism() throws {
        let result = try run("run", "K05", "--check-determinism")
        #expect(result.status == 0)
        #expect(result.standardError.hasPrefix("mqproof: deterministic: two runs of seed 1 have trace hash"))
    }

    @Test("show lists an answer's experiments with their titles; experiments lists the catalogue")
    func linked() throws {
        let show = try run("show", "kafka-acks-message-loss", "--lang", "en").standardOutput
        #expect(
            show.contains("K01   acks=1: the leader dies before replication and an acknowledged write is")
        )
        let list = try run("experiments", "--json").standardOutput
        #expect(list.contains("\"id\" : \"K02\""))
    }

    @Test("verify checks every claim and exits 0 while they all hold")
    func verify() throws {
        let result = try run("verify", "--seeds", "5")
        #expect(result.status == 0)
        let count = ExperimentCatalogue.all.count
        #expect(count >= 60)
        #expect(result.standardOutput.contains("All \(count) experiments prove their claims."))
    }
}

@Suite("mqproof live")
struct LiveCommandTests {
    @Test("live fsync-batching prints the machine and both sides of the measurement")
    func live() throws {
        let directory = TemporaryDirectory()
        let result = try BuiltBinary.mqproof.run(
            ["live", "fsync-batching", "--json"],
            environment: ["HOME": directory.path, "MQPROOF_DB": directory.file("l.sqlite")])
        #expect(result.status == 0)
        let report =
            try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any]
        #expect((report?["machine"] as? String)?.contains("cores") == true)
        #expect(report?["repeats"] as? Int == 3)
        let runs = report?["fsyncBatching"] as? [[String: Any]] ?? []
        #expect(runs.count == 3)
        for run in runs {
            #expect((run["perMessage"] as? [String: Any])?["fsyncsPerMessage"] as? Double == 1)
        }

        let text = try BuiltBinary.mqproof.run(
            ["live", "fsync-batching", "--lang", "en"],
            environment: ["HOME": directory.path, "MQPROOF_DB": directory.file("l.sqlite"), "COLUMNS": "60"])
        let lines = text.standardOutput.split(separator: "\n").map(String.init)
        #expect(lines.contains { $0.hasPrefix("Each measured 3 times: the median and (lowest-highest)") })
        // One sentence says what the numbers mean here, or that the effect did not show.
        #expect(
            text.standardOutput.contains("Batching fsync wrote")
                || text.standardOutput.contains("so batching did not show"))
        #expect(lines.allSatisfy { $0.count <= 60 })
    }

    @Test(
        "live peak-shaving --simulated is deterministic and shows too many connections only without the queue"
    )
    func simulatedPeakShaving() throws {
        let directory = TemporaryDirectory()
        let arguments = [
            "live", "peak-shaving", "--simulated", "--requests", "600", "--max-connections", "50", "--json",
        ]
        let environment = ["HOME": directory.path, "MQPROOF_DB": directory.file("l.sqlite")]
        let first = try BuiltBinary.mqproof.run(arguments, environment: environment)
        let second = try BuiltBinary.mqproof.run(arguments, environment: environment)
        #expect(first.status == 0)
        #expect(first.standardOutput == second.standardOutput)
        let report = try JSONSerialization.jsonObject(with: Data(first.standardOutput.utf8)) as? [String: Any]
        let direct = report?["direct"] as? [String: Any]
        let queued = report?["queued"] as? [String: Any]
        #expect((direct?["tooManyConnections"] as? Int ?? 0) > 0)
        #expect(queued?["tooManyConnections"] as? Int == 0)
        #expect(queued?["written"] as? Int == 600)

        let wrong = try BuiltBinary.mqproof.run(["live", "all", "--simulated"], environment: environment)
        #expect(wrong.status != 0)
        #expect(wrong.standardError.contains("--simulated applies to peak-shaving only"))
    }

    @Test("compare --json: eight rows, the same twice, and the table in text names every broker")
    func compare() throws {
        let directory = TemporaryDirectory()
        let environment = ["HOME": directory.path, "MQPROOF_DB": directory.file("c.sqlite")]
        let arguments = ["compare", "--messages", "50", "--json"]
        let first = try BuiltBinary.mqproof.run(arguments, environment: environment)
        #expect(first.status == 0)
        #expect(
            try BuiltBinary.mqproof.run(arguments, environment: environment).standardOutput
                == first.standardOutput)
        let report = try JSONSerialization.jsonObject(with: Data(first.standardOutput.utf8)) as? [String: Any]
        let rows = report?["rows"] as? [[String: Any]] ?? []
        #expect(rows.count == 8)
        #expect(
            Set(rows.compactMap { $0["system"] as? String }) == ["Kafka", "RabbitMQ", "RocketMQ", "ActiveMQ"])
        let text = try BuiltBinary.mqproof.run(["compare", "--messages", "50"], environment: environment)
        #expect(!text.standardOutput.contains("\u{1B}"))
        #expect(text.standardOutput.contains("RocketMQ safest"))
        let wrong = try BuiltBinary.mqproof.run(["compare", "--messages", "0"], environment: environment)
        #expect(wrong.status != 0)
        #expect(wrong.standardError.contains("--messages must be 1 to 10000"))
    }
}

/// `run --seeds`: the sweep on several threads, and stopping it.
@Suite("Seed sweeps")
struct SeedSweepTests {
    @Test("A sweep comes out the same on 1, 2 and 5 threads")
    func sameOnAnyThreads() throws {
        let scenario = try Run.load("S02", output: .collecting(into: CollectedOutput()))
        let config = try scenario.resolvedConfig()
        let sweeps = [1, 2, 5].map { threads in
            SeedSweep.run(scenario, config: config, seeds: 1...60, threads: threads, progress: nil)
        }
        #expect(sweeps[0].completed == 60)
        #expect(sweeps[0].seedsShowing(.lostWrite) > 0, "S02 loses writes on some of 60 seeds")
        for sweep in sweeps.dropFirst() { #expect(sweep == sweeps[0]) }
    }

    @Test("Ctrl-C prints what the seeds finished so far show, and exits 130")
    func interrupted() throws {
        let directory = TemporaryDirectory()
        let process = Process()
        process.executableURL = BuiltBinary.mqproof.url
        process.arguments = ["run", "S01", "--seeds", "1000000", "--lang", "en"]
        process.environment = [
            "MQPROOF_DB": directory.file("sweep.sqlite"), "HOME": directory.path, "LANG": "C.UTF-8",
        ]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        Thread.sleep(forTimeInterval: 1.5)
        process.interrupt()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationReason == .exit)
        #expect(process.terminationStatus == 130)
        #expect(text.contains("of 1000000 seeds ran; the statistics below cover those."))
        #expect(text.contains("Expected  held on"))
    }
}

/// `run --set`: a what-if against the scenario as written.
@Suite("What-if runs")
struct WhatIfTests {
    let directory = TemporaryDirectory()
    let binary = BuiltBinary.mqproof

    func run(_ arguments: [String]) throws -> BuiltBinary.Result {
        try binary.run(
            arguments + ["--lang", "en"],
            environment: [
                "MQPROOF_DB": directory.file("whatif.sqlite"), "HOME": directory.path, "LANG": "C.UTF-8",
                "COLUMNS": "100",
            ])
    }

    @Test("A what-if on a built-in scenario shows what changed and exits 0")
    func builtIn() throws {
        let result = try run(["run", "K01", "--set", "acks=all", "--set", "min.insync.replicas=2"])
        #expect(result.status == 0)
        let text = result.standardOutput
        #expect(text.contains("acks                 1 → all"))
        #expect(text.contains("min.insync.replicas  1 → 2"))
        #expect(text.contains("  lost-write          1       0"))
        #expect(text.contains("With the change, lost-write no longer shows."))
        #expect(!text.contains("Verdict"), "the catalogue's expectations are not the user's")
        let json = try run(["run", "K01", "--set", "acks=all", "--json"]).standardOutput
        let report = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]
        let before = report?["before"] as? [String: Any]
        #expect((before?["anomalies"] as? [String: Int])?["lost-write"] == 1)
    }

    @Test("A what-if on the user's own scenario file is judged by that file's expectations")
    func ownFile() throws {
        let file = directory.file("mine.scenario")
        try #require(ScenarioLibrary.find("K01")).text.write(toFile: file, atomically: true, encoding: .utf8)
        let result = try run(["run", file, "--set", "acks=all"])
        #expect(result.status == 1)
        #expect(result.standardOutput.contains("Verdict"))
    }
}

/// The live experiments in the catalogue: L01-L03 run with `mqproof run` and are linked from
/// answers like any other proof.
@Suite("Live experiments in the catalogue")
struct LiveCatalogueTests {
    let directory = TemporaryDirectory()

    func run(_ arguments: [String]) throws -> BuiltBinary.Result {
        try BuiltBinary.mqproof.run(
            arguments, environment: ["HOME": directory.path, "MQPROOF_DB": directory.file("l.sqlite")])
    }

    @Test("run L03 measures batched fsync on this machine; the simulator's options are refused")
    func runLive() throws {
        let result = try run(["run", "L03", "--json"])
        #expect(result.status == 0)
        let report =
            try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any]
        #expect((report?["fsyncBatching"] as? [[String: Any]])?.count == 3)

        let refused = try run(["run", "L01", "--seeds", "3"])
        #expect(refused.status == 64)
        #expect(
            refused.standardError.contains("L01 is measured live on this machine, not simulated: --seeds"))
    }

    @Test("experiments lists the live ones with live: true, and an answer links them")
    func listedAndLinked() throws {
        let items =
            try JSONSerialization.jsonObject(
                with: Data(try run(["experiments", "--json"]).standardOutput.utf8))
            as? [[String: Any]] ?? []
        #expect(
            items.filter { $0["live"] as? Bool == true }.compactMap { $0["id"] as? String } == [
                "L01", "L02", "L03", "L04", "L05", "L06",
            ])
        #expect(items.filter { $0["live"] as? Bool == false }.count == ExperimentCatalogue.all.count)
        let show = try run(["show", "why-introduce-mq", "--lang", "en"]).standardOutput
        #expect(show.contains("L01") && show.contains("Peak shaving"))
        #expect(show.contains("L02") && show.contains("Async decoupling"))
    }
}
