/// "Did you mean" for mistyped ids: close by edit distance, or sharing a word with the typo.
enum Suggestions {
    static func closest(to typed: String, among candidates: [String], limit: Int = 3) -> [String] {
        let query = typed.lowercased()
        // Tiers, best first; a weaker tier is consulted only when the stronger ones found nothing,
        // so one near-miss typo is not drowned by loose matches.
        let typos = candidates.map { ($0, editDistance(query, $0)) }.filter {
            $0.1 <= max(2, query.count / 4)
        }
        if !typos.isEmpty {
            return typos.sorted { ($0.1, $0.0) < ($1.1, $1.0) }.prefix(limit).map(\.0)
        }
        let containing = candidates.filter { $0.hasPrefix(query) || (query.count >= 3 && $0.contains(query)) }
        if !containing.isEmpty { return Array(containing.sorted().prefix(limit)) }
        let words = Set(
            query.split { !$0.isLetter && !$0.isNumber }.map(String.init).filter { $0.count >= 3 })
        let sharing = candidates.map { candidate in (candidate, words.filter { candidate.contains($0) }.count)
        }
        .filter { $0.1 > 0 }
        return sharing.sorted { ($1.1, $0.0) < ($0.1, $1.0) }.prefix(limit).map(\.0)
    }

    /// Levenshtein distance over characters.
    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a)
        let b = Array(b)
        if a.isEmpty { return b.count }
        var previous = Array(0...b.count)
        var current = previous
        for i in 1...a.count {
            current[0] = i
            for j in 1..<(b.count + 1) {
                current[j] = min(
                    previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }
}
