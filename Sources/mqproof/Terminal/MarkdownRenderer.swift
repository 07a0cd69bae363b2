// Theory of operation
//
// Answers are written in a small Markdown subset (content/README.md). The renderer turns one
// answer into terminal lines: it splits the text into blocks (paragraphs, headings, lists, fenced
// code, pipe tables), parses inline spans (bold, emphasis, code) and wraps them to the width.
// Wrapping counts display columns, so a Chinese character takes two; Chinese text breaks between
// any two characters, except that closing punctuation never starts a line and opening punctuation
// never ends one. Everything from the content passes through TerminalSafe first, so no content
// can reach the terminal as an escape sequence: the only escapes written are Style's own.

/// Renders the Markdown subset of answers for a terminal of a given width.
struct MarkdownRenderer {
    var width: Int
    var style: Style

    func render(_ markdown: String) -> [String] {
        let lines = TerminalSafe.clean(markdown).split(separator: "\n", omittingEmptySubsequences: false).map(
            String.init)
        var output: [String] = []
        var paragraph: [String] = []
        var index = 0

        func flushParagraph() {
            guard !paragraph.isEmpty else { return }
            output += wrap(InlineParser.spans(joinLines(paragraph)), width: width).map(\.text)
            paragraph = []
        }
        func separate() {
            if let last = output.last, !last.isEmpty { output.append("") }
        }

        while index < lines.count {
            let line = lines[index]
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.hasPrefix("```") {
                flushParagraph()
                separate()
                index += 1
                while index < lines.count, !lines[index].trimmingCharacters(in: .whitespaces).hasPrefix("```")
                {
                    output.append("    " + style.code(lines[index]))
                    index += 1
                }
                output.append("")
            } else if trimmed.isEmpty {
                flushParagraph()
                if let last = output.last, !last.isEmpty { output.append("") }
            } else if let heading = Self.heading(trimmed) {
                flushParagraph()
                separate()
                let spans = InlineParser.spans(heading.text).map {
                    InlineParser.Span(text: $0.text, kind: .bold)
                }
                output += wrap(spans, width: width).map {
                    heading.level == 1 ? style.underline($0.plain) : $0.text
                }
            } else if trimmed.hasPrefix("|") {
                flushParagraph()
                var rows: [String] = []
                while index < lines.count, lines[index].trimmingCharacters(in: .whitespaces).hasPrefix("|") {
                    rows.append(lines[index].trimmingCharacters(in: .whitespaces))
                    index += 1
                }
                separate()
                output += renderTable(rows)
                continue
            } else if let item = Self.listItem(line) {
                flushParagraph()
                var text = item.text
                index += 1
                // Continuation lines belong to the item until a blank line or the next item.
                while index < lines.count {
                    let next = lines[index]
                    let nextTrimmed = next.trimmingCharacters(in: .whitespaces)
                    if nextTrimmed.isEmpty || Self.listItem(next) != nil || nextTrimmed.hasPrefix("```")
                        || nextTrimmed.hasPrefix("|") || Self.heading(nextTrimmed) != nil
                    {
                        break
                    }
                    text = joinLines([text, nextTrimmed])
                    index += 1
                }
                let indent = String(repeating: " ", count: 2 + item.level * 2)
                let marker = item.marker
                let hanging = String(repeating: " ", count: DisplayWidth.of(marker) + 1)
                let wrapped = wrap(
                    InlineParser.spans(text), width: max(10, width - indent.count - hanging.count))
                for (lineIndex, wrappedLine) in wrapped.enumerated() {
                    output.append(
                        indent + (lineIndex == 0 ? style.accent(marker) + " " : hanging) + wrappedLine.text)
                }
                continue
            } else {
                paragraph.append(trimmed)
            }
            index += 1
        }
        flushParagraph()
        while output.last?.isEmpty == true { output.removeLast() }
        return output
    }

    /// Joins source lines of one paragraph: with a space between words, without one between two
    /// Chinese characters (a line break inside Chinese text is not a space).
    private func joinLines(_ lines: [String]) -> String {
        var result = ""
        for line in lines {
            if let last = result.unicodeScalars.last, let first = line.unicodeScalars.first,
                !(isWide(last) && isWide(first))
            {
                result += " "
            }
            result += line
        }
        return result
    }

    private func isWide(_ scalar: Unicode.Scalar) -> Bool { DisplayWidth.of(scalar) == 2 }

    private static func heading(_ line: String) -> (level: Int, text: String)? {
        let hashes = line.prefix { $0 == "#" }.count
        guard (1...6).contains(hashes), line.dropFirst(hashes).first == " " else { return nil }
        return (hashes, String(line.dropFirst(hashes + 1)).trimmingCharacters(in: .whitespaces))
    }

    private static func listItem(_ line: String) -> (level: Int, marker: String, text: String)? {
        let leading = line.prefix { $0 == " " }.count
        let rest = line.dropFirst(leading)
        if let first = rest.first, "-*+".contains(first), rest.dropFirst().first == " " {
            return (leading / 2, "•", String(rest.dropFirst(2)).trimmingCharacters(in: .whitespaces))
        }
        let digits = rest.prefix { $0.isASCII && $0.isNumber }
        if !digits.isEmpty, digits.count <= 3 {
            let afterDigits = rest.dropFirst(digits.count)
            if let mark = afterDigits.first, mark == "." || mark == ")", afterDigits.dropFirst().first == " "
            {
                return (
                    leading / 2, "\(digits).",
                    String(afterDigits.dropFirst(2)).trimmingCharacters(in: .whitespaces)
                )
            }
        }
        return nil
    }

    // MARK: - Tables

    private func renderTable(_ rows: [String]) -> [String] {
        var cells = rows.map(Self.cells)
        let isSeparator = { (row: [String]) in
            row.allSatisfy { cell in !cell.isEmpty && cell.allSatisfy { "-: ".contains($0) } }
        }
        var hasHeader = false
        if cells.count >= 2, isSeparator(cells[1]) {
            cells.remove(at: 1)
            hasHeader = true
        }
        let columnCount = cells.map(\.count).max() ?? 0
        guard columnCount > 0 else { return [] }
        let spans = cells.map { row in
            (0..<columnCount).map { InlineParser.spans(row.indices.contains($0) ? row[$0] : "") }
        }
        let natural = (0..<columnCount).map { column in
            spans.map { row in max(1, DisplayWidth.of(row[column].map(\.text).joined())) }.max() ?? 1
        }
        let gap = 2
        let widths = Self.fit(natural, into: max(columnCount * 4, width - gap * (columnCount - 1)))
        var output: [String] = []
        let rule = String(
            repeating: style.isEnabled ? "─" : "-", count: widths.reduce(0, +) + gap * (columnCount - 1))
        for (rowIndex, row) in spans.enumerated() {
            let header = hasHeader && rowIndex == 0
            let wrapped = row.enumerated().map { column, cell in
                wrap(
                    header ? cell.map { InlineParser.Span(text: $0.text, kind: .bold) } : cell,
                    width: widths[column])
            }
            let height = wrapped.map(\.count).max() ?? 1
            for lineIndex in 0..<max(1, height) {
                var line = ""
                for column in 0..<columnCount {
                    let piece =
                        wrapped[column].indices.contains(lineIndex)
                        ? wrapped[column][lineIndex] : WrappedLine()
                    let padding = column == columnCount - 1 ? 0 : widths[column] - piece.width + gap
                    line += piece.text + String(repeating: " ", count: max(0, padding))
                }
                output.append(line)
            }
            if header { output.append(style.dim(rule)) }
        }
        return output
    }

    private static func cells(_ row: String) -> [String] {
        var body = Substring(row)
        if body.hasPrefix("|") { body = body.dropFirst() }
        if body.hasSuffix("|") { body = body.dropLast() }
        return body.split(separator: "|", omittingEmptySubsequences: false).map {
            $0.trimmingCharacters(in: .whitespaces)
        }
    }

    /// Column widths that fit `total`: narrow columns keep their natural width, and the space
    /// left is shared among the wide ones.
    private static func fit(_ natural: [Int], into total: Int) -> [Int] {
        guard natural.reduce(0, +) > total else { return natural }
        var widths = natural
        var open = Set(natural.indices)
        var remaining = total
        while !open.isEmpty {
            let share = remaining / open.count
            let narrow = open.filter { natural[$0] <= share }
            if narrow.isEmpty {
                for (position, column) in open.sorted().enumerated() {
                    widths[column] = max(4, share + (position < remaining % open.count ? 1 : 0))
                }
                break
            }
            for column in narrow {
                widths[column] = natural[column]
                remaining -= natural[column]
                open.remove(column)
            }
        }
        return widths
    }

    // MARK: - Wrapping

    struct WrappedLine {
        var text = ""
        var plain = ""
        var width = 0
    }

    /// A piece of text that must not be broken: a word, or one Chinese character with the
    /// punctuation that clings to it.
    private struct Atom {
        var pieces: [(text: String, kind: InlineParser.Kind)] = []
        var width = 0
        var spaceBefore = false

        mutating func append(_ character: Character, kind: InlineParser.Kind) {
            if let last = pieces.last, last.kind == kind {
                pieces[pieces.count - 1].text.append(character)
            } else {
                pieces.append((String(character), kind))
            }
            width += DisplayWidth.of(character)
        }
    }

    /// Punctuation that must not start a line (it clings to what precedes it).
    private static func isClosing(_ character: Character) -> Bool {
        switch character.unicodeScalars.first!.value {
        case 0xFF0C, 0x3002, 0x3001, 0xFF1B, 0xFF1A, 0xFF1F, 0xFF01, 0xFF09, 0x300D, 0x300F, 0x300B, 0x3011,
            0x3009, 0x2026, 0x201D, 0x2019, 0x2C, 0x2E, 0x3B, 0x3A, 0x21, 0x3F, 0x29, 0x5D, 0x25:
            true
        default: false
        }
    }

    /// Punctuation that must not end a line (it clings to what follows it).
    private static func isOpening(_ character: Character) -> Bool {
        switch character.unicodeScalars.first!.value {
        case 0xFF08, 0x300C, 0x300E, 0x300A, 0x3010, 0x3008, 0x201C, 0x2018, 0x28, 0x5B: true
        default: false
        }
    }

    func wrap(_ spans: [InlineParser.Span], width: Int) -> [WrappedLine] {
        var lines: [WrappedLine] = []
        var current = WrappedLine()
        func emit() {
            lines.append(current)
            current = WrappedLine()
        }
        func append(_ text: String, _ kind: InlineParser.Kind, width: Int) {
            current.plain += text
            current.text += render(text, kind)
            current.width += width
        }
        for atom in makeAtoms(spans) {
            let space = atom.spaceBefore && current.width > 0 ? 1 : 0
            if current.width > 0 && current.width + space + atom.width > width {
                emit()
            } else if space == 1 {
                append(" ", .plain, width: 1)
            }
            if current.width + atom.width <= width {
                for piece in atom.pieces {
                    append(piece.text, piece.kind, width: DisplayWidth.of(piece.text))
                }
                continue
            }
            // A word longer than the whole line is broken where it must be.
            for piece in atom.pieces {
                for character in piece.text {
                    let characterWidth = DisplayWidth.of(character)
                    if current.width > 0 && current.width + characterWidth > width { emit() }
                    append(String(character), piece.kind, width: characterWidth)
                }
            }
        }
        if current.width > 0 || lines.isEmpty { emit() }
        return lines
    }

    private func makeAtoms(_ spans: [InlineParser.Span]) -> [Atom] {
        var atoms: [Atom] = []
        var current = Atom()
        var pendingSpace = false
        func finish() {
            if current.width > 0 { atoms.append(current) }
            current = Atom()
        }
        for span in spans {
            let text = span.kind == .code && !style.isEnabled ? "`\(span.text)`" : span.text
            for character in text {
                if character == " " || character == "\n" {
                    finish()
                    pendingSpace = true
                    continue
                }
                let wide = DisplayWidth.of(character) == 2
                if Self.isClosing(character) && !pendingSpace {
                    // Clings to what came before, so it never starts a line.
                    if current.width > 0 {
                        current.append(character, kind: span.kind)
                    } else if !atoms.isEmpty {
                        atoms[atoms.count - 1].append(character, kind: span.kind)
                    } else {
                        current.append(character, kind: span.kind)
                    }
                    if wide { finish() }
                    continue
                }
                if wide {
                    let clingsToOpening =
                        current.pieces.last.map { Self.isOpening($0.text.last!) } ?? false
                    if !clingsToOpening { finish() }
                    current.spaceBefore = current.width == 0 ? pendingSpace : current.spaceBefore
                    current.append(character, kind: span.kind)
                    pendingSpace = false
                    if !Self.isOpening(character) { finish() }
                    continue
                }
                if current.width == 0 { current.spaceBefore = pendingSpace }
                current.append(character, kind: span.kind)
                pendingSpace = false
            }
        }
        finish()
        return atoms
    }

    private func render(_ text: String, _ kind: InlineParser.Kind) -> String {
        switch kind {
        case .plain: text
        case .bold: style.bold(text)
        case .emphasis: style.italic(text)
        case .code: style.code(text)
        }
    }
}

/// Parses the inline part of the Markdown subset: `**bold**`, `*emphasis*` and `` `code` ``.
/// Anything unmatched is kept as written.
enum InlineParser {
    enum Kind: Equatable {
        case plain, bold, emphasis, code
    }

    struct Span: Equatable {
        var text: String
        var kind: Kind
    }

    static func spans(_ text: String) -> [Span] {
        var spans: [Span] = []
        var plain = ""
        var rest = Substring(text)
        func push(_ text: some StringProtocol, _ kind: Kind) {
            if !plain.isEmpty { spans.append(Span(text: plain, kind: .plain)) }
            plain = ""
            spans.append(Span(text: String(text), kind: kind))
        }
        while let character = rest.first {
            if character == "`", let end = rest.dropFirst().firstIndex(of: "`") {
                push(rest[rest.index(after: rest.startIndex)..<end], .code)
                rest = rest[rest.index(after: end)...]
            } else if rest.hasPrefix("**"), let end = rest.dropFirst(2).range(of: "**"),
                end.lowerBound > rest.index(rest.startIndex, offsetBy: 2)
            {
                push(rest[rest.index(rest.startIndex, offsetBy: 2)..<end.lowerBound], .bold)
                rest = rest[end.upperBound...]
            } else if character == "*", let next = rest.dropFirst().first, next != " ", next != "*",
                let end = rest.dropFirst().firstIndex(of: "*")
            {
                push(rest[rest.index(after: rest.startIndex)..<end], .emphasis)
                rest = rest[rest.index(after: end)...]
            } else {
                plain.append(character)
                rest = rest.dropFirst()
            }
        }
        if !plain.isEmpty { spans.append(Span(text: plain, kind: .plain)) }
        return spans
    }
}
