import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Reads answers: single keys in raw mode on a terminal, whole lines otherwise, so that a whole
/// quiz session can be scripted through standard input.
final class KeyInput {
    enum Key: Equatable {
        case character(Character)
        case enter
        case quit  // Ctrl-C, Ctrl-D, end of input
    }

    let isTerminal: Bool

    init() {
        isTerminal = isatty(STDIN_FILENO) == 1 && isatty(STDOUT_FILENO) == 1
        if isTerminal { TerminalMode.installSignalHandlers() }
    }

    /// One key on a terminal; on a pipe, the first character of the next non-empty line.
    func key() -> Key {
        // The prompt must be out before we wait: piped output is otherwise held in a buffer.
        fflush(nil)
        guard isTerminal else {
            guard let line = readLine() else { return .quit }
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            return trimmed.first.map(Key.character) ?? .enter
        }
        TerminalMode.enterRaw()
        defer { TerminalMode.restore() }
        var bytes: [UInt8] = []
        while true {
            var byte: UInt8 = 0
            guard read(STDIN_FILENO, &byte, 1) == 1 else { return .quit }
            if bytes.isEmpty {
                switch byte {
                case 3, 4: return .quit
                case 10, 13: return .enter
                case 27: continue  // escape sequences (arrows) are not answers
                default: break
                }
            }
            bytes.append(byte)
            if let text = String(bytes: bytes, encoding: .utf8), let character = text.first {
                return .character(character)
            }
            if bytes.count >= 4 { bytes.removeAll() }
        }
    }

    /// A whole line (a typed answer), in the terminal's normal line mode. Nil at end of input.
    func line() -> String? {
        fflush(nil)
        return readLine()
    }
}

/// Raw mode for single keys, always restored: on return, on Ctrl-C (read as a key, since ISIG
/// is off), and on SIGTERM or SIGHUP through a handler.
enum TerminalMode {
    nonisolated(unsafe) private static var original = termios()
    nonisolated(unsafe) private static var isRaw = false

    static func enterRaw() {
        guard !isRaw else { return }
        tcgetattr(STDIN_FILENO, &original)
        var raw = original
        raw.c_iflag &= ~tcflag_t(BRKINT | ICRNL | INPCK | ISTRIP | IXON)
        raw.c_cflag |= tcflag_t(CS8)
        raw.c_lflag &= ~tcflag_t(ECHO | ICANON | IEXTEN | ISIG)
        withUnsafeMutableBytes(of: &raw.c_cc) { cc in
            cc[Int(VMIN)] = 1
            cc[Int(VTIME)] = 0
        }
        tcsetattr(STDIN_FILENO, TCSANOW, &raw)
        isRaw = true
    }

    static func restore() {
        guard isRaw else { return }
        tcsetattr(STDIN_FILENO, TCSANOW, &original)
        isRaw = false
    }

    static func installSignalHandlers() {
        for signalNumber in [SIGTERM, SIGHUP, SIGINT] {
            signal(signalNumber) { received in
                TerminalMode.restore()
                // Every answer was stored when it was given; nothing is left to save.
                _exit(128 + received)
            }
        }
    }
}
