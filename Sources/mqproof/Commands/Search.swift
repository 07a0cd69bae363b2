import ArgumentParser
import Content

/// Full-text search over both languages.
struct Search: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "search",
        abstract: "Search questions and answers in Chinese and English.",
        discussion: """
            Words match as prefixes (idempot finds idempotent); Chinese matches any run of \
            characters (幂, 幂等, 消息丢失). "Quotes" make a phrase; AND, OR and NOT in capitals \
            combine terms; every other symbol is ignored.
            """)

    @OptionGroup var options: GlobalOptions
    @OptionGroup var output: JSONOption

    @Option(help: "Show at most this many results.")
    var limit = 20

    @Argument(help: "What to look for.")
    var terms: [String] = []

    func validate() throws {
        guard limit > 0 else { throw ValidationError("--limit must be at least 1") }
    }

    struct Result: Encodable {
        var id: String
        var topic: String
        var difficulty: Int
        var question: Localized
        var score: Double
        var snippet: Localized
    }

    func run() throws {
        let text = terms.joined(separator: " ")
        guard let query = SearchQuery(text) else {
            throw Failure(
                message: text.isEmpty
                    ? "nothing to search for; try: mqproof search 幂等"
                    : "nothing searchable in '\(TerminalSafe.clean(text))': type a word or Chinese characters, e.g. mqproof search acks",
                exitCode: 64)
        }
        let app = try App.open(options)
        let hits = try app.store.search(query, limit: limit)
        let phrases = query.clauses.filter { $0.operator != .not }.map { clause in
            clause.term.tokens.joined(
                separator: clause.term.tokens.allSatisfy { $0.unicodeScalars.allSatisfy(SearchText.isCJK) }
                    ? "" : " ")
        }
        var results: [Result] = []
        for hit in hits {
            guard let entry = try app.store.entry(id: hit.entry.id) else { continue }
            let snippet = Localized(
                zh: Snippet.around(phrases, in: entry.answer.zh, width: 76),
                en: Snippet.around(phrases, in: entry.answer.en, width: 76))
            results.append(
                Result(
                    id: hit.entry.id, topic: hit.entry.topic, difficulty: hit.entry.difficulty,
                    question: hit.entry.question, score: hit.score, snippet: snippet))
        }
        if output.json {
            try Output.json(results)
            return
        }
        let style = app.terminal.style
        if results.isEmpty {
            Output.line(
                app.primaryLanguage == .zh
                    ? "没有找到匹配「\(TerminalSafe.clean(text))」的题目。"
                    : "No questions match '\(TerminalSafe.clean(text))'.")
            return
        }
        for (rank, result) in results.enumerated() {
            Output.line(
                style.bold("\(rank + 1).") + " " + style.accent(TerminalSafe.clean(result.id))
                    + style.dim("  \(TerminalSafe.clean(result.topic))"))
            for language in app.languages {
                let question = [
                    InlineParser.Span(text: TerminalSafe.clean(result.question[language]), kind: .plain)
                ]
                for line in app.terminal.hanging(question, first: "    ") {
                    Output.line(Snippet.highlight(phrases, in: line, style: style))
                }
                let snippet = TerminalSafe.clean(result.snippet[language])
                if !snippet.isEmpty {
                    Output.line(
                        "    " + style.dim("…") + Snippet.highlight(phrases, in: snippet, style: style)
                            + style.dim("…"))
                }
            }
        }
    }
}

/// A one-line excerpt of an answer around the first place a search term occurs.
enum Snippet {
    static func around(_ phrases: [String], in markdown: String, width: Int) -> String {
        let plain = flatten(markdown)
        let lowered = plain.lowercased()
        let found = phrases.compactMap { lowered.range(of: $0.lowercased()) }.min {
            $0.lowerBound < $1.lowerBound
        }
        guard let found else { return "" }
        let matchOffset = lowered.distance(from: lowered.startIndex, to: found.lowerBound)
        var characters = Array(plain)
        // Start a little before the match so it is read in context.
        var start = max(0, matchOffset - 12)
        while start > 0 && start < matchOffset && characters[start - 1] != " "
            && DisplayWidth.of(characters[start]) == 1
        {
            start -= 1
        }
        characters = Array(characters[start...])
        var result = ""
        var used = 0
        for character in characters {
            let characterWidth = DisplayWidth.of(character)
            if used + characterWidth > width { break }
            result.append(character)
            used += characterWidth
        }
        return result.trimmingCharacters(in: .whitespaces)
    }

    /// The answer as one line of plain text: Markdown marks dropped, white space collapsed.
    private static func flatten(_ markdown: String) -> String {
        var text = markdown
        for mark in ["**", "`", "|", "#"] { text = text.replacingOccurrences(of: mark, with: "") }
        return text.split(whereSeparator: \.isWhitespace).joined(separator: " ")
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
