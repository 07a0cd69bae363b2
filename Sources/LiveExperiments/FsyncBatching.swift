import Foundation

#if canImport(Glibc)
    import Glibc
#endif

// Why log-structured brokers are fast: appending each message and fsyncing it before the
// acknowledgement, against appending a batch and fsyncing once per batch, on a real file. The
// figures are this machine's; the mechanism (fsyncs per message) is the point.

public struct AppendResult: Codable, Sendable {
    public var messages: Int
    public var fsyncs: Int
    public var seconds: Double
    public var messagesPerSecond: Double
    public var fsyncsPerMessage: Double
}

public struct FsyncBatchingResult: Codable, Sendable {
    public var perMessage: AppendResult
    public var batched: AppendResult
    public var batchSize: Int
}

public enum FsyncBatching {
    public static func run(folder: URL, messages: Int = 1_000, messageBytes: Int = 100, batchSize: Int = 100)
        throws -> FsyncBatchingResult
    {
        let payload = [UInt8](repeating: 0x6D, count: messageBytes)
        func append(_ name: String, every: Int) throws -> AppendResult {
            let path = folder.appending(path: name).path
            try? FileManager.default.removeItem(atPath: path)
            let descriptor = open(path, O_WRONLY | O_CREAT | O_APPEND, 0o644)
            guard descriptor >= 0 else { throw CocoaError(.fileWriteUnknown) }
            defer { close(descriptor) }
            var fsyncs = 0
            let start = Date()
            var pending: [UInt8] = []
            for index in 0..<messages {
                pending += payload
                if (index + 1) % every == 0 || index == messages - 1 {
                    _ = pending.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
                    pending.removeAll(keepingCapacity: true)
                    fsync(descriptor)
                    fsyncs += 1
                }
            }
            let seconds = Date().timeIntervalSince(start)
            return AppendResult(
                messages: messages, fsyncs: fsyncs, seconds: seconds,
                messagesPerSecond: Double(messages) / max(seconds, 1e-9),
                fsyncsPerMessage: Double(fsyncs) / Double(messages))
        }
        return FsyncBatchingResult(
            perMessage: try append("per-message.log", every: 1),
            batched: try append("batched.log", every: batchSize),
            batchSize: batchSize)
    }
}
