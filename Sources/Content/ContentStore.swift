import Foundation
import GRDB

// Theory of operation
//
// One SQLite file holds two kinds of tables. Content tables (topic, entry, entry_tag,
// entry_experiment, quiz_item, entry_search) are a projection of content/: an import deletes and
// rewrites all of them in one transaction, so a reader sees the old content or the new, never a
// mix. User tables (setting, review_log) hold what only the user can produce; no import touches
// them. The meta table remembers the fingerprint of the imported tree, so a start with unchanged
// content costs one hash and one read. The file is opened in WAL mode with a busy timeout, so two
// mqproof processes can share it.

/// The SQLite store behind every command.
public final class ContentStore: Sendable {
    private let database: DatabaseQueue
    public let path: String

    /// Opens (creating if needed) the store at `path` and brings its schema up to date. A file
    /// that is not an mqproof database, or one a newer mqproof wrote, is refused before anything
    /// is written to it.
    public init(path: String) throws(StoreError) {
        self.path = path
        try StoreFile.checkOwnership(path)
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        configuration.foreignKeysEnabled = true
        // WAL lets one process read while another writes. Setting it is a no-op read once the file
        // is in WAL mode. A single connection (not a database) because each command is short: a database
        // writes to the file on every open to create its WAL, which costs a start its fsyncs.
        configuration.prepareDatabase { db in
            if try String.fetchOne(db, sql: "PRAGMA journal_mode") != "wal" {
                try db.execute(sql: "PRAGMA journal_mode = WAL")
            }
        }
        // Several processes may create the store at once (a first run, or the quiz in one terminal
        // and search in another). Switching a new file to WAL takes a lock that SQLite reports as
        // busy at once instead of waiting for: open again, up to two seconds, before giving up.
        var attempt = 0
        while true {
            do {
                let opened = try DatabaseQueue(path: path, configuration: configuration)
                try Self.migrate(opened, path: path)
                database = opened
                return
            } catch let error as StoreError {
                throw error
            } catch let error as DatabaseError
                where (error.resultCode == .SQLITE_BUSY || error.resultCode == .SQLITE_LOCKED) && attempt < 40
            {
                attempt += 1
                usleep(50_000)
            } catch {
                throw .cannotOpen(path, reason: Self.reason(error))
            }
        }
    }

    private static func reason(_ error: any Error) -> String {
        if let error = error as? DatabaseError {
            if error.resultCode == .SQLITE_NOTADB { return "the file is not an SQLite database" }
            if error.resultCode == .SQLITE_CANTOPEN {
                return "unable to open the file (check the folder exists and is writable)"
            }
            return error.message ?? "\(error.resultCode)"
        }
        return "\(error)"
    }

    /// The search index: every text pre-segmented (see SearchText), ranked by bm25.
    private static let createSearchTable = """
        CREATE VIRTUAL TABLE entry_search USING fts5(
            entry_id UNINDEXED, question, key_points, answer, keywords,
            tokenize = 'unicode61 remove_diacritics 2')
        """

    /// The schema's steps, in order. Each runs once per file; the identifiers are those GRDB's
    /// migrator recorded in `grdb_migrations`, so files written before this migrator still open.
    private static let migrations: [(identifier: String, run: @Sendable (Database) throws -> Void)] = [
        (
            "v1: content and user tables",
            { db in
                try db.execute(
                    sql: """
                        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);

                        CREATE TABLE topic (
                            id TEXT PRIMARY KEY,
                            position INTEGER NOT NULL,
                            group_letter TEXT NOT NULL,
                            title_zh TEXT NOT NULL,
                            title_en TEXT NOT NULL);
                        CREATE TABLE entry (
                            id TEXT PRIMARY KEY,
                            topic_id TEXT NOT NULL REFERENCES topic(id),
                            difficulty INTEGER NOT NULL,
                            question_zh TEXT NOT NULL,
                            question_en TEXT NOT NULL,
                            body TEXT NOT NULL);  -- the whole entry as JSON
                        CREATE INDEX entry_by_topic ON entry(topic_id, id);
                        CREATE TABLE entry_tag (
                            entry_id TEXT NOT NULL REFERENCES entry(id),
                            tag TEXT NOT NULL,
                            PRIMARY KEY (entry_id, tag));
                        CREATE TABLE entry_experiment (
                            entry_id TEXT NOT NULL REFERENCES entry(id),
                            experiment_id TEXT NOT NULL,
                            position INTEGER NOT NULL,
                            PRIMARY KEY (entry_id, experiment_id));
                        CREATE TABLE quiz_item (
                            id TEXT PRIMARY KEY,  -- <entry id>/<1-based position>
                            entry_id TEXT NOT NULL REFERENCES entry(id),
                            position INTEGER NOT NULL,
                            kind TEXT NOT NULL,
                            body TEXT NOT NULL);

                        -- User data: no import ever writes here. Card ids are quiz_item ids or
                        -- entry ids, on purpose without foreign keys: content tables are rebuilt.
                        CREATE TABLE setting (key TEXT PRIMARY KEY, value TEXT NOT NULL);
                        CREATE TABLE review_log (
                            id INTEGER PRIMARY KEY AUTOINCREMENT,
                            card_id TEXT NOT NULL,
                            rating INTEGER NOT NULL,
                            reviewed_at TEXT NOT NULL);
                        """)
                try db.execute(sql: createSearchTable)
            }
        ),
        ("v2: quiz progress", createProgressTables),
        (
            "v3: search terms",
            { db in
                // The English words of the index, for correcting typed words, and the search
                // vocabulary, as StoreSearch's StoredLexicon looks it up.
                try db.execute(
                    sql: """
                        CREATE TABLE search_term (term TEXT PRIMARY KEY, entries INTEGER NOT NULL);
                        CREATE TABLE search_synonym (
                            key TEXT NOT NULL, group_id INTEGER NOT NULL, PRIMARY KEY (key, group_id));
                        CREATE INDEX search_synonym_by_group ON search_synonym(group_id);
                        CREATE TABLE search_word (key TEXT PRIMARY KEY, is_stopword INTEGER NOT NULL);
                        """)
            }
        ),
        (
            "v4: marked as mqproof's",
            { db in
                // The header's application id tells any later open, ours or another program's, whose
                // file this is; user_version says which schema, so an older mqproof refuses it.
                try db.execute(sql: "PRAGMA application_id = \(StoreFile.applicationID)")
                try db.execute(sql: "PRAGMA user_version = 4")
            }
        ),
        ("v5: study path", createStudyTables),
    ]

    /// Brings the schema up to date in one immediate transaction: two processes that open a new
    /// file at once take turns, and the second finds the work done.
    private static func migrate(_ database: DatabaseQueue, path: String) throws {
        let identifiers = migrations.map(\.identifier)
        let isCurrent = try database.read { db in
            try db.tableExists("grdb_migrations")
                && Set(try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations"))
                    == Set(identifiers)
        }
        if isCurrent { return }
        try database.writeWithoutTransaction { db in
            try db.inTransaction(.immediate) {
                try db.execute(
                    sql: "CREATE TABLE IF NOT EXISTS grdb_migrations (identifier TEXT NOT NULL PRIMARY KEY)")
                let applied = Set(try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations"))
                guard applied.isSubset(of: Set(identifiers)) else {
                    throw StoreError.cannotOpen(path, reason: "it was written by a newer mqproof")
                }
                for migration in migrations where !applied.contains(migration.identifier) {
                    try migration.run(db)
                    try db.execute(
                        sql: "INSERT INTO grdb_migrations (identifier) VALUES (?)",
                        arguments: [migration.identifier])
                }
                return .commit
            }
        }
    }

    // MARK: - Import

    /// What `ensureContent` did.
    public enum ImportOutcome: Equatable, Sendable {
        /// The store already held this exact tree.
        case unchanged
        case imported(entries: Int)
        /// The tree has problems and was not imported. `servingPrevious` tells whether the
        /// store still holds earlier content to serve.
        case refused(ContentProblems, servingPrevious: Bool)
    }

    /// The fingerprint of the imported tree, or nil before the first import.
    public func contentFingerprint() throws(StoreError) -> String? {
        try reading { db in try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'fingerprint'") }
    }

    /// Imports `tree` unless the store already holds it. Parsing happens only when the
    /// fingerprint differs; a tree with any problem is refused whole.
    public func ensureContent(_ tree: ContentFiles, parser: ContentParser) throws(StoreError) -> ImportOutcome
    {
        let fingerprint = tree.fingerprint
        let current = try contentFingerprint()
        if current == fingerprint { return .unchanged }
        switch parser.parse(tree) {
        case .failure(let problems):
            return .refused(problems, servingPrevious: current != nil)
        case .success(let content):
            try importContent(content, fingerprint: fingerprint, origin: tree.origin)
            return .imported(entries: content.entries.count)
        }
    }

    /// Replaces every content table with `content`, in one transaction.
    public func importContent(_ content: ContentSet, fingerprint: String, origin: String) throws(StoreError) {
        // Encoding and segmenting are pure and per entry: do them on every core before taking
        // the write lock, so the transaction only inserts.
        let topicTitles = Dictionary(
            uniqueKeysWithValues: content.topics.map { ($0.id, [$0.title.zh, $0.title.en]) })
        let rows = content.entries.concurrentMap { ImportRow($0, topicTitles: topicTitles) }
        try writing { db in
            // Another process may have imported the same tree while this one parsed it.
            let current = try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'fingerprint'")
            if current == fingerprint { return }
            // Deleting rows from an FTS5 table re-tokenizes every old row to unindex it; dropping
            // and recreating the table inside the same transaction costs nothing.
            try db.execute(sql: "DROP TABLE entry_search")
            try db.execute(sql: Self.createSearchTable)
            for table in [
                "quiz_item", "entry_experiment", "entry_tag", "entry", "topic", "search_term",
                "search_synonym",
                "search_word",
            ] {
                try db.execute(sql: "DELETE FROM \(table)")
            }
            for (position, topic) in content.topics.enumerated() {
                try Self.insert(
                    db,
                    sql:
                        "INSERT INTO topic (id, position, group_letter, title_zh, title_en) VALUES (?, ?, ?, ?, ?)",
                    arguments: [topic.id, position, topic.group, topic.title.zh, topic.title.en])
            }
            for row in rows {
                let entry = row.entry
                try Self.insert(
                    db,
                    sql: """
                        INSERT INTO entry (id, topic_id, difficulty, question_zh, question_en, body)
                        VALUES (?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [
                        entry.id, entry.topic, entry.difficulty, entry.question.zh, entry.question.en,
                        row.body,
                    ])
                for tag in Set(entry.tags) {
                    try Self.insert(
                        db, sql: "INSERT INTO entry_tag (entry_id, tag) VALUES (?, ?)",
                        arguments: [entry.id, tag])
                }
                for (position, experiment) in entry.experiments.enumerated() {
                    try Self.insert(
                        db,
                        sql:
                            "INSERT INTO entry_experiment (entry_id, experiment_id, position) VALUES (?, ?, ?)",
                        arguments: [entry.id, experiment, position])
                }
                for (index, item) in entry.quiz.enumerated() {
                    let kind = if case .choice = item.kind { "choice" } else { "true-false" }
                    try Self.insert(
                        db,
                        sql:
                            "INSERT INTO quiz_item (id, entry_id, position, kind, body) VALUES (?, ?, ?, ?, ?)",
                        arguments: [
                            "\(entry.id)/\(index + 1)", entry.id, index + 1, kind, row.quizBodies[index],
                        ])
                }
                try Self.insert(
                    db,
                    sql: """
                        INSERT INTO entry_search (entry_id, question, key_points, answer, keywords)
                        VALUES (?, ?, ?, ?, ?)
                        """,
                    arguments: [entry.id, row.question, row.keyPoints, row.answer, row.keywords])
            }
            var termEntries: [String: Int] = [:]
            for row in rows {
                for term in row.latinTerms { termEntries[term, default: 0] += 1 }
            }
            for (term, entries) in termEntries {
                try Self.insert(
                    db, sql: "INSERT INTO search_term (term, entries) VALUES (?, ?)",
                    arguments: [term, entries])
            }
            let lexicon = VocabularyLexicon(content.searchVocabulary)
            for (group, keys) in lexicon.groups.enumerated() {
                for key in keys {
                    try Self.insert(
                        db, sql: "INSERT INTO search_synonym (key, group_id) VALUES (?, ?)",
                        arguments: [key, group])
                }
            }
            for word in lexicon.chineseWords.union(lexicon.stopwords) {
                try Self.insert(
                    db, sql: "INSERT INTO search_word (key, is_stopword) VALUES (?, ?)",
                    arguments: [word, lexicon.stopwords.contains(word)])
            }
            try Self.replaceStudyPath(content.studyPath, in: db)
            for (key, value) in [
                ("fingerprint", fingerprint), ("origin", origin),
                ("search_shape", "\(lexicon.longestChineseWord) \(lexicon.longestEnglishPhrase)"),
                ("search_products", lexicon.products.joined(separator: " ")),
            ] {
                try db.execute(
                    sql: "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", arguments: [key, value])
            }
        }
    }

    /// One entry's rows, encoded and segmented ahead of the transaction.
    private struct ImportRow: Sendable {
        var entry: Entry
        var body: String
        var quizBodies: [String]
        var question: String
        var keyPoints: String
        var answer: String
        var keywords: String
        /// The distinct English words of every column, as indexed.
        var latinTerms: Set<String>

        init(_ entry: Entry, topicTitles: [String: [String]]) {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            self.entry = entry
            body = String(decoding: try! encoder.encode(entry), as: UTF8.self)
            quizBodies = entry.quiz.map { String(decoding: try! encoder.encode($0), as: UTF8.self) }
            question = SearchText.indexed(entry.question.zh + "\n" + entry.question.en)
            keyPoints = SearchText.indexed((entry.keyPoints.zh + entry.keyPoints.en).joined(separator: "\n"))
            answer = SearchText.indexed(entry.answer.zh + "\n" + entry.answer.en)
            // The id, tags, seed heading and topic titles: words a user may search by that the
            // question itself does not contain (消息丢失 for the acks answer).
            keywords = SearchText.indexed(
                ([entry.id] + entry.tags + [entry.seed ?? ""] + (topicTitles[entry.topic] ?? [])).joined(
                    separator: "\n"))
            latinTerms = Set(
                [question, keyPoints, answer, keywords].joined(separator: " ").split(separator: " ").lazy
                    .filter { !$0.unicodeScalars.contains(where: SearchText.isCJK) }.map(String.init))
        }
    }

    /// Runs an insert through SQLite's statement cache: an import runs each statement once per
    /// entry, so it is compiled once, not hundreds of times.
    private static func insert(_ db: Database, sql: String, arguments: StatementArguments) throws {
        try db.cachedStatement(sql: sql).execute(arguments: arguments)
    }

    // MARK: - Reading

    /// A topic with the number of entries in it.
    public struct TopicSummary: Codable, Equatable, Sendable {
        public var topic: Topic
        public var entryCount: Int
    }

    /// What a list shows of an entry.
    public struct EntrySummary: Codable, Equatable, Sendable {
        public var id: String
        public var topic: String
        public var difficulty: Int
        public var question: Localized
    }

    public func topics() throws(StoreError) -> [TopicSummary] {
        try reading { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT topic.*, (SELECT count(*) FROM entry WHERE entry.topic_id = topic.id) AS entry_count
                    FROM topic ORDER BY position
                    """
            ).map { row in
                TopicSummary(
                    topic: Topic(
                        id: row["id"], group: row["group_letter"],
                        title: Localized(zh: row["title_zh"], en: row["title_en"])),
                    entryCount: row["entry_count"])
            }
        }
    }

    /// Entries in topic order, then by id; only those of `topic` when one is given.
    public func entries(topic: String? = nil) throws(StoreError) -> [EntrySummary] {
        try reading { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT entry.id, entry.topic_id, entry.difficulty, entry.question_zh, entry.question_en
                    FROM entry JOIN topic ON topic.id = entry.topic_id
                    WHERE ?1 IS NULL OR entry.topic_id = ?1
                    ORDER BY topic.position, entry.id
                    """,
                arguments: [topic]
            ).map(Self.summary)
        }
    }

    public func entry(id: String) throws(StoreError) -> Entry? {
        let body = try reading { db in
            try String.fetchOne(db, sql: "SELECT body FROM entry WHERE id = ?", arguments: [id])
        }
        guard let body else { return nil }
        do {
            return try JSONDecoder().decode(Entry.self, from: Data(body.utf8))
        } catch {
            throw .corrupt(path, reason: "entry '\(id)' cannot be read; run any command to re-import")
        }
    }

    /// The answers of some entries, by id, for search snippets. SQLite reads them out of the
    /// stored JSON itself: decoding whole entries in Swift would cost a search ten times a show.
    public func answers(ids: [String]) throws(StoreError) -> [String: Localized] {
        try reading { db in
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT id, json_extract(body, '$.answer.zh'), json_extract(body, '$.answer.en') FROM entry
                    WHERE id IN (SELECT value FROM json_each(?))
                    """,
                arguments: [JSONList.of(ids)])
            return Dictionary(
                rows.map { row in (row[0] as String, Localized(zh: row[1] ?? "", en: row[2] ?? "")) },
                uniquingKeysWith: { first, _ in first })
        }
    }

    /// Every entry, in topic order then id: what a quiz draws its cards from.
    public func allEntries() throws(StoreError) -> [Entry] {
        let bodies = try reading { db in
            try String.fetchAll(
                db,
                sql:
                    "SELECT entry.body FROM entry JOIN topic ON topic.id = entry.topic_id ORDER BY topic.position, entry.id"
            )
        }
        do {
            let decoder = JSONDecoder()
            return try bodies.map { try decoder.decode(Entry.self, from: Data($0.utf8)) }
        } catch {
            throw .corrupt(path, reason: "an entry cannot be read; run any command to re-import")
        }
    }

    /// The entries that grew from a heading of the seed document, with that heading.
    public func seededEntries() throws(StoreError) -> [(id: String, seed: String)] {
        try reading { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT id, json_extract(body, '$.seed') FROM entry
                    WHERE json_extract(body, '$.seed') IS NOT NULL ORDER BY id
                    """
            ).map { (id: $0[0], seed: $0[1]) }
        }
    }

    public func entryIDs() throws(StoreError) -> [String] {
        try reading { db in try String.fetchAll(db, sql: "SELECT id FROM entry ORDER BY id") }
    }

    /// Counts for the home screen.
    public struct Counts: Codable, Equatable, Sendable {
        public var topics: Int
        public var entries: Int
        public var quizItems: Int
        public var entriesWithExperiments: Int
        /// Entries that say why no experiment can show them (history, opinion, your own project).
        public var entriesNotDemonstrable: Int

        public init(
            topics: Int, entries: Int, quizItems: Int, entriesWithExperiments: Int,
            entriesNotDemonstrable: Int
        ) {
            self.topics = topics
            self.entries = entries
            self.quizItems = quizItems
            self.entriesWithExperiments = entriesWithExperiments
            self.entriesNotDemonstrable = entriesNotDemonstrable
        }
    }

    public func counts() throws(StoreError) -> Counts {
        try reading { db in
            let row = try Row.fetchOne(
                db,
                sql: """
                    SELECT (SELECT count(*) FROM topic) AS topics, (SELECT count(*) FROM entry) AS entries,
                           (SELECT count(*) FROM quiz_item) AS quiz_items,
                           (SELECT count(DISTINCT entry_id) FROM entry_experiment) AS proven,
                           (SELECT count(*) FROM entry
                            WHERE json_extract(body, '$.notDemonstrable') IS NOT NULL) AS not_demonstrable
                    """)!
            return Counts(
                topics: row["topics"], entries: row["entries"], quizItems: row["quiz_items"],
                entriesWithExperiments: row["proven"], entriesNotDemonstrable: row["not_demonstrable"])
        }
    }

    static func summary(_ row: Row) -> EntrySummary {
        EntrySummary(
            id: row["id"], topic: row["topic_id"], difficulty: row["difficulty"],
            question: Localized(zh: row["question_zh"], en: row["question_en"]))
    }

    // MARK: - User data

    public func setting(_ key: String) throws(StoreError) -> String? {
        try reading { db in
            try String.fetchOne(db, sql: "SELECT value FROM setting WHERE key = ?", arguments: [key])
        }
    }

    public func setSetting(_ key: String, to value: String) throws(StoreError) {
        try writing { db in
            try db.execute(
                sql: "INSERT OR REPLACE INTO setting (key, value) VALUES (?, ?)", arguments: [key, value])
        }
    }

    // MARK: - Plumbing

    func reading<T>(_ body: (Database) throws -> T) throws(StoreError) -> T {
        do {
            return try database.read(body)
        } catch {
            throw .failed(path, reason: Self.reason(error))
        }
    }

    func writing(_ body: (Database) throws -> Void) throws(StoreError) {
        do {
            try database.writeWithoutTransaction { db in
                try db.inTransaction(.immediate) {
                    try body(db)
                    return .commit
                }
            }
        } catch {
            throw .failed(path, reason: Self.reason(error))
        }
    }
}

/// Why the store could not do its job, for a one-line message.
public enum StoreError: Error, Equatable, Sendable, CustomStringConvertible {
    case cannotOpen(String, reason: String)
    case failed(String, reason: String)
    case corrupt(String, reason: String)

    public var description: String {
        switch self {
        case .cannotOpen(let path, let reason): "cannot open the database \(path): \(reason)"
        case .failed(let path, let reason): "database \(path): \(reason)"
        case .corrupt(let path, let reason): "database \(path) is damaged: \(reason)"
        }
    }
}
