import ArgumentParser
import Content

/// Ranked search over both languages, for questions typed the way people ask them.
struct Search: ParsableCommand {
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
    @OptionGroup var output: JSONOption

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

    func run() throws {
        let text = terms.joined(separator: " ")
        let app = try App.open(options)
        guard let found = try app.store.search(text, limit: limit) else {
            throw Failure(
                message: text.isEmpty
                    ? "nothing to search for; try: mqproof search 如何保证消息不丢失"
                    : "nothing searchable in '\(TerminalSafe.clean(text))': type a word or Chinese characters, e.g. mqproof search acks",
                exitCode: 64)
        }
        var results: [Result] = []
        for (index, hit) in found.hits.enumerated() {
            guard let entry = try app.store.entry(id: hit.entry.id) else { continue }
            let snippet = Localized(
                zh: Snippet.around(found.highlights, in: entry.answer.zh, width: 76),
                en: Snippet.around(found.highlights, in: entry.answer.en, width: 76))
            results.append(
                Result(
                    number: index + 1, id: hit.entry.id, topic: hit.entry.topic,
                    difficulty: hit.entry.difficulty,
                    question: hit.entry.question, score: (hit.score * 1000).rounded() / 1000, snippet: snippet
                ))
        }
        try app.store.rememberSearch(results.map(\.id))
        if output.json {
            try Output.json(
                Report(query: text, match: found.match, corrections: found.corrections, results: results))
            return
        }
        let style = app.terminal.style
        if let header = header(found, text: text, zh: app.primaryLanguage == .zh) {
            Output.line(style.dim(header))
        }
        for result in results {
            Output.line(
                style.bold("\(result.number).") + " " + style.accent(TerminalSafe.clean(result.id))
                    + style.dim("  \(TerminalSafe.clean(result.topic))"))
            for language in app.languages {
                let question = [
                    InlineParser.Span(text: TerminalSafe.clean(result.question[language]), kind: .plain)
                ]
                for line in app.terminal.hanging(question, first: "    ") {
                    Output.line(Snippet.highlight(found.highlights, in: line, style: style))
                }
                let snippet = TerminalSafe.clean(result.snippet[language])
                if !snippet.isEmpty {
                    Output.line(
                        "    " + style.dim("…")
                            + Snippet.highlight(found.highlights, in: snippet, style: style)
                            + style.dim("…"))
                }
            }
        }
        if !results.isEmpty {
            Output.line()
            Output.line(
                style.dim(app.primaryLanguage == .zh ? "打开一条：mqproof show 1" : "Open one: mqproof show 1"))
        }
    }

    /// What to say above results that are not an exact match.
    private func header(_ found: ContentStore.SearchResults, text: String, zh: Bool) -> String? {
        let typed = TerminalSafe.clean(text)
        let corrected = found.corrections.map { "\($0.typed) → \($0.searched.joined(separator: "/"))" }
            .joined(separator: ", ")
        switch found.match {
        case .exact: return nil
        case .corrected:
            return zh ? "按最接近的词搜索：\(corrected)" : "Searched for the nearest words: \(corrected)"
        case .closest:
            return zh ? "没有完全匹配「\(typed)」的题目；最接近的：" : "No exact match for '\(typed)'; closest:"
        case .suggested:
            return zh
                ? "没有找到与「\(typed)」相关的题目；可以从这些开始："
                : "Nothing matches '\(typed)'; you could start with:"
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
