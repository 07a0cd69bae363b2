import Foundation

#if canImport(Glibc)
    import Glibc
#endif

// Why Kafka is fast, measured on this machine's real files and sockets: sequential against
// random writes, reads served by the page cache against reads from the disk, and sendfile's
// zero-copy against read()+write() through a user-space buffer. The figures are this machine's;
// on an SSD or a virtual disk some of these differences are small, and the views say so.

/// One side of a comparison: how many bytes moved, in how long, with how much CPU.
public struct IOSide: Codable, Sendable {
    public var bytes: Int
    public var seconds: Double
    /// CPU time of the thread that did the work (user + system).
    public var cpuSeconds: Double

    public var megabytesPerSecond: Double { Double(bytes) / 1_048_576 / max(seconds, 1e-9) }
}

public struct IOComparison: Codable, Sendable {
    /// The way Kafka does it: sequential, from the page cache, sendfile.
    public var kafkaWay: IOSide
    /// The other way: random, from the disk, read()+write().
    public var otherWay: IOSide
    /// The file system the files were on (ext4, tmpfs, ...), which decides what can show.
    public var fileSystem: String
}

public enum LogIO {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Writes `blocks` 4 KiB blocks to a preallocated file with O_DSYNC (each write reaches the
    /// device before it returns), in order, then at shuffled offsets.
    public static func sequentialVersusRandom(folder: URL, blocks: Int = 512) throws -> IOComparison {
        let blockSize = 4_096
        let path = folder.appending(path: "blocks.log").path
        try preallocate(path, bytes: blocks * blockSize)
        let buffer = [UInt8](repeating: 0x6B, count: blockSize)
        func write(offsets: [Int]) throws -> IOSide {
            let descriptor = open(path, O_WRONLY | O_DSYNC)
            guard descriptor >= 0 else { throw Failure(description: "cannot open \(path)") }
            defer { close(descriptor) }
            return try measure(bytes: offsets.count * blockSize) {
                for offset in offsets {
                    let written = buffer.withUnsafeBytes {
                        pwrite(descriptor, $0.baseAddress, blockSize, off_t(offset))
                    }
                    guard written == blockSize else { throw Failure(description: "short write to \(path)") }
                }
            }
        }
        let sequential = (0..<blocks).map { $0 * blockSize }
        // A fixed shuffle (a linear congruential generator), so every run writes the same pattern.
        var shuffled = sequential
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        for index in stride(from: shuffled.count - 1, to: 0, by: -1) {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            shuffled.swapAt(index, Int(state >> 33) % (index + 1))
        }
        return IOComparison(
            kafkaWay: try write(offsets: sequential), otherWay: try write(offsets: shuffled),
            fileSystem: fileSystem(of: folder.path))
    }

    /// Reads a file back twice: first after asking the kernel to drop its cached pages
    /// (posix_fadvise DONTNEED, so the read goes to the disk), then again from the page cache.
    public static func pageCacheVersusDisk(folder: URL, megabytes: Int = 32) throws -> IOComparison {
        let path = folder.appending(path: "segment.log").path
        try preallocate(path, bytes: megabytes * 1_048_576)
        func read(dropCacheFirst: Bool) throws -> IOSide {
            let descriptor = open(path, O_RDONLY)
            guard descriptor >= 0 else { throw Failure(description: "cannot open \(path)") }
            defer { close(descriptor) }
            if dropCacheFirst { posix_fadvise(descriptor, 0, 0, POSIX_FADV_DONTNEED) }
            var buffer = [UInt8](repeating: 0, count: 1_048_576)
            return try measure(bytes: megabytes * 1_048_576) {
                while buffer.withUnsafeMutableBytes({ Glibc.read(descriptor, $0.baseAddress, $0.count) }) > 0
                {}
            }
        }
        let cold = try read(dropCacheFirst: true)
        let warm = try read(dropCacheFirst: false)
        return IOComparison(kafkaWay: warm, otherWay: cold, fileSystem: fileSystem(of: folder.path))
    }

    /// Sends a file to a loopback TCP connection, with sendfile (the kernel copies from the page
    /// cache to the socket) and with read()+write() through a 64 KiB buffer in this process.
    public static func sendfileVersusCopy(folder: URL, megabytes: Int = 64) throws -> IOComparison {
        let path = folder.appending(path: "log.segment").path
        try preallocate(path, bytes: megabytes * 1_048_576)
        let bytes = megabytes * 1_048_576
        func send(zeroCopy: Bool) throws -> IOSide {
            let (sender, receiver) = try loopbackPair()
            defer {
                close(sender)
                close(receiver)
            }
            // The receiver drains on its own thread, as a consumer would.
            let done = DispatchSemaphore(value: 0)
            let drainer = Thread {
                var buffer = [UInt8](repeating: 0, count: 262_144)
                var left = bytes
                while left > 0 {
                    let count = buffer.withUnsafeMutableBytes { recv(receiver, $0.baseAddress, $0.count, 0) }
                    if count <= 0 { break }
                    left -= count
                }
                done.signal()
            }
            drainer.start()
            let file = open(path, O_RDONLY)
            guard file >= 0 else { throw Failure(description: "cannot open \(path)") }
            defer { close(file) }
            let side = try measure(bytes: bytes) {
                if zeroCopy {
                    var offset: off_t = 0
                    while offset < bytes {
                        let sent = sendfile(sender, file, &offset, bytes - Int(offset))
                        guard sent > 0 else { throw Failure(description: "sendfile failed: errno \(errno)") }
                    }
                } else {
                    var buffer = [UInt8](repeating: 0, count: 65_536)
                    while true {
                        let count = buffer.withUnsafeMutableBytes {
                            Glibc.read(file, $0.baseAddress, $0.count)
                        }
                        if count <= 0 { break }
                        var sent = 0
                        while sent < count {
                            let written = buffer[sent..<count].withUnsafeBytes {
                                Glibc.send(sender, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
                            }
                            guard written > 0 else {
                                throw Failure(description: "send failed: errno \(errno)")
                            }
                            sent += written
                        }
                    }
                }
            }
            done.wait()
            return side
        }
        // The file is read once first, so both sides start from the page cache.
        _ = try? pageCacheWarmUp(path)
        return IOComparison(
            kafkaWay: try send(zeroCopy: true), otherWay: try send(zeroCopy: false),
            fileSystem: fileSystem(of: folder.path))
    }

    // MARK: - Helpers

    /// Runs `work` and returns its wall time and the calling thread's CPU time.
    static func measure(bytes: Int, _ work: () throws -> Void) throws -> IOSide {
        let cpuBefore = threadCPUSeconds()
        let start = Date()
        try work()
        let seconds = Date().timeIntervalSince(start)
        return IOSide(bytes: bytes, seconds: seconds, cpuSeconds: threadCPUSeconds() - cpuBefore)
    }

    static func threadCPUSeconds() -> Double {
        var usage = rusage()
        // RUSAGE_THREAD (1 on Linux): Glibc's module does not export the GNU constant.
        getrusage(__rusage_who_t(1), &usage)
        func seconds(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) / 1_000_000 }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }

    /// A file of `bytes` bytes written and fsynced, so that later writes overwrite blocks that
    /// exist and later reads read real data.
    static func preallocate(_ path: String, bytes: Int) throws {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard descriptor >= 0 else { throw Failure(description: "cannot create \(path)") }
        defer { close(descriptor) }
        let chunk = [UInt8](repeating: 0x61, count: 1_048_576)
        var left = bytes
        while left > 0 {
            let count = min(left, chunk.count)
            let written = chunk.withUnsafeBytes { write(descriptor, $0.baseAddress, count) }
            guard written == count else { throw Failure(description: "cannot write \(path)") }
            left -= count
        }
        fsync(descriptor)
    }

    static func pageCacheWarmUp(_ path: String) throws {
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else { return }
        defer { close(descriptor) }
        var buffer = [UInt8](repeating: 0, count: 1_048_576)
        while buffer.withUnsafeMutableBytes({ Glibc.read(descriptor, $0.baseAddress, $0.count) }) > 0 {}
    }

    /// A connected TCP pair on 127.0.0.1 (listener closed once connected).
    static func loopbackPair() throws -> (sender: Int32, receiver: Int32) {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard listener >= 0 else { throw Failure(description: "cannot open a socket") }
        defer { close(listener) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(listener, pointer, length) == 0 && listen(listener, 1) == 0
                    && getsockname(listener, pointer, &length) == 0
            }
        }
        guard bound else { throw Failure(description: "cannot listen on 127.0.0.1") }
        let sender = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(sender, $0, length) == 0 }
        }
        guard sender >= 0, connected else { throw Failure(description: "cannot connect on 127.0.0.1") }
        let receiver = accept(listener, nil, nil)
        guard receiver >= 0 else { throw Failure(description: "cannot accept on 127.0.0.1") }
        return (sender, receiver)
    }

    /// The file system `path` is on (ext4, tmpfs, ...), from /proc/mounts: the longest mount
    /// point that contains it. What decides whether a disk effect can show at all.
    public static func fileSystem(of path: String) -> String {
        let mounts = (try? String(contentsOfFile: "/proc/mounts", encoding: .utf8)) ?? ""
        var best: (point: String, type: String)?
        for line in mounts.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count >= 3 else { continue }
            let point = String(fields[1])
            let inside = point == "/" || path == point || path.hasPrefix(point + "/")
            if inside, point.count > (best?.point.count ?? -1) { best = (point, String(fields[2])) }
        }
        return best?.type ?? "unknown"
    }
}
