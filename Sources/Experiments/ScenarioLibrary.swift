import Simulation

/// The scenario files that ship with mqproof (scenarios/), by id: the file name without
/// `.yaml`, such as `K01-acks-1-leader-crash`.
public enum ScenarioLibrary {
    public struct Entry: Sendable {
        public var id: String
        public var path: String
        public var text: String
    }

    public static var all: [Entry] {
        EmbeddedScenarios.files.map { path, text in
            let name = String(path.split(separator: "/").last ?? "")
            return Entry(id: String(name.dropLast(".yaml".count)), path: path, text: text)
        }.sorted { $0.id < $1.id }
    }

    /// The scenario with this id, or the only one whose id starts with it (`K01`).
    public static func find(_ id: String) -> Entry? {
        let entries = all
        if let exact = entries.first(where: { $0.id == id }) { return exact }
        // `K17` means K17-..., not K17b-...: a prefix up to a dash wins over a plain prefix.
        for matches in [
            entries.filter { $0.id.lowercased().hasPrefix(id.lowercased() + "-") },
            entries.filter { $0.id.lowercased().hasPrefix(id.lowercased()) },
        ] where !matches.isEmpty {
            return matches.count == 1 ? matches[0] : nil
        }
        return nil
    }

    /// Parses a built-in scenario; a problem in a shipped file is a build defect, caught by tests.
    public static func scenario(_ entry: Entry) -> Result<Scenario, ScenarioFile.Problems> {
        ScenarioFile.parse(entry.text, file: entry.path)
    }
}
