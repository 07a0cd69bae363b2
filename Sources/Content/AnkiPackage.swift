import Foundation
import GRDB

// Theory of operation
//
// An .apkg is a ZIP archive holding `collection.anki2`, a SQLite database in Anki's schema 11
// (the layout genanki writes and every Anki since 2.0 imports), and a `media` map, here `{}`.
// Anki deduplicates an import by each note's guid, so the guid is derived from our own stable
// entry id, never from the editable text: exporting again and re-importing updates notes instead
// of duplicating them. The model (note type) and deck ids are fixed for the same reason. The
// archive is written uncompressed ("stored"), which every ZIP reader accepts; that needs only a
// CRC-32, not a compression library.

/// Writes Anki packages (.apkg) of the questions.
public enum AnkiPackage {
    public struct Note: Sendable {
        /// Stable across exports: the entry id.
        public var key: String
        /// Front, Back, Topic, Id (the model's fields, in order), as HTML.
        public var fields: [String]
        public var tags: [String]

        public init(key: String, fields: [String], tags: [String]) {
            self.key = key
            self.fields = fields
            self.tags = tags
        }
    }

    static let modelID: Int64 = 1_732_600_001
    static let deckID: Int64 = 1_732_600_002
    public static let deckName = "mqproof::Message queues"

    /// `notes` as a new-card deck: the bytes of an .apkg file. The caller decides where they may
    /// go (see the CLI's OutputFile).
    public static func package(_ notes: [Note], nowMilliseconds: Int64) throws(StoreError) -> Data {
        let folder = FileManager.default.temporaryDirectory.appending(
            path: "mqproof-apkg-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let databasePath = folder.appending(path: "collection.anki2").path
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            let queue = try DatabaseQueue(path: databasePath)
            try queue.write { db in
                try db.execute(sql: schema)
                let seconds = nowMilliseconds / 1000
                try db.execute(
                    sql: "INSERT INTO col VALUES (1, ?, ?, ?, 11, 0, 0, 0, ?, ?, ?, ?, '{}')",
                    arguments: [
                        seconds, nowMilliseconds, nowMilliseconds, conf, models(seconds), decks(seconds),
                        dconf,
                    ])
                for (position, note) in notes.enumerated() {
                    let noteID = nowMilliseconds + Int64(position) * 2
                    let fields = note.fields.joined(separator: "\u{1F}")
                    let tags =
                        " "
                        + note.tags.map { $0.replacingOccurrences(of: " ", with: "_") }.joined(separator: " ")
                        + " "
                    try db.execute(
                        sql: "INSERT INTO notes VALUES (?, ?, ?, ?, -1, ?, ?, ?, 0, 0, '')",
                        arguments: [
                            noteID, guid(note.key), modelID, seconds, tags, fields,
                            stripped(note.fields.first ?? ""),
                        ])
                    // A new card: type 0, queue 0, due = its position among new cards.
                    try db.execute(
                        sql:
                            "INSERT INTO cards VALUES (?, ?, ?, 0, ?, -1, 0, 0, ?, 0, 0, 0, 0, 0, 0, 0, 0, '')",
                        arguments: [noteID + 1, noteID, deckID, seconds, position + 1])
                }
            }
            try queue.close()
            let database = try Data(contentsOf: URL(fileURLWithPath: databasePath))
            return ZipWriter.stored([("collection.anki2", database), ("media", Data("{}".utf8))])
        } catch {
            throw .failed(databasePath, reason: "cannot build the Anki package: \(error)")
        }
    }

    /// genanki's guid format: 64 bits in Anki's base-91 alphabet. The bits come from our own
    /// stable hash of the key.
    public static func guid(_ key: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in "mqproof__\(key)".utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
        let alphabet = Array(
            "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&()*+,-./:;<=>?@[]^_`{|}~")
        var digits: [Character] = []
        repeat {
            digits.append(alphabet[Int(hash % 91)])
            hash /= 91
        } while hash > 0
        return String(digits.reversed())
    }

    private static func stripped(_ html: String) -> String {
        html.replacingOccurrences(of: "<[^>]+>", with: " ", options: .regularExpression)
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    private static let schema = """
        CREATE TABLE col (id integer primary key, crt integer not null, mod integer not null, scm integer not null,
            ver integer not null, dty integer not null, usn integer not null, ls integer not null, conf text not null,
            models text not null, decks text not null, dconf text not null, tags text not null);
        CREATE TABLE notes (id integer primary key, guid text not null, mid integer not null, mod integer not null,
            usn integer not null, tags text not null, flds text not null, sfld integer not null, csum integer not null,
            flags integer not null, data text not null);
        CREATE TABLE cards (id integer primary key, nid integer not null, did integer not null, ord integer not null,
            mod integer not null, usn integer not null, type integer not null, queue integer not null, due integer not null,
            ivl integer not null, factor integer not null, reps integer not null, lapses integer not null,
            left integer not null, odue integer not null, odid integer not null, flags integer not null, data text not null);
        CREATE TABLE revlog (id integer primary key, cid integer not null, usn integer not null, ease integer not null,
            ivl integer not null, lastIvl integer not null, factor integer not null, time integer not null, type integer not null);
        CREATE TABLE graves (usn integer not null, oid integer not null, type integer not null);
        CREATE INDEX ix_notes_usn on notes (usn);
        CREATE INDEX ix_cards_usn on cards (usn);
        CREATE INDEX ix_revlog_usn on revlog (usn);
        CREATE INDEX ix_cards_nid on cards (nid);
        CREATE INDEX ix_cards_sched on cards (did, queue, due);
        CREATE INDEX ix_revlog_cid on revlog (cid);
        CREATE INDEX ix_notes_csum on notes (csum);
        """

    private static let conf = """
        {"activeDecks": [1], "addToCur": true, "collapseTime": 1200, "curDeck": 1, "curModel": "\(modelID)", \
        "dueCounts": true, "estTimes": true, "newBury": true, "newSpread": 0, "nextPos": 1, "sortBackwards": false, \
        "sortType": "noteFld", "timeLim": 0}
        """

    private static func models(_ seconds: Int64) -> String {
        let field = { (name: String, order: Int) in
            #"{"name": "\#(name)", "ord": \#(order), "font": "Liberation Sans", "media": [], "rtl": false, "size": 20, "sticky": false}"#
        }
        let fields = ["Front", "Back", "Topic", "Id"].enumerated().map { field($1, $0) }.joined(
            separator: ", ")
        let css =
            ".card { font-family: arial; font-size: 18px; text-align: left; } code { background: #eee; }"
        return """
            {"\(modelID)": {"css": "\(css)", "did": \(deckID), "flds": [\(fields)], "id": "\(modelID)", \
            "latexPost": "\\\\end{document}", "latexPre": "\\\\documentclass[12pt]{article}\\n\\\\begin{document}\\n", \
            "latexsvg": false, "mod": \(seconds), "name": "mqproof Q&A", "req": [[0, "all", [0]]], "sortf": 0, "tags": [], \
            "tmpls": [{"name": "Card 1", "qfmt": "{{Front}}", "afmt": "{{FrontSide}}<hr id=\\"answer\\">{{Back}}<br><small>{{Topic}} · {{Id}}</small>", \
            "ord": 0, "bafmt": "", "bqfmt": "", "bfont": "", "bsize": 0, "did": null}], "type": 0, "usn": -1, "vers": []}}
            """
    }

    private static func decks(_ seconds: Int64) -> String {
        """
        {"1": {"collapsed": false, "conf": 1, "desc": "", "dyn": 0, "extendNew": 10, "extendRev": 50, "id": 1, \
        "lrnToday": [0, 0], "mod": \(seconds), "name": "Default", "newToday": [0, 0], "revToday": [0, 0], \
        "timeToday": [0, 0], "usn": 0}, "\(deckID)": {"collapsed": false, "conf": 1, "desc": "", "dyn": 0, \
        "extendNew": 0, "extendRev": 50, "id": \(deckID), "lrnToday": [0, 0], "mod": \(seconds), "name": "\(deckName)", \
        "newToday": [0, 0], "revToday": [0, 0], "timeToday": [0, 0], "usn": -1}}
        """
    }

    private static let dconf = """
        {"1": {"autoplay": true, "id": 1, "lapse": {"delays": [10], "leechAction": 0, "leechFails": 8, "minInt": 1, \
        "mult": 0}, "maxTaken": 60, "mod": 0, "name": "Default", "new": {"bury": true, "delays": [1, 10], \
        "initialFactor": 2500, "ints": [1, 4, 7], "order": 1, "perDay": 20, "separate": true}, "replayq": true, \
        "rev": {"bury": true, "ease4": 1.3, "fuzz": 0.05, "ivlFct": 1, "maxIvl": 36500, "minSpace": 1, "perDay": 100}, \
        "timer": 0, "usn": 0}}
        """
}

/// A minimal ZIP writer: stored (uncompressed) entries with CRC-32, local headers and a central
/// directory. Enough for an .apkg.
enum ZipWriter {
    static func stored(_ entries: [(name: String, data: Data)]) -> Data {
        var archive = Data()
        var central = Data()
        for entry in entries {
            let name = Data(entry.name.utf8)
            let crc = crc32(entry.data)
            let offset = UInt32(archive.count)
            var local = Data()
            local.append(le32: 0x0403_4b50)
            local.append(le16: 20)  // version needed
            local.append(le16: 0)  // flags
            local.append(le16: 0)  // stored
            local.append(le16: 0)  // time
            local.append(le16: 0x21)  // date: 1980-01-01
            local.append(le32: crc)
            local.append(le32: UInt32(entry.data.count))
            local.append(le32: UInt32(entry.data.count))
            local.append(le16: UInt16(name.count))
            local.append(le16: 0)
            archive.append(local)
            archive.append(name)
            archive.append(entry.data)
            central.append(le32: 0x0201_4b50)
            central.append(le16: 20)
            central.append(le16: 20)
            central.append(le16: 0)
            central.append(le16: 0)
            central.append(le16: 0)
            central.append(le16: 0x21)
            central.append(le32: crc)
            central.append(le32: UInt32(entry.data.count))
            central.append(le32: UInt32(entry.data.count))
            central.append(le16: UInt16(name.count))
            central.append(le16: 0)  // extra
            central.append(le16: 0)  // comment
            central.append(le16: 0)  // disk
            central.append(le16: 0)  // internal attributes
            central.append(le32: 0)  // external attributes
            central.append(le32: offset)
            central.append(name)
        }
        let centralOffset = UInt32(archive.count)
        archive.append(central)
        archive.append(le32: 0x0605_4b50)
        archive.append(le16: 0)
        archive.append(le16: 0)
        archive.append(le16: UInt16(entries.count))
        archive.append(le16: UInt16(entries.count))
        archive.append(le32: UInt32(central.count))
        archive.append(le32: centralOffset)
        archive.append(le16: 0)
        return archive
    }

    private static let table: [UInt32] = (0..<256).map { index in
        var value = UInt32(index)
        for _ in 0..<8 { value = value & 1 == 1 ? 0xEDB8_8320 ^ (value >> 1) : value >> 1 }
        return value
    }

    static func crc32(_ data: Data) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in data { crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
        return crc ^ 0xFFFF_FFFF
    }
}

extension Data {
    fileprivate mutating func append(le16 value: UInt16) {
        Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) }
    }

    fileprivate mutating func append(le32 value: UInt32) {
        Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) }
    }
}
