import Foundation

/// The raw text of a content tree: `topics.yaml`, the entry files, and the seed document.
///
/// Two trees exist: the copy compiled into the binary (`embedded`) and a directory on disk that an
/// author previews with `--content DIR`. Both are read into memory whole; the tree is small
/// (hundreds of kilobytes) and reading it is what makes the change check cheap and exact.
public struct ContentFiles: Sendable {
    public enum Role: String, Sendable {
        case topics
        case entry
        case seed
        /// content/search/*.yaml: synonyms and the dictionary search reads queries with.
        case search
        case studyPath
    }

    public struct File: Sendable {
        /// The path shown in problems: relative to the package root for the built-in copy, as the
        /// user wrote it for a directory.
        public var path: String
        public var role: Role
        public var text: String

        public init(path: String, role: Role, text: String) {
            self.path = path
            self.role = role
            self.text = text
        }
    }

    /// Where the files came from, for messages: `built-in` or a directory path.
    public var origin: String
    /// Sorted by role, then path, so that the fingerprint does not depend on directory order.
    public var files: [File]

    public init(origin: String, files: [File]) {
        self.origin = origin
        self.files = files.sorted { ($0.role.rawValue, $0.path) < ($1.role.rawValue, $1.path) }
    }

    /// Bump whenever the import writes the tables differently, so that stores built by an older
    /// binary re-import even though content/ did not change.
    static let importFormatVersion = 2

    /// A cheap, exact change detector over every file's role, path and text. It runs on every
    /// start, so it hashes eight bytes at a step rather than one.
    public var fingerprint: String {
        var hasher = WordHasher()
        hasher.mix("format \(Self.importFormatVersion)")
        for file in files {
            hasher.mix(file.role.rawValue)
            hasher.mix(file.path)
            hasher.mix(file.text)
        }
        return String(hasher.value, radix: 16)
    }

    /// The copy of content/ and seeds/ compiled into this binary.
    public static var embedded: ContentFiles {
        ContentFiles(
            origin: "built-in",
            files: EmbeddedContent.files.compactMap { path, text in
                if path == "content/topics.yaml" { return File(path: path, role: .topics, text: text) }
                if path == "content/study-path.yaml" { return File(path: path, role: .studyPath, text: text) }
                if path.hasPrefix("content/entries/") { return File(path: path, role: .entry, text: text) }
                if path.hasPrefix("seeds/") { return File(path: path, role: .seed, text: text) }
                if path.hasPrefix("content/search/") { return File(path: path, role: .search, text: text) }
                return nil
            }
        )
    }

    /// Reads a content directory laid out like content/: `topics.yaml`, `entries/*.yaml` and
    /// `search/*.yaml`, with the seed document in a `seeds` folder beside it when there is one.
    public static func load(directory: String) throws(ContentError) -> ContentFiles {
        let manager = FileManager.default
        var isDirectory: ObjCBool = false
        guard manager.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw .notAContentDirectory(directory, reason: "no such directory")
        }
        let base = directory.hasSuffix("/") ? String(directory.dropLast()) : directory
        let topicsPath = base + "/topics.yaml"
        guard manager.fileExists(atPath: topicsPath) else {
            throw .notAContentDirectory(directory, reason: "it has no topics.yaml")
        }
        var files = [try read(topicsPath, role: .topics)]
        for name in try listing(base + "/entries") where name.hasSuffix(".yaml") {
            files.append(try read(base + "/entries/" + name, role: .entry))
        }
        if manager.fileExists(atPath: base + "/study-path.yaml") {
            files.append(try read(base + "/study-path.yaml", role: .studyPath))
        }
        for name in try listing(base + "/search") where name.hasSuffix(".yaml") {
            files.append(try read(base + "/search/" + name, role: .search))
        }
        // The folder above the content folder. Not NSString.deletingLastPathComponent: on Linux
        // it traps on a one-component relative path such as "c".
        let parent = base.lastIndex(of: "/").map { String(base[..<$0]) } ?? "."
        let seedsFolder = (parent.isEmpty ? "/" : parent) + "/seeds"
        if manager.fileExists(atPath: seedsFolder) {
            for name in try listing(seedsFolder) where name.hasSuffix(".txt") || name.hasSuffix(".md") {
                files.append(try read(seedsFolder + "/" + name, role: .seed))
            }
        }
        return ContentFiles(origin: directory, files: files)
    }

    private static func listing(_ folder: String) throws(ContentError) -> [String] {
        guard FileManager.default.fileExists(atPath: folder) else { return [] }
        do {
            return try FileManager.default.contentsOfDirectory(atPath: folder).sorted()
        } catch {
            throw .unreadable(folder, reason: error.localizedDescription)
        }
    }

    /// The largest content file read: the longest entry is about 60 KiB.
    public static let maximumFileSize = 1 << 20

    private static func read(_ path: String, role: Role) throws(ContentError) -> File {
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        guard size <= maximumFileSize else {
            throw .unreadable(
                path, reason: "over \(maximumFileSize / 1024) KiB; a content file is not that long")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .unreadable(path, reason: "cannot read the file")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw .unreadable(path, reason: "not UTF-8 text")
        }
        return File(path: path, role: role, text: text)
    }
}

/// Namespace for the files the EmbedContent plugin compiles in.
enum EmbeddedContent {}

/// Why a content tree could not even be read (as opposed to a problem inside a file).
public enum ContentError: Error, Equatable, Sendable, CustomStringConvertible {
    case notAContentDirectory(String, reason: String)
    case unreadable(String, reason: String)

    public var description: String {
        switch self {
        case .notAContentDirectory(let path, let reason): "\(path): not a content directory: \(reason)"
        case .unreadable(let path, let reason): "\(path): \(reason)"
        }
    }
}

/// A problem inside a content file, with the line it is on.
public struct ContentProblem: Error, Equatable, Sendable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var reason: String

    public init(file: String, line: Int, reason: String) {
        self.file = file
        self.line = line
        self.reason = reason
    }

    public var description: String { "\(file):\(line): \(reason)" }
}

/// A 64-bit multiply-rotate hash over whole words, for change detection (not for security).
struct WordHasher {
    private(set) var value: UInt64 = 0x243F_6A88_85A3_08D3

    mutating func mix(_ text: String) {
        var text = text
        text.withUTF8 { bytes in
            let raw = UnsafeRawBufferPointer(bytes)
            var index = 0
            while index + 8 <= bytes.count {
                step(raw.loadUnaligned(fromByteOffset: index, as: UInt64.self))
                index += 8
            }
            var tail: UInt64 = 0
            for byte in bytes[index...] { tail = tail << 8 | UInt64(byte) }
            step(tail)
            // The length ends the field, so that moving bytes between fields changes the hash.
            step(UInt64(bytes.count))
        }
    }

    private mutating func step(_ word: UInt64) {
        value = ((value ^ word) &* 0x9E37_79B9_7F4A_7C15)
        value = (value << 31 | value >> 33) &* 0xBF58_476D_1CE4_E5B9
    }
}
