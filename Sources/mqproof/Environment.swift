import ArgumentParser
import Foundation
import Quiz

/// What a command reads from and writes to the world it runs in: environment variables, the
/// terminal, the clock and the output streams. A command's `run()` builds it once from the
/// process (`Environment.process()`) and hands it down; nothing below reads a global, and a test
/// can run a command with its own (a fixed clock, a narrow pipe, other variables, a buffer for
/// what it prints).
struct Environment {
    var variables: [String: String]
    var terminal: Terminal
    var clock: WallClock
    var output: Output
    /// Cores the process may run on: how many threads a sweep starts by default.
    var processors: Int

    init(
        variables: [String: String], terminal: Terminal, clock: WallClock, output: Output = .process,
        processors: Int = 1
    ) {
        self.variables = variables
        self.terminal = terminal
        self.clock = clock
        self.output = output
        self.processors = processors
    }

    static func process() -> Environment {
        let variables = ProcessInfo.processInfo.environment
        return Environment(
            variables: variables, terminal: Terminal.current(environment: variables), clock: .system,
            output: .process, processors: ProcessInfo.processInfo.activeProcessorCount)
    }
}

/// A command that runs in an Environment: its `run()` is the edge that reads the process.
protocol EnvironmentCommand: ParsableCommand {
    func run(in environment: Environment) throws
    /// Whether output longer than the screen goes through $PAGER on a terminal. Interactive
    /// commands, and those that stream progress or bytes, say no.
    static var pagesOutput: Bool { get }
    /// This invocation's say: a command that pages may stream instead (a real-broker run).
    var pagesThisRun: Bool { get }
}

extension EnvironmentCommand {
    static var pagesOutput: Bool { false }
    var pagesThisRun: Bool { Self.pagesOutput }

    func run() throws {
        let environment = Environment.process()
        guard pagesThisRun, let pager = Pager(environment) else { return try run(in: environment) }
        var paged = environment
        paged.output = pager.collectingOutput
        defer { pager.show() }
        try run(in: paged)
    }
}

/// The wall clock as instants, in the local calendar. `system` reads the real one; `fixed`
/// stands still, for tests.
struct WallClock: Sendable {
    let now: @Sendable () -> Instant
    let calendar: Calendar

    static let system = WallClock(
        now: { Instant(millisecondsSinceEpoch: Int64(Date().timeIntervalSince1970 * 1000)) },
        calendar: .current)

    static func fixed(_ instant: Instant, calendar: Calendar = .current) -> WallClock {
        WallClock(now: { instant }, calendar: calendar)
    }

    var startOfToday: Instant { startOfDay(offset: 0) }

    /// The start of the day `days` from today (negative: before).
    func startOfDay(offset days: Int) -> Instant {
        let today = Date(timeIntervalSince1970: Double(now().millisecondsSinceEpoch) / 1000)
        let start = calendar.date(byAdding: .day, value: days, to: calendar.startOfDay(for: today))!
        return Instant(millisecondsSinceEpoch: Int64(start.timeIntervalSince1970 * 1000))
    }
}
