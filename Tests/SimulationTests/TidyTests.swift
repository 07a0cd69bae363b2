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

    @Test("No file of the simulator is over 600 lines: a broker's folder is small state machines")
    func smallFiles() throws {
        let folder = Self.packageRoot.appending(path: "Sources/Simulation")
        let files = try #require(FileManager.default.enumerator(atPath: folder.path))
            .compactMap { $0 as? String }.filter { $0.hasSuffix(".swift") }
        #expect(files.count > 30)
        for file in files {
            let lines = try String(contentsOf: folder.appending(path: file), encoding: .utf8)
                .split(separator: "\n", omittingEmptySubsequences: false).count
            #expect(lines <= 600, "Sources/Simulation/\(file): \(lines) lines")
        }
    }

    @Test("The checker itself catches a violation")
    func detectsViolations() throws {
        // Guard against a vacuous pass: the same scan over the CLI target, which legitimately
        // uses Foundation, must find something.
        #expect(try !Self.violations(in: "mqproof").isEmpty)
    }
}

/// Every rule id that code, scenarios or tests cite (K-REP-05, RMQ-07, RKT-09, AMQ-03, ...) is
/// defined in docs/SEMANTICS.md, with its source. A citation of an undefined rule is a claim
/// nobody can check.
@Suite("Rule citations")
struct RuleCitationTests {
    /// The rule ids `text` cites, in the forms the docs define: K-AREA-NN (maybe with a letter
    /// suffix), and RMQ-NN, RKT-NN, AMQ-NN.
    static func citations(in text: String) -> Set<String> {
        var found: Set<String> = []
        let characters = Array(text.unicodeScalars)
        var index = 0
        func isIDCharacter(_ scalar: Unicode.Scalar) -> Bool {
            ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar) || scalar == "-"
                || ("a"..."z").contains(scalar)
        }
        while index < characters.count {
            guard isIDCharacter(characters[index]), index == 0 || !isIDCharacter(characters[index - 1]) else {
                index += 1
                continue
            }
            var end = index
            while end < characters.count && isIDCharacter(characters[end]) { end += 1 }
            let word = String(String.UnicodeScalarView(characters[index..<end]))
            let parts = word.split(separator: "-", omittingEmptySubsequences: false)
            let isKafka =
                parts.count == 3 && parts[0] == "K" && !parts[1].isEmpty
                && parts[1].allSatisfy { ("A"..."Z").contains($0) } && parts[2].first?.isNumber == true
            let isQueue =
                parts.count == 2 && ["RMQ", "RKT", "AMQ"].contains(String(parts[0]))
                && parts[1].first?.isNumber == true
            if isKafka || isQueue { found.insert(word) }
            index = end
        }
        return found
    }

    static func cited() throws -> [String: String] {
        var cited: [String: String] = [:]
        for folder in ["Sources", "scenarios", "Tests"] {
            let root = TidyTests.packageRoot.appending(path: folder)
            let files = try #require(FileManager.default.enumerator(atPath: root.path)).compactMap {
                $0 as? String
            }
            .filter { $0.hasSuffix(".swift") || $0.hasSuffix(".yaml") }.sorted()
            for file in files where !file.hasSuffix("TidyTests.swift") {
                let text = try String(contentsOf: root.appending(path: file), encoding: .utf8)
                for id in citations(in: text) where cited[id] == nil { cited[id] = "\(folder)/\(file)" }
            }
        }
        return cited
    }

    @Test("Every rule id cited in Sources, scenarios and Tests is defined in docs/SEMANTICS.md")
    func everyCitedRuleIsDefined() throws {
        let docs = try String(
            contentsOf: TidyTests.packageRoot.appending(path: "docs/SEMANTICS.md"), encoding: .utf8)
        let defined = Self.citations(in: docs)
        let cited = try Self.cited()
        #expect(cited.count >= 40, "the scan found too few citations to be working")
        let undefined = cited.filter { !defined.contains($0.key) }.sorted { $0.key < $1.key }
        #expect(
            undefined.isEmpty,
            "\(undefined.map { "\($0.key) (cited in \($0.value))" }.joined(separator: "\n"))")
    }

    @Test("The scan finds rule ids in their cited forms, and nothing else")
    func scanner() {
        #expect(
            Self.citations(in: "see K-REP-07a and (RMQ-12), RKT-09; not K-8, XK-REP-1 or kafka-rep-1")
                == ["K-REP-07a", "RMQ-12", "RKT-09"])
    }
}
