import Foundation
import Testing

/// The pure cores must stay deterministic: no clocks, no system randomness, no Foundation, no
/// concurrency. A source file that uses one of these fails this test with its line.
@Suite("Tidy")
struct TidyTests {
    static let banned: [(pattern: String, why: String)] = [
        ("import Foundation", "Foundation brings clocks, locale and file I/O"),
        ("import Dispatch", "no threads in a deterministic core"),
        ("Date()", "time comes in as a parameter"),
        ("ContinuousClock", "time comes in as a parameter"),
        ("SuspendingClock", "time comes in as a parameter"),
        ("SystemRandomNumberGenerator", "randomness comes from SeededRandom"),
        (".random(", "randomness comes from SeededRandom"),
        (".shuffled(", "randomness comes from SeededRandom"),
        ("randomElement(", "randomness comes from SeededRandom"),
        ("DispatchQueue", "no threads in a deterministic core"),
        ("Task {", "no concurrency in a deterministic core"),
        ("async ", "no concurrency in a deterministic core"),
        ("actor ", "no concurrency in a deterministic core"),
        ("getenv(", "no environment in a deterministic core"),
        ("ProcessInfo", "no environment in a deterministic core"),
    ]

    static var packageRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
    }

    static func violations(in target: String) throws -> [String] {
        let folder = packageRoot.appending(path: "Sources/\(target)")
        let files = try #require(FileManager.default.enumerator(atPath: folder.path))
            .compactMap { $0 as? String }.filter { $0.hasSuffix(".swift") }.sorted()
        var found: [String] = []
        for file in files {
            let text = try String(contentsOf: folder.appending(path: file), encoding: .utf8)
            for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                let code =
                    line.split(separator: "//", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
                for rule in banned where Self.containsToken(String(code), rule.pattern) {
                    found.append("Sources/\(target)/\(file):\(number + 1): '\(rule.pattern)': \(rule.why)")
                }
            }
        }
        return found
    }

    /// Whether `pattern` occurs in `line` not as the tail of a longer identifier ("factor " is
    /// not "actor ").
    static func containsToken(_ line: String, _ pattern: String) -> Bool {
        var searchStart = line.startIndex
        while let range = line.range(of: pattern, range: searchStart..<line.endIndex) {
            let startsWord = pattern.first.map { !$0.isLetter } ?? true
            if startsWord || range.lowerBound == line.startIndex
                || !(line[line.index(before: range.lowerBound)].isLetter
                    || line[line.index(before: range.lowerBound)].isNumber)
            {
                return true
            }
            searchStart = range.upperBound
        }
        return false
    }

    @Test(
        "Simulation uses no clock, system randomness, Foundation, environment or concurrency",
        arguments: ["Simulation", "Quiz"])
    func pureCores(target: String) throws {
        let found = try Self.violations(in: target)
        #expect(found.isEmpty, "\(found.joined(separator: "\n"))")
    }

    @Test("The checker itself catches a violation")
    func detectsViolations() throws {
        // Guard against a vacuous pass: the same scan over the CLI target, which legitimately
        // uses Foundation, must find something.
        #expect(try !Self.violations(in: "mqproof").isEmpty)
    }
}
