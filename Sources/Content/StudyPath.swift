import Yams

/// The order a learner meets the questions in: `content/study-path.yaml`.
///
/// The seed document's questions come first, then the interview canon by how often it is asked.
/// Stages group the path; `mqproof study` walks it one step at a time (read the answer, run its
/// proof, quiz its cards) and the quiz introduces new cards in this order.
public struct StudyPath: Equatable, Sendable {
    public struct Stage: Equatable, Sendable {
        public var id: String
        public var title: Localized
        public var entries: [String]

        public init(id: String, title: Localized, entries: [String]) {
            self.id = id
            self.title = title
            self.entries = entries
        }
    }

    public var stages: [Stage]

    public init(stages: [Stage]) { self.stages = stages }

    /// Every entry id, in path order.
    public var order: [String] { stages.flatMap(\.entries) }

    /// The path of a content tree without a study-path file: entries that grew from the seed
    /// document first, then each topic in the canon's order, basics before depth.
    public static func byTopic(entries: [Entry], topics: [Topic]) -> StudyPath {
        let sorted = entries.sorted { ($0.difficulty, $0.id) < ($1.difficulty, $1.id) }
        var stages: [Stage] = []
        let seeded = sorted.filter { $0.seed != nil }.map(\.id)
        if !seeded.isEmpty {
            stages.append(
                Stage(
                    id: "seed",
                    title: Localized(zh: "从种子文档的问题开始", en: "Start with the seed document's questions"),
                    entries: seeded))
        }
        for topic in topics {
            let ids = sorted.filter { $0.seed == nil && $0.topic == topic.id }.map(\.id)
            if !ids.isEmpty { stages.append(Stage(id: topic.id, title: topic.title, entries: ids)) }
        }
        return StudyPath(stages: stages)
    }
}

extension ContentParser {
    /// A list of stages, each with an `id`, a `title` in both languages and its `entries`. Every
    /// entry must be on the path exactly once, so that a new entry cannot be left out of it.
    func parseStudyPath(_ file: ContentFiles.File, entries: [Entry], log: inout ProblemLog) -> StudyPath? {
        guard let root = compose(file, log: &log, commentsAfterIDs: true) else { return nil }
        guard case .sequence(let list) = root else {
            log.report(file.path, root.line, "study-path.yaml must be a list of stages")
            return nil
        }
        let known = Set(entries.map(\.id))
        var stages: [StudyPath.Stage] = []
        var placed: [String: Int] = [:]
        var stageIDs: Set<String> = []
        for node in list {
            var fields = Fields(node, file: file.path, what: "a stage", log: &log)
            let id = fields.identifier("stage", log: &log)
            let title = fields.localized("title", log: &log)
            let listed = fields.optionalNode("entries")
            fields.rejectUnknown(log: &log)
            guard let id, let title else { continue }
            if !stageIDs.insert(id).inserted {
                log.report(file.path, node.line, "stage '\(id)' is listed twice")
            }
            guard case .sequence(let entryNodes)? = listed, !entryNodes.isEmpty else {
                log.report(file.path, node.line, "stage '\(id)' needs a non-empty list of entries")
                continue
            }
            var ids: [String] = []
            for entryNode in entryNodes {
                guard let entry = entryNode.scalar?.string else {
                    log.report(file.path, entryNode.line, "an entry id here, not a list or mapping")
                    continue
                }
                if !known.contains(entry) {
                    log.report(file.path, entryNode.line, "unknown entry '\(entry)'")
                } else if let line = placed[entry] {
                    log.report(
                        file.path, entryNode.line, "entry '\(entry)' is already on the path (line \(line))")
                } else {
                    placed[entry] = entryNode.line
                    ids.append(entry)
                }
            }
            stages.append(StudyPath.Stage(id: id, title: title, entries: ids))
        }
        for entry in entries where placed[entry.id] == nil {
            log.report(
                file.path, root.line, "entry '\(entry.id)' is not on the study path: add it to a stage")
        }
        return StudyPath(stages: stages)
    }
}
