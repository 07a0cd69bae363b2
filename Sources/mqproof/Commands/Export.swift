import ArgumentParser
import Content
import Foundation

/// Exports the questions for other tools: an Anki deck or a CSV file.
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export", abstract: "Export the questions as an Anki deck (.apkg) or CSV.",
        subcommands: [Anki.self, CSV.self])

    struct Anki: EnvironmentCommand {
        static let configuration = CommandConfiguration(
            commandName: "anki",
            abstract:
                "Write an Anki package: one note per question, in the languages --lang names, topic tags.",
            discussion:
                "Notes keep stable guids, so importing a later export into Anki updates them instead of adding copies."
        )
        @OptionGroup var options: GlobalOptions
        @Flag(help: "Replace the file if it exists.") var force = false
        @Argument(help: "The .apkg file to write.") var file: String

        func run(in environment: Environment) throws {
            let output = environment.output
            let app = try App.open(options, in: environment)
            let entries = try app.store.allEntries()
            let languages = app.languages
            let notes = entries.map { entry in
                AnkiPackage.Note(
                    key: entry.id,
                    fields: [
                        languages.map { HTML.text(entry.question[$0]) }.joined(separator: "<br>"),
                        languages.map { language in
                            HTML.markdown(entry.answer[language]) + "<ul>"
                                + entry.keyPoints[language].map { "<li>\(HTML.inline($0))</li>" }.joined()
                                + "</ul>"
                        }.joined(separator: "<hr>"),
                        HTML.text(entry.topic), HTML.text(entry.id),
                    ],
                    tags: ["mqproof", entry.topic] + entry.tags)
            }
            let package: Data
            do {
                package = try AnkiPackage.package(
                    notes, nowMilliseconds: app.clock.now().millisecondsSinceEpoch)
            } catch {
                throw Failure(message: "\(error)")
            }
            try OutputFile.write(package, to: file, force: force, output: output)
            output.error(UI(languages)(.wroteNotes(notes.count, file: file, deck: AnkiPackage.deckName)))
        }
    }

    struct CSV: EnvironmentCommand {
        static let configuration = CommandConfiguration(
            commandName: "csv",
            abstract: "Write the questions as CSV (RFC 4180): id, topic, tags, questions and answers.")
        @OptionGroup var options: GlobalOptions
        @Flag(help: "Replace the file if it exists.") var force = false
        @Argument(help: "The .csv file to write (- for standard output).") var file: String

        func run(in environment: Environment) throws {
            let output = environment.output
            let app = try App.open(options, in: environment)
            var rows = [
                ["id", "topic", "difficulty", "tags", "question_zh", "question_en", "answer_zh", "answer_en"]
            ]
            for entry in try app.store.allEntries() {
                rows.append([
                    entry.id, entry.topic, String(entry.difficulty), entry.tags.joined(separator: " "),
                    entry.question.zh,
                    entry.question.en, entry.answer.zh, entry.answer.en,
                ])
            }
            let text =
                rows.map { $0.map(Self.quoted).joined(separator: ",") }.joined(separator: "\r\n") + "\r\n"
            try OutputFile.write(Data(text.utf8), to: file, force: force, output: output)
            if file == "-" { return }
            output.error(app.ui(.wroteQuestions(rows.count - 1, file: file)))
        }

        static func quoted(_ field: String) -> String {
            "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        }
    }
}

/// The Markdown subset as simple HTML for Anki cards.
enum HTML {
    static func text(_ text: String) -> String {
        TerminalSafe.clean(text).replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(
            of: "<", with: "&lt;"
        )
        .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    static func inline(_ markdown: String) -> String {
        InlineParser.spans(markdown).map { span in
            switch span.kind {
            case .plain: text(span.text)
            // Bold and emphasis may hold code (**Inside `send()`**): their text is read again.
            case .bold: "<b>\(inline(span.text))</b>"
            case .emphasis: "<i>\(inline(span.text))</i>"
            case .code: "<code>\(text(span.text))</code>"
            }
        }.joined()
    }

    /// The Markdown subset (content/README.md) as HTML: headings, paragraphs, bullet and
    /// numbered lists, fenced code, and pipe tables as tables, with inline bold, emphasis and code.
    static func markdown(_ markdown: String) -> String {
        var html = ""
        var inCode = false
        var list: String?
        var table: [[String]] = []
        func closeList() {
            if let open = list { html += "</\(open)>" }
            list = nil
        }
        func closeTable() {
            guard !table.isEmpty else { return }
            // The second row of a pipe table is its |---| separator.
            let body = table.count > 1 && table[1].allSatisfy({ $0.allSatisfy { "-: ".contains($0) } })
            html += "<table>"
            for (index, cells) in table.enumerated() where !(body && index == 1) {
                let tag = body && index == 0 ? "th" : "td"
                html += "<tr>" + cells.map { "<\(tag)>\(inline($0))</\(tag)>" }.joined() + "</tr>"
            }
            html += "</table>"
            table = []
        }
        for line in markdown.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.hasPrefix("```") {
                closeList()
                closeTable()
                html += inCode ? "</code></pre>" : "<pre><code>"
                inCode.toggle()
                continue
            }
            if inCode {
                html += text(line) + "\n"
                continue
            }
            if trimmed.hasPrefix("|") {
                closeList()
                let cells = trimmed.dropFirst().split(separator: "|", omittingEmptySubsequences: false).map {
                    $0.trimmingCharacters(in: .whitespaces)
                }
                table.append(trimmed.hasSuffix("|") ? Array(cells.dropLast()) : cells)
                continue
            }
            closeTable()
            let bullet = trimmed.hasPrefix("- ") || trimmed.hasPrefix("* ")
            let number = trimmed.firstIndex(of: ".").flatMap { dot in
                trimmed[..<dot].allSatisfy(\.isNumber) && !trimmed[..<dot].isEmpty
                    && trimmed[trimmed.index(after: dot)...].hasPrefix(" ") ? dot : nil
            }
            if bullet || number != nil {
                let kind = bullet ? "ul" : "ol"
                if list != kind {
                    closeList()
                    html += "<\(kind)>"
                    list = kind
                }
                let item =
                    bullet ? String(trimmed.dropFirst(2)) : String(trimmed[trimmed.index(after: number!)...])
                html += "<li>\(inline(item.trimmingCharacters(in: .whitespaces)))</li>"
                continue
            }
            closeList()
            if trimmed.hasPrefix("#") {
                html +=
                    "<p><b>\(inline(trimmed.drop { $0 == "#" }.trimmingCharacters(in: .whitespaces)))</b></p>"
            } else if !trimmed.isEmpty {
                html += "<p>\(inline(trimmed))</p>"
            }
        }
        closeList()
        closeTable()
        if inCode { html += "</code></pre>" }
        return html
    }
}
