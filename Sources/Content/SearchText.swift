// Theory of operation
//
// SQLite's FTS5 has no Chinese word segmenter here (no ICU), its unicode61 tokenizer treats a
// whole run of Chinese characters as one token, and its trigram tokenizer cannot find terms of one
// or two characters (幂, 幂等). So the index stores text pre-segmented: a space on each side of
// every CJK character. unicode61 then indexes each Chinese character as a token and English words
// as words. A Chinese query becomes a phrase of single characters ("幂 等"), which matches the
// characters in order and adjacent, so any length works; an English word becomes a prefix term
// (idempot*). bm25 ranks the result. The user's text never reaches FTS5's query syntax as
// written: it is taken apart into tokens and operators and rebuilt, so no input can cause an SQL
// or FTS5 syntax error.

/// Text preparation for the search index and for queries.
public enum SearchText {
    /// Han, kana, Hangul and the CJK compatibility blocks: the scripts written without spaces.
    public static func isCJK(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x3040...0x30FF, 0x3400...0x4DBF, 0x4E00...0x9FFF, 0xAC00...0xD7AF, 0xF900...0xFAFF,
            0x20000...0x2FA1F:
            true
        default: false
        }
    }

    /// The text with a space around every CJK character, as the index stores it. Built as
    /// UTF-8 bytes: an import segments megabytes of text.
    public static func segmented(_ text: String) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count * 3 / 2)
        for scalar in text.unicodeScalars {
            if isCJK(scalar) {
                bytes.append(0x20)
                bytes.append(contentsOf: UTF8.encode(scalar)!)
                bytes.append(0x20)
            } else {
                bytes.append(contentsOf: UTF8.encode(scalar)!)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The tokens of a piece of user text: each CJK character, and each run of letters and digits.
    static func tokens(of text: String) -> [String] {
        var tokens: [String] = []
        var word = String.UnicodeScalarView()
        func flush() {
            if !word.isEmpty { tokens.append(String(word).lowercased()) }
            word = String.UnicodeScalarView()
        }
        for scalar in text.unicodeScalars {
            if isCJK(scalar) {
                flush()
                tokens.append(String(scalar))
            } else if scalar.properties.isAlphabetic || scalar.properties.numericType != nil {
                word.append(scalar)
            } else {
                flush()
            }
        }
        flush()
        return tokens
    }
}

/// A user's search, taken apart into terms and operators.
public struct SearchQuery: Equatable, Sendable {
    public enum Operator: String, Sendable {
        case and = "AND"
        case or = "OR"
        case not = "NOT"
    }

    /// One thing to find: a word, a word prefix, or a phrase (quoted, or a run of Chinese).
    public struct Term: Equatable, Sendable {
        public var tokens: [String]
        /// The last token may be the start of a longer word (`idempot` finds `idempotent`).
        public var isPrefix: Bool
    }

    /// Terms with the operator that joins each one to the one before (the first one's is unused).
    public private(set) var clauses: [(operator: Operator, term: Term)]

    public static func == (lhs: SearchQuery, rhs: SearchQuery) -> Bool {
        lhs.clauses.map(\.operator) == rhs.clauses.map(\.operator)
            && lhs.clauses.map(\.term) == rhs.clauses.map(\.term)
    }

    /// Every token of every term, for highlighting matches.
    public var tokens: [String] { clauses.flatMap(\.term.tokens) }

    /// Parses anything a user may type. Quotes make a phrase, `AND`, `OR` and `NOT` in capitals
    /// join terms, and everything else that is not a letter, digit or Chinese character only
    /// separates words. Returns nil when nothing searchable is left.
    public init?(_ input: String) {
        var clauses: [(operator: Operator, term: Term)] = []
        var pending: Operator = .and
        for piece in Self.pieces(of: input) {
            if !piece.quoted, let op = Operator(rawValue: piece.text) {
                // An operator only means something between two terms; a leading one is dropped.
                if !clauses.isEmpty { pending = op }
                continue
            }
            let tokens = SearchText.tokens(of: piece.text)
            guard !tokens.isEmpty else { continue }
            if piece.quoted {
                clauses.append((pending, Term(tokens: tokens, isPrefix: false)))
            } else {
                // Unquoted text: each Latin word is its own term and may be a prefix; a run of
                // Chinese characters is one phrase, because they were typed without spaces.
                for term in Self.terms(splitting: tokens) {
                    clauses.append((pending, term))
                    pending = .and
                }
            }
            pending = .and
        }
        guard !clauses.isEmpty else { return nil }
        self.clauses = clauses
    }

    /// The FTS5 MATCH expression: every token double-quoted, so none can be read as syntax.
    public var matchExpression: String {
        var expression = ""
        for (index, clause) in clauses.enumerated() {
            if index > 0 { expression += " \(clause.operator.rawValue) " }
            expression += "\"" + clause.term.tokens.joined(separator: " ") + "\""
            if clause.term.isPrefix { expression += "*" }
        }
        return expression
    }

    private static func terms(splitting tokens: [String]) -> [Term] {
        var terms: [Term] = []
        var chinese: [String] = []
        for token in tokens {
            if token.unicodeScalars.allSatisfy(SearchText.isCJK) {
                chinese.append(token)
            } else {
                if !chinese.isEmpty { terms.append(Term(tokens: chinese, isPrefix: false)) }
                chinese = []
                terms.append(Term(tokens: [token], isPrefix: true))
            }
        }
        if !chinese.isEmpty { terms.append(Term(tokens: chinese, isPrefix: false)) }
        return terms
    }

    /// Splits on white space, keeping double-quoted (or curly-quoted) stretches together.
    private static func pieces(of input: String) -> [(text: String, quoted: Bool)] {
        var pieces: [(text: String, quoted: Bool)] = []
        var current = ""
        var inQuotes = false
        func flush(quoted: Bool) {
            if !current.isEmpty { pieces.append((current, quoted)) }
            current = ""
        }
        for character in input {
            if character == "\"" || character == "“" || character == "”" {
                flush(quoted: inQuotes)
                inQuotes.toggle()
            } else if character.isWhitespace && !inQuotes {
                flush(quoted: false)
            } else {
                current.append(character)
            }
        }
        // An unclosed quote quotes nothing: the text after it is searched word by word.
        flush(quoted: false)
        return pieces
    }
}
