import Foundation
import Quiz
import TestSupport
import Testing

@testable import mqproof

/// Commands read the world through an Environment value, so a test can hand them another one.
@Suite("Command environment")
struct EnvironmentTests {
    func environment(_ variables: [String: String], at milliseconds: Int64 = 0) -> Environment {
        var utc = Calendar(identifier: .gregorian)
        utc.timeZone = TimeZone(identifier: "UTC")!
        return Environment(
            variables: variables, terminal: Terminal.current(environment: variables),
            clock: .fixed(Instant(millisecondsSinceEpoch: milliseconds), calendar: utc))
    }

    @Test("The language comes from the environment value, not the process")
    func language() throws {
        let options = try LanguageOption.parse([])
        #expect(options.languages(environment(["LANG": "zh_CN.UTF-8"])) == [.zh])
        #expect(
            options.languages(environment(["LANG": "zh_CN.UTF-8", "MQPROOF_LANG": "both"])) == [.zh, .en])
        #expect(options.languages(environment([:])) == [.en])
    }

    @Test("A fixed clock gives the same days whatever the real time")
    func fixedClock() {
        // 2026-12-07 15:00 UTC.
        let clock = environment([:], at: 1_796_655_600_000).clock
        #expect(clock.now().millisecondsSinceEpoch == 1_796_655_600_000)
        #expect(clock.startOfToday.millisecondsSinceEpoch == 1_796_601_600_000)
        #expect(clock.startOfDay(offset: 1).millisecondsSinceEpoch == 1_796_688_000_000)
    }

    @Test("Without a terminal: no colour, the width from COLUMNS")
    func pipe() {
        let terminal = environment(["COLUMNS": "60", "TERM": "xterm"]).terminal
        #expect(terminal.width == 60 || terminal.isTerminal)
        #expect(!terminal.style.isEnabled || terminal.isTerminal)
    }

    /// An environment with a store in `directory`, a pipe `width` columns wide, no colour, and
    /// its output kept in `buffer`.
    func captured(_ directory: TemporaryDirectory, width: Int, into buffer: CollectedOutput) -> Environment {
        var environment = environment(["MQPROOF_DB": directory.file("store.sqlite"), "HOME": directory.path])
        environment.terminal = Terminal(isTerminal: false, width: width, style: Style(isEnabled: false))
        environment.output = .collecting(into: buffer)
        return environment
    }

    @Test("A command writes to the environment's output, wrapped to the environment's terminal")
    func capturedShow() throws {
        let directory = TemporaryDirectory()
        let buffer = CollectedOutput()
        try Show.parse(["kafka-acks-message-loss", "--lang", "en"])
            .run(in: captured(directory, width: 50, into: buffer))
        let lines = buffer.standardOutput.split(separator: "\n").map(String.init)
        #expect(lines.first?.contains("acks") == true)
        #expect(lines.count > 10)
        // A link is never broken (a terminal would no longer open it); what comes before it fits.
        let widest = lines.map { DisplayWidth.of($0.components(separatedBy: "https://")[0]) }.max() ?? 0
        #expect(widest <= 50, "a line is \(widest) columns wide in a 50-column pipe")
        #expect(!buffer.standardOutput.contains("\u{1B}["), "colour on a pipe")
    }

    @Test("A run's JSON report and its failure go to the environment's streams")
    func capturedRun() throws {
        let directory = TemporaryDirectory()
        let buffer = CollectedOutput()
        try Run.parse(["K01", "--json"]).run(in: captured(directory, width: 80, into: buffer))
        let report =
            try JSONSerialization.jsonObject(with: Data(buffer.standardOutput.utf8)) as? [String: Any]
        #expect(report?["passed"] as? Bool == true)

        let failing = CollectedOutput()
        #expect(throws: (any Error).self) {
            try Run.parse(["K01", "--set", "acks=7", "--set", "retries=-1"])
                .run(in: captured(directory, width: 80, into: failing))
        }
        // Every problem but the last goes to standard error; the last is the thrown failure.
        #expect(failing.standardError.hasPrefix("mqproof: config"))
        #expect(failing.standardOutput.isEmpty)
    }
}
