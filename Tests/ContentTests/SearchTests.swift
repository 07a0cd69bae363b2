import Content
import TestSupport
import Testing

@Suite("Search")
struct SearchTests {
    /// Three entries whose texts differ where the queries below probe them.
    static let store: ContentStore = {
        let directory = TemporaryDirectory()
        let tree = Fixtures.tree([
            "kafka-idempotent-producer": Fixtures.entryYAML(id: "kafka-idempotent-producer"),
            "kafka-acks": Fixtures.entryYAML(
                id: "kafka-acks", tags: ["kafka", "acks"], questionZH: "acks=1 为什么会丢已确认的消息？",
                questionEN: "Why can acks=1 lose an acknowledged write?",
                answerZH: "Leader 在 Follower 拉取之前宕机。",
                answerEN: "The leader dies before any follower fetches it."),
            "why-introduce-mq": Fixtures.entryYAML(
                id: "why-introduce-mq", topic: "why-mq", tags: ["decoupling"], questionZH: "为什么要引入消息队列？",
                questionEN: "Why introduce a message queue?", answerZH: "解耦、异步、削峰。",
                answerEN: "Decoupling, asynchronous work and peak shaving."),
        ])
        let store = try! ContentStore(path: directory.file("search.sqlite"))
        _ = try! store.ensureContent(tree, parser: ContentParser(knownExperiments: []))
        // Keep the directory alive as long as the store: it is a static, so for the whole run.
        retained.append(directory)
        return store
    }()
    nonisolated(unsafe) static var retained: [TemporaryDirectory] = []

    /// The results that match what was typed (exactly, or with a typo corrected).
    private func ids(_ text: String) throws -> [String] {
        guard let found = try Self.store.search(text), found.match == .exact || found.match == .corrected
        else { return [] }
        return found.hits.map(\.entry.id)
    }

    @Test(
        "Chinese queries of one, two and more characters find the entries that contain them",
        arguments: [
            ("幂", "kafka-idempotent-producer"), ("幂等", "kafka-idempotent-producer"),
            ("消息丢失", "kafka-acks"),  // only in the topic title: 可靠性与消息丢失
            ("削峰", "why-introduce-mq"), ("引入消息队列", "why-introduce-mq"),
        ])
    func chinese(query: String, expected: String) throws {
        #expect(try ids(query).first == expected)
    }

    @Test("A Chinese phrase matches exactly only where its characters are adjacent and in order")
    func chinesePhraseOrder() throws {
        #expect(try ids("等幂").isEmpty)
        // ... and otherwise the search says so and offers what holds the characters.
        let loose = try #require(try Self.store.search("等幂"))
        #expect(loose.match == .closest)
        #expect(loose.hits.first?.entry.id == "kafka-idempotent-producer")
    }

    @Test("A misspelt English word is read as the nearest indexed word, and the result says so")
    func typoCorrection() throws {
        let found = try #require(try Self.store.search("idempotant producr"))
        #expect(found.match == .corrected)
        #expect(found.hits.first?.entry.id == "kafka-idempotent-producer")
        #expect(found.corrections.map(\.typed) == ["producr"])
        // Nothing near: the loosened search or the starting points, never an empty list.
        let nothing = try #require(try Self.store.search("zzqxj"))
        #expect(!nothing.hits.isEmpty)
        #expect(nothing.match == .closest || nothing.match == .suggested)
    }

    @Test("Question words are dropped and the rest is ORed, so a question finds its answer")
    func questionsAreNotConjunctions() throws {
        let vocabulary = SearchVocabulary(
            synonymGroups: [["削峰", "peak shaving"]], words: ["消息队列"], stopwords: ["为什么", "要", "what", "is"])
        let query = try #require(SearchQuery("为什么要引入消息队列 what is peak shaving", vocabulary: vocabulary))
        #expect(query.concepts.map(\.surface) == ["引入", "消息队列", "peak shaving"])
        // The synonym phrase brings its Chinese twin, in index form.
        #expect(query.concepts[2].alternatives.map(\.tokens).contains(["削峰"]))
        #expect(query.concepts[1].alternatives.first?.tokens == ["消息", "息队", "队列"])
    }

    @Test(
        "English words and prefixes, case-insensitive",
        arguments: [
            ("acks", "kafka-acks"), ("idempot", "kafka-idempotent-producer"), ("PEAK", "why-introduce-mq"),
            ("follower fetches", "kafka-acks"), ("enable.idempotence", "kafka-idempotent-producer"),
        ])
    func english(query: String, expected: String) throws {
        #expect(try ids(query).first == expected)
    }

    @Test("A match in the question ranks above a match only in the answer")
    func bm25Ranking() throws {
        // Every fixture's key points mention the producer; only one question does.
        let hits = try ids("producer")
        #expect(hits.count == 3)
        #expect(hits.first == "kafka-idempotent-producer")
    }

    @Test("Words are ORed and ranked; AND requires both, NOT excludes, quotes make a phrase")
    func operators() throws {
        #expect(try Set(ids("幂等 削峰")) == ["kafka-idempotent-producer", "why-introduce-mq"])
        #expect(try Set(ids("幂等 OR 削峰")) == ["kafka-idempotent-producer", "why-introduce-mq"])
        #expect(try !ids("kafka NOT 幂等").contains("kafka-idempotent-producer"))
        #expect(try ids("\"follower fetches\"") == ["kafka-acks"])
        #expect(try ids("\"fetches follower\"").isEmpty)
        #expect(try ids("acks AND 削峰").isEmpty)
    }

    @Test(
        "Whatever a user types gives results or nothing, never an SQL error",
        arguments: [
            "\"", "\"acks", "acks AND", "AND", "OR OR", "NOT acks", "*", "acks*", "(acks", "acks)", "[幂等]",
            "NEAR(a b)", "col:acks", "a' OR 1=1 --", "^acks", "{acks}", "\\", "-acks", "+", "%", "幂\"等",
        ])
    func hostileInput(text: String) throws {
        if let found = try Self.store.search(text) {
            #expect(!found.hits.isEmpty)
        }
    }

    @Test("Nothing searchable yields no query, so the command can say so")
    func emptyQueries() {
        for text in ["", "   ", "\"\"", "()*", "AND OR NOT"] {
            #expect(SearchQuery(text) == nil, "\(text)")
        }
    }

    @Test("Every token is quoted in the FTS5 expression, and stemmed or paired as the index is")
    func matchExpression() throws {
        let query = try #require(SearchQuery("幂等 idempot OR \"acks all\""))
        #expect(
            query.concepts.flatMap(\.alternatives).map(\.matchExpression) == [
                "\"幂等\"", "\"idempot\"*", "\"ack all\"",
            ])
    }
}

@Suite("Search over the shipped corpus")
struct CorpusSearchTests {
    @Test("Every entry is found in both languages: by its id's words, and by Chinese from its question")
    func everyEntryFindable() throws {
        let directory = TemporaryDirectory()
        let store = try ContentStore(path: directory.file("corpus.sqlite"))
        let parser = ContentParser(knownExperiments: nil)
        _ = try store.ensureContent(ContentFiles.embedded, parser: parser)
        let entries = try parser.parse(ContentFiles.embedded).get().entries
        #expect(entries.count >= 100)
        for entry in entries {
            let english = try #require(try store.search(entry.id, limit: 500)).hits.map(\.entry.id)
            #expect(english.contains(entry.id), "searching '\(entry.id)' misses it")
            // The longest run of adjacent Chinese characters in the question, at most four of them.
            var runs: [String] = [""]
            for scalar in entry.question.zh.unicodeScalars {
                if SearchText.isCJK(scalar) {
                    runs[runs.count - 1].unicodeScalars.append(scalar)
                } else if !runs[runs.count - 1].isEmpty {
                    runs.append("")
                }
            }
            let chinese = String(runs.max { $0.count < $1.count }!.prefix(4))
            let hits = try #require(try store.search(chinese, limit: 500)).hits.map(\.entry.id)
            #expect(hits.contains(entry.id), "searching '\(chinese)' misses \(entry.id)")
        }
    }
}
