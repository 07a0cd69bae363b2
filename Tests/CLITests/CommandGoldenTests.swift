import Foundation
import TestSupport
import Testing

/// The text of the commands a user reads most, pinned at 80 columns without colour, in both
/// languages. A change of wording or layout shows here as a diff; when it is meant, re-record
/// with `scripts/record-goldens` and review the files in the commit.
@Suite("Command output goldens")
struct CommandGoldenTests {
    let directory = TemporaryDirectory()
    let binary = BuiltBinary.mqproof
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appending(path: "Goldens")

    static let commands: [[String]] = [
        ["home", "--lang", "en"], ["home", "--lang", "zh"], ["topics", "--lang", "both"],
        ["list", "--topic", "ordering", "--lang", "en"], ["show", "kafka-acks-message-loss", "--lang", "en"],
        ["show", "kafka-acks-message-loss", "--lang", "zh"], ["search", "如何保证消息不丢失", "--lang", "zh"],
        ["search", "kafak acks", "--lang", "en"], ["experiments", "--lang", "en"],
        ["scenarios", "--lang", "zh"],
        ["run", "K01", "--lang", "en"], ["run", "K01", "--lang", "zh"],
        ["run", "K01", "--trace", "--lang", "en"],
        ["run", "K01", "--set", "acks=all", "--set", "min.insync.replicas=2", "--lang", "en"],
        ["run", "R04", "--trace", "--lang", "en"], ["run", "Q03", "--lang", "zh"],
        ["run", "R04", "--lang", "en"], ["run", "A02", "--trace", "--lang", "zh"],
        ["run", "K01", "--trace", "full", "--lang", "en"],
        ["run", "K01", "--set", "acks=all", "--lang", "zh"],
        ["run", "A02", "--lang", "en"],
        ["run", "S02", "--seeds", "50", "--lang", "en"], ["verify", "--seeds", "3", "--lang", "en"],
        ["compare", "--lang", "en"], ["compare", "--lang", "zh"],
        ["live", "peak-shaving", "--simulated", "--lang", "en"],
        ["study", "--path", "--lang", "en"], ["content", "check", "--lang", "en"],
    ]

    static func fileName(_ arguments: [String]) -> String {
        arguments.joined(separator: " ").map { $0.isLetter || $0.isNumber ? $0 : "-" }
            .reduce(into: "") { name, character in
                if character != "-" || name.last != "-" { name.append(character) }
            } + ".txt"
    }

    @Test("Each command prints what its golden file holds", arguments: commands)
    func matchesGolden(_ arguments: [String]) throws {
        let result = try binary.run(
            arguments,
            environment: [
                "MQPROOF_DB": directory.file("golden.sqlite"), "HOME": directory.path, "LANG": "C.UTF-8",
                "COLUMNS": "80", "NO_COLOR": "1",
            ])
        let text =
            "$ mqproof \(arguments.joined(separator: " "))\nexit \(result.status)\n" + result.standardOutput
        let file = Self.folder.appending(path: Self.fileName(arguments))
        if ProcessInfo.processInfo.environment["MQPROOF_RECORD_GOLDENS"] == "1" {
            try text.write(to: file, atomically: true, encoding: .utf8)
            return
        }
        guard let golden = try? String(contentsOf: file, encoding: .utf8) else {
            Issue.record("no golden \(file.lastPathComponent): run scripts/record-goldens")
            return
        }
        let expected = golden.split(separator: "\n", omittingEmptySubsequences: false)
        let actual = text.split(separator: "\n", omittingEmptySubsequences: false)
        if let line = zip(expected, actual).enumerated().first(where: { $0.element.0 != $0.element.1 }) {
            Issue.record(
                "\(file.lastPathComponent):\(line.offset + 1)\n  golden: \(line.element.0)\n  now:    \(line.element.1)"
            )
        } else {
            #expect(expected.count == actual.count, "\(file.lastPathComponent): length differs")
        }
    }
}
