// Theory of operation
//
// Martin Porter's 1980 suffix-stripping algorithm ("An algorithm for suffix stripping",
// Program 14(3)), as published at https://tartarus.org/martin/PorterStemmer/. It maps the forms
// of an English word onto one stem (replicas, replicated, replication -> replic), so a question
// finds an answer whatever form either uses. The index and the query both go through it, which
// is all that matters: a stem need not be a word. Only lower-case ASCII words are stemmed; a
// word with a digit or another script is a name (kip-101, x-delivery-count's parts) and is kept.

/// English word stems for the search index and queries.
public enum Stemmer {
    /// The stem of a lower-case word; any other text is returned as it is.
    public static func stem(_ word: String) -> String {
        var letters = Array(word.utf8)
        guard letters.count > 2, letters.allSatisfy({ $0 >= 0x61 && $0 <= 0x7A }) else { return word }
        var stemmer = Porter(letters)
        stemmer.run()
        letters = Array(stemmer.word)
        return String(decoding: letters, as: UTF8.self)
    }
}

/// One word being stemmed: the letters and the end `k` of the part still under consideration.
private struct Porter {
    var word: [UInt8]
    /// The index one past the last letter of the stem as it stands.
    private var end: Int
    /// Where the stem ends once a matched suffix is taken off (valid after `ends`).
    private var stemEnd = 0

    init(_ word: [UInt8]) {
        self.word = word
        end = word.count
    }

    mutating func run() {
        step1ab()
        if end > 1 {
            step1c()
            step2()
            step3()
            step4()
            step5()
        }
        word.removeSubrange(end...)
    }

    /// A consonant: not a, e, i, o, u, and not a y that follows a consonant.
    private func isConsonant(_ index: Int) -> Bool {
        switch word[index] {
        case UInt8(ascii: "a"), UInt8(ascii: "e"), UInt8(ascii: "i"), UInt8(ascii: "o"), UInt8(ascii: "u"):
            false
        case UInt8(ascii: "y"): index == 0 ? true : !isConsonant(index - 1)
        default: true
        }
    }

    /// m, the number of vowel-consonant sequences in word[0..<stemEnd].
    private func measure() -> Int {
        var count = 0
        var index = 0
        while index < stemEnd && isConsonant(index) { index += 1 }
        while index < stemEnd {
            while index < stemEnd && !isConsonant(index) { index += 1 }
            guard index < stemEnd else { break }
            count += 1
            while index < stemEnd && isConsonant(index) { index += 1 }
        }
        return count
    }

    private func stemHasVowel() -> Bool {
        (0..<stemEnd).contains { !isConsonant($0) }
    }

    /// A double consonant ends word[0..<position].
    private func doubleConsonant(endingAt position: Int) -> Bool {
        position >= 2 && word[position - 1] == word[position - 2] && isConsonant(position - 1)
    }

    /// consonant-vowel-consonant ends word[0..<position], the last not w, x or y (hop, not hoop).
    private func cvc(endingAt position: Int) -> Bool {
        guard position >= 3, isConsonant(position - 1), !isConsonant(position - 2), isConsonant(position - 3)
        else { return false }
        let last = word[position - 1]
        return last != UInt8(ascii: "w") && last != UInt8(ascii: "x") && last != UInt8(ascii: "y")
    }

    /// Whether the word up to `end` ends with `suffix`; sets `stemEnd` before it when so.
    private mutating func ends(_ suffix: String) -> Bool {
        let letters = Array(suffix.utf8)
        guard letters.count <= end else { return false }
        for (offset, letter) in letters.enumerated() where word[end - letters.count + offset] != letter {
            return false
        }
        stemEnd = end - letters.count
        return true
    }

    /// Replaces the matched suffix with `replacement`.
    private mutating func setTo(_ replacement: String) {
        let letters = Array(replacement.utf8)
        word.replaceSubrange(stemEnd..<end, with: letters)
        end = stemEnd + letters.count
    }

    private mutating func replaceIfMeasured(_ replacement: String) {
        if measure() > 0 { setTo(replacement) }
    }

    /// Plurals and -ed or -ing: caresses -> caress, ponies -> poni, agreed -> agree, hopping -> hop.
    private mutating func step1ab() {
        if word[end - 1] == UInt8(ascii: "s") {
            if ends("sses") {
                end -= 2
            } else if ends("ies") {
                setTo("i")
            } else if end >= 2 && word[end - 2] != UInt8(ascii: "s") {
                end -= 1
            }
        }
        if ends("eed") {
            if measure() > 0 { end -= 1 }
        } else if ends("ed") || ends("ing"), stemHasVowel() {
            end = stemEnd
            if ends("at") {
                setTo("ate")
            } else if ends("bl") {
                setTo("ble")
            } else if ends("iz") {
                setTo("ize")
            } else if doubleConsonant(endingAt: end) {
                let last = word[end - 1]
                if last != UInt8(ascii: "l") && last != UInt8(ascii: "s") && last != UInt8(ascii: "z") {
                    end -= 1
                }
            } else {
                stemEnd = end
                if measure() == 1 && cvc(endingAt: end) {
                    word.insert(UInt8(ascii: "e"), at: end)
                    end += 1
                }
            }
        }
    }

    /// A final y after a vowel-bearing stem becomes i: happy -> happi.
    private mutating func step1c() {
        if ends("y") && stemHasVowel() { word[end - 1] = UInt8(ascii: "i") }
    }

    private static let step2Suffixes: [(String, String)] = [
        ("ational", "ate"), ("tional", "tion"), ("enci", "ence"), ("anci", "ance"), ("izer", "ize"),
        ("bli", "ble"), ("alli", "al"), ("entli", "ent"), ("eli", "e"), ("ousli", "ous"),
        ("ization", "ize"), ("ation", "ate"), ("ator", "ate"), ("alism", "al"), ("iveness", "ive"),
        ("fulness", "ful"), ("ousness", "ous"), ("aliti", "al"), ("iviti", "ive"), ("biliti", "ble"),
        ("logi", "log"),
    ]

    /// Double suffixes to single ones: relational -> relate, replication -> replicate.
    private mutating func step2() {
        for (suffix, replacement) in Self.step2Suffixes where ends(suffix) {
            replaceIfMeasured(replacement)
            return
        }
    }

    private static let step3Suffixes: [(String, String)] = [
        ("icate", "ic"), ("ative", ""), ("alize", "al"), ("iciti", "ic"), ("ical", "ic"), ("ful", ""),
        ("ness", ""),
    ]

    /// -ic-, -full, -ness and the like: electrical -> electric.
    private mutating func step3() {
        for (suffix, replacement) in Self.step3Suffixes where ends(suffix) {
            replaceIfMeasured(replacement)
            return
        }
    }

    private static let step4Suffixes = [
        "al", "ance", "ence", "er", "ic", "able", "ible", "ant", "ement", "ment", "ent", "ion", "ou",
        "ism", "ate", "iti", "ous", "ive", "ize",
    ]

    /// Takes off a last suffix where the stem keeps more than one syllable: replicate -> replic.
    private mutating func step4() {
        for suffix in Self.step4Suffixes where ends(suffix) {
            if suffix == "ion" {
                let before = stemEnd > 0 ? word[stemEnd - 1] : 0
                guard before == UInt8(ascii: "s") || before == UInt8(ascii: "t") else { return }
            }
            if measure() > 1 { end = stemEnd }
            return
        }
    }

    /// A final e, and a final ll after a long stem: probate -> probat, controll -> control.
    private mutating func step5() {
        stemEnd = end
        if word[end - 1] == UInt8(ascii: "e") {
            stemEnd = end - 1
            let m = measure()
            if m > 1 || (m == 1 && !cvc(endingAt: end - 1)) { end -= 1 }
        }
        stemEnd = end
        if word[end - 1] == UInt8(ascii: "l") && doubleConsonant(endingAt: end) && measure() > 1 { end -= 1 }
    }
}
