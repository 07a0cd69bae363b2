import Content
import TestSupport
import Testing

@Suite("Content check: causes first, and a deck that cannot be guessed")
struct ContentCheckTests {
    let parser = ContentParser(knownExperiments: nil)

    @Test("A broken topics.yaml is reported first, then how many entries it kept from being checked")
    func brokenTopicsLeads() throws {
        let tree = Fixtures.tree(
            Dictionary(
                uniqueKeysWithValues: ["a-entry", "b-entry", "c-entry"].map {
                    ($0, Fixtures.entryYAML(id: $0))
                }),
            topics: "- id: why-mq\n  group: [A\n")
        guard case .failure(let failure) = parser.parse(tree) else {
            Issue.record("a broken topics.yaml must fail")
            return
        }
        #expect(failure.problems.first?.file == "content/topics.yaml")
        #expect(failure.problems.last?.reason == "3 entries skipped because topics.yaml is broken")
        #expect(!failure.problems.contains { $0.reason.contains("unknown topic") })
    }

    @Test("An entry says why no experiment can show it, in Chinese and English, and only without experiments")
    func notDemonstrable() throws {
        let reason = """
            not_demonstrable:
              zh: 这是问你自己项目的经历，没有可以运行的行为。
              en: This asks about your own project; there is no broker behaviour to run.
            """
        let entry = try parser.parse(Fixtures.tree(["own": Fixtures.entryYAML(id: "own", extra: reason)]))
            .get()
            .entries[0]
        #expect(
            entry.notDemonstrable?.en
                == "This asks about your own project; there is no broker behaviour to run.")

        let both = Fixtures.entryYAML(id: "both", experiments: ["K01"], extra: reason)
        guard case .failure(let contradiction) = parser.parse(Fixtures.tree(["both": both])) else {
            Issue.record("an entry with experiments and a reason why none can show it was accepted")
            return
        }
        #expect(
            contradiction.problems.map(\.reason) == [
                "'not_demonstrable' and 'experiments' contradict each other: keep the experiments or the reason"
            ])

        let english = Fixtures.entryYAML(
            id: "english",
            extra: reason.replacingOccurrences(of: "这是问你自己项目的经历，没有可以运行的行为。", with: "own project"))
        guard case .failure(let noChinese) = parser.parse(Fixtures.tree(["english": english])) else {
            Issue.record("a reason with no Chinese in its zh was accepted")
            return
        }
        #expect(noChinese.problems.map(\.reason) == ["'not_demonstrable.zh' has no Chinese in it"])
    }

    @Test("The deck warns when true-false items lean one way or the correct option is the longest")
    func balanceWarnings() throws {
        // The fixture entry has one true-false item, false, and a choice of "1" or "5" (correct).
        let leaning = QuizBalance(try parser.parse(Fixtures.tree(ids: ["tf"])).get().entries)
        #expect(
            leaning.warnings == [
                "0 of 1 true-false items are true (0%): keep it within 35-65%, or always answering one way passes"
            ])
        let longestYAML = Fixtures.entryYAML(id: "ch").replacingOccurrences(
            of: "\"5\"", with: "\"the last five\"")
        let longest = QuizBalance(try parser.parse(Fixtures.tree(["ch": longestYAML])).get().entries)
        #expect(longest.warnings.filter { $0.contains("the correct option is the longest") }.count == 2)
        // The shipped deck is balanced.
        let shipped = QuizBalance(try parser.parse(ContentFiles.embedded).get().entries)
        #expect(shipped.warnings.isEmpty, "\(shipped.warnings)")
    }
}

@Suite("Study path file")
struct StudyPathFileTests {
    let parser = ContentParser(knownExperiments: nil)

    func parse(_ path: String, ids: [String] = ["a-entry", "b-entry"]) -> Result<ContentSet, ContentProblems>
    {
        var tree = Fixtures.tree(ids: ids)
        tree.files.append(.init(path: "content/study-path.yaml", role: .studyPath, text: path))
        return parser.parse(ContentFiles(origin: tree.origin, files: tree.files))
    }

    @Test("A valid path is read in order, comments after ids allowed")
    func valid() throws {
        let set = try parse(
            """
            - stage: first
              title: {zh: 先看这个, en: Start here}
              entries:
                - b-entry     # B1 (4)
            - stage: then
              title: {zh: 然后, en: Then}
              entries: [a-entry]
            """
        ).get()
        #expect(set.studyPath.order == ["b-entry", "a-entry"])
        #expect(set.studyPath.stages.map(\.id) == ["first", "then"])
    }

    @Test("Unknown, repeated and missing entries are each reported with their line")
    func problems() {
        guard
            case .failure(let failure) = parse(
                """
                - stage: first
                  title: {zh: 先看这个, en: Start here}
                  entries:
                    - a-entry
                    - a-entry
                    - no-such-entry
                """)
        else {
            Issue.record("a path with problems must fail")
            return
        }
        let reasons = failure.problems.map(\.reason)
        #expect(reasons.contains("entry 'a-entry' is already on the path (line 4)"))
        #expect(reasons.contains("unknown entry 'no-such-entry'"))
        #expect(reasons.contains("entry 'b-entry' is not on the study path: add it to a stage"))
        #expect(failure.problems.contains { $0.line == 6 && $0.reason.contains("no-such-entry") })
    }

    @Test("A title cut by a comment is still refused")
    func cutTitle() {
        guard
            case .failure(let failure) = parse(
                """
                - stage: first
                  title:
                    zh: 先看这个
                    en: Start here #1
                  entries: [a-entry, b-entry]
                """)
        else {
            Issue.record("a cut title must fail")
            return
        }
        #expect(failure.problems.contains { $0.reason.contains("starts a YAML comment") })
    }

    @Test("Without a study-path file, the seed's entries come first, then the topics in order")
    func fallback() throws {
        let set = try parser.parse(Fixtures.tree(ids: ["a-entry", "b-entry"])).get()
        #expect(Set(set.studyPath.order) == ["a-entry", "b-entry"])
    }

    @Test("The shipped path holds every shipped entry once, the seed's five first")
    func shipped() throws {
        let set = try ContentParser(knownExperiments: nil).parse(.embedded).get()
        #expect(set.studyPath.order.count == set.entries.count)
        #expect(Set(set.studyPath.order) == Set(set.entries.map(\.id)))
        #expect(set.studyPath.stages.first?.entries.first == "why-introduce-mq")
        let seeded = Set(set.entries.filter { $0.seed != nil }.map(\.id))
        #expect(Set(set.studyPath.stages.first?.entries ?? []) == seeded)
    }
}
