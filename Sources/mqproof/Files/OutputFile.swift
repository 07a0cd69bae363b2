import Foundation

#if canImport(Glibc)
    import Glibc
#endif

// Theory of operation
//
// An export must never damage what its path names. So the kind of the target is decided before
// anything is written, with lstat (a link is looked at, not followed blindly):
//
// - absent, or a regular file (replaced only with --force): the data goes to a temporary file in
//   the same folder, is synced, and is renamed over the target, so a reader sees the old file or
//   the new one, never half of one, and nothing else in the folder changes;
// - "-", a pipe, a terminal, /dev/null or /dev/stdout: written in place, as a stream;
// - anything else (a device, a socket, a folder): refused with one line, and nothing is created
//   beside it. Writing through a device node as root is how a disk gets overwritten.

/// Where an export writes, and the rules that keep it from damaging anything.
enum OutputFile {
    /// Writes `data` to `path` by the rules above. `force` allows replacing an existing file;
    /// `-` is `output`'s standard output. `synced: false` skips the fsync, for a file that is worth less than the wait.
    static func write(_ data: Data, to path: String, force: Bool, output: Output, synced: Bool = true) throws
    {
        guard !path.isEmpty else {
            throw Failure(message: "no file named: give a path, or - for standard output")
        }
        if path == "-" {
            output.bytes(data)
            return
        }
        var status = stat()
        guard lstat(path, &status) == 0 else {
            guard errno == ENOENT else { throw failure(path, String(cString: strerror(errno))) }
            try replace(path, with: data, synced: synced)
            return
        }
        switch status.st_mode & S_IFMT {
        case S_IFREG:
            guard force else {
                throw Failure(message: "\(path) already exists; add --force to replace it")
            }
            try replace(path, with: data, synced: synced)
        case S_IFLNK:
            // A link is written through only to a stream (/dev/stdout -> /proc/self/fd/1); a link
            // to a file would be replaced by the rename, which the user did not ask for.
            var target = stat()
            guard stat(path, &target) == 0, isStream(target, path: path) else {
                throw failure(path, "it is a symbolic link; name the file it points to")
            }
            try writeInPlace(path, data)
        case S_IFDIR:
            throw failure(path, "it is a folder; name a file inside it")
        default:
            guard isStream(status, path: path) else {
                throw failure(path, "it is a device or socket, not a file")
            }
            try writeInPlace(path, data)
        }
    }

    private static func failure(_ path: String, _ reason: String) -> Failure {
        Failure(message: "cannot write \(path): \(reason); nothing was written")
    }

    /// A pipe, a terminal, or the null device: things one writes a stream into.
    private static func isStream(_ status: stat, path: String) -> Bool {
        switch status.st_mode & S_IFMT {
        case S_IFIFO: return true
        case S_IFCHR:
            // /dev/null is character device 1:3 on Linux; a terminal is whatever isatty says.
            if major(status.st_rdev) == 1 && minor(status.st_rdev) == 3 { return true }
            let descriptor = open(path, O_WRONLY | O_NOCTTY | O_NONBLOCK)
            guard descriptor >= 0 else { return false }
            defer { close(descriptor) }
            return isatty(descriptor) == 1
        default: return false
        }
    }

    private static func major(_ device: dev_t) -> UInt32 { UInt32((device >> 8) & 0xFFF) }
    private static func minor(_ device: dev_t) -> UInt32 {
        UInt32((device & 0xFF) | ((device >> 12) & 0xFFF00))
    }

    private static func writeInPlace(_ path: String, _ data: Data) throws {
        let descriptor = open(path, O_WRONLY | O_NOCTTY)
        guard descriptor >= 0 else { throw failure(path, String(cString: strerror(errno))) }
        defer { close(descriptor) }
        try writeAll(data, to: descriptor, path: path)
    }

    private static func writeAll(_ data: Data, to descriptor: Int32, path: String) throws {
        try data.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = Glibc.write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    throw failure(path, String(cString: strerror(errno)))
                }
                offset += written
            }
        }
    }

    /// Writes a temporary file beside `path`, syncs it, and renames it over `path`.
    private static func replace(_ path: String, with data: Data, synced: Bool) throws {
        let directory = Self.folder(of: path)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory),
            isDirectory.boolValue
        else {
            throw failure(path, "the folder \(directory) does not exist")
        }
        var template = Array(
            (directory + "/." + path.split(separator: "/").last.map(String.init)! + ".mqproof-XXXXXX")
                .utf8CString)
        let descriptor = mkstemp(&template)
        guard descriptor >= 0 else { throw failure(path, String(cString: strerror(errno))) }
        let temporary = String(
            decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        var renamed = false
        defer { if !renamed { unlink(temporary) } }
        do {
            defer { close(descriptor) }
            // mkstemp creates the file 0600; an export is an ordinary file, readable as usual.
            fchmod(descriptor, 0o644 & ~currentUmask())
            try writeAll(data, to: descriptor, path: path)
            guard !synced || fsync(descriptor) == 0 else {
                throw failure(path, String(cString: strerror(errno)))
            }
        }
        guard rename(temporary, path) == 0 else { throw failure(path, String(cString: strerror(errno))) }
        renamed = true
    }

    /// The folder a path is in: "." for a bare name, "/" for a file at the root. (Foundation's
    /// deletingLastPathComponent traps on some one-character relative paths on Linux.)
    static func folder(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    private static func currentUmask() -> mode_t {
        let mask = umask(0o022)
        umask(mask)
        return mask
    }
}
