import Content
import Simulation
import TestSupport
import Testing

/// Seeded fuzzing of search over the shipped corpus: whatever is typed (operators, quotes,
/// control characters, emoji, thousands of words) ends in results or in "nothing searchable",
/// never an error, a crash or an empty screen.
@Suite("Fuzz: search queries")
struct SearchFuzzTests {
    static let pieces = [
        "kafka", "acks", "幂等", "消息", "丢失", "AND", "OR", "NOT", "\"", "“", "”", "(", ")", "*", "^", ":", "-",
        "+",
        "NEAR(", "\u{0}", "\u{7}", "\u{1B}[31m", "\u{202E}", "🙂", "é", "ǅ", "한국", "カタカナ", "'", ";", "--",
        "\\",
        "min.insync.replicas", "x-delivery-count", "9223372036854775807", "kafak", "如何", "为什么", " ", "\t",
        "\n",
    ]

    @Test("1,000 random queries: results or nothing searchable, never an error or an empty list")
    func queries() throws {
        let directory = TemporaryDirectory()
        let store = try ContentStore(path: directory.file("fuzz.sqlite"))
        _ = try store.ensureContent(ContentFiles.embedded, parser: ContentParser(knownExperiments: nil))
        var random = SeededRandom(seed: 0x5EA2_C4)
        var searchable = 0
        for number in 0..<1_000 {
            let length = random.chance(1, in: 50) ? random.next(in: 500...3_000) : random.next(in: 1...12)
            var query = ""
            for _ in 0..<length {
                query += Self.pieces[random.next(in: 0...(Self.pieces.count - 1))]
                if random.chance(1, in: 2) { query += " " }
            }
            guard let found = try store.search(query, limit: 5) else { continue }
            searchable += 1
            #expect(!found.hits.isEmpty, "case \(number): \(query.prefix(80))")
        }
        print("fuzz: 1000 search queries, \(searchable) searchable, each with results")
        #expect(searchable > 800)
    }
}
