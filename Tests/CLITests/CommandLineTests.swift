import Foundation
import TestSupport
import Testing

/// End-to-end: the built binary, a database of its own, and a plain environment.
@Suite("mqproof command line")
struct CommandLineTests {
    let directory = TemporaryDirectory()
    let binary = BuiltBinary.mqproof

    var environment: [String: String] {
        [
            "MQPROOF_DB": directory.file("cli.sqlite"), "HOME": directory.path, "LANG": "C.UTF-8",
            "TERM": "xterm",
        ]
    }

    func run(_ arguments: String..., environment extra: [String: String] = [:]) throws -> BuiltBinary.Result {
        try binary.run(arguments, environment: environment.merging(extra) { $1 })
    }

    @Test("With no arguments: the home screen with topics, counts and what to try next")
    func home() throws {
        let result = try run()
        #expect(result.status == 0)
        #expect(result.standardOutput.contains("Topics"))
        #expect(result.standardOutput.contains("C  message-loss"))
        #expect(result.standardOutput.contains("Try next"))
        #expect(result.standardOutput.contains("mqproof search 如何保证消息不丢失"))
        // A learner starts where the seed document does, not at the first id in the alphabet.
        #expect(result.standardOutput.contains("mqproof show why-introduce-mq"))
        let zh = try run("--lang", "zh")
        #expect(zh.standardOutput.contains("主题"))
        #expect(!zh.standardOutput.contains("Topics"))
    }

    @Test("The language comes from --lang, then MQPROOF_LANG, then LANG")
    func languageChoice() throws {
        #expect(try run("topics", environment: ["LANG": "zh_CN.UTF-8"]).standardOutput.contains("可靠性与消息丢失"))
        #expect(
            try run("topics", environment: ["LANG": "zh_CN.UTF-8", "MQPROOF_LANG": "en"]).standardOutput
                .contains("Reliability and message loss"))
        let both = try run("topics", "--lang", "both").standardOutput
        #expect(both.contains("可靠性与消息丢失") && both.contains("Reliability and message loss"))
    }

    @Test("show prints the question, answer, key points and sources in the chosen language")
    func show() throws {
        let english = try run("show", "kafka-acks-message-loss", "--lang", "en")
        #expect(english.status == 0)
        #expect(english.standardOutput.contains("Q  What do acks=0, 1 and all"))
        #expect(english.standardOutput.contains("Key points"))
        #expect(english.standardOutput.contains("Sources"))
        #expect(
            english.standardOutput.contains("https://kafka.apache.org/documentation/#producerconfigs_acks"))
        #expect(!english.standardOutput.contains("要点"))
        let chinese = try run("show", "kafka-acks-message-loss", "--lang", "zh")
        #expect(chinese.standardOutput.contains("要点"))
        #expect(chinese.standardOutput.contains("常见误区"))
    }

    @Test("Output to a pipe has no escape sequences, and lines fit the width (URLs are never broken)")
    func plainWhenPiped() throws {
        let output = try run(
            "show", "mainstream-mq-comparison", "--lang", "both", environment: ["COLUMNS": "60"]
        ).standardOutput
        #expect(!output.contains("\u{1B}"))
        let widest =
            output.split(separator: "\n").filter { !$0.contains("://") }.map { line in
                line.unicodeScalars.reduce(0) { $0 + (SearchWidth.isWide($1) ? 2 : 1) }
            }.max() ?? 0
        #expect(widest <= 60)
    }

    @Test("--json output parses and carries both languages")
    func json() throws {
        let show = try run("show", "kafka-idempotent-producer", "--json")
        let entry = try JSONSerialization.jsonObject(with: Data(show.standardOutput.utf8)) as? [String: Any]
        let question = entry?["question"] as? [String: String]
        #expect(question?["zh"]?.isEmpty == false)
        #expect(question?["en"]?.isEmpty == false)

        let search = try run("search", "幂等", "--json")
        let report =
            try JSONSerialization.jsonObject(with: Data(search.standardOutput.utf8)) as? [String: Any]
        #expect(report?["match"] as? String == "exact")
        let hits = report?["results"] as? [[String: Any]]
        #expect(hits?.prefix(3).contains { $0["id"] as? String == "kafka-idempotent-producer" } == true)
        // Scores come best first.
        let scores = hits?.compactMap { $0["score"] as? Double } ?? []
        #expect(!scores.isEmpty && scores == scores.sorted(by: >))

        for command in [
            ["topics", "--json"], ["list", "--json"], ["--json"], ["content", "check", "--json"],
        ] {
            let result = try binary.run(command, environment: environment)
            #expect(result.status == 0, "\(command)")
            #expect(throws: Never.self, "\(command)") {
                try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8))
            }
        }
    }

    @Test("search answers questions as people type them, says when it guessed, and explains an empty query")
    func search() throws {
        let chinese = try run("search", "幂等生产者", "--lang", "zh", "--limit", "3")
        #expect(chinese.standardOutput.contains(". kafka-idempotent-producer"))
        let english = try run("search", "unclean")
        #expect(english.standardOutput.hasPrefix("1. kafka-unclean-leader-election"))
        let question = try run("search", "如何保证消息不丢失", "--limit", "3", "--lang", "zh")
        #expect(question.standardOutput.contains("不丢"))
        #expect(question.standardOutput.components(separatedBy: "  message-loss").count - 1 >= 2)
        let typo = try run("search", "kafak acks", "--lang", "en")
        #expect(typo.standardOutput.hasPrefix("Searched for the nearest words: kafak → kafka"))
        let empty = try run("search", "()")
        #expect(empty.status == 64)
        #expect(empty.standardError.hasPrefix("mqproof: nothing searchable"))
        let none = try run("search", "zookeeperless-nonsense", "--lang", "en")
        #expect(none.status == 0)
        #expect(
            none.standardOutput.contains("No exact match") || none.standardOutput.contains("Nothing matches"))
        #expect(none.standardOutput.contains("1. "))
    }

    @Test("show N opens the Nth result of the last search")
    func showByNumber() throws {
        let search = try run("search", "unclean", "--json")
        let report =
            try JSONSerialization.jsonObject(with: Data(search.standardOutput.utf8)) as? [String: Any]
        let second = ((report?["results"] as? [[String: Any]])?[1]["id"] as? String) ?? "?"
        let shown = try run("show", "2", "--json")
        let entry = try JSONSerialization.jsonObject(with: Data(shown.standardOutput.utf8)) as? [String: Any]
        #expect(entry?["id"] as? String == second)
        let beyond = try run("show", "99")
        #expect(beyond.status == 1)
        #expect(beyond.standardError.hasPrefix("mqproof: no result 99 of the last search"))
    }

    @Test("An unknown id fails with one line and suggestions")
    func unknownID() throws {
        let result = try run("show", "kafka-acks-mesage-loss")
        #expect(result.status == 1)
        #expect(
            result.standardError
                == "mqproof: no entry 'kafka-acks-mesage-loss'. Did you mean 'kafka-acks-message-loss'?\n")
        #expect(result.standardOutput.isEmpty)
        let topic = try run("list", "--topic", "message-los")
        #expect(topic.standardError == "mqproof: no topic 'message-los'. Did you mean 'message-loss'?\n")
    }

    @Test("A content directory with a broken file: problems as file:line, the old content still served")
    func brokenContentDirectory() throws {
        #expect(try run("topics").status == 0)  // imports the built-in content
        let root = directory.url.appending(path: "authoring")
        let content = try Fixtures.write(Fixtures.tree(["bad": "id: bad\ntopic: [\n"]), to: root)
        let result = try run("show", "kafka-acks-message-loss", "--content", content.path)
        #expect(result.status == 0)
        #expect(result.standardOutput.contains("acks"))
        #expect(result.standardError.contains("not imported: 1 problem; serving the content imported before"))
        #expect(result.standardError.contains("\(content.path)/entries/bad.yaml:3: YAML:"))

        let check = try run("content", "check", "--content", content.path)
        #expect(check.status == 1)
        #expect(check.standardOutput.hasPrefix("\(content.path)/entries/bad.yaml:3: YAML:"))
    }

    @Test("A good content directory is served instead of the built-in one")
    func previewContentDirectory() throws {
        let content = try Fixtures.write(
            Fixtures.tree(ids: ["draft-entry"]), to: directory.url.appending(path: "draft"))
        let result = try run("list", "--content", content.path)
        #expect(result.status == 0)
        #expect(result.standardOutput.contains("draft-entry"))
        #expect(!result.standardOutput.contains("kafka-acks-message-loss"))
        // Back on the built-in content without --content.
        #expect(try run("list").standardOutput.contains("kafka-acks-message-loss"))
    }

    @Test("A content directory that does not exist fails with one line")
    func missingContentDirectory() throws {
        let result = try run("topics", "--content", "/nonexistent/content")
        #expect(result.status == 1)
        #expect(
            result.standardError
                == "mqproof: /nonexistent/content: not a content directory: no such directory\n")
    }

    @Test("A database path that is not a database: one line, exit 1, the file untouched")
    func badDatabase() throws {
        let path = directory.file("precious.txt")
        try "not a database\n".write(toFile: path, atomically: true, encoding: .utf8)
        let result = try run("topics", "--db", path)
        #expect(result.status == 1)
        #expect(
            result.standardError
                == "mqproof: cannot open the database \(path): the file is not an SQLite database; nothing was changed\n"
        )
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "not a database\n")
    }

    @Test("The default database lives under XDG_DATA_HOME")
    func xdgDataHome() throws {
        let dataHome = directory.url.appending(path: "xdg").path
        let result = try binary.run(
            ["topics"], environment: ["XDG_DATA_HOME": dataHome, "HOME": directory.path])
        #expect(result.status == 0)
        #expect(FileManager.default.fileExists(atPath: dataHome + "/mqproof/mqproof.sqlite"))
    }

    @Test("The binary copied alone to another folder still serves every question")
    func installedAlone() throws {
        let install = directory.url.appending(path: "bin")
        try FileManager.default.createDirectory(at: install, withIntermediateDirectories: true)
        let copy = install.appending(path: "mqproof")
        try FileManager.default.copyItem(at: binary.url, to: copy)
        let result = try BuiltBinary(url: copy).run(
            ["show", "why-introduce-mq"], environment: environment, in: install)
        #expect(result.status == 0)
        #expect(result.standardOutput.contains("why-introduce-mq"))
    }

    @Test("content check passes on the shipped content")
    func contentCheck() throws {
        let result = try run("content", "check")
        #expect(result.status == 0)
        #expect(result.standardOutput.hasPrefix("built-in: OK"))
    }

    @Test("Coverage counts only what an experiment can show; the reason is shown in place of experiments")
    func coverageAndReasons() throws {
        let reason = """
            not_demonstrable:
              zh: 这是问你自己项目的经历，没有可以运行的行为。
              en: This asks about your own project; there is no broker behaviour to run.
            """
        let content = try Fixtures.write(
            Fixtures.tree([
                "proven-entry": Fixtures.entryYAML(id: "proven-entry", experiments: ["K01"]),
                "open-entry": Fixtures.entryYAML(id: "open-entry"),
                "own-entry": Fixtures.entryYAML(id: "own-entry", extra: reason),
            ]), to: directory.url.appending(path: "coverage"))
        let check = try run("content", "check", "--content", content.path, "--lang", "en")
        #expect(check.status == 0)
        #expect(
            check.standardOutput.contains(
                "1 of the 2 entries an experiment can show link an executable proof (50%); 1 have none yet; 1 more say why no experiment can show them"
            ), "\(check.standardOutput)")
        let json = try run("content", "check", "--content", content.path, "--json")
        let report = try JSONSerialization.jsonObject(with: Data(json.standardOutput.utf8)) as? [String: Any]
        #expect(report?["entriesNotDemonstrable"] as? Int == 1)
        #expect(report?["coverage"] as? Double == 0.5)

        let show = try run("show", "own-entry", "--content", content.path, "--lang", "en")
        #expect(show.standardOutput.contains("No experiment can show this: This asks about your own project"))
        #expect(!show.standardOutput.contains("none linked yet"))
        let home = try run("--content", content.path, "--lang", "en")
        // The summary wraps to the terminal's width.
        let summary = home.standardOutput.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        #expect(summary.contains("1 of the 2 that an experiment can show link one"), "\(home.standardOutput)")
    }

    @Test("Shell completions are generated")
    func completions() throws {
        let result = try run("--generate-completion-script", "bash")
        #expect(result.status == 0)
        #expect(result.standardOutput.contains("search"))
    }
}

/// Display width as the terminal sees it, for checking wrapped output from outside the binary.
enum SearchWidth {
    static func isWide(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x1100...0x115F, 0x2E80...0x303E, 0x3041...0x33FF, 0x3400...0x4DBF, 0x4E00...0x9FFF,
            0xAC00...0xD7A3,
            0xF900...0xFAFF, 0xFE30...0xFE4F, 0xFF00...0xFF60, 0xFFE0...0xFFE6:
            true
        default: false
        }
    }
}
