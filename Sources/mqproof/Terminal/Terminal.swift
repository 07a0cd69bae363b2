import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// What the command line knows about where its output goes: a terminal or a pipe, how wide,
/// whether colour is wanted. Built once from the real process at the edge; tests build their own.
struct Terminal {
    var isTerminal: Bool
    /// Whether standard error is a terminal: progress bars go there, and only there.
    var isErrorTerminal = false
    var width: Int
    /// Rows on the screen (24 when unknown): longer output goes through the pager.
    var height = 24
    var style: Style

    /// Colour only on a terminal, never with `NO_COLOR` set (https://no-color.org) or a dumb `TERM`.
    static func current(environment: [String: String]) -> Terminal {
        let isTerminal = isatty(STDOUT_FILENO) == 1
        let noColor = environment["NO_COLOR"].map { !$0.isEmpty } ?? false
        let dumb = environment["TERM"] == nil || environment["TERM"] == "dumb"
        return Terminal(
            isTerminal: isTerminal, isErrorTerminal: isatty(STDERR_FILENO) == 1,
            width: columns(isTerminal: isTerminal, environment: environment),
            height: rows(isTerminal: isTerminal, environment: environment),
            style: Style(isEnabled: isTerminal && !noColor && !dumb))
    }

    private static func rows(isTerminal: Bool, environment: [String: String]) -> Int {
        var size = winsize()
        if isTerminal, ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_row > 0 {
            return Int(size.ws_row)
        }
        if let lines = environment["LINES"].flatMap(Int.init), lines > 0 { return lines }
        return 24
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

    /// Plain text (no markdown: an underscore is an underscore), made safe, wrapped behind a prefix.
    func wrapped(_ text: String, first: String, rest: String? = nil) -> [String] {
        hanging([InlineParser.Span(text: TerminalSafe.clean(text), kind: .plain)], first: first, rest: rest)
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

/// Where a command writes: the process's standard output and error, or, in a test, a buffer
/// (`collecting`). Commands reach it through their Environment, never through a global.
struct Output: Sendable {
    enum Stream: Sendable {
        case standardOutput
        case standardError
    }

    /// Text, or bytes as they are (an export written to `-`, which need not be UTF-8).
    enum Chunk: Sendable {
        case text(String)
        case bytes(Data)
    }

    private let write: @Sendable (Chunk, Stream) -> Void

    init(write: @escaping @Sendable (Chunk, Stream) -> Void) {
        self.write = write
    }

    /// Standard output through stdio's buffer, as `print` writes it (flushed before the process
    /// reads a key or exits); standard error unbuffered, so a failure shows at once.
    static let process = Output { chunk, stream in
        switch (chunk, stream) {
        case (.text(let text), .standardOutput): print(text, terminator: "")
        case (.bytes(let data), .standardOutput):
            fflush(nil)  // What print buffered goes first.
            FileHandle.standardOutput.write(data)
        case (.text(let text), .standardError): FileHandle.standardError.write(Data(text.utf8))
        case (.bytes(let data), .standardError): FileHandle.standardError.write(data)
        }
    }

    /// Output kept in `buffer` instead of the process's streams.
    static func collecting(into buffer: CollectedOutput) -> Output {
        Output { chunk, stream in
            switch chunk {
            case .text(let text): buffer.append(Data(text.utf8), to: stream)
            case .bytes(let data): buffer.append(data, to: stream)
            }
        }
    }

    /// Sends what is buffered now: a line that took seconds to find should not wait for the next.
    func flush() {
        write(.bytes(Data()), .standardOutput)
    }

    /// Bytes as they are on standard output: an export written to `-`.
    func bytes(_ data: Data) {
        write(.bytes(data), .standardOutput)
    }

    func line(_ text: String = "") {
        write(.text(text + "\n"), .standardOutput)
    }

    func lines(_ texts: [String], indent: String = "") {
        for text in texts { line(indent + text) }
    }

    func error(_ text: String) {
        write(.text(text + "\n"), .standardError)
    }

    /// Text on standard error without a newline: a progress line that `\r` rewrites.
    func progress(_ text: String) {
        write(.text(text), .standardError)
    }

    /// Pretty, key-sorted JSON: stable for diffs and scripts.
    func json(_ value: some Encodable) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        line(String(decoding: try encoder.encode(value), as: UTF8.self))
    }
}

/// What a command wrote, kept for a test to read.
final class CollectedOutput: @unchecked Sendable {
    private let lock = NSLock()
    private var standardOutputData = Data()
    private var standardErrorData = Data()

    init() {}

    func append(_ data: Data, to stream: Output.Stream) {
        lock.withLock {
            switch stream {
            case .standardOutput: standardOutputData.append(data)
            case .standardError: standardErrorData.append(data)
            }
        }
    }

    var standardOutput: String { lock.withLock { String(decoding: standardOutputData, as: UTF8.self) } }
    var standardError: String { lock.withLock { String(decoding: standardErrorData, as: UTF8.self) } }
}
