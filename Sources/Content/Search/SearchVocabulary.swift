/// What search knows of the domain's words, from content/search/: synonym groups, the Chinese
/// words the query segmenter knows, and the words a question holds without asking for them.
///
/// It is data, not code, so that an author who finds a question that finds nothing fixes it with
/// a line in a YAML file, reviewed like any other content.
public struct SearchVocabulary: Codable, Equatable, Sendable {
    /// Each group lists terms a searcher means the same by, in any language.
    public var synonymGroups: [[String]]
    /// Chinese domain words, for segmenting a query (the synonyms' Chinese terms count too).
    public var words: [String]
    /// Question words and filler in both languages: dropped from a query that has other words.
    public var stopwords: [String]
    /// Product names, as entries tag them: a question about one prefers answers about it.
    public var products: [String]

    public init(
        synonymGroups: [[String]] = [], words: [String] = [], stopwords: [String] = [],
        products: [String] = []
    ) {
        self.synonymGroups = synonymGroups
        self.words = words
        self.stopwords = stopwords
        self.products = products
    }

    public static let empty = SearchVocabulary()

    /// The normal form a term is looked up by: words lower-cased and joined by one space, so
    /// that "Back-Pressure" and "back pressure" are one key, and 背压 stays 背压.
    static func key(_ text: String) -> String {
        SearchText.words(of: text).map { word in
            switch word {
            case .latin(let letters): letters
            case .cjk(let characters): String(String.UnicodeScalarView(characters))
            }
        }.joined(separator: " ")
    }
}

/// What a query is taken apart with: synonyms, the Chinese dictionary, stopwords. Keys are in
/// `SearchVocabulary.key` form.
protocol SearchLexicon {
    /// The keys of every term that shares a synonym group with `key`, itself included, sorted.
    func expansions(of key: String) -> [String]?
    func isChineseWord(_ key: String) -> Bool
    func isStopword(_ key: String) -> Bool
    /// The most characters of a Chinese word, and the most English words of a synonym phrase.
    var longestChineseWord: Int { get }
    var longestEnglishPhrase: Int { get }
    var products: [String] { get }
    /// The one-word English terms of the synonym groups, for correcting a typed word that the
    /// index lacks but the vocabulary knows (backpresure -> backpressure, which the answers
    /// write back-pressure).
    func englishTerms(lengths: ClosedRange<Int>) -> [String]
}

/// A vocabulary prepared in memory: for tests, and for writing the store's search tables.
struct VocabularyLexicon: SearchLexicon {
    /// Every term's key mapped to the synonym groups it is in.
    private(set) var groupsOfKey: [String: [Int]] = [:]
    private(set) var groups: [[String]] = []
    private(set) var chineseWords: Set<String> = []
    private(set) var stopwords: Set<String> = []
    private(set) var products: [String] = []
    private(set) var longestChineseWord = 1
    private(set) var longestEnglishPhrase = 1

    init(_ vocabulary: SearchVocabulary) {
        products = vocabulary.products.map(SearchVocabulary.key)
        for group in vocabulary.synonymGroups {
            let keys = Array(Set(group.map(SearchVocabulary.key).filter { !$0.isEmpty })).sorted()
            for key in keys {
                groupsOfKey[key, default: []].append(groups.count)
                learn(key)
            }
            groups.append(keys)
        }
        for word in vocabulary.words { learn(SearchVocabulary.key(word)) }
        for word in vocabulary.stopwords {
            let key = SearchVocabulary.key(word)
            stopwords.insert(key)
            learn(key)
        }
    }

    private mutating func learn(_ key: String) {
        if key.unicodeScalars.allSatisfy(SearchText.isCJK) {
            chineseWords.insert(key)
            longestChineseWord = max(longestChineseWord, key.unicodeScalars.count)
        } else {
            longestEnglishPhrase = max(longestEnglishPhrase, key.split(separator: " ").count)
        }
    }

    func expansions(of key: String) -> [String]? {
        guard let indexes = groupsOfKey[key] else { return nil }
        // Dictionary order is per process; a sorted list keeps queries, and so scores, stable.
        return Array(Set(indexes.flatMap { groups[$0] })).sorted()
    }

    func isChineseWord(_ key: String) -> Bool { chineseWords.contains(key) }
    func isStopword(_ key: String) -> Bool { stopwords.contains(key) }

    func englishTerms(lengths: ClosedRange<Int>) -> [String] {
        groupsOfKey.keys.filter { key in
            lengths.contains(key.count) && !key.contains(" ")
                && !key.unicodeScalars.contains(where: SearchText.isCJK)
        }.sorted()
    }
}
