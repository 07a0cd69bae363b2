import Foundation
import GRDB

// Theory of operation
//
// Quiz progress is user data: the scheduling state of each card and the log of every answer.
// Both live in tables no import touches. Each answer is stored in its own transaction (state and
// log together) before the next card shows, so an interrupted session keeps every answer given;
// undo deletes the logged answer and restores the previous state in one transaction too. Times
// are milliseconds since the Unix epoch, as the quiz's Instant counts them. This file knows
// SQLite, not FSRS: the command line maps between these rows and the Quiz types.

/// One card's stored scheduling state.
public struct StoredCardState: Codable, Equatable, Sendable {
    public var cardID: String
    /// 1 learning, 2 review, 3 relearning (FSRS and Anki's numbering).
    public var state: Int
    public var step: Int?
    public var stability: Double?
    public var difficulty: Double?
    public var dueMs: Int64
    public var lastReviewMs: Int64?
    public var reviews: Int
    public var lapses: Int
    public var buriedUntilMs: Int64?
    public var leech: Bool

    public init(
        cardID: String, state: Int, step: Int?, stability: Double?, difficulty: Double?, dueMs: Int64,
        lastReviewMs: Int64?, reviews: Int, lapses: Int, buriedUntilMs: Int64? = nil, leech: Bool = false
    ) {
        self.cardID = cardID
        self.state = state
        self.step = step
        self.stability = stability
        self.difficulty = difficulty
        self.dueMs = dueMs
        self.lastReviewMs = lastReviewMs
        self.reviews = reviews
        self.lapses = lapses
        self.buriedUntilMs = buriedUntilMs
        self.leech = leech
    }
}

/// One logged answer.
public struct StoredReview: Codable, Equatable, Sendable {
    public var id: Int64?
    public var cardID: String
    /// 1 Again, 2 Hard, 3 Good, 4 Easy.
    public var rating: Int
    public var reviewedMs: Int64
    /// The card's state before the answer (1, 2 or 3).
    public var stateBefore: Int
    public var dueMs: Int64
    public var retrievability: Double

    public init(
        id: Int64? = nil, cardID: String, rating: Int, reviewedMs: Int64, stateBefore: Int, dueMs: Int64,
        retrievability: Double
    ) {
        self.id = id
        self.cardID = cardID
        self.rating = rating
        self.reviewedMs = reviewedMs
        self.stateBefore = stateBefore
        self.dueMs = dueMs
        self.retrievability = retrievability
    }
}

/// Everything `mqproof progress export` writes and `import` reads.
public struct ProgressArchive: Codable, Equatable, Sendable {
    public static let currentFormat = 1
    public var format: Int
    public var cards: [StoredCardState]
    public var reviews: [StoredReview]
    public var settings: [String: String]
    /// Which answers were read and which proofs run on the study path. Absent in exports
    /// written before the study path existed.
    public var study: [StoredStudyMark]?

    public init(
        cards: [StoredCardState], reviews: [StoredReview], settings: [String: String],
        study: [StoredStudyMark]? = nil
    ) {
        format = Self.currentFormat
        self.cards = cards
        self.reviews = reviews
        self.settings = settings
        self.study = study
    }
}

extension ContentStore {
    /// The v2 migration: card states, and the answer log's columns.
    @Sendable static func createProgressTables(_ db: Database) throws {
        try db.execute(
            sql: """
                CREATE TABLE card_state (
                    card_id TEXT PRIMARY KEY,
                    state INTEGER NOT NULL,
                    step INTEGER,
                    stability REAL,
                    difficulty REAL,
                    due_ms INTEGER NOT NULL,
                    last_review_ms INTEGER,
                    reviews INTEGER NOT NULL,
                    lapses INTEGER NOT NULL,
                    buried_until_ms INTEGER,
                    leech INTEGER NOT NULL DEFAULT 0);
                ALTER TABLE review_log ADD COLUMN reviewed_ms INTEGER NOT NULL DEFAULT 0;
                ALTER TABLE review_log ADD COLUMN state_before INTEGER NOT NULL DEFAULT 1;
                ALTER TABLE review_log ADD COLUMN due_ms INTEGER NOT NULL DEFAULT 0;
                ALTER TABLE review_log ADD COLUMN retrievability REAL NOT NULL DEFAULT 0;
                CREATE INDEX review_log_by_time ON review_log(reviewed_ms);
                """)
    }

    /// Every stored card state, by card id.
    public func cardStates() throws(StoreError) -> [String: StoredCardState] {
        try reading { db in
            let rows = try Row.fetchAll(db, sql: "SELECT * FROM card_state")
            return Dictionary(uniqueKeysWithValues: rows.map { row in (row["card_id"], Self.cardState(row)) })
        }
    }

    /// Stores one answer as a read-modify-write of the card's state in one immediate transaction:
    /// `update` receives the state as stored now, which another quiz session on the same file may
    /// have changed since this one read it, and returns the state and log row to store. Two
    /// sessions answering the same card therefore both count, in the order they were stored.
    public func recordAnswer(
        cardID: String, update: (StoredCardState?) throws -> (StoredCardState, StoredReview)
    ) throws(StoreError) -> (reviewID: Int64, state: StoredCardState, review: StoredReview) {
        var result: (reviewID: Int64, state: StoredCardState, review: StoredReview)?
        try writing { db in
            let current = try Row.fetchOne(
                db, sql: "SELECT * FROM card_state WHERE card_id = ?", arguments: [cardID]
            )
            .map(Self.cardState)
            let (state, review) = try update(current)
            try Self.upsert(state, db)
            try Self.insert(review, db)
            result = (db.lastInsertedRowID, state, review)
        }
        return result!
    }

    /// Takes back a logged answer and restores the card's previous state (nil: it was new). The
    /// state is restored only while it is still the one the answer stored (`stored`): if another
    /// session has answered the card since, its state stays, and only the log row goes.
    public func undoAnswer(
        reviewID: Int64, cardID: String, restoring previous: StoredCardState?,
        ifStillAt stored: StoredCardState? = nil
    ) throws(StoreError) {
        try writing { db in
            try db.execute(sql: "DELETE FROM review_log WHERE id = ?", arguments: [reviewID])
            if let stored {
                let current = try Row.fetchOne(
                    db, sql: "SELECT * FROM card_state WHERE card_id = ?", arguments: [cardID]
                ).map(Self.cardState)
                guard current == stored else { return }
            }
            if let previous {
                try Self.upsert(previous, db)
            } else {
                try db.execute(sql: "DELETE FROM card_state WHERE card_id = ?", arguments: [cardID])
            }
        }
    }

    /// Saves a card state alone (bury, suspend).
    public func saveCardState(_ state: StoredCardState) throws(StoreError) {
        try writing { db in try Self.upsert(state, db) }
    }

    /// Every logged answer, oldest first.
    public func reviews(sinceMs: Int64 = 0) throws(StoreError) -> [StoredReview] {
        try reading { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM review_log WHERE reviewed_ms >= ? ORDER BY reviewed_ms, id",
                arguments: [sinceMs]
            ).map { row in
                StoredReview(
                    id: row["id"], cardID: row["card_id"], rating: row["rating"],
                    reviewedMs: row["reviewed_ms"],
                    stateBefore: row["state_before"], dueMs: row["due_ms"],
                    retrievability: row["retrievability"])
            }
        }
    }

    public func allSettings() throws(StoreError) -> [String: String] {
        try reading { db in
            Dictionary(
                uniqueKeysWithValues: try Row.fetchAll(db, sql: "SELECT key, value FROM setting").map {
                    ($0["key"], $0["value"])
                })
        }
    }

    public func exportProgress() throws(StoreError) -> ProgressArchive {
        ProgressArchive(
            cards: try cardStates().values.sorted { $0.cardID < $1.cardID }, reviews: try reviews(),
            settings: try allSettings(), study: try reading { db in try allStudyMarks(db) })
    }

    /// What an import did.
    public struct ImportSummary: Equatable, Sendable {
        /// Answers the store did not have yet.
        public var answersAdded = 0
        /// Card states taken from the file: cards the store did not know, or knew from an older
        /// answer than the file's.
        public var cardsUpdated = 0
        public var settingsAdded = 0
        public var studyMarksAdded = 0
    }

    /// Brings an archive into the store, in one transaction. By default it merges and deletes
    /// nothing: answers are added unless the store has the same one (card, time and rating); a
    /// card's state is the one with the later last answer; settings the store lacks are added.
    /// With `replacing`, all progress is replaced by the archive's (the caller backs it up first).
    @discardableResult
    public func importProgress(_ archive: ProgressArchive, replacing: Bool = false) throws(StoreError)
        -> ImportSummary
    {
        var summary = ImportSummary()
        try writing { db in
            if replacing {
                try db.execute(sql: "DELETE FROM card_state")
                try db.execute(sql: "DELETE FROM review_log")
                try db.execute(sql: "DELETE FROM setting")
                try db.execute(sql: "DELETE FROM study_mark")
            }
            for card in archive.cards {
                let current = try Row.fetchOne(
                    db, sql: "SELECT * FROM card_state WHERE card_id = ?", arguments: [card.cardID]
                ).map(Self.cardState)
                if let current, (current.lastReviewMs ?? Int64.min) >= (card.lastReviewMs ?? Int64.min) {
                    continue
                }
                try Self.upsert(card, db)
                summary.cardsUpdated += 1
            }
            for review in archive.reviews {
                let known =
                    try Bool.fetchOne(
                        db,
                        sql: """
                            SELECT EXISTS (SELECT 1 FROM review_log
                                           WHERE card_id = ? AND reviewed_ms = ? AND rating = ?)
                            """, arguments: [review.cardID, review.reviewedMs, review.rating]) ?? false
                if known { continue }
                try Self.insert(review, db)
                summary.answersAdded += 1
            }
            for (key, value) in archive.settings.sorted(by: { $0.key < $1.key }) {
                try db.execute(
                    sql: "INSERT OR IGNORE INTO setting (key, value) VALUES (?, ?)", arguments: [key, value])
                summary.settingsAdded += db.changesCount
            }
            summary.studyMarksAdded = try mergeStudyMarks(archive.study ?? [], db)
        }
        return summary
    }

    /// SQLite's own check of the file.
    public func integrityCheck() throws(StoreError) -> String {
        try reading { db in try String.fetchOne(db, sql: "PRAGMA integrity_check") ?? "" }
    }

    private static func insert(_ review: StoredReview, _ db: Database) throws {
        try db.execute(
            sql: """
                INSERT INTO review_log (card_id, rating, reviewed_at, reviewed_ms, state_before, due_ms, retrievability)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                review.cardID, review.rating, iso(review.reviewedMs), review.reviewedMs, review.stateBefore,
                review.dueMs,
                review.retrievability,
            ])
    }

    private static func upsert(_ state: StoredCardState, _ db: Database) throws {
        try db.execute(
            sql: """
                INSERT OR REPLACE INTO card_state
                    (card_id, state, step, stability, difficulty, due_ms, last_review_ms, reviews, lapses, buried_until_ms, leech)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                state.cardID, state.state, state.step, state.stability, state.difficulty, state.dueMs,
                state.lastReviewMs,
                state.reviews, state.lapses, state.buriedUntilMs, state.leech,
            ])
    }

    private static func cardState(_ row: Row) -> StoredCardState {
        StoredCardState(
            cardID: row["card_id"], state: row["state"], step: row["step"], stability: row["stability"],
            difficulty: row["difficulty"], dueMs: row["due_ms"], lastReviewMs: row["last_review_ms"],
            reviews: row["reviews"],
            lapses: row["lapses"], buriedUntilMs: row["buried_until_ms"], leech: row["leech"])
    }

    private static func iso(_ milliseconds: Int64) -> String {
        Date(timeIntervalSince1970: Double(milliseconds) / 1000).formatted(.iso8601)
    }
}
