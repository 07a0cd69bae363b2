import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// What the command line knows about where its output goes: a terminal or a pipe, how wide,
/// whether colour is wanted. Built once from the real process at the edge; tests build their own.
struct Terminal {
    var isTerminal: Bool
    var width: Int
    var style: Style

    /// Colour only on a terminal, never with `NO_COLOR` set (https://no-color.org) or a dumb `TERM`.
    static func current(environment: [String: String]) -> Terminal {
        let isTerminal = isatty(STDOUT_FILENO) == 1
        let noColor = environment["NO_COLOR"].map { !$0.isEmpty } ?? false
        let dumb = environment["TERM"] == nil || environment["TERM"] == "dumb"
        return Terminal(
            isTerminal: isTerminal,
            width: columns(isTerminal: isTerminal, environment: environment),
            style: Style(isEnabled: isTerminal && !noColor && !dumb))
    }

    private static func columns(isTerminal: Bool, environment: [String: String]) -> Int {
        var size = winsize()
        if isTerminal, ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 {
            return Int(size.ws_col)
        }
        if let columns = environment["COLUMNS"].flatMap(Int.init), columns > 0 { return columns }
        return 80
    }

    /// The width prose is wrapped to: the terminal's, but never so wide that lines tire the eye.
    var textWidth: Int { min(max(width, 20), 100) }

    func renderer(indent: Int = 0) -> MarkdownRenderer {
        MarkdownRenderer(width: textWidth - indent, style: style)
    }

    /// Wraps inline text to the text width behind a first-line prefix (a marker, a number) and
    /// a hanging indent for the lines after it.
    func hanging(_ spans: [InlineParser.Span], first: String, rest: String? = nil) -> [String] {
        let prefixWidth = DisplayWidth.of(Self.visible(first))
        let restPrefix = rest ?? String(repeating: " ", count: prefixWidth)
        let lines = renderer().wrap(spans, width: max(10, textWidth - prefixWidth))
        return lines.enumerated().map { index, line in (index == 0 ? first : restPrefix) + line.text }
    }

    /// Content text, made safe, wrapped behind a prefix.
    func hanging(_ text: String, first: String, rest: String? = nil) -> [String] {
        hanging(InlineParser.spans(TerminalSafe.clean(text)), first: first, rest: rest)
    }

    /// Text without the escapes Style adds, to measure it.
    static func visible(_ text: String) -> String {
        var result = ""
        var inEscape = false
        for character in text {
            if character == "\u{1B}" {
                inEscape = true
            } else if inEscape {
                inEscape = character != "m"
            } else {
                result.append(character)
            }
        }
        return result
    }
}

/// Writes lines to standard output and standard error.
enum Output {
    static func line(_ text: String = "") {
        print(text)
    }

    static func lines(_ texts: [String], indent: String = "") {
        for text in texts { print(indent + text) }
    }

    static func error(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }

    /// Pretty, key-sorted JSON: stable for diffs and scripts.
    static func json(_ value: some Encodable) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        print(String(decoding: try encoder.encode(value), as: UTF8.self))
    }
}
