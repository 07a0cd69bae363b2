import ArgumentParser
import Content
import Foundation

/// Ranked search over both languages, for questions typed the way people ask them.
struct Search: EnvironmentCommand {
    static let pagesOutput = true

    static let configuration = CommandConfiguration(
        commandName: "search",
        abstract: "Search questions and answers in Chinese and English.",
        discussion: """
            Type a question as you would ask it (如何保证消息不丢失, why is Kafka fast): \
            question words are ignored, synonyms count in both languages (积压 finds backlog), \
            and a misspelt English word is read as the nearest indexed one. Results are ranked; \
            open one by its number with `mqproof show N`. "Quotes" make a phrase; AND between \
            two words requires both, NOT excludes the next.
            """)

    @OptionGroup var options: GlobalOptions
    @OptionGroup var format: JSONOption

    @Option(help: "Show at most this many results.")
    var limit = 10

    @Argument(help: "What to look for.")
    var terms: [String] = []

    func validate() throws {
        guard limit > 0 else { throw ValidationError("--limit must be at least 1") }
    }

    struct Result: Encodable {
        var number: Int
        var id: String
        var topic: String
        var difficulty: Int
        var question: Localized
        var score: Double
        var snippet: Localized
    }

    /// The --json document: the results, and how closely they match.
    struct Report: Encodable {
        var query: String
        /// exact, corrected, closest (nothing matched; nearest words) or suggested (where to start).
        var match: ContentStore.SearchMatch
        var corrections: [ContentStore.Correction]
        var results: [Result]
    }

    func run(in environment: Environment) throws {
        let output = environment.output
        let text = terms.joined(separator: " ")
        let app = try App.open(options, in: environment)
        guard let found = try app.store.search(text, limit: limit) else {
            throw Failure(
                message: text.isEmpty
                    ? "nothing to search for; try: mqproof search 如何保证消息不丢失"
                    : "nothing searchable in '\(TerminalSafe.clean(text))': type a word or Chinese characters, e.g. mqproof search acks",
                exitCode: 64)
        }
        var results: [Result] = []
        let answers = try app.store.answers(ids: found.hits.map(\.entry.id))
        // A snippet line is indented 4 and framed by two ellipses.
        let snippetWidth = format.json ? 76 : max(20, app.terminal.textWidth - 6)
        for (index, hit) in found.hits.enumerated() {
            guard let answer = answers[hit.entry.id] else { continue }
            let snippet = Localized(
                zh: Snippet.around(found.highlights, in: answer.zh, width: snippetWidth),
                en: Snippet.around(found.highlights, in: answer.en, width: snippetWidth))
            results.append(
                Result(
                    number: index + 1, id: hit.entry.id, topic: hit.entry.topic,
                    difficulty: hit.entry.difficulty,
                    question: hit.entry.question, score: (hit.score * 1000).rounded() / 1000, snippet: snippet
                ))
        }
        LastSearch.save(results.map(\.id), store: app.store, output: app.output)
        if format.json {
            try output.json(
                Report(query: text, match: found.match, corrections: found.corrections, results: results))
            return
        }
        let style = app.terminal.style
        if let header = header(found, text: text, ui: app.ui) {
            output.line(style.dim(header))
        }
        for result in results {
            let id = TerminalSafe.clean(result.id)
            let topic = TerminalSafe.clean(result.topic)
            if DisplayWidth.of("\(result.number). \(id)  \(topic)") <= app.terminal.width {
                output.line(
                    style.bold("\(result.number).") + " " + style.accent(id) + style.dim("  \(topic)"))
            } else {
                output.line(style.bold("\(result.number).") + " " + style.accent(id))
                output.line("    " + style.dim(topic))
            }
            for language in app.languages {
                let question = [
                    InlineParser.Span(text: TerminalSafe.clean(result.question[language]), kind: .plain)
                ]
                for line in app.terminal.hanging(question, first: "    ") {
                    output.line(Snippet.highlight(found.highlights, in: line, style: style))
                }
                let snippet = TerminalSafe.clean(result.snippet[language])
                if !snippet.isEmpty {
                    output.line(
                        "    " + style.dim("…")
                            + Snippet.highlight(found.highlights, in: snippet, style: style)
                            + style.dim("…"))
                }
            }
        }
        if !results.isEmpty {
            output.line()
            output.line(
                style.dim(app.ui(.openOne)))
        }
    }

    /// What to say above results that are not an exact match.
    private func header(_ found: ContentStore.SearchResults, text: String, ui: UI) -> String? {
        let typed = TerminalSafe.clean(text)
        let corrected = found.corrections.map { "\($0.typed) → \($0.searched.joined(separator: "/"))" }
            .joined(separator: ", ")
        switch found.match {
        case .exact: return nil
        case .corrected:
            return ui(.searchedNearest(corrected))
        case .closest:
            return ui(.noExactMatch(typed))
        case .suggested:
            return ui(.nothingMatches(typed))
        }
    }
}

/// A one-line excerpt of an answer around the first place a search term occurs.
enum Snippet {
    static func around(_ phrases: [String], in markdown: String, width: Int) -> String {
        // Matched on UTF-8 bytes with ASCII case folded, and only a window around the match is
        // made a String again: Foundation's range(of:) and trimming bridge to NSString on Linux
        // and cost a search several milliseconds per result.
        let bytes = Array(flatten(markdown).utf8)
        let folded = bytes.map(foldASCII)
        var first: Int?
        for phrase in phrases where !phrase.isEmpty {
            let needle = Array(phrase.utf8).map(foldASCII)
            guard let found = firstIndex(of: needle, in: folded, before: first ?? folded.count) else {
                continue
            }
            first = found
        }
        guard let first else { return "" }
        // Start a dozen characters before the match, at the start of a word where there is one
        // close by, so it is read in context.
        var start = first
        var characters = 0
        while start > 0 && characters < 12 {
            start -= 1
            if bytes[start] & 0xC0 != 0x80 { characters += 1 }
        }
        while start > 0 && start < first && bytes[start - 1] != 0x20 && bytes[start - 1] < 0x80 { start -= 1 }
        var end = min(bytes.count, start + width * 4)
        while end < bytes.count && bytes[end] & 0xC0 == 0x80 { end -= 1 }
        var result = ""
        var used = 0
        for character in String(decoding: bytes[start..<end], as: UTF8.self) {
            let characterWidth = DisplayWidth.of(character)
            if used + characterWidth > width { break }
            result.append(character)
            used += characterWidth
        }
        while result.last == " " { result.removeLast() }
        while result.first == " " { result.removeFirst() }
        return result
    }

    private static func foldASCII(_ byte: UInt8) -> UInt8 {
        (0x41...0x5A).contains(byte) ? byte | 0x20 : byte
    }

    /// The first place `needle` starts in `haystack` before `end`, if any.
    private static func firstIndex(of needle: [UInt8], in haystack: [UInt8], before end: Int) -> Int? {
        guard needle.count <= haystack.count else { return nil }
        var index = 0
        while index + needle.count <= haystack.count && index < end {
            if haystack[index] == needle[0] && haystack[index..<index + needle.count].elementsEqual(needle) {
                return index
            }
            index += 1
        }
        return nil
    }

    /// The answer as one line of plain text: Markdown marks dropped, white space collapsed.
    private static func flatten(_ markdown: String) -> String {
        var result = String.UnicodeScalarView()
        var lastWasSpace = true
        for scalar in markdown.unicodeScalars {
            switch scalar {
            case "*", "`", "|", "#": continue
            case " ", "\n", "\t", "\r":
                if !lastWasSpace { result.append(" ") }
                lastWasSpace = true
            default:
                result.append(scalar)
                lastWasSpace = false
            }
        }
        if result.last == " " { result.removeLast() }
        return String(result)
    }

    static func highlight(_ phrases: [String], in text: String, style: Style) -> String {
        guard style.isEnabled else { return text }
        var result = text
        for phrase in phrases where !phrase.isEmpty {
            var output = ""
            var rest = Substring(result)
            while let range = rest.range(of: phrase, options: .caseInsensitive) {
                output += rest[..<range.lowerBound] + style.highlight(String(rest[range]))
                rest = rest[range.upperBound...]
            }
            result = output + rest
        }
        return result
    }
}

/// The ids of the last search's results, best first, so that `show 2` opens the second. Kept in
/// a small file beside the store rather than in it: a search should cost no more than a show,
/// and a database write (its WAL, its lock) cost a search a third of its time. Losing the file
/// loses nothing but the numbers.
enum LastSearch {
    static func path(of store: ContentStore) -> String { store.path + ".last-search" }

    static func save(_ ids: [String], store: ContentStore, output: Output) {
        // Best effort: a read-only folder only means `show N` cannot follow this search.
        try? OutputFile.write(
            Data((ids.joined(separator: "\n") + "\n").utf8), to: path(of: store), force: true, output: output,
            synced: false)
    }

    /// The id of the `number`th result (1-based) of the last search, if there is one.
    static func result(_ number: Int, store: ContentStore) -> String? {
        guard number >= 1, let data = FileManager.default.contents(atPath: path(of: store)) else {
            return nil
        }
        let ids = String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init)
        return number <= ids.count ? ids[number - 1] : nil
    }
}
