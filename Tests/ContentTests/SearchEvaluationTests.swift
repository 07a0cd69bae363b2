import Content
import Foundation
import TestSupport
import Testing
import Yams

/// The search evaluation set (Fixtures/search-eval.yaml): questions and keywords as candidates
/// type them, in both languages, some misspelt, each with the entries that answer it. The test
/// prints recall@1, recall@5 and MRR over the shipped corpus, and fails when they fall below the
/// bar a learner needs: the right answer on the first screen for nine queries in ten.
@Suite("Search evaluation set")
struct SearchEvaluationTests {
    struct Query: Decodable {
        var query: String
        var kind: String
        var lang: String
        var answers: [String]
    }

    struct EvaluationSet: Decodable {
        var queries: [Query]
    }

    static func load() throws -> [Query] {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appending(path: "Fixtures/search-eval.yaml")
        return try YAMLDecoder().decode(EvaluationSet.self, from: String(contentsOf: path, encoding: .utf8))
            .queries
    }

    @Test("Recall@5 is at least 90% and MRR at least 0.8, and no query comes back empty")
    func evaluation() throws {
        let queries = try Self.load()
        #expect(queries.count >= 80)
        let directory = TemporaryDirectory()
        let store = try ContentStore(path: directory.file("eval.sqlite"))
        let parser = ContentParser(knownExperiments: nil)
        _ = try store.ensureContent(ContentFiles.embedded, parser: parser)
        let known = Set(try store.entryIDs())

        var firsts = 0
        var inFive = 0
        var reciprocalRanks = 0.0
        var byKind: [String: (count: Int, inFive: Int)] = [:]
        var misses: [String] = []
        for item in queries {
            for answer in item.answers {
                #expect(known.contains(answer), "'\(item.query)' names an unknown entry \(answer)")
            }
            let found = try #require(
                try store.search(item.query, limit: 10), "'\(item.query)' is not searchable")
            #expect(!found.hits.isEmpty, "'\(item.query)' found nothing")
            let ids = found.hits.map(\.entry.id)
            let rank = ids.firstIndex { item.answers.contains($0) }.map { $0 + 1 }
            if rank == 1 { firsts += 1 }
            if let rank, rank <= 5 {
                inFive += 1
                byKind[item.kind, default: (0, 0)].inFive += 1
            } else {
                misses.append("\(item.query) -> \(ids.prefix(3).joined(separator: ", "))")
            }
            byKind[item.kind, default: (0, 0)].count += 1
            reciprocalRanks += rank.map { 1 / Double($0) } ?? 0
        }
        let count = Double(queries.count)
        let recall1 = Double(firsts) / count
        let recall5 = Double(inFive) / count
        let mrr = reciprocalRanks / count
        print(
            "search evaluation: \(queries.count) queries, recall@1 \(Self.format(recall1)), "
                + "recall@5 \(Self.format(recall5)), MRR \(Self.format(mrr))")
        for (kind, tally) in byKind.sorted(by: { $0.key < $1.key }) {
            print("  \(kind): \(tally.inFive) of \(tally.count) in the top 5")
        }
        #expect(recall5 >= 0.9, "recall@5 \(recall5); not in the top 5:\n\(misses.joined(separator: "\n"))")
        #expect(mrr >= 0.8, "MRR \(mrr)")
    }

    private static func format(_ value: Double) -> String {
        String(format: "%.3f", value)
    }
}
