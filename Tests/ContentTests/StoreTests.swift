import Content
import Foundation
import GRDB
import TestSupport
import Testing

@Suite("Content store")
struct StoreTests {
    let parser = ContentParser(knownExperiments: [])

    private func importedStore(_ tree: ContentFiles, in directory: TemporaryDirectory) throws -> ContentStore
    {
        let store = try ContentStore(path: directory.file("store.sqlite"))
        #expect(
            try store.ensureContent(tree, parser: parser)
                == .imported(entries: tree.files.filter { $0.role == .entry }.count))
        return store
    }

    @Test("An entry comes back from the store exactly as parsed, in both languages")
    func roundTrip() throws {
        let directory = TemporaryDirectory()
        let tree = Fixtures.tree(ids: ["kafka-idempotence", "other-entry"])
        let store = try importedStore(tree, in: directory)
        let parsed = try parser.parse(tree).get()
        #expect(
            try store.entry(id: "kafka-idempotence") == parsed.entries.first { $0.id == "kafka-idempotence" })
        #expect(try store.entries(topic: "message-loss").map(\.id) == ["kafka-idempotence", "other-entry"])
        #expect(try store.entries(topic: "why-mq").isEmpty)
        #expect(try store.topics().map(\.entryCount) == [0, 2])
        #expect(
            try store.counts()
                == ContentStore.Counts(
                    topics: 2, entries: 2, quizItems: 4, entriesWithExperiments: 0, entriesNotDemonstrable: 0)
        )
    }

    @Test("Unchanged content is not imported again")
    func unchangedIsSkipped() throws {
        let directory = TemporaryDirectory()
        let tree = Fixtures.tree(ids: ["a-entry"])
        let store = try importedStore(tree, in: directory)
        #expect(try store.ensureContent(tree, parser: parser) == .unchanged)
        // A second process opening the same file sees the same content and does not import either.
        let second = try ContentStore(path: directory.file("store.sqlite"))
        #expect(try second.ensureContent(tree, parser: parser) == .unchanged)
    }

    @Test("A broken file refuses the import whole and the old content is still served")
    func brokenImportChangesNothing() throws {
        let directory = TemporaryDirectory()
        let store = try importedStore(Fixtures.tree(ids: ["old-entry"]), in: directory)
        let fingerprint = try store.contentFingerprint()
        let broken = Fixtures.tree(["new-entry": Fixtures.entryYAML(id: "new-entry"), "bad": "id: bad\n"])
        guard
            case .refused(let problems, let servingPrevious) = try store.ensureContent(broken, parser: parser)
        else {
            Issue.record("a broken tree must be refused")
            return
        }
        #expect(servingPrevious)
        #expect(problems.problems.first?.description == "content/entries/bad.yaml:1: missing field 'topic'")
        #expect(try store.entryIDs() == ["old-entry"])
        #expect(try store.contentFingerprint() == fingerprint)
    }

    @Test("An import that fails half-way rolls back to the old content")
    func importIsOneTransaction() throws {
        let directory = TemporaryDirectory()
        let store = try importedStore(Fixtures.tree(ids: ["old-entry"]), in: directory)
        var set = try parser.parse(Fixtures.tree(ids: ["first-entry", "second-entry"])).get()
        // The second entry names a topic that does not exist: its insert violates a foreign key
        // after the first entry has been written.
        set.entries[1].topic = "no-such-topic"
        #expect(throws: StoreError.self) { try store.importContent(set, fingerprint: "x", origin: "test") }
        #expect(try store.entryIDs() == ["old-entry"])
        // Nothing of the failed import reached the index: "first" is no word in it.
        #expect(try store.search("first")?.match != .exact)
    }

    @Test("User data survives a re-import of changed content")
    func userTablesUntouched() throws {
        let directory = TemporaryDirectory()
        let store = try importedStore(Fixtures.tree(ids: ["old-entry"]), in: directory)
        try store.setSetting("desired_retention", to: "0.9")
        let queue = try DatabaseQueue(path: directory.file("store.sqlite"))
        try queue.write { db in
            try db.execute(
                sql:
                    "INSERT INTO review_log (card_id, rating, reviewed_at) VALUES ('old-entry/1', 3, '2026-11-25')"
            )
        }
        #expect(
            try store.ensureContent(Fixtures.tree(ids: ["new-entry"]), parser: parser)
                == .imported(entries: 1))
        #expect(try store.entryIDs() == ["new-entry"])
        #expect(try store.setting("desired_retention") == "0.9")
        #expect(try queue.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM review_log") } == 1)
    }

    @Test("A file that is not a database is refused and left as it was")
    func notADatabase() throws {
        let directory = TemporaryDirectory()
        let path = directory.file("notes.txt")
        let text = String(repeating: "my precious notes\n", count: 200)
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        #expect(
            throws: StoreError.cannotOpen(
                path, reason: "the file is not an SQLite database; nothing was changed")
        ) {
            try ContentStore(path: path)
        }
        #expect(try String(contentsOfFile: path, encoding: .utf8) == text)
    }

    @Test("A path in a folder that does not exist gives a clear error")
    func missingFolder() {
        #expect(throws: StoreError.self) { try ContentStore(path: "/nonexistent-mqproof/store.sqlite") }
    }
}
