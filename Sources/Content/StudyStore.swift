import GRDB

/// The study path in the store, and how far the learner has walked it.
///
/// The path is content: replaced with every import. The marks (this entry was read, its proof
/// was run) are progress: kept across imports, exported and imported with the quiz answers.
extension ContentStore {
    /// One step of the path: an entry, its place and its stage.
    public struct StudyStep: Equatable, Sendable {
        public var position: Int
        public var entryID: String
        public var stageID: String
        public var stageTitle: Localized
        public var question: Localized
        public var experiments: [String]
    }

    /// What the learner has done with an entry, besides its quiz cards.
    public enum StudyMark: String, Codable, CaseIterable, Sendable {
        case read
        case proof
    }

    /// The v5 migration.
    @Sendable static func createStudyTables(_ db: Database) throws {
        try db.execute(
            sql: """
                CREATE TABLE study_step (
                    position INTEGER PRIMARY KEY,
                    entry_id TEXT NOT NULL UNIQUE,
                    stage_id TEXT NOT NULL,
                    stage_zh TEXT NOT NULL,
                    stage_en TEXT NOT NULL);
                CREATE TABLE study_mark (
                    entry_id TEXT NOT NULL,
                    mark TEXT NOT NULL CHECK (mark IN ('read', 'proof')),
                    marked_ms INTEGER NOT NULL,
                    PRIMARY KEY (entry_id, mark));
                PRAGMA user_version = 5;
                """)
        // A store that already holds content gets its path at the next import: the fingerprint
        // changes so that no tree matches it, yet stays set, so that a broken tree still finds
        // the content imported before and serves it.
        try db.execute(sql: "UPDATE meta SET value = 'before v5: ' || value WHERE key = 'fingerprint'")
    }

    static func replaceStudyPath(_ path: StudyPath, in db: Database) throws {
        try db.execute(sql: "DELETE FROM study_step")
        var position = 0
        for stage in path.stages {
            for entry in stage.entries {
                position += 1
                try db.execute(
                    sql: """
                        INSERT INTO study_step (position, entry_id, stage_id, stage_zh, stage_en)
                        VALUES (?, ?, ?, ?, ?)
                        """, arguments: [position, entry, stage.id, stage.title.zh, stage.title.en])
            }
        }
    }

    /// The whole path, in order.
    public func studyPath() throws(StoreError) -> [StudyStep] {
        try reading { db in
            let experiments = Dictionary(
                grouping: try Row.fetchAll(
                    db,
                    sql: "SELECT entry_id, experiment_id FROM entry_experiment ORDER BY entry_id, position"),
                by: { $0["entry_id"] as String }
            ).mapValues { $0.map { $0["experiment_id"] as String } }
            return try Row.fetchAll(
                db,
                sql: """
                    SELECT s.position, s.entry_id, s.stage_id, s.stage_zh, s.stage_en,
                           e.question_zh, e.question_en
                    FROM study_step s JOIN entry e ON e.id = s.entry_id
                    ORDER BY s.position
                    """
            ).map { row in
                StudyStep(
                    position: row["position"], entryID: row["entry_id"], stageID: row["stage_id"],
                    stageTitle: Localized(zh: row["stage_zh"], en: row["stage_en"]),
                    question: Localized(zh: row["question_zh"], en: row["question_en"]),
                    experiments: experiments[row["entry_id"]] ?? [])
            }
        }
    }

    /// Every mark, by entry.
    public func studyMarks() throws(StoreError) -> [String: Set<StudyMark>] {
        try reading { db in
            var marks: [String: Set<StudyMark>] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT entry_id, mark FROM study_mark") {
                if let mark = StudyMark(rawValue: row["mark"]) {
                    marks[row["entry_id"], default: []].insert(mark)
                }
            }
            return marks
        }
    }

    /// Records that the learner did `mark` for `entryID`; the first time counts.
    public func markStudy(_ entryID: String, _ mark: StudyMark, atMs: Int64) throws(StoreError) {
        try writing { db in
            try db.execute(
                sql: "INSERT OR IGNORE INTO study_mark (entry_id, mark, marked_ms) VALUES (?, ?, ?)",
                arguments: [entryID, mark.rawValue, atMs])
        }
    }
}

/// A study mark in a progress export.
public struct StoredStudyMark: Codable, Equatable, Sendable {
    public var entryID: String
    public var mark: ContentStore.StudyMark
    public var markedMs: Int64

    public init(entryID: String, mark: ContentStore.StudyMark, markedMs: Int64) {
        self.entryID = entryID
        self.mark = mark
        self.markedMs = markedMs
    }
}

extension ContentStore {
    func allStudyMarks(_ db: Database) throws -> [StoredStudyMark] {
        try Row.fetchAll(db, sql: "SELECT entry_id, mark, marked_ms FROM study_mark ORDER BY entry_id, mark")
            .compactMap { row in
                StudyMark(rawValue: row["mark"]).map {
                    StoredStudyMark(entryID: row["entry_id"], mark: $0, markedMs: row["marked_ms"])
                }
            }
    }

    /// Adds the marks the store lacks; returns how many.
    func mergeStudyMarks(_ marks: [StoredStudyMark], _ db: Database) throws -> Int {
        var added = 0
        for mark in marks {
            try db.execute(
                sql: "INSERT OR IGNORE INTO study_mark (entry_id, mark, marked_ms) VALUES (?, ?, ?)",
                arguments: [mark.entryID, mark.mark.rawValue, mark.markedMs])
            added += db.changesCount
        }
        return added
    }
}
