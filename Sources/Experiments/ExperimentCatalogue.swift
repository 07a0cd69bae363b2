import Simulation

/// A text in Chinese and English; the Chinese may be missing for a user's own scenario.
public struct Bilingual: Equatable, Sendable {
    public var zh: String?
    public var en: String

    public init(zh: String?, en: String) {
        self.zh = zh
        self.en = en
    }
}

/// What the experiment catalogue says of a scenario file.
public struct ExperimentInfo: Equatable, Sendable {
    /// Hazard experiments show a failure happen (acks=1 loses a write); safety experiments show
    /// the fix hold (acks=all with min.insync.replicas=2 loses nothing). Claims come in pairs.
    public enum Kind: String, Sendable {
        case hazard
        case safety
    }

    public var title: Bilingual?
    public var claim: Bilingual?
    public var kind: Kind?
    /// The id of the experiment that shows the other side of the claim.
    public var contrast: String?
    /// The seed that shows the hazard, re-checked by the tests and `mqproof verify`.
    public var witnessSeed: UInt64?
    /// How many seeds `mqproof verify` sweeps for a safety claim.
    public var sweepSeeds: Int?

    public init() {}
}

/// An executable proof: a built-in scenario with its bilingual claim.
public struct Experiment: Sendable {
    /// The scenario id up to its first dash: `K01` for `K01-acks-1-leader-crash`.
    public var id: String
    public var scenarioID: String
    public var scenario: Scenario
    public var info: ExperimentInfo

    public var titleZH: String { info.title?.zh ?? scenario.name }
    public var titleEN: String { info.title?.en ?? scenario.name }
}

/// Every experiment an answer may link to. Content validation rejects links to any other id.
public enum ExperimentCatalogue {
    public static let all: [Experiment] = ScenarioLibrary.all.compactMap(experiment(from:))

    /// The ids, from the file names alone: reading them parses nothing, which keeps the start of
    /// every command (the content validation needs them) cheap.
    public static var ids: Set<String> { Set(ScenarioLibrary.all.map { id(of: $0.id) }) }

    /// One experiment, parsing only its own file.
    public static func experiment(_ id: String) -> Experiment? {
        ScenarioLibrary.all.first { Self.id(of: $0.id).lowercased() == id.lowercased() }.flatMap(
            experiment(from:))
    }

    private static func id(of scenarioID: String) -> String {
        String(scenarioID.prefix { $0 != "-" })
    }

    private static func experiment(from entry: ScenarioLibrary.Entry) -> Experiment? {
        guard case .success(let document) = ScenarioFile.parseDocument(entry.text, file: entry.path) else {
            return nil
        }
        return Experiment(
            id: id(of: entry.id), scenarioID: entry.id, scenario: document.scenario, info: document.experiment
        )
    }
}
