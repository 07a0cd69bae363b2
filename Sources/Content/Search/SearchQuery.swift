// Theory of operation
//
// A query is a question, not a boolean formula. It is taken apart into concepts: each English
// word or synonym phrase, each Chinese word the dictionary knows (found by longest match), each
// quoted phrase. Question words and filler (如何, 怎么, what, how) are dropped when anything else
// is left. A concept lists every way an entry may say it: its synonyms in both languages, each
// in index form (SearchText). The store scores an entry per concept by its best alternative and
// adds the concepts up, so an entry that mentions more of what was asked ranks higher, and one
// that repeats a synonym many times does not drown the rest. AND, OR and NOT in capitals still
// work for those who want them: AND makes both neighbours required, NOT excludes.

/// A user's search, taken apart into concepts.
public struct SearchQuery: Equatable, Sendable {
    /// One way to find a concept: a phrase of index tokens, the last maybe a word's start.
    public struct Term: Hashable, Sendable {
        public var tokens: [String]
        /// `idempot` finds `idempotent`; `幂` finds every pair that starts with it.
        public var isPrefix: Bool
        /// Found through a synonym, not as typed: it counts a little less.
        public var isSynonym = false

        /// The FTS5 MATCH expression for this term alone, every token quoted so that no input
        /// can be read as query syntax.
        public var matchExpression: String {
            "\"" + tokens.map { $0.replacingOccurrences(of: "\"", with: "\"\"") }.joined(separator: " ")
                + "\""
                + (isPrefix ? "*" : "")
        }
    }

    public enum Role: Equatable, Sendable {
        /// Adds to the score where found (the default).
        case optional
        /// Joined by AND: an entry without it is not a result.
        case required
        /// After NOT: an entry with it is not a result.
        case excluded
    }

    /// One thing the user asked for.
    public struct Concept: Equatable, Sendable {
        /// What the user typed for it.
        public var surface: String
        public var alternatives: [Term]
        public var role: Role
        /// The words to highlight in results: the typed word and its synonyms as written.
        public var highlights: [String]
        /// An English word typed by the user (not a synonym phrase): a candidate for typo
        /// correction when the index does not know it.
        public var typedWord: String?
    }

    public var concepts: [Concept]

    /// The most characters of a query that are read, and the most concepts kept: a search is
    /// for a question, and a pasted book must not cost more than one.
    public static let maximumLength = 500
    public static let maximumConcepts = 24

    /// Every token of every concept, for highlighting matches.
    public var highlights: [String] {
        var seen: Set<String> = []
        return concepts.filter { $0.role != .excluded }.flatMap(\.highlights).filter {
            seen.insert($0).inserted
        }
    }

    /// Takes apart anything a user may type. Returns nil when nothing searchable is left.
    public init?(_ input: String, vocabulary: SearchVocabulary = .empty) {
        self.init(input, lexicon: VocabularyLexicon(vocabulary))
    }

    init?(_ input: String, lexicon: some SearchLexicon) {
        var concepts: [Concept] = []
        var fallback: [Concept] = []
        var pending: Operator? = nil
        for segment in Self.segments(of: String(input.prefix(Self.maximumLength))) {
            switch segment {
            case .operator(let op):
                pending = op
            case .quoted(let text):
                let tokens = SearchText.phraseTokens(of: text)
                guard !tokens.isEmpty else { continue }
                Self.append(
                    [
                        Concept(
                            surface: text, alternatives: [Term(tokens: tokens, isPrefix: false)],
                            role: .optional,
                            highlights: [text], typedWord: nil)
                    ], to: &concepts, joinedBy: &pending)
            case .words(let words):
                let analysed = Self.concepts(of: words, lexicon: lexicon)
                Self.append(analysed.concepts, to: &concepts, joinedBy: &pending)
                fallback += analysed.stopped
            }
        }
        // A query of nothing but filler ("what is", 的) still searches for what it says.
        if concepts.allSatisfy({ $0.role == .excluded }) { concepts += fallback }
        guard concepts.contains(where: { $0.role != .excluded }) else { return nil }
        self.concepts = Array(concepts.prefix(Self.maximumConcepts))
    }

    private enum Operator: String {
        case and = "AND"
        case or = "OR"
        case not = "NOT"
    }

    /// Joins new concepts to the query: the pending operator applies to the first of them.
    private static func append(
        _ new: [Concept], to concepts: inout [Concept], joinedBy pending: inout Operator?
    ) {
        guard var first = new.first else { return }
        switch pending {
        case .not?: first.role = .excluded
        case .and?:
            first.role = .required
            if let last = concepts.lastIndex(where: { $0.role != .excluded }) {
                concepts[last].role = .required
            }
        default: break
        }
        concepts.append(first)
        concepts += new.dropFirst()
        pending = nil
    }

    // MARK: - Words to concepts

    private static func concepts(of words: [SearchText.Word], lexicon: some SearchLexicon)
        -> (concepts: [Concept], stopped: [Concept])
    {
        var concepts: [Concept] = []
        var stopped: [Concept] = []
        var index = 0
        while index < words.count {
            switch words[index] {
            case .latin:
                // The longest run of English words that is a synonym phrase ("dead letter queue").
                var length = min(lexicon.longestEnglishPhrase, latinRun(in: words, from: index))
                while length > 1 {
                    let key = words[index..<index + length].map(\.latinText).joined(separator: " ")
                    if lexicon.expansions(of: key) != nil {
                        concepts.append(concept(key, typed: nil, lexicon: lexicon))
                        break
                    }
                    length -= 1
                }
                if length > 1 {
                    index += length
                    continue
                }
                let word = words[index].latinText
                let single = concept(word, typed: word, lexicon: lexicon)
                if lexicon.isStopword(word) { stopped.append(single) } else { concepts.append(single) }
                index += 1
            case .cjk(let characters):
                for piece in segment(characters, lexicon: lexicon) {
                    switch piece {
                    case .word(let word):
                        let single = concept(word, typed: nil, lexicon: lexicon)
                        if lexicon.isStopword(word) {
                            stopped.append(single)
                        } else {
                            concepts.append(single)
                        }
                    case .unknown(let run):
                        // Characters the dictionary does not know: a pair is taken as a word; a
                        // longer run as each of its pairs, so part of it can still match; a lone
                        // character only if nothing else is left.
                        if run.count == 1 {
                            stopped.append(
                                concept(String(String.UnicodeScalarView(run)), typed: nil, lexicon: lexicon))
                        } else {
                            for start in 0..<run.count - 1 {
                                let pair = String(String.UnicodeScalarView(run[start...start + 1]))
                                concepts.append(concept(pair, typed: nil, lexicon: lexicon))
                            }
                        }
                    }
                }
                index += 1
            }
        }
        return (concepts, stopped)
    }

    private static func latinRun(in words: [SearchText.Word], from start: Int) -> Int {
        var end = start
        while end < words.count, case .latin = words[end] { end += 1 }
        return end - start
    }

    /// A concept for a term's key: the term itself and every synonym, each in index form.
    static func concept(_ key: String, typed: String?, lexicon: some SearchLexicon) -> Concept {
        var alternatives: [Term] = []
        var highlights: [String] = []
        var seen: Set<Term> = []
        for member in [key] + (lexicon.expansions(of: key) ?? []) {
            let tokens = SearchText.phraseTokens(of: member)
            guard !tokens.isEmpty else { continue }
            let isChineseCharacter =
                member.unicodeScalars.count == 1 && SearchText.isCJK(member.unicodeScalars.first!)
            // A typed word of four letters or more may be the start of a longer one (idempot).
            let isTypedPrefix = member == typed && member.count >= 4 && !member.allSatisfy(\.isNumber)
            let term = Term(
                tokens: tokens, isPrefix: isChineseCharacter || isTypedPrefix, isSynonym: member != key)
            if seen.insert(Term(tokens: tokens, isPrefix: term.isPrefix)).inserted {
                alternatives.append(term)
                highlights.append(
                    member.count >= 4 && !member.unicodeScalars.contains(where: SearchText.isCJK)
                        ? tokens.joined(separator: " ") : member)
            }
        }
        return Concept(
            surface: key, alternatives: withoutSubsumed(alternatives), role: .optional,
            highlights: highlights,
            typedWord: typed)
    }

    /// The alternatives without those another one makes redundant: wherever 消息丢失 or "data
    /// loss" stands, 丢失 or "loss" stands too, at least as often, and the store keeps the best
    /// alternative per entry. So a phrase that contains another whole alternative, of at least
    /// its weight, can never win, and matching it would only cost time.
    static func withoutSubsumed(_ alternatives: [Term]) -> [Term] {
        alternatives.filter { longer in
            !alternatives.contains { shorter in
                shorter != longer && !shorter.isPrefix && !longer.isPrefix
                    && shorter.tokens.count < longer.tokens.count
                    && (!shorter.isSynonym || longer.isSynonym)
                    && longer.tokens.indices.dropLast(shorter.tokens.count - 1).contains { start in
                        Array(longer.tokens[start..<start + shorter.tokens.count]) == shorter.tokens
                    }
            }
        }
    }

    private enum Piece {
        case word(String)
        case unknown([Unicode.Scalar])
    }

    /// Forward maximum matching: at each place, the longest dictionary word that starts there.
    private static func segment(_ characters: [Unicode.Scalar], lexicon: some SearchLexicon) -> [Piece] {
        var pieces: [Piece] = []
        var unknown: [Unicode.Scalar] = []
        var index = 0
        while index < characters.count {
            var length = min(lexicon.longestChineseWord, characters.count - index)
            while length > 0 {
                let candidate = String(String.UnicodeScalarView(characters[index..<index + length]))
                if lexicon.isChineseWord(candidate) { break }
                length -= 1
            }
            if length == 0 {
                unknown.append(characters[index])
                index += 1
                continue
            }
            if !unknown.isEmpty { pieces.append(.unknown(unknown)) }
            unknown = []
            pieces.append(.word(String(String.UnicodeScalarView(characters[index..<index + length]))))
            index += length
        }
        if !unknown.isEmpty { pieces.append(.unknown(unknown)) }
        return pieces
    }

    // MARK: - Reading the input

    private enum Segment {
        case words([SearchText.Word])
        case quoted(String)
        case `operator`(Operator)
    }

    /// Splits the input into runs of words, quoted phrases (straight or curly quotes) and the
    /// operators AND, OR and NOT typed in capitals between them.
    private static func segments(of input: String) -> [Segment] {
        var segments: [Segment] = []
        var words: [SearchText.Word] = []
        var current = ""
        var inQuotes = false
        func flushWord() {
            if let op = Operator(rawValue: current) {
                if !words.isEmpty { segments.append(.words(words)) }
                words = []
                segments.append(.operator(op))
            } else {
                words += SearchText.words(of: current)
            }
            current = ""
        }
        for character in input {
            if character == "\"" || character == "“" || character == "”" {
                if inQuotes {
                    if !current.isEmpty { segments.append(.quoted(current)) }
                    current = ""
                } else {
                    flushWord()
                    if !words.isEmpty { segments.append(.words(words)) }
                    words = []
                }
                inQuotes.toggle()
            } else if character.isWhitespace && !inQuotes {
                flushWord()
            } else {
                current.append(character)
            }
        }
        // An unclosed quote quotes nothing: the text after it is searched word by word.
        flushWord()
        if !words.isEmpty { segments.append(.words(words)) }
        return segments
    }
}

extension SearchText.Word {
    fileprivate var latinText: String {
        if case .latin(let letters) = self { return letters }
        return ""
    }
}
