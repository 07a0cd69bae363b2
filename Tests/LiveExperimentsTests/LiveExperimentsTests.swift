import Foundation
import LiveExperiments
import TestSupport
import Testing

/// The mechanisms, not the speeds: figures vary by machine; who fails and who does not must not.
@Suite("Live why-MQ experiments", .serialized)
struct LiveExperimentsTests {
    @Test("Peak shaving: direct writers hit busy errors; through the queue, none, with one writer at a time")
    func peakShaving() throws {
        let directory = TemporaryDirectory()
        let result = try PeakShaving.run(
            folder: directory.url, writers: 16, writesPerWriter: 10, busyTimeoutMs: 2, holdMs: 3)
        #expect(result.direct.busyErrors > 0)
        #expect(result.direct.peakDatabaseConcurrency > 1)
        #expect(result.queued.busyErrors == 0)
        #expect(result.queued.succeeded == 160)
        #expect(result.queued.peakDatabaseConcurrency == 1)
    }

    @Test("Async decoupling: with the SMS provider down, synchronous signups fail and queued ones do not")
    func asyncSignup() {
        let result = AsyncSignup.run(signups: 10, smsMs: 5, emailMs: 5)
        #expect(result.synchronousWithSMSDown.failed == 10)
        #expect(result.queuedWithSMSDown.failed == 0)
        #expect(result.queuedWithSMSDown.notificationsQueued == 10)
        #expect(result.queued.responseP99 < result.synchronous.responseP50)
    }

    @Test("Batched appends: one fsync per batch instead of one per message")
    func fsyncBatching() throws {
        let directory = TemporaryDirectory()
        let result = try FsyncBatching.run(folder: directory.url, messages: 200, batchSize: 50)
        #expect(result.perMessage.fsyncs == 200)
        #expect(result.batched.fsyncs == 4)
        #expect(result.batched.fsyncsPerMessage == 0.02)
    }
}

/// Why Kafka is fast, as measurements: each side moves exactly what it claims to, on a named
/// file system. How fast is the machine's business, not a test's.
@Suite("Log I/O measurements")
struct LogIOTests {
    let folder = TemporaryDirectory()

    @Test("Sequential and random writes move the same blocks, and say which file system they ran on")
    func sequentialVersusRandom() throws {
        let result = try LogIO.sequentialVersusRandom(folder: folder.url, blocks: 32)
        #expect(result.kafkaWay.bytes == 32 * 4_096)
        #expect(result.otherWay.bytes == 32 * 4_096)
        #expect(result.kafkaWay.seconds > 0 && result.otherWay.seconds > 0)
        #expect(result.fileSystem != "unknown")
    }

    @Test("Both reads of the log read all of it")
    func pageCache() throws {
        let result = try LogIO.pageCacheVersusDisk(folder: folder.url, megabytes: 2)
        #expect(result.kafkaWay.bytes == 2 * 1_048_576)
        #expect(result.otherWay.megabytesPerSecond > 0)
    }

    @Test("sendfile and read()+write() each deliver the whole file to the receiver")
    func zeroCopy() throws {
        // The receiver stops only when every byte arrived, so returning at all is the check.
        let result = try LogIO.sendfileVersusCopy(folder: folder.url, megabytes: 4)
        #expect(result.kafkaWay.bytes == 4 * 1_048_576)
        #expect(result.otherWay.bytes == 4 * 1_048_576)
        #expect(result.kafkaWay.cpuSeconds >= 0)
    }
}
