import Content
import TestSupport
import Testing

@Suite("Content parser")
struct ParserTests {
    let parser = ContentParser(knownExperiments: ["EXP-K01"])

    private func problems(_ tree: ContentFiles) -> [String] {
        switch parser.parse(tree) {
        case .success: []
        case .failure(let failure): failure.problems.map(\.description)
        }
    }

    @Test("A valid entry parses with both languages, its quiz items and its seed heading")
    func validEntry() throws {
        let set = try parser.parse(Fixtures.tree(ids: ["kafka-idempotence"])).get()
        let entry = try #require(set.entries.first)
        #expect(entry.question.zh == "幂等生产者能去掉哪些重复？")
        #expect(entry.question.en == "Which duplicates does the idempotent producer remove?")
        #expect(entry.answer.zh == "它只去掉**同一个生产者会话**里重试造成的重复。")
        #expect(entry.seed == "Kafka / 消息重复如何解决")
        #expect(entry.keyPoints.en.count == 2)
        #expect(entry.quiz.count == 2)
        #expect(
            entry.quiz[1].kind
                == .choice(
                    options: [Localized(zh: "1", en: "1"), Localized(zh: "5", en: "5")], correctIndex: 1))
        #expect(set.topics.map(\.id) == ["why-mq", "message-loss"])
    }

    @Test("Every problem is reported with its file and line, not just the first")
    func problemsWithLines() {
        let broken = Fixtures.entryYAML(
            id: "broken", topic: "nowhere", experiments: ["EXP-NOPE"], extra: "key_point: typo")
        let found = problems(Fixtures.tree(["broken": broken]))
        #expect(
            found.contains(
                "content/entries/broken.yaml:2: unknown topic 'nowhere' (topics.yaml has: message-loss, why-mq)"
            ))
        #expect(
            found.contains { $0.hasPrefix("content/entries/broken.yaml:24: unknown experiment 'EXP-NOPE'") })
        #expect(
            found.contains {
                $0.hasPrefix("content/entries/broken.yaml:") && $0.hasSuffix(": unknown field 'key_point'")
            })
        #expect(found.count == 3)
    }

    @Test("The id must match the file name and be kebab-case")
    func idRules() {
        #expect(
            problems(Fixtures.tree(["other-name": Fixtures.entryYAML(id: "some-id")])) == [
                "content/entries/other-name.yaml:1: id 'some-id' does not match the file name 'other-name.yaml'"
            ])
        #expect(
            problems(Fixtures.tree(["Bad_Id": Fixtures.entryYAML(id: "Bad_Id")])) == [
                "content/entries/Bad_Id.yaml:1: 'id' must be kebab-case (like kafka-acks), not 'Bad_Id'"
            ])
    }

    @Test("A YAML syntax error gives the line libyaml found it on")
    func yamlSyntax() {
        let text = Fixtures.entryYAML(id: "syntax").replacingOccurrences(
            of: "difficulty: 2", with: "difficulty: [2")
        let found = problems(Fixtures.tree(["syntax": text]))
        #expect(found.count == 1)
        #expect(found.first?.hasPrefix("content/entries/syntax.yaml:") == true)
        #expect(found.first?.contains("YAML:") == true)
    }

    @Test("Missing fields are named; a swapped language is caught")
    func missingAndSwapped() {
        let text = Fixtures.entryYAML(id: "gaps", questionZH: "What is idempotence?")
            .replacingOccurrences(of: "difficulty: 2\n", with: "")
        #expect(
            problems(Fixtures.tree(["gaps": text])) == [
                "content/entries/gaps.yaml:1: missing field 'difficulty'",
                "content/entries/gaps.yaml:6: 'question.zh' has no Chinese in it",
            ])
    }

    @Test("A choice item needs exactly one correct option")
    func choiceNeedsOneCorrect() {
        let text = Fixtures.entryYAML(id: "two-correct").replacingOccurrences(
            of: "      - zh: \"1\"\n        en: \"1\"\n",
            with: "      - zh: \"1\"\n        en: \"1\"\n        correct: true\n")
        let found = problems(Fixtures.tree(["two-correct": text]))
        #expect(
            found == [
                "content/entries/two-correct.yaml:34: a choice item needs exactly one option with 'correct: true', not 2"
            ])
    }

    @Test("Control characters are refused: content must not drive the terminal")
    func controlCharacters() {
        let text = Fixtures.entryYAML(id: "escape", answerEN: "Looks harmless\u{1B}[2J")
        #expect(
            problems(Fixtures.tree(["escape": text])) == [
                "content/entries/escape.yaml:13: control character in the text (only newlines are allowed)"
            ])
    }

    @Test("An unquoted value that a ' #' cuts short is a problem; quoted, the same text is fine")
    func commentCutsValue() throws {
        let cut = Fixtures.entryYAML(id: "cut").replacingOccurrences(
            of: "version: Kafka 3.9\n", with: "version: Kafka 3.9 #fixed in PR 1516\n")
        let lines = cut.split(separator: "\n", omittingEmptySubsequences: false)
        let line = try #require(lines.firstIndex { $0.contains("#fixed") }) + 1
        #expect(
            problems(Fixtures.tree(["cut": cut])) == [
                "content/entries/cut.yaml:\(line): ' #' starts a YAML comment, so the text after it is dropped: quote the value or use a block (|)"
            ])
        let quoted = Fixtures.entryYAML(id: "quoted").replacingOccurrences(
            of: "version: Kafka 3.9\n", with: "version: \"Kafka 3.9 #fixed in PR 1516\"\n")
        #expect(quoted.contains("#fixed"))
        #expect(problems(Fixtures.tree(["quoted": quoted])).isEmpty)
        // A '#' that does not follow whitespace is part of the value.
        let anchor = Fixtures.entryYAML(id: "anchor")
        #expect(anchor.contains("documentation/#producerconfigs"))
        #expect(problems(Fixtures.tree(["anchor": anchor])).isEmpty)
    }

    @Test("A seed heading that the seed document does not have is a problem")
    func unknownSeedHeading() {
        let text = Fixtures.entryYAML(id: "seedless").replacingOccurrences(
            of: "Kafka / 消息重复如何解决", with: "Kafka / 不存在")
        #expect(
            problems(Fixtures.tree(["seedless": text])) == [
                "content/entries/seedless.yaml:5: 'seed' names no heading of the seed document: 'Kafka / 不存在'"
            ])
    }

    @Test("Seed headings: top level as written, sub-headings with their parent, fences ignored")
    func seedHeadings() {
        let headings = ContentParser.headings(
            ofSeed: "# 为什么\n\n```\n# not a heading\n```\n# Kafka\n\n## 消息丢失如何解决\n")
        #expect(headings == ["为什么", "Kafka", "Kafka / 消息丢失如何解决"])
    }

    @Test("The built-in content is valid (experiment links are checked end to end, where the catalogue is)")
    func builtInContentIsValid() throws {
        let tree = ContentFiles.embedded
        #expect(tree.files.contains { $0.role == .seed })
        let set = try ContentParser(knownExperiments: nil).parse(tree).get()
        #expect(set.topics.count == 12)
        #expect(set.entries.contains { $0.id == "kafka-acks-message-loss" })
    }
}
