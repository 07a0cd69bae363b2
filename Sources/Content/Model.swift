/// A language mqproof writes in. Every piece of content exists in both.
public enum Language: String, CaseIterable, Codable, Sendable {
    case zh
    case en
}

/// A text in both languages.
public struct Localized: Codable, Equatable, Sendable {
    public var zh: String
    public var en: String

    public init(zh: String, en: String) {
        self.zh = zh
        self.en = en
    }

    public subscript(language: Language) -> String {
        switch language {
        case .zh: zh
        case .en: en
        }
    }
}

/// A list of texts in both languages; the two lists need not have the same length.
public struct LocalizedList: Codable, Equatable, Sendable {
    public var zh: [String]
    public var en: [String]

    public init(zh: [String], en: [String]) {
        self.zh = zh
        self.en = en
    }

    public subscript(language: Language) -> [String] {
        switch language {
        case .zh: zh
        case .en: en
        }
    }
}

/// One of the twelve topic groups of the interview canon.
public struct Topic: Codable, Equatable, Sendable {
    public var id: String
    /// The group letter in the canon (A to L).
    public var group: String
    public var title: Localized

    public init(id: String, group: String, title: Localized) {
        self.id = id
        self.group = group
        self.title = title
    }
}

/// Where a fact comes from, and the product version it holds for.
public struct Source: Codable, Equatable, Sendable {
    public var url: String
    public var version: String
    public var note: String?

    public init(url: String, version: String, note: String? = nil) {
        self.url = url
        self.version = version
        self.note = note
    }
}

/// A piece of interview folklore and the correction the answer gives for it.
public struct Misconception: Codable, Equatable, Sendable {
    public var myth: Localized
    public var truth: Localized
    /// 1-based indexes into the entry's sources.
    public var sources: [Int]

    public init(myth: Localized, truth: Localized, sources: [Int]) {
        self.myth = myth
        self.truth = truth
        self.sources = sources
    }
}

/// A question the quiz can grade without a human: multiple choice or true/false.
public struct QuizItem: Codable, Equatable, Sendable {
    public enum Kind: Codable, Equatable, Sendable {
        /// Options in the order written; exactly one is correct.
        case choice(options: [Localized], correctIndex: Int)
        case trueFalse(answer: Bool)
    }

    public var prompt: Localized
    public var kind: Kind
    public var explanation: Localized

    public init(prompt: Localized, kind: Kind, explanation: Localized) {
        self.prompt = prompt
        self.kind = kind
        self.explanation = explanation
    }
}

/// One interview question with its answer, exactly as written in `content/entries/<id>.yaml`.
public struct Entry: Codable, Equatable, Sendable {
    public var id: String
    public var topic: String
    public var tags: [String]
    /// 1 basic, 2 intermediate, 3 advanced.
    public var difficulty: Int
    /// The heading of the seed document this entry grew from, if any.
    public var seed: String?
    public var question: Localized
    public var answer: Localized
    public var keyPoints: LocalizedList
    public var misconceptions: [Misconception]
    public var sources: [Source]
    /// Ids of the experiments that prove the answer's claims.
    public var experiments: [String]
    /// Why no experiment can show this answer (history, opinion, your own project), for an
    /// entry that links none; shown to the reader in place of the experiments.
    public var notDemonstrable: Localized?
    public var quiz: [QuizItem]

    public init(
        id: String, topic: String, tags: [String], difficulty: Int, seed: String?,
        question: Localized, answer: Localized, keyPoints: LocalizedList,
        misconceptions: [Misconception], sources: [Source], experiments: [String],
        notDemonstrable: Localized? = nil, quiz: [QuizItem]
    ) {
        self.id = id
        self.topic = topic
        self.tags = tags
        self.difficulty = difficulty
        self.seed = seed
        self.question = question
        self.answer = answer
        self.keyPoints = keyPoints
        self.misconceptions = misconceptions
        self.sources = sources
        self.experiments = experiments
        self.notDemonstrable = notDemonstrable
        self.quiz = quiz
    }
}

/// Everything content/ holds, validated: topics in canon order and entries sorted by id.
public struct ContentSet: Equatable, Sendable {
    public var topics: [Topic]
    public var entries: [Entry]
    public var searchVocabulary: SearchVocabulary
    /// The order a learner meets the entries in; every entry is on it exactly once.
    public var studyPath: StudyPath

    public init(
        topics: [Topic], entries: [Entry], searchVocabulary: SearchVocabulary = .empty,
        studyPath: StudyPath? = nil
    ) {
        self.topics = topics
        self.entries = entries
        self.searchVocabulary = searchVocabulary
        self.studyPath = studyPath ?? .byTopic(entries: entries, topics: topics)
    }
}
