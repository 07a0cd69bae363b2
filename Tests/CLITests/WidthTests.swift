import Foundation
import TestSupport
import Testing

@testable import mqproof

/// Every view fits the terminal: at 60 and 80 columns, in Chinese and English, counting a CJK
/// character as two columns. A link is never broken (a terminal would no longer open it), so
/// only what comes before a link is measured.
@Suite("Output fits the terminal width")
struct WidthTests {
    let directory = TemporaryDirectory()
    let binary = BuiltBinary.mqproof

    static let commands: [[String]] = [
        ["home"], ["topics"], ["list"], ["show", "kafka-acks-message-loss"], ["search", "如何保证消息不丢失"],
        ["search", "kafak acks"], ["experiments"], ["scenarios"], ["verify", "--seeds", "1"], ["compare"],
        ["stats"], ["study", "--path"], ["live", "peak-shaving", "--simulated"], ["configs", "rocketmq"],
        ["run", "K01", "--trace"], ["run", "A02", "--trace"], ["run", "R04"],
        ["run", "S02", "--seeds", "20"],
    ]

    @Test("No line is wider than the terminal", arguments: commands)
    func fits(_ arguments: [String]) throws {
        for columns in [60, 80] {
            for language in ["en", "zh"] {
                let result = try binary.run(
                    arguments + ["--lang", language],
                    environment: [
                        "MQPROOF_DB": directory.file("width.sqlite"), "HOME": directory.path,
                        "LANG": "C.UTF-8", "COLUMNS": "\(columns)", "NO_COLOR": "1",
                    ])
                let lines = result.standardOutput.split(separator: "\n").map(String.init)
                #expect(!lines.isEmpty)
                for line in lines {
                    let measured = line.components(separatedBy: "https://")[0]
                    #expect(
                        DisplayWidth.of(measured) <= columns,
                        "\(arguments.joined(separator: " ")) --lang \(language) at \(columns): \(line)")
                }
            }
        }
    }
}
