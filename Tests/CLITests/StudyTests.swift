import Foundation
import TestSupport
import Testing

/// The study path: read, run the proof, quiz the cards, one `mqproof study` at a time.
@Suite("mqproof study")
struct StudyTests {
    let directory = TemporaryDirectory()
    let binary = BuiltBinary.mqproof

    var environment: [String: String] {
        [
            "MQPROOF_DB": directory.file("study.sqlite"), "HOME": directory.path, "LANG": "C.UTF-8",
            "COLUMNS": "100", "NO_COLOR": "1",
        ]
    }

    func run(_ arguments: [String], input: String = "") throws -> BuiltBinary.Result {
        try binary.run(arguments, environment: environment, input: input)
    }

    func next(_ extra: [String] = []) throws -> [String: Any] {
        let result = try run(["study", "--json"] + extra)
        return try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any]
            ?? [:]
    }

    @Test("The path starts where the seed document does, then walks read, proof, quiz")
    func walk() throws {
        let first = try next()
        #expect(first["entry"] as? String == "why-introduce-mq")
        #expect(first["step"] as? String == "read")
        #expect(first["position"] as? Int == 1)
        #expect(first["total"] as? Int == 118)

        // An answer with a proof: read it, run the proof, then quiz its cards.
        let entry = ["--entry", "kafka-acks-message-loss"]
        let read = try run(["study", "--lang", "en"] + entry)
        #expect(read.status == 0)
        #expect(read.standardOutput.contains("What do acks=0, 1 and all"))
        #expect(
            read.standardOutput.contains(
                "Next: mqproof study --entry kafka-acks-message-loss (run its proof, K00)"))
        #expect(try next(entry)["step"] as? String == "proof")
        let proof = try run(["study", "--lang", "en"] + entry)
        #expect(proof.standardOutput.contains("Proof     K00 (hazard)"))
        #expect(proof.standardOutput.contains("This answer's other proofs: mqproof run K01"))
        #expect(proof.standardOutput.contains("Verdict: the scenario came out as expected."))
        let quizStep = try next(entry)
        #expect(quizStep["step"] as? String == "quiz")
        #expect(quizStep["proofRun"] as? Bool == true)
        let cards = quizStep["cards"] as? Int ?? 0
        #expect(cards >= 3)
        // Answer every card of this entry (the pattern answers any card kind; see QuizCommandTests).
        let quiz = try run(
            ["study", "--lang", "en"] + entry,
            input: String(repeating: "\n3\nt\n1\n", count: cards * 2) + "q\n")
        #expect(quiz.standardOutput.contains(" · message-loss"))
        #expect(!quiz.standardOutput.contains("why-introduce-mq · why-mq"))
        let done = try next(entry)
        #expect(done["cardsAnswered"] as? Int == cards)
        #expect(done["step"] as? String == "done")

        // The path as a whole still starts at the first unfinished question.
        #expect(try next()["entry"] as? String == "why-introduce-mq")
        let path = try run(["study", "--path", "--lang", "en"]).standardOutput
        #expect(path.contains("RPQ  kafka-acks-message-loss"))
        #expect(path.contains("why-introduce-mq  ← you are here") || path.contains("why-introduce-mq "))
    }

    @Test("The home screen shows what is due, new cards left, and the next step")
    func home() throws {
        let home = try run(["--lang", "en"]).standardOutput
        #expect(home.contains("0 reviews due · 20 new cards left today"))
        #expect(home.contains("Next step  read the answer: Why would you put a message queue"))
        #expect(home.contains("mqproof study"))
        _ = try run(["quiz", "--lang", "en"], input: "my answer\n3\n1\nt\nq\n")
        let json = try run(["--json"]).standardOutput
        let report = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]
        let today = report?["today"] as? [String: Int]
        #expect(today?["newLeft"] == 17)
        #expect((today?["due"] ?? 0) >= 1)
        let chinese = try run(["--lang", "zh"]).standardOutput
        #expect(chinese.contains("今天还可学新卡 17 张"))
        #expect(chinese.contains("下一步  阅读答案：为什么要在系统里引入消息队列？"))
    }

    @Test("New quiz cards come in the study path's order")
    func quizOrder() throws {
        let quiz = try run(["quiz", "--lang", "en"], input: "q\n").standardOutput
        #expect(quiz.contains("why-introduce-mq · why-mq"))
    }

    @Test("Study marks travel with a progress export, and an import merges them")
    func marksInProgressFiles() throws {
        _ = try run(["study"])
        let file = directory.file("progress.json")
        #expect(try run(["progress", "export", file]).status == 0)
        let text = try String(contentsOfFile: file, encoding: .utf8)
        #expect(text.contains("\"study\""))
        #expect(text.contains("why-introduce-mq"))
        let other = directory.file("other.sqlite")
        let imported = try binary.run(
            ["progress", "import", file], environment: environment.merging(["MQPROOF_DB": other]) { $1 })
        #expect(imported.status == 0)
        let moved = try binary.run(
            ["study", "--json"], environment: environment.merging(["MQPROOF_DB": other]) { $1 })
        #expect(moved.standardOutput.contains("\"read\" : true"))
    }
}
