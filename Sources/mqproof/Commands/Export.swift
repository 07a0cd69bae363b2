import ArgumentParser
import Content
import Foundation

/// Exports the questions for other tools: an Anki deck or a CSV file.
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export", abstract: "Export the questions as an Anki deck (.apkg) or CSV.",
        subcommands: [Anki.self, CSV.self])

    struct Anki: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "anki",
            abstract: "Write an Anki package: one note per question, both languages, topic tags.",
            discussion:
                "Notes keep stable guids, so importing a later export into Anki updates them instead of adding copies."
        )
        @OptionGroup var options: GlobalOptions
        @Flag(help: "Replace the file if it exists.") var force = false
        @Argument(help: "The .apkg file to write.") var file: String

        func run() throws {
            let app = try App.open(options)
            let entries = try app.store.allEntries()
            let notes = entries.map { entry in
                AnkiPackage.Note(
                    key: entry.id,
                    fields: [
                        HTML.text(entry.question.zh) + "<br>" + HTML.text(entry.question.en),
                        HTML.markdown(entry.answer.zh) + "<ul>"
                            + entry.keyPoints.zh.map { "<li>\(HTML.inline($0))</li>" }.joined()
                            + "</ul><hr>" + HTML.markdown(entry.answer.en) + "<ul>"
                            + entry.keyPoints.en.map { "<li>\(HTML.inline($0))</li>" }.joined() + "</ul>",
                        HTML.text(entry.topic), HTML.text(entry.id),
                    ],
                    tags: ["mqproof", entry.topic] + entry.tags)
            }
            let package: Data
            do {
                package = try AnkiPackage.package(notes, nowMilliseconds: Clock.now.millisecondsSinceEpoch)
            } catch {
                throw Failure(message: "\(error)")
            }
            try OutputFile.write(package, to: file, force: force)
            Output.error("mqproof: wrote \(notes.count) notes to \(file) (deck \(AnkiPackage.deckName))")
        }
    }

    struct CSV: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "csv",
            abstract: "Write the questions as CSV (RFC 4180): id, topic, tags, questions and answers.")
        @OptionGroup var options: GlobalOptions
        @Flag(help: "Replace the file if it exists.") var force = false
        @Argument(help: "The .csv file to write (- for standard output).") var file: String

        func run() throws {
            let app = try App.open(options)
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
            try OutputFile.write(Data(text.utf8), to: file, force: force)
            if file == "-" { return }
            Output.error("mqproof: wrote \(rows.count - 1) questions to \(file)")
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
            case .bold: "<b>\(text(span.text))</b>"
            case .emphasis: "<i>\(text(span.text))</i>"
            case .code: "<code>\(text(span.text))</code>"
            }
        }.joined()
    }

    static func markdown(_ markdown: String) -> String {
        var html = ""
        var inCode = false
        var inList = false
        for line in markdown.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.hasPrefix("```") {
                html += inCode ? "</pre>" : "<pre>"
                inCode.toggle()
                continue
            }
            if inCode {
                html += text(line) + "\n"
                continue
            }
            let isItem = trimmed.hasPrefix("- ") || trimmed.hasPrefix("* ")
            if inList && !isItem {
                html += "</ul>"
                inList = false
            }
            if isItem {
                if !inList { html += "<ul>" }
                inList = true
                html += "<li>\(inline(String(trimmed.dropFirst(2))))</li>"
            } else if trimmed.hasPrefix("#") {
                html +=
                    "<p><b>\(inline(trimmed.drop { $0 == "#" }.trimmingCharacters(in: .whitespaces)))</b></p>"
            } else if trimmed.hasPrefix("|") {
                html += "<code>\(text(trimmed))</code><br>"
            } else if !trimmed.isEmpty {
                html += "<p>\(inline(trimmed))</p>"
            }
        }
        if inList { html += "</ul>" }
        if inCode { html += "</pre>" }
        return html
    }
}
