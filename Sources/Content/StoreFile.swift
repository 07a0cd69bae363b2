import Foundation
import GRDB
import GRDBSQLite

#if canImport(Glibc)
    import Glibc
#endif

// Theory of operation
//
// Opening an SQLite file with GRDB writes to it at once: the WAL switch, the migration tables.
// So before that, the file is judged from the outside: its kind (a device or folder is never a
// database), and its 100-byte header, which holds the application id and the schema version
// (user_version) that the v4 migration writes. A file of another program, or of a newer
// mqproof, is refused untouched. A header with no application id is either an empty SQLite file,
// an mqproof store from before the id existed, or someone else's database; only then are its
// table names read, through a read-only connection.

/// Checks that a file may be opened as mqproof's store.
enum StoreFile {
    /// "mqpf" in ASCII, in the header's application id field.
    static let applicationID: Int32 = 0x6D71_7066
    /// The schema this build writes; bump with every migration.
    static let schemaVersion: Int32 = 5

    /// Throws when `path` must not be opened (or created) as a store.
    static func checkOwnership(_ path: String) throws(StoreError) {
        guard !path.isEmpty else { throw .cannotOpen("''", reason: "the database path is empty") }
        var status = stat()
        guard stat(path, &status) == 0 else {
            guard errno == ENOENT else { throw .cannotOpen(path, reason: String(cString: strerror(errno))) }
            return  // A new file: GRDB creates it.
        }
        guard status.st_mode & S_IFMT == S_IFREG else {
            throw .cannotOpen(path, reason: "it is not a regular file")
        }
        guard status.st_size > 0 else { return }
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw .cannotOpen(path, reason: "the file cannot be read")
        }
        defer { try? handle.close() }
        let header = (try? handle.read(upToCount: 100)) ?? Data()
        guard header.count == 100, header.starts(with: Data("SQLite format 3\0".utf8)) else {
            throw .cannotOpen(path, reason: "the file is not an SQLite database; nothing was changed")
        }
        let userVersion = bigEndian(header, at: 60)
        let application = bigEndian(header, at: 68)
        if application == applicationID {
            if userVersion > schemaVersion {
                throw .cannotOpen(
                    path,
                    reason: "it was written by a newer mqproof (schema \(userVersion)); nothing was changed")
            }
            return
        }
        guard application == 0 else {
            throw .cannotOpen(
                path,
                reason:
                    "it belongs to another program (application id \(String(format: "0x%08x", application))); nothing was changed"
            )
        }
        let tables = try tableNames(path)
        let earlierStore: Set<String> = ["grdb_migrations", "meta", "entry"]
        if tables.isEmpty || earlierStore.isSubset(of: tables) { return }
        throw .cannotOpen(
            path,
            reason:
                "it is not an mqproof database (it holds \(tables.sorted().prefix(5).joined(separator: ", "))); nothing was changed"
        )
    }

    private static func bigEndian(_ data: Data, at offset: Int) -> Int32 {
        let bytes = data[data.startIndex + offset..<data.startIndex + offset + 4]
        return Int32(bitPattern: bytes.reduce(0) { $0 << 8 | UInt32($1) })
    }

    /// The table names of a file, read without writing to it.
    private static func tableNames(_ path: String) throws(StoreError) -> Set<String> {
        var database: OpaquePointer?
        defer { sqlite3_close(database) }
        guard sqlite3_open_v2(path, &database, SQLITE_OPEN_READONLY, nil) == SQLITE_OK else {
            throw .cannotOpen(path, reason: "the file cannot be read as an SQLite database")
        }
        // Another mqproof may be creating the store this moment (a first run often starts several
        // at once): wait for its lock as the store itself does, rather than call the file foreign.
        sqlite3_busy_timeout(database, 10_000)
        var statement: OpaquePointer?
        defer { sqlite3_finalize(statement) }
        let prepared = sqlite3_prepare_v2(
            database, "SELECT name FROM sqlite_master WHERE type = 'table'", -1, &statement, nil)
        guard prepared == SQLITE_OK else {
            let reason =
                prepared == SQLITE_NOTADB
                ? "the file is not an SQLite database"
                : "the file cannot be read (\(String(cString: sqlite3_errmsg(database))))"
            throw .cannotOpen(path, reason: reason + "; nothing was changed")
        }
        var names: Set<String> = []
        while sqlite3_step(statement) == SQLITE_ROW {
            if let text = sqlite3_column_text(statement, 0) { names.insert(String(cString: text)) }
        }
        return names
    }
}
