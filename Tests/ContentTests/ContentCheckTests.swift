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
