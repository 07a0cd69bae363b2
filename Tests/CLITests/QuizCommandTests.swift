import Foundation
import GRDB
import TestSupport
import Testing

/// The quiz through the built binary: scripted sessions, progress files, kill -9, two reviewers.
@Suite("mqproof quiz")
struct QuizCommandTests {
    let directory = TemporaryDirectory()
    let binary = BuiltBinary.mqproof

    var environment: [String: String] {
        [
            "MQPROOF_DB": directory.file("quiz.sqlite"), "HOME": directory.path, "LANG": "C.UTF-8",
            "COLUMNS": "120",
        ]
    }

    func reviewCount() throws -> Int {
        try DatabaseQueue(path: directory.file("quiz.sqlite")).read { db in
            try Int.fetchOne(db, sql: "SELECT count(*) FROM review_log") ?? -1
        }
    }

    @Test("A scripted session: recall graded 3, a choice, a true/false, undo, quit; every answer stored")
    func scriptedSession() throws {
        let result = try binary.run(
            ["quiz", "--lang", "en"], environment: environment, input: "my answer\n3\n1\nt\nu\nf\nq\n")
        #expect(result.status == 0)
        #expect(result.standardOutput.contains("1 Again 1m · 2 Hard 6m · 3 Good 10m"))
        #expect(result.standardOutput.contains("Undid the last answer ("))
        #expect(result.standardOutput.contains("3 answers"))
        #expect(try reviewCount() == 3)
        // The next session sees those cards as learning cards.
        let again = try binary.run(["stats", "--json"], environment: environment)
        let stats = try JSONSerialization.jsonObject(with: Data(again.standardOutput.utf8)) as? [String: Any]
        #expect((stats?["cards"] as? [String: Int])?["learning"] == 3)
        #expect(stats?["reviewsToday"] as? Int == 3)
        #expect(stats?["streakDays"] as? Int == 1)
    }

    @Test("Progress export and import round-trip; a bad file changes nothing and says why")
    func progressFiles() throws {
        _ = try binary.run(["quiz"], environment: environment, input: "\n3\n1\nq\n")
        let file = directory.file("progress.json")
        #expect(try binary.run(["progress", "export", file], environment: environment).status == 0)
        let bad = directory.file("bad.json")
        try #"{"format": 1, "cards": [], "reviews": [{"cardID": "x"}], "settings": {}}"#.write(
            toFile: bad, atomically: true, encoding: .utf8)
        let refused = try binary.run(["progress", "import", bad], environment: environment)
        #expect(refused.status == 1)
        #expect(refused.standardError.contains("not a progress export: missing 'rating'"))
        #expect(refused.standardError.contains("nothing was changed"))
        #expect(try reviewCount() == 2)
        #expect(try binary.run(["progress", "import", file], environment: environment).status == 0)
        #expect(try reviewCount() == 2)
    }

    @Test("kill -9 in the middle of a session keeps every answer before the card on screen")
    func killNine() throws {
        let process = Process()
        process.executableURL = binary.url
        process.arguments = ["quiz", "--lang", "en"]
        process.environment = environment
        let input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        var seen = ""
        func waitFor(_ count: Int) {
            while seen.components(separatedBy: "Next in").count - 1 < count {
                let data = output.fileHandleForReading.availableData
                if data.isEmpty { break }
                seen += String(decoding: data, as: UTF8.self)
            }
        }
        for (index, line) in ["\n", "3\n", "1\n", "t\n"].enumerated() {
            input.fileHandleForWriting.write(Data(line.utf8))
            if index > 0 { waitFor(index) }
        }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        #expect(try reviewCount() == 3)
        let check = try DatabaseQueue(path: directory.file("quiz.sqlite")).read { db in
            try String.fetchOne(db, sql: "PRAGMA integrity_check")
        }
        #expect(check == "ok")
    }

    @Test("Two reviewers at once: nothing corrupted, no answer lost")
    func twoReviewers() throws {
        _ = try binary.run(["topics"], environment: environment)  // import content first
        // Lines of "", "1" and "t" answer whatever comes: a recall card takes any line as the
        // typed answer and 1 as its grade, a choice card skips the t, a true/false card the 1.
        let script = String(repeating: "\n1\nt\n", count: 12) + "q\n"
        let first = Process()
        let second = Process()
        for process in [first, second] {
            process.executableURL = binary.url
            process.arguments = ["quiz"]
            process.environment = environment
            let input = Pipe()
            process.standardInput = input
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            input.fileHandleForWriting.write(Data(script.utf8))
            try input.fileHandleForWriting.close()
        }
        first.waitUntilExit()
        second.waitUntilExit()
        #expect(first.terminationStatus == 0)
        #expect(second.terminationStatus == 0)
        #expect(try reviewCount() >= 20)
        let check = try DatabaseQueue(path: directory.file("quiz.sqlite")).read { db in
            try String.fetchOne(db, sql: "PRAGMA integrity_check")
        }
        #expect(check == "ok")
    }
}

@Suite("mqproof export")
struct ExportCommandTests {
    let directory = TemporaryDirectory()
    let binary = BuiltBinary.mqproof

    var environment: [String: String] {
        ["MQPROOF_DB": directory.file("export.sqlite"), "HOME": directory.path]
    }

    /// The entries of a stored (uncompressed) ZIP archive.
    func unzip(_ data: Data) -> [String: Data] {
        var entries: [String: Data] = [:]
        var offset = 0
        func read16(_ at: Int) -> Int { Int(data[at]) | Int(data[at + 1]) << 8 }
        func read32(_ at: Int) -> Int { read16(at) | read16(at + 2) << 16 }
        while offset + 30 <= data.count, read32(offset) == 0x0403_4b50 {
            let size = read32(offset + 18)
            let nameLength = read16(offset + 26)
            let extra = read16(offset + 28)
            let name = String(decoding: data[(offset + 30)..<(offset + 30 + nameLength)], as: UTF8.self)
            let start = offset + 30 + nameLength + extra
            entries[name] = data[start..<(start + size)]
            offset = start + size
        }
        return entries
    }

    @Test("The Anki package holds one note per question, with guids stable across exports")
    func ankiPackage() throws {
        var guids: [[String]] = []
        for attempt in 1...2 {
            let file = directory.file("deck\(attempt).apkg")
            let result = try binary.run(["export", "anki", file], environment: environment)
            #expect(result.status == 0)
            let entries = unzip(try Data(contentsOf: URL(fileURLWithPath: file)))
            #expect(entries["media"] == Data("{}".utf8))
            let database = directory.file("collection\(attempt).anki2")
            try #require(entries["collection.anki2"]).write(to: URL(fileURLWithPath: database))
            let queue = try DatabaseQueue(path: database)
            guids.append(
                try queue.read { db in try String.fetchAll(db, sql: "SELECT guid FROM notes ORDER BY guid") })
            #expect(try queue.read { db in try Int.fetchOne(db, sql: "SELECT ver FROM col") } == 11)
        }
        let list = try binary.run(["list", "--json"], environment: environment)
        let questions = try JSONSerialization.jsonObject(with: Data(list.standardOutput.utf8)) as? [Any]
        #expect(guids[0].count == questions?.count)
        #expect(Set(guids[0]).count == guids[0].count)
        #expect(guids[0] == guids[1])
    }

    @Test("The Anki export honours --lang: an English deck carries no Chinese")
    func ankiLanguage() throws {
        let file = directory.file("en.apkg")
        #expect(
            try binary.run(["export", "anki", file, "--lang", "en"], environment: environment).status == 0)
        let entries = unzip(try Data(contentsOf: URL(fileURLWithPath: file)))
        let database = directory.file("en.anki2")
        try #require(entries["collection.anki2"]).write(to: URL(fileURLWithPath: database))
        let fields = try DatabaseQueue(path: database).read { db in
            try String.fetchAll(db, sql: "SELECT flds FROM notes")
        }
        #expect(!fields.isEmpty)
        let front = fields.map { $0.split(separator: "\u{1F}").first.map(String.init) ?? "" }
        #expect(!front.contains { $0.unicodeScalars.contains { (0x4E00...0x9FFF).contains($0.value) } })
        // Markdown is rendered: no raw table pipes or backticks reach a card.
        #expect(!fields.contains { $0.contains("|---") || $0.contains("`") })
        #expect(fields.contains { $0.contains("<table>") })
    }

    @Test("CSV export quotes every field")
    func csv() throws {
        let result = try binary.run(["export", "csv", "-"], environment: environment)
        #expect(result.status == 0)
        #expect(result.standardOutput.hasPrefix("\"id\",\"topic\",\"difficulty\",\"tags\""))
        #expect(result.standardOutput.contains("\"kafka-acks-message-loss\",\"message-loss\""))
    }
}

extension QuizCommandTests {
    @Test("Undo reverses exactly the last answer: its log row and its card's state, nothing else")
    func undoIsExact() throws {
        let result = try binary.run(
            ["quiz", "--lang", "en"], environment: environment, input: "my answer\n3\n1\nt\nu\nq\n")
        let output = result.standardOutput
        guard
            let undone = output.range(of: #"Undid the last answer \(([^)]+)\)"#, options: .regularExpression)
        else {
            Issue.record("no undo line in: \(output)")
            return
        }
        let cardID = String(output[undone].dropFirst("Undid the last answer (".count).dropLast())
        let rows = try DatabaseQueue(path: directory.file("quiz.sqlite")).read { db in
            (
                try String.fetchAll(db, sql: "SELECT card_id FROM review_log ORDER BY id"),
                try String.fetchAll(db, sql: "SELECT card_id FROM card_state ORDER BY card_id")
            )
        }
        // Three answers, the last undone: two remain, and the undone card is new again.
        #expect(rows.0.count == 2)
        #expect(!rows.0.contains(cardID))
        #expect(!rows.1.contains(cardID))
        #expect(Set(rows.1) == Set(rows.0))
    }
}
