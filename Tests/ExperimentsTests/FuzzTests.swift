import Experiments
import Simulation
import Testing

/// Seeded, deterministic fuzzing of what users write: scenario files and `--set` values. Each
/// case must end in a one-line problem report or a scenario that runs to its end within the
/// event budget; a trap (overflow, out-of-range index) fails the whole suite, which is the point.
/// The same seed gives the same cases in any process, so a failure names its reproduction.
@Suite("Fuzz: scenario files and --set values")
struct FuzzTests {
    /// Values that have broken parsers before: signs, overflow, units, empties and junk.
    static let hostileValues = [
        "0", "-1", "-5s", "9223372036854775807", "99999999999999999999", "18446744073709551616", "1e9", "0.5",
        "", "NaN", "2147483648", "24h", "25h", "100001", "1000000000000", "-9223372036854775808",
        "9223372036854775807-9223372036854775807", "5-1", "1-", "-", "all", "true", "none", "\u{202E}x", "名",
    ]
    /// Values a config accepts, so that accepted settings meet hostile scripts too.
    static let plausibleValues = [
        "1", "2", "3", "100", "all", "true", "false", "5-10", "quorum", "classic", "2000",
    ]
    static let junk = [
        "&a", "*a", "[", "]", "{", "}", ": ", "- ", "\t", "#", "\"", "'", "|", ">", "..", "%", "->", "\\",
    ]

    static let scenarios: [(id: String, text: String)] = ScenarioLibrary.all.map { ($0.id, $0.text) }

    static func mutate(_ text: String, random: inout SeededRandom) -> String {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        for _ in 0..<random.next(in: 1...3) {
            guard !lines.isEmpty else { break }
            let index = random.next(in: 0...(lines.count - 1))
            switch random.next(in: 0...6) {
            case 0:
                // A number, duration or word replaced by a hostile value.
                var words = lines[index].split(separator: " ", omittingEmptySubsequences: false).map(
                    String.init)
                let word = random.next(in: 0...(words.count - 1))
                words[word] = hostileValues[random.next(in: 0...(hostileValues.count - 1))]
                lines[index] = words.joined(separator: " ")
            case 1: lines.remove(at: index)
            case 2: lines.insert(lines[index], at: index)
            case 3:
                let verbs = [
                    "produce", "wait", "crash", "restart", "pause", "partition", "delay", "drop", "heal",
                    "start",
                ]
                let value = hostileValues[random.next(in: 0...(hostileValues.count - 1))]
                lines.insert("  - \(verbs[random.next(in: 0...(verbs.count - 1))]) \(value)", at: index)
            case 4:
                let cut = random.next(in: 0...lines[index].count)
                lines[index] = String(lines[index].prefix(cut))
            case 5:
                lines[index] += junk[random.next(in: 0...(junk.count - 1))]
            default:
                lines[index] = junk[random.next(in: 0...(junk.count - 1))] + lines[index]
            }
        }
        return lines.joined(separator: "\n")
    }

    /// A problem is one line that names a line of the file and a reason of reasonable length.
    static func expectOneLine(_ problems: ScenarioFile.Problems, case label: String) {
        #expect(!problems.problems.isEmpty, "\(label)")
        for problem in problems.problems {
            #expect(problem.line >= 1, "\(label)")
            #expect(!problem.reason.isEmpty && !problem.reason.contains("\n"), "\(label): \(problem.reason)")
        }
    }

    static func runBriefly(_ scenario: Scenario, config: ResolvedConfig, seed: UInt64, label: String) {
        let run = ScenarioRunner.run(scenario, config: config, seed: seed, recordTrace: false)
        // The budget is checked between events, so a run ends within one event of it.
        #expect(run.world.eventCount <= ScenarioRunner.eventBudget + 1, "\(label)")
    }

    @Test("3,000 mutated scenario files: a one-line problem or a bounded run, never a crash")
    func scenarioFiles() {
        var random = SeededRandom(seed: 0x5CE7_A210)
        var parsed = 0
        var refused = 0
        for number in 0..<3_000 {
            let base = Self.scenarios[random.next(in: 0...(Self.scenarios.count - 1))]
            let text = Self.mutate(base.text, random: &random)
            let label = "case \(number) (from \(base.id))"
            switch ScenarioFile.parse(text, file: "fuzz.yaml") {
            case .failure(let problems):
                refused += 1
                Self.expectOneLine(problems, case: label)
            case .success(let scenario):
                parsed += 1
                guard let config = try? scenario.resolvedConfig() else {
                    Issue.record("\(label): parsed, but its config does not resolve")
                    continue
                }
                // Running every accepted case would take minutes in a debug build; every
                // fourth is enough to meet each kind of accepted mutation many times.
                if parsed % 4 == 0 {
                    Self.runBriefly(scenario, config: config, seed: UInt64(number), label: label)
                }
            }
        }
        print("fuzz: 3000 scenario files, \(parsed) accepted, \(refused) refused with one-line problems")
        #expect(parsed > 100 && refused > 100, "the mutations should both keep and break files")
    }

    static let keys =
        KafkaConfig.table.keys.map(\.name) + [
            "confirm.select", "delivery_mode", "prefetch", "x-delivery-limit", "x-queue-type",
            "sim.network.delay.ms",
            "sim.fsync.ms", "sim.processing.ms", "sim.election.timeout.ms", "sim.message.bytes",
            "no.such.key",
        ]

    @Test("1,000 --set values, hostile and otherwise: a one-line config error or a bounded run")
    func settings() {
        var random = SeededRandom(seed: 0x5E77_1265)
        var accepted = 0
        for number in 0..<1_000 {
            let base = Self.scenarios[random.next(in: 0...(Self.scenarios.count - 1))]
            guard case .success(var scenario) = ScenarioFile.parse(base.text, file: base.id) else {
                Issue.record("\(base.id) does not parse")
                continue
            }
            let key = Self.keys[random.next(in: 0...(Self.keys.count - 1))]
            let values = random.chance(1, in: 2) ? Self.hostileValues : Self.plausibleValues
            let value = values[random.next(in: 0...(values.count - 1))]
            scenario.settings.append(.init(key: key, value: value))
            let label = "case \(number): \(base.id) --set \(key)=\(value)"
            do {
                let config = try scenario.resolvedConfig()
                accepted += 1
                if accepted % 4 == 0 {
                    Self.runBriefly(scenario, config: config, seed: UInt64(number), label: label)
                }
            } catch {
                let text = "\(error)"
                #expect(!text.isEmpty && !text.contains("\n") && text.utf8.count < 1_000, "\(label): \(text)")
            }
        }
        print("fuzz: 1000 --set values, \(accepted) accepted")
    }
}
