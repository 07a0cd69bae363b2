import ArgumentParser
import Foundation
import Simulation

/// One workload and one fault schedule against the four brokers, default against safest.
struct Compare: EnvironmentCommand {
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
        output.line(
            style.bold(ui(.compareTitle(messages: messages, every: every, faultAt: faultAt, down: down))))
        output.line(style.dim(ui(.compareDeterministic(seed: seed))))
        output.line()
        output.line(
            "  " + ui(.compareSystem).rightPadded(to: 10) + ui(.compareProfile).rightPadded(to: 9)
                + ui(.compareLost).leftPadded(to: 6) + ui(.compareDuplicated).leftPadded(to: 6)
                + ui(.compareReordered).leftPadded(to: 7) + ui(.compareFailed).leftPadded(to: 8)
                + ui(.compareUnacknowledged).leftPadded(to: 9)
                + ui(.compareFsyncs).leftPadded(to: 11) + ui(.compareRoundTrips).leftPadded(to: 9))
        for row in rows {
            let lost = "\(row.lost)".leftPadded(to: 6)
            output.line(
                "  " + row.system.rawValue.rightPadded(to: 10) + ui(.profile(row.profile)).rightPadded(to: 9)
                    + (row.lost > 0 ? style.bad(lost) : lost) + "\(row.duplicated)".leftPadded(to: 6)
                    + "\(row.reordered)".leftPadded(to: 7) + "\(row.rejectedOrTimedOut)".leftPadded(to: 8)
                    + "\(row.neverAcknowledged)".leftPadded(to: 9)
                    + String(format: "%.2f", row.fsyncsPerMessage).leftPadded(to: 11)
                    + String(format: "%.1f", row.roundTripsPerMessage).leftPadded(to: 9))
        }
        output.line()
        output.line(style.bold(ui(.compareSetups)))
        for row in rows {
            output.line(
                "  " + "\(row.system.rawValue) \(ui(.profile(row.profile)))".rightPadded(to: 19) + row.setup)
        }
        output.line()
        output.lines(
            environment.terminal.hanging(
                ui(.compareLegend),
                first: style.dim(ui.label(.legend, width: 10))))
    }
}
