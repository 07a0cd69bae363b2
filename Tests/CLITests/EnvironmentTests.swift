import Foundation
import Quiz
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
}
