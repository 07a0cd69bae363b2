import ArgumentParser
import Foundation
import Simulation

/// One workload and one fault schedule against the four brokers, default against safest.
struct Compare: EnvironmentCommand {
    static let pagesOutput = true

    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Run one workload and one power loss against Kafka, RabbitMQ, RocketMQ and ActiveMQ.",
        discussion: """
            Each broker runs in its common default configuration and in its safest one, in the \
            deterministic simulator, and the same checker reads every run: acknowledged-but-lost, \
            duplicated, reordered, sends that failed or timed out (the availability paid), and fsyncs \
            and round trips per message (the cost that explains throughput). The safest profile also \
            re-sends what was never acknowledged, as at-least-once requires of the application.
            """)

    @Option(help: "Messages the producer sends.") var messages = ComparisonWorkload().messages
    @Option(help: "Milliseconds between two sends.") var every = ComparisonWorkload().everyMs
    @Option(help: "When B1 loses power, in ms from the first send.") var faultAt = ComparisonWorkload()
        .faultAtMs
    @Option(help: "How long B1 stays down, in ms.") var down = ComparisonWorkload().downMs
    @Option(help: "The seed of the network delays and everything else drawn.") var seed: UInt64 = 1
    @OptionGroup var language: LanguageOption
    @OptionGroup var format: JSONOption

    var workload: ComparisonWorkload {
        ComparisonWorkload(messages: messages, everyMs: every, faultAtMs: faultAt, downMs: down, seed: seed)
    }

    func validate() throws {
        guard (1...10_000).contains(messages) else { throw ValidationError("--messages must be 1 to 10000") }
        guard (0...60_000).contains(every) else { throw ValidationError("--every must be 0 to 60000 ms") }
        guard (0...3_600_000).contains(faultAt), (0...3_600_000).contains(down) else {
            throw ValidationError("--fault-at and --down must be 0 to 3600000 ms")
        }
    }

    struct Row: Encodable {
        var system: String
        var profile: String
        var setup: String
        var sent: Int
        var lost: Int
        var duplicated: Int
        var reordered: Int
        var rejectedOrTimedOut: Int
        var neverAcknowledged: Int
        var fsyncsPerMessage: Double
        var roundTripsPerMessage: Double
    }

    struct Report: Encodable {
        var seed: UInt64
        var messages: Int
        var everyMs: Int
        var powerLossAtMs: Int
        var downMs: Int
        var rows: [Row]
    }

    func run(in environment: Environment) throws {
        let output = environment.output
        let rows = try Comparison.run(workload)
        if format.json {
            try output.json(
                Report(
                    seed: seed, messages: messages, everyMs: every, powerLossAtMs: faultAt, downMs: down,
                    rows: rows.map {
                        Row(
                            system: $0.system.rawValue, profile: $0.profile.rawValue, setup: $0.setup,
                            sent: $0.sent,
                            lost: $0.lost, duplicated: $0.duplicated, reordered: $0.reordered,
                            rejectedOrTimedOut: $0.rejectedOrTimedOut,
                            neverAcknowledged: $0.neverAcknowledged,
                            fsyncsPerMessage: ($0.fsyncsPerMessage * 100).rounded() / 100,
                            roundTripsPerMessage: ($0.roundTripsPerMessage * 100).rounded() / 100)
                    }))
            return
        }
        let style = environment.terminal.style
        let ui = language.ui(environment)
        let terminal = environment.terminal
        output.lines(
            terminal.wrapped(
                ui(.compareTitle(messages: messages, every: every, faultAt: faultAt, down: down)), first: ""
            )
            .map(style.bold))
        output.lines(
            terminal.wrapped(ui(.compareDeterministic(seed: seed)), first: "  ", rest: "  ").map(style.dim))
        output.line()
        // The table is 77 columns; a narrower terminal gets one block per row.
        let columns: [(UIText, Int)] = [
            (.compareLost, 6), (.compareDuplicated, 6), (.compareReordered, 7), (.compareFailed, 8),
            (.compareUnacknowledged, 9), (.compareFsyncs, 11), (.compareRoundTrips, 9),
        ]
        func values(_ row: ComparisonRow) -> [String] {
            [
                "\(row.lost)", "\(row.duplicated)", "\(row.reordered)", "\(row.rejectedOrTimedOut)",
                "\(row.neverAcknowledged)", String(format: "%.2f", row.fsyncsPerMessage),
                String(format: "%.1f", row.roundTripsPerMessage),
            ]
        }
        let tableWidth = 2 + 10 + 9 + columns.map(\.1).reduce(0, +)
        if terminal.width >= tableWidth {
            output.line(
                "  " + ui(.compareSystem).rightPadded(to: 10) + ui(.compareProfile).rightPadded(to: 9)
                    + columns.map { ui($0.0).leftPadded(to: $0.1) }.joined())
            for row in rows {
                let cells = zip(values(row), columns).map { value, column in value.leftPadded(to: column.1) }
                output.line(
                    "  " + row.system.rawValue.rightPadded(to: 10)
                        + ui(.profile(row.profile)).rightPadded(to: 9)
                        + (row.lost > 0 ? style.bad(cells[0]) : cells[0]) + cells.dropFirst().joined())
            }
        } else {
            for row in rows {
                output.line("  " + style.bold("\(row.system.rawValue) \(ui(.profile(row.profile)))"))
                let pairs = zip(columns, values(row)).map { column, value in
                    "\(ui(column.0).trimmingCharacters(in: .whitespaces)) \(value)"
                }
                output.lines(terminal.wrapped(pairs.joined(separator: " · "), first: "    "))
            }
        }
        output.line()
        output.line(style.bold(ui(.compareSetups)))
        for row in rows {
            let name = "\(row.system.rawValue) \(ui(.profile(row.profile)))"
            if terminal.width >= 60 + 19 {
                output.line("  " + name.rightPadded(to: 19) + row.setup)
            } else {
                output.line("  " + name)
                output.lines(terminal.wrapped(row.setup, first: "    "))
            }
        }
        output.line()
        output.lines(
            environment.terminal.hanging(
                ui(.compareLegend),
                first: style.dim(ui.label(.legend, width: 10))))
    }
}
