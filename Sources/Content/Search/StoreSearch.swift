import Foundation
import GRDB

// Theory of operation
//
// FTS5 finds and weighs; Swift combines. Each alternative of each concept (SearchQuery) is one
// MATCH of one phrase, scored by FTS5's bm25 with the question weighing most, then the tags and
// topic words, the key points, and the answer least. An entry's score for a concept is its best
// alternative's, and its score for the query is the sum over concepts, so synonyms widen what is
// found without multiplying the weight of a concept.
//
// A search never ends empty-handed. An English word the index does not know is corrected to
// the indexed words nearest by edit distance (kafak -> kafka) before anything runs. When even
// then nothing matches, the search loosens: each Chinese character alone, and English words
// further away. When that finds nothing either, it offers where a learner starts. The result
// says which of these happened, so the screen can say "no exact match".

extension ContentStore {
    /// How closely the results match what was typed.
    public enum SearchMatch: String, Codable, Equatable, Sendable {
        /// Every word was found as typed (or as one of its synonyms).
        case exact
        /// Some English word was not in the index and was read as the nearest one that is.
        case corrected
        /// Nothing matched; these match single characters or far-off words of the query.
        case closest
        /// Nothing matched at all; these are where a learner starts.
        case suggested
    }

    /// A typed word that the index does not hold, and the indexed words searched instead.
    public struct Correction: Codable, Equatable, Sendable {
        public var typed: String
        public var searched: [String]
    }

    /// One search result, best first.
    public struct SearchHit: Codable, Equatable, Sendable {
        public var entry: EntrySummary
        /// The sum over the query's concepts of their best bm25 score: higher is better.
        public var score: Double
    }

    public struct SearchResults: Sendable {
        public var query: SearchQuery
        public var hits: [SearchHit]
        public var match: SearchMatch
        public var corrections: [Correction]
        /// The words to highlight in what is shown.
        public var highlights: [String]
    }

    /// Searches both languages for what a user typed. Nil when the text holds nothing to search
    /// for (only punctuation, say).
    public func search(_ text: String, limit: Int = 20) throws(StoreError) -> SearchResults? {
        try reading { db in
            let lexicon = try StoredLexicon(db)
            guard let query = SearchQuery(text, lexicon: lexicon) else { return nil }
            var corrected = query
            var corrections: [Correction] = []
            for (index, concept) in query.concepts.enumerated() {
                guard let word = concept.typedWord, word.count >= 4, !word.allSatisfy(\.isNumber),
                    try !IndexedTerms.knows(Stemmer.stem(word), db)
                else { continue }
                let allowed = word.count >= 8 ? 2 : 1
                // A synonym the vocabulary knows brings its whole group; else the nearest
                // indexed words.
                if let known = EditDistance.nearest(
                    to: word,
                    among: lexicon.englishTerms(lengths: (word.count - allowed)...(word.count + allowed)),
                    within: allowed
                )
                .first {
                    let synonyms = SearchQuery.concept(known, typed: nil, lexicon: lexicon)
                    corrected.concepts[index].alternatives += synonyms.alternatives
                    corrected.concepts[index].highlights += synonyms.highlights
                    corrections.append(Correction(typed: word, searched: [known]))
                    continue
                }
                let near = try IndexedTerms.nearest(to: Stemmer.stem(word), within: allowed, db)
                guard !near.isEmpty else { continue }
                corrected.concepts[index].alternatives += near.map { .init(tokens: [$0], isPrefix: false) }
                corrected.concepts[index].highlights += near
                corrections.append(Correction(typed: word, searched: near))
            }
            var hits = try Self.rank(corrected, products: lexicon.products, limit: limit, db)
            var match: SearchMatch = corrections.isEmpty ? .exact : .corrected
            if hits.isEmpty {
                let loosened = try Self.loosened(corrected, db)
                hits = try Self.rank(loosened, products: lexicon.products, limit: limit, db)
                corrected = loosened
                match = .closest
            }
            if hits.isEmpty {
                hits = try Self.startingPoints(limit: limit, db)
                match = .suggested
            }
            return SearchResults(
                query: query, hits: hits, match: match, corrections: corrections,
                highlights: corrected.highlights)
        }
    }

    /// What a match through a synonym is worth against the word as typed.
    static let synonymWeight = 0.8

    /// Question, tags and topic words, key points, answer: what a match in each is worth.
    private static let columnWeights = "0.0, 10.0, 3.0, 1.0, 6.0"

    private static func rank(_ query: SearchQuery, products: [String], limit: Int, _ db: Database) throws
        -> [SearchHit]
    {
        // count(*) on the FTS table would read every row; the entry table has one row per entry.
        let entryCount = Double(try Int.fetchOne(db, sql: "SELECT count(*) FROM entry") ?? 0)
        // A phrase can stand in several concepts (a word and its synonym group): match it once.
        var matched: [String: [(id: String, score: Double)]] = [:]
        var total: [String: Double] = [:]
        var excluded: Set<String> = []
        var requiredMet: [String: Int] = [:]
        let required = query.concepts.filter { $0.role == .required }.count
        for concept in query.concepts {
            // Per entry, the best term-frequency part of bm25 among the concept's alternatives.
            // FTS5 multiplies it by each alternative's own idf; that is divided out again, so
            // that a rare synonym does not outweigh the word the user typed, and the concept's
            // own idf (how many entries say it in any way) is applied instead.
            var best: [String: Double] = [:]
            for term in concept.alternatives {
                let expression = term.matchExpression
                let rows: [(id: String, score: Double)]
                if let known = matched[expression] {
                    rows = known
                } else {
                    var found: [(id: String, score: Double)] = []
                    let cursor = try Row.fetchCursor(
                        db.cachedStatement(
                            sql: """
                                SELECT entry_id, -bm25(entry_search, \(columnWeights))
                                FROM entry_search WHERE entry_search MATCH ?
                                """), arguments: [expression])
                    while let row = try cursor.next() { found.append((row[0], row[1])) }
                    matched[expression] = found
                    rows = found
                }
                let matches = Double(rows.count)
                let ftsIDF = max(log((entryCount - matches + 0.5) / (matches + 0.5)), 1e-6)
                let weight = term.isSynonym ? Self.synonymWeight : 1
                for (id, score) in rows {
                    best[id] = max(best[id] ?? 0, score / ftsIDF * weight)
                }
            }
            // Lucene's idf, which stays positive for a word most entries use: "kafka" still
            // tells a Kafka answer from a RabbitMQ one.
            let matches = Double(best.count)
            let idf = log(1 + (entryCount - matches + 0.5) / (matches + 0.5))
            switch concept.role {
            case .excluded: excluded.formUnion(best.keys)
            case .optional, .required:
                for (id, frequency) in best { total[id, default: 0] += idf * frequency }
                if concept.role == .required { for id in best.keys { requiredMet[id, default: 0] += 1 } }
            }
        }
        try preferNamedProducts(in: &total, query: query, products: products, db)
        let ranked = total.filter { id, _ in !excluded.contains(id) && (requiredMet[id] ?? 0) == required }
            .sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
            .prefix(limit)
        let summaries = try Dictionary(
            Row.fetchAll(
                db,
                sql: """
                    SELECT id, topic_id, difficulty, question_zh, question_en FROM entry
                    WHERE id IN (SELECT value FROM json_each(?))
                    """,
                arguments: [JSONList.of(ranked.map(\.key))]
            ).map { row in (row["id"] as String, summary(row)) }, uniquingKeysWith: { first, _ in first })
        return ranked.compactMap { id, score in summaries[id].map { SearchHit(entry: $0, score: score) } }
    }

    /// A question that names a product (Kafka 怎么保证不丢) wants answers about it: an answer
    /// about other products only is worth less. A question that names none takes any.
    private static func preferNamedProducts(
        in scores: inout [String: Double], query: SearchQuery, products: [String], _ db: Database
    ) throws {
        guard !products.isEmpty, !scores.isEmpty else { return }
        let named = Set(
            products.filter { product in
                query.concepts.contains { concept in
                    concept.role != .excluded && concept.alternatives.contains { $0.tokens == [product] }
                }
            })
        guard !named.isEmpty else { return }
        var tagged: [String: Set<String>] = [:]
        let rows = try Row.fetchAll(
            db,
            sql: "SELECT entry_id, tag FROM entry_tag WHERE tag IN (SELECT value FROM json_each(?))",
            arguments: [JSONList.of(products)])
        for row in rows { tagged[row["entry_id"], default: []].insert(row["tag"]) }
        for (id, score) in scores {
            let about = tagged[id] ?? []
            if !about.isEmpty && about.isDisjoint(with: named) { scores[id] = score * 0.7 }
        }
    }

    /// The query with every concept widened: each Chinese character alone, and typed English
    /// words read as the indexed words up to three edits away.
    private static func loosened(_ query: SearchQuery, _ db: Database) throws
        -> SearchQuery
    {
        var loosened = query
        for index in loosened.concepts.indices where loosened.concepts[index].role != .excluded {
            let concept = loosened.concepts[index]
            var alternatives = concept.alternatives
            var seen: Set<String> = []
            for scalar in concept.surface.unicodeScalars where SearchText.isCJK(scalar) {
                let character = String(scalar)
                if seen.insert(character).inserted {
                    alternatives.append(.init(tokens: [character], isPrefix: true))
                    loosened.concepts[index].highlights.append(character)
                }
            }
            if let word = concept.typedWord, word.count >= 3 {
                let near = try IndexedTerms.nearest(to: Stemmer.stem(word), within: 3, db)
                alternatives += near.map { .init(tokens: [$0], isPrefix: false) }
                loosened.concepts[index].highlights += near
            }
            loosened.concepts[index].alternatives = alternatives
            // Loosened, nothing is required: closest means closest.
            loosened.concepts[index].role = .optional
        }
        return loosened
    }

    /// Where a learner starts: the first questions of the first topics.
    private static func startingPoints(limit: Int, _ db: Database) throws -> [SearchHit] {
        try Row.fetchAll(
            db,
            sql: """
                SELECT entry.id, entry.topic_id, entry.difficulty, entry.question_zh, entry.question_en
                FROM entry JOIN topic ON topic.id = entry.topic_id
                ORDER BY topic.position, entry.difficulty, entry.id LIMIT ?
                """, arguments: [min(limit, 5)]
        ).map { SearchHit(entry: summary($0), score: 0) }
    }
}

/// The search vocabulary as the import wrote it into the store, looked up one key at a time:
/// a search asks for a few dozen keys, so it reads a few dozen rows, not the whole vocabulary.
final class StoredLexicon: SearchLexicon {
    private let db: Database
    let longestChineseWord: Int
    let longestEnglishPhrase: Int
    let products: [String]
    private var expansionCache: [String: [String]?] = [:]
    private var wordCache: [String: Bool?] = [:]

    init(_ db: Database) throws {
        self.db = db
        let shape = try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'search_shape'") ?? ""
        let numbers = shape.split(separator: " ").compactMap { Int($0) }
        longestChineseWord = numbers.first ?? 1
        longestEnglishPhrase = numbers.dropFirst().first ?? 1
        products =
            (try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'search_products'") ?? "")
            .split(separator: " ").map(String.init)
    }

    func expansions(of key: String) -> [String]? {
        if let cached = expansionCache[key] { return cached }
        let members = try? String.fetchAll(
            db.cachedStatement(
                sql: """
                    SELECT DISTINCT other.key FROM search_synonym AS this
                    JOIN search_synonym AS other ON other.group_id = this.group_id
                    WHERE this.key = ? ORDER BY other.key
                    """), arguments: [key])
        let found = members.flatMap { $0.isEmpty ? nil : $0 }
        expansionCache[key] = .some(found)
        return found
    }

    /// Whether the key is a dictionary word, and whether it is a stopword (nil: neither).
    private func word(_ key: String) -> Bool? {
        if let cached = wordCache[key] { return cached }
        let stop = try? Bool.fetchOne(
            db.cachedStatement(sql: "SELECT is_stopword FROM search_word WHERE key = ?"), arguments: [key])
        wordCache[key] = .some(stop)
        return stop
    }

    func isChineseWord(_ key: String) -> Bool { word(key) != nil }
    func isStopword(_ key: String) -> Bool { word(key) == true }

    func englishTerms(lengths: ClosedRange<Int>) -> [String] {
        let keys =
            (try? String.fetchAll(
                db,
                sql: """
                    SELECT DISTINCT key FROM search_synonym
                    WHERE length(key) BETWEEN ? AND ? AND instr(key, ' ') = 0 ORDER BY key
                    """, arguments: [lengths.lowerBound, lengths.upperBound])) ?? []
        return keys.filter { key in !key.unicodeScalars.contains(where: SearchText.isCJK) }
    }
}

/// The English words of the index, read as a search needs them.
enum IndexedTerms {
    /// Whether the index holds `stem` as a word, or as the start of one.
    static func knows(_ stem: String, _ db: Database) throws -> Bool {
        try Bool.fetchOne(
            db, sql: "SELECT EXISTS (SELECT 1 FROM search_term WHERE term >= ? AND term < ?)",
            arguments: [stem, stem + "\u{10FFFF}"]) ?? false
    }

    /// The indexed words fewest edits from `stem`, up to `limit` edits, at most three of them:
    /// the nearest first, then the most used.
    static func nearest(to stem: String, within limit: Int, _ db: Database) throws -> [String] {
        let typed = Array(stem.unicodeScalars)
        // Only words of a length that can be within `limit` edits: a few hundred, not thousands.
        let candidates = try Row.fetchAll(
            db, sql: "SELECT term, entries FROM search_term WHERE length(term) BETWEEN ? AND ?",
            arguments: [typed.count - limit, typed.count + limit]
        ).map { (term: $0[0] as String, entries: $0[1] as Int) }
        var found: [(term: String, distance: Int, entries: Int)] = []
        for (term, entries) in candidates {
            let candidate = Array(term.unicodeScalars)
            guard abs(candidate.count - typed.count) <= limit, candidate.count >= 3 else { continue }
            let distance = EditDistance.between(typed, candidate, limit: limit)
            if distance <= limit { found.append((term, distance, entries)) }
        }
        found.sort {
            ($0.distance, -$0.entries, $0.term) < ($1.distance, -$1.entries, $1.term)
        }
        guard let best = found.first?.distance else { return [] }
        return found.filter { $0.distance == best }.prefix(3).map(\.term)
    }
}

/// Optimal string alignment distance: insertions, deletions, substitutions, and transpositions of
/// neighbours (kafak -> kafka is one edit).
enum EditDistance {
    /// The candidates at the smallest distance from `word`, if that is at most `limit`.
    static func nearest(to word: String, among candidates: [String], within limit: Int) -> [String] {
        let typed = Array(word.unicodeScalars)
        var best = limit + 1
        var found: [String] = []
        for candidate in candidates {
            let letters = Array(candidate.unicodeScalars)
            guard abs(letters.count - typed.count) <= limit, letters.count >= 3 else { continue }
            let distance = between(typed, letters, limit: limit)
            if distance < best {
                best = distance
                found = [candidate]
            } else if distance == best {
                found.append(candidate)
            }
        }
        return best <= limit ? found : []
    }

    /// The distance between `a` and `b`, or `limit + 1` once it is known to exceed `limit`.
    static func between(_ a: [Unicode.Scalar], _ b: [Unicode.Scalar], limit: Int) -> Int {
        if a.isEmpty || b.isEmpty { return max(a.count, b.count) }
        var previous2 = [Int](repeating: 0, count: b.count + 1)
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            var rowMinimum = current[0]
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                var value = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
                if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                    value = min(value, previous2[j - 2] + 1)
                }
                current[j] = value
                rowMinimum = min(rowMinimum, value)
            }
            if rowMinimum > limit { return limit + 1 }
            (previous2, previous, current) = (previous, current, previous2)
        }
        return previous[b.count]
    }
}

/// A list of strings as a JSON array, for SQLite's json_each. Written by hand: Foundation's
/// JSONEncoder costs a command's start more than the whole search it serves.
enum JSONList {
    static func of(_ strings: [String]) -> String {
        var json = "["
        for (index, string) in strings.enumerated() {
            if index > 0 { json += "," }
            json += "\""
            for scalar in string.unicodeScalars {
                switch scalar {
                case "\"": json += "\\\""
                case "\\": json += "\\\\"
                case _ where scalar.value < 0x20: json += String(format: "\\u%04x", scalar.value)
                default: json.unicodeScalars.append(scalar)
                }
            }
            json += "\""
        }
        return json + "]"
    }
}
