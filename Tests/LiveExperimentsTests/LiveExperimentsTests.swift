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
