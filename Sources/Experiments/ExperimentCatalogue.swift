import Simulation

/// An executable proof: a claim and the deterministic experiment that shows it.
public struct Experiment: Sendable, Equatable {
    public var id: String
    public var titleZH: String
    public var titleEN: String

    public init(id: String, titleZH: String, titleEN: String) {
        self.id = id
        self.titleZH = titleZH
        self.titleEN = titleEN
    }
}

/// Every experiment an answer may link to. Content validation rejects links to any other id.
///
/// The catalogue is empty until the simulator lands (issue 3) and the experiments are written
/// (issue 4); until then content entries carry `experiments: []`.
public enum ExperimentCatalogue {
    public static let all: [Experiment] = []

    public static var ids: Set<String> { Set(all.map(\.id)) }
}
