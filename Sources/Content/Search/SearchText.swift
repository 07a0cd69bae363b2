// Theory of operation
//
// SQLite's FTS5 has no Chinese word segmenter here (no ICU), and its unicode61 tokenizer treats
// a whole run of Chinese characters as one token. So mqproof tokenizes in Swift, the same way for
// the index and for queries, and hands FTS5 text that is already split by spaces:
//
// - An English word (a run of letters and digits) is lower-cased and stemmed (Stemmer), so
//   "replicas" in a question meets "replication" in an answer.
// - A run of Chinese characters becomes its overlapping pairs of characters, plus its last
//   character alone: 消息丢失 -> 消息 息丢 丢失 失. A Chinese word of the query then becomes the
//   phrase of its pairs (丢失, or 消息 息丢 丢失), which matches exactly where the word stands,
//   whatever the text around it. One character alone is a prefix (幂*), which matches every pair
//   it starts and the lone last character.
//
// Which Chinese words a query holds is decided on the query side only (SearchQuery), with the
// domain dictionary: the index does not need to know words to be found by them.

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

    /// A piece of text as a reader sees words in it.
    public enum Word: Equatable, Sendable {
        /// A run of letters and digits, lower-cased, not yet stemmed.
        case latin(String)
        /// A run of Chinese (or other CJK) characters.
        case cjk([Unicode.Scalar])
    }

    /// The words of a text in order: runs of CJK characters, and runs of other letters and digits.
    /// Everything else separates words.
    public static func words(of text: String) -> [Word] {
        var words: [Word] = []
        var latin = String.UnicodeScalarView()
        var cjk: [Unicode.Scalar] = []
        func flush() {
            if !latin.isEmpty { words.append(.latin(String(latin).lowercased())) }
            if !cjk.isEmpty { words.append(.cjk(cjk)) }
            latin = String.UnicodeScalarView()
            cjk = []
        }
        for scalar in text.unicodeScalars {
            if isCJK(scalar) {
                if !latin.isEmpty { flush() }
                cjk.append(scalar)
            } else if scalar.properties.isAlphabetic || scalar.properties.numericType != nil {
                if !cjk.isEmpty { flush() }
                latin.append(scalar)
            } else {
                flush()
            }
        }
        flush()
        return words
    }

    /// The text as the index stores it: stems and character pairs, separated by spaces.
    public static func indexed(_ text: String) -> String {
        var tokens: [String] = []
        tokens.reserveCapacity(text.utf8.count / 3)
        for word in words(of: text) {
            switch word {
            case .latin(let letters): tokens.append(Stemmer.stem(letters))
            case .cjk(let characters):
                tokens += pairs(of: characters)
                tokens.append(String(String.UnicodeScalarView([characters[characters.count - 1]])))
            }
        }
        return tokens.joined(separator: " ")
    }

    /// The index tokens of a Chinese word as a query phrase: its pairs of characters, or the
    /// character alone (then to be matched as a prefix).
    static func queryTokens(ofChinese characters: [Unicode.Scalar]) -> [String] {
        characters.count == 1 ? [String(String.UnicodeScalarView(characters))] : pairs(of: characters)
    }

    private static func pairs(of characters: [Unicode.Scalar]) -> [String] {
        guard characters.count > 1 else { return [] }
        return (0..<characters.count - 1).map { index in
            String(String.UnicodeScalarView(characters[index...index + 1]))
        }
    }

    /// The index form of a term written in a data file or typed by a user as one phrase: the
    /// stems of its English words and the pairs of its Chinese runs, in order.
    static func phraseTokens(of text: String) -> [String] {
        words(of: text).flatMap { word -> [String] in
            switch word {
            case .latin(let letters): [Stemmer.stem(letters)]
            case .cjk(let characters): queryTokens(ofChinese: characters)
            }
        }
    }
}
