import Foundation
import GRDB
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The reproductions of the hostile-input report, each as it was found: nothing crashes, hangs,
/// or loses or damages data, and every refusal is one line that says where and why.
@Suite("Hostile input")
struct HostileInputTests {
    let directory = TemporaryDirectory()
    let binary = BuiltBinary.mqproof

    var environment: [String: String] {
        [
            "MQPROOF_DB": directory.file("hostile.sqlite"), "HOME": directory.path, "LANG": "C.UTF-8",
            "TERM": "dumb",
        ]
    }

    func run(_ arguments: String..., input: String = "", timeout: Double = 120) throws -> BuiltBinary.Result {
        try binary.run(arguments, environment: environment, in: directory.url, input: input, timeout: timeout)
    }

    /// A refusal: exit 1 or 64 (never a trap: 132 and 134 are SIGILL and SIGABRT), one line.
    func expectRefusal(
        _ result: BuiltBinary.Result, containing text: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect([1, 64].contains(result.status), "status \(result.status)", sourceLocation: sourceLocation)
        let lines = result.standardError.split(separator: "\n").filter {
            !$0.hasPrefix("Usage:") && !$0.contains("--help")
        }
        #expect(lines.count == 1, "\(result.standardError)", sourceLocation: sourceLocation)
        #expect(
            result.standardError.contains(text), "\(result.standardError)", sourceLocation: sourceLocation)
        #expect(result.standardError.utf8.count < 1_000, sourceLocation: sourceLocation)
    }

    // MARK: - Files

    @Test("An export never replaces a device node (as root, /dev/full's twin)")
    func deviceNode() throws {
        let path = directory.file("full")
        try #require(mknod(path, S_IFCHR | 0o666, (1 << 8) | 7) == 0, "mknod needs root")
        for command in [["export", "csv", path], ["export", "anki", path], ["progress", "export", path]] {
            let result = try binary.run(command, environment: environment)
            expectRefusal(result, containing: "it is a device or socket, not a file; nothing was written")
            var status = stat()
            #expect(lstat(path, &status) == 0 && status.st_mode & S_IFMT == S_IFCHR, "\(command)")
        }
        #expect(
            try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.contains("full") }
                == ["full"])
    }

    @Test("An existing file is replaced only with --force, in one rename; a missing folder is one line")
    func overwrite() throws {
        let path = directory.file("questions.csv")
        #expect(try run("export", "csv", path).status == 0)
        expectRefusal(try run("export", "csv", path), containing: "already exists; add --force to replace it")
        #expect(try run("export", "csv", path, "--force").status == 0)
        expectRefusal(
            try run("export", "anki", directory.file("no/such/deck.apkg")), containing: "does not exist")
        #expect(try run("export", "csv", "/dev/null").status == 0)
        // No temporary file is left beside the target.
        #expect(
            try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasPrefix(".") }
                .isEmpty)
    }

    // MARK: - The database

    @Test("An empty --db is refused instead of quietly using a throwaway database")
    func emptyDatabasePath() throws {
        let result = try run("quiz", "--db", "", input: "x\n3\n")
        expectRefusal(result, containing: "--db needs a file path")
        #expect(!result.standardOutput.contains("Every answer is saved"))
    }

    @Test("Another program's SQLite file is refused and left byte for byte as it was")
    func foreignFile() throws {
        let path = directory.file("f.sqlite")
        try DatabaseQueue(path: path).write { db in try db.execute(sql: "CREATE TABLE notes(t)") }
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        expectRefusal(try run("topics", "--db", path), containing: "not an mqproof database (it holds notes)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before)
        #expect(!FileManager.default.fileExists(atPath: path + "-wal"))
        // A device is no database either, and nothing is created beside it.
        expectRefusal(try run("topics", "--db", "/dev/null"), containing: "not a regular file")
        #expect(!FileManager.default.fileExists(atPath: "/dev/null-journal"))
    }

    @Test("A store written by a newer mqproof is refused untouched")
    func newerSchema() throws {
        #expect(try run("topics").status == 0)
        let path = directory.file("hostile.sqlite")
        try DatabaseQueue(path: path).write { db in try db.execute(sql: "PRAGMA user_version = 99") }
        expectRefusal(try run("topics"), containing: "written by a newer mqproof")
    }

    @Test("Many processes opening one brand-new database all succeed")
    func concurrentFirstOpen() throws {
        let results = try (0..<12).map { _ in
            let process = Process()
            process.executableURL = binary.url
            process.arguments = ["topics", "--json"]
            process.environment = environment
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            return process
        }
        for process in results { process.waitUntilExit() }
        #expect(results.map(\.terminationStatus) == Array(repeating: 0, count: 12))
    }

    @Test("A data folder that is a file is one clean line, not a debug dump")
    func dataHomeIsAFile() throws {
        let file = directory.file("xdg")
        #expect(FileManager.default.createFile(atPath: file, contents: Data()))
        let result = try binary.run(
            ["topics"], environment: ["HOME": directory.path, "XDG_DATA_HOME": file, "LANG": "C.UTF-8"])
        expectRefusal(result, containing: "is a file, not a folder")
        #expect(!result.standardError.contains("Failure("))
    }

    // MARK: - Progress files

    func exportWithAnswers() throws -> [String: Any] {
        _ = try run("quiz", input: "\n3\n1\n3\nq\n")
        let file = directory.file("progress.json")
        #expect(try run("progress", "export", file).status == 0)
        return try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: file)))
                as? [String: Any])
    }

    func write(_ object: Any, _ name: String) throws -> String {
        let file = directory.file(name)
        try JSONSerialization.data(withJSONObject: object).write(to: URL(fileURLWithPath: file))
        return file
    }

    func answerCount() throws -> Int {
        try DatabaseQueue(path: directory.file("hostile.sqlite")).read { db in
            try Int.fetchOne(db, sql: "SELECT count(*) FROM review_log") ?? 0
        }
    }

    @Test("Importing an export of an empty store keeps every answer (it used to wipe them)")
    func importNeverDeletes() throws {
        _ = try exportWithAnswers()
        let emptyStore = directory.file("empty.sqlite")
        let emptyExport = directory.file("empty.json")
        #expect(try run("progress", "export", emptyExport, "--db", emptyStore).status == 0)
        let before = try answerCount()
        #expect(before == 2)
        #expect(try run("progress", "import", emptyExport).status == 0)
        #expect(try answerCount() == before)
        // Importing the same file twice adds nothing.
        #expect(try run("progress", "import", directory.file("progress.json")).status == 0)
        #expect(try answerCount() == before)
        // Replacing is explicit, and backs up first.
        let replaced = try run("progress", "import", emptyExport, "--replace")
        #expect(replaced.status == 0)
        #expect(try answerCount() == 0)
        let backups = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter {
            $0.contains(".progress-backup-")
        }
        #expect(backups.count == 1)
        #expect(try run("progress", "import", directory.file(backups[0])).status == 0)
        #expect(try answerCount() == before)
    }

    @Test(
        "States that cannot occur are refused, with the first reason and a count of the others",
        arguments: [
            ("step", "null", "has no learning step"), ("step", "-1", "has no learning step"),
            ("stability", "0", "stability 0"), ("reviews", "9223372036854775807", "answers and"),
            ("dueMs", "9223372036854775807", "outside 1970-9999"),
            ("cardID", "\"no-such-card\"", "not a card of this content"),
        ])
    func impossibleStates(field: String, json: String, reason: String) throws {
        var archive = try exportWithAnswers()
        var cards = try #require(archive["cards"] as? [[String: Any]])
        cards[0][field] = try JSONSerialization.jsonObject(with: Data(json.utf8), options: .fragmentsAllowed)
        archive["cards"] = cards
        let before = try answerCount()
        expectRefusal(try run("progress", "import", try write(archive, "bad.json")), containing: reason)
        #expect(try answerCount() == before)
        // The quiz still runs afterwards.
        #expect(try run("quiz", input: "q\n").status == 0)
    }

    @Test("A state that cannot occur, already in the store, does not crash the quiz")
    func impossibleStateInStore() throws {
        _ = try exportWithAnswers()
        try DatabaseQueue(path: directory.file("hostile.sqlite")).write { db in
            try db.execute(sql: "UPDATE card_state SET step = NULL, state = 1")
            try db.execute(sql: "UPDATE card_state SET last_review_ms = NULL")
        }
        let result = try run("quiz", input: "\n3\nq\n")
        #expect(result.status == 0)
        #expect(result.standardError.contains("cannot occur"))
    }

    @Test("Bad settings, unknown answers, empty, binary and {} files are refused with one line")
    func badProgressFiles() throws {
        var archive = try exportWithAnswers()
        archive["settings"] = ["desired_retention": "5"]
        expectRefusal(
            try run("progress", "import", try write(archive, "s.json")), containing: "desired_retention")
        expectRefusal(
            try run("progress", "import", try write([:] as [String: Any], "o.json")),
            containing: "missing 'format' at the top level")
        #expect(FileManager.default.createFile(atPath: directory.file("e.json"), contents: Data()))
        expectRefusal(
            try run("progress", "import", directory.file("e.json")), containing: "the file is empty")
        #expect(
            FileManager.default.createFile(
                atPath: directory.file("b.json"), contents: Data((0..<255).map { UInt8($0) })))
        expectRefusal(try run("progress", "import", directory.file("b.json")), containing: "not JSON")
    }

    // MARK: - Scenarios and sweeps

    func scenario(_ steps: [String], extra: String = "") throws -> String {
        let file = directory.file("s\(UUID().uuidString.prefix(8)).yaml")
        let text = "name: hostile\n\(extra)steps:\n" + steps.map { "  - \($0)\n" }.joined()
        try text.write(toFile: file, atomically: true, encoding: .utf8)
        return file
    }

    @Test(
        "Absurd numbers in a scenario are refused before they overflow, hang or fill memory",
        arguments: [
            (["wait 9999999999999999h"], "", "not a duration from 0 to 24h"),
            (["wait 9223372036854775807ms"], "", "not a duration from 0 to 24h"),
            (["produce 1"], "settle: 999999999999h\n", "'settle' must be a duration"),
            (["produce 1"], "settle: -5s\n", "'settle' must be a duration"),
            (["produce -5"], "", "asks for no messages"),
            (["produce 1000000000000"], "", "asks for too many messages"),
            (
                [
                    "produce 100000 every 1ms", "produce 100000", "produce 100000", "produce 100000",
                    "produce 100000",
                    "produce 100000", "produce 100000", "produce 100000", "produce 100000", "produce 100000",
                    "produce 1",
                ],
                "", "more than 1000000 messages"
            ),
            (
                ["delay fetch to B1 by 9223372036854775807-9223372036854775807"], "",
                "not a range of durations"
            ),
            (["delay fetch to B1 by -5ms"], "", "not a duration"),
            (
                ["produce 1"], "random-faults:\n  count: 1000000000000\n  kinds: [crash]\n",
                "count from 0 to 100"
            ),
            (
                ["produce 1"], "random-faults:\n  count: 1\n  kinds: [crash]\n  recover-after: 99999999h\n",
                "recover-after"
            ),
        ])
    func absurdScenarios(steps: [String], extra: String, reason: String) throws {
        expectRefusal(try run("run", try scenario(steps, extra: extra), timeout: 30), containing: reason)
    }

    @Test("Seeds at the edges: the largest seed runs, a sweep past it or beyond the limit is refused")
    func seedEdges() throws {
        #expect(try run("run", "S01", "--seed", "18446744073709551615", "--seeds", "1", "--json").status == 0)
        expectRefusal(
            try run("run", "S01", "--seed", "18446744073709551615", "--seeds", "2"),
            containing: "runs past the largest seed")
        expectRefusal(
            try run("run", "K01", "--seeds", "-1"), containing: "--seeds must be from 1 to 1000000, not -1")
        expectRefusal(
            try run("run", "K01", "--seeds", "100000000000"), containing: "--seeds must be from 1 to 1000000")
        expectRefusal(
            try run("run", "K01", "--set", "sim.network.delay.ms=9223372036854775807-9223372036854775807"),
            containing: "expected milliseconds from 0 to 3600000")
    }

    @Test("A YAML alias bomb is refused at once, in a scenario and in content")
    func aliasBomb() throws {
        var text =
            "name: bomb\na: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n"
        for level in 1...12 {
            text +=
                "n\(level): &n\(level) ["
                + Array(repeating: "*" + (level == 1 ? "a" : "n\(level - 1)"), count: 9).joined(
                    separator: ",") + "]\n"
        }
        let file = directory.file("bomb.yaml")
        try text.write(toFile: file, atomically: true, encoding: .utf8)
        expectRefusal(try run("run", file, timeout: 20), containing: "anchors and aliases")
        let content = directory.url.appending(path: "content")
        try FileManager.default.createDirectory(
            at: content.appending(path: "entries"), withIntermediateDirectories: true)
        try Fixtures.topicsYAML.write(
            to: content.appending(path: "topics.yaml"), atomically: true, encoding: .utf8)
        try text.write(to: content.appending(path: "entries/bomb.yaml"), atomically: true, encoding: .utf8)
        let check = try run("content", "check", "--content", content.path, timeout: 20)
        #expect(check.status == 1)
        #expect(
            (check.standardOutput + check.standardError).contains("bomb.yaml:2: YAML anchors and aliases"))
    }

    @Test("A deeply nested scenario is refused with a short line, not an echo of itself")
    func deeplyNested() throws {
        let file = directory.file("deep.yaml")
        try
            ("name: x\nsteps:\n  - " + String(repeating: "[", count: 50_000)
            + String(repeating: "]", count: 50_000) + "\n")
            .write(toFile: file, atomically: true, encoding: .utf8)
        let result = try run("run", file, timeout: 30)
        #expect(result.status == 1)
        #expect(result.standardError.utf8.count < 1_000)
    }

    @Test("A control character written as a YAML escape fails content check")
    func escapedControlCharacter() throws {
        let content = directory.url.appending(path: "content")
        try FileManager.default.createDirectory(
            at: content.appending(path: "entries"), withIntermediateDirectories: true)
        try Fixtures.topicsYAML.write(
            to: content.appending(path: "topics.yaml"), atomically: true, encoding: .utf8)
        try Fixtures.entryYAML(id: "bell", questionZH: "\"响铃\\a\"").write(
            to: content.appending(path: "entries/bell.yaml"), atomically: true, encoding: .utf8)
        let check = try run("content", "check", "--content", content.path)
        #expect(check.status == 1)
        #expect((check.standardOutput + check.standardError).contains("bell.yaml:7: control character"))
    }

    @Test("A search of thousands of words answers at once")
    func hugeSearch() throws {
        let words = (0..<5_000).map { "word\($0)" }.joined(separator: " ")
        let result = try run("search", words, "--json", timeout: 30)
        #expect(result.status == 0)
    }
}
