import Testing

@testable import Simulation

/// What survives which fault, written once for every broker's log.
@Suite("Durable log")
struct DurableLogTests {
    func log(written: Int, synced: Int) -> DurableLog<Int> {
        var log = DurableLog<Int>()
        for record in 0..<written { log.append(record) }
        log.sync(upTo: synced)
        return log
    }

    @Test("A process crash keeps everything written: the page cache is the kernel's")
    func crash() {
        var log = log(written: 5, synced: 2)
        log.survive(.crash)
        #expect(Array(log) == [0, 1, 2, 3, 4])
        #expect(log.syncedCount == 2 && log.hasUnsynced)
    }

    @Test("Power loss keeps the synced prefix only")
    func powerLoss() {
        var log = log(written: 5, synced: 2)
        #expect(Array(log.unsynced) == [2, 3, 4])
        log.survive(.powerLoss)
        #expect(Array(log) == [0, 1])
        #expect(!log.hasUnsynced)
    }

    @Test("Disk loss keeps nothing")
    func diskLoss() {
        var log = log(written: 5, synced: 5)
        log.survive(.diskLoss)
        #expect(log.isEmpty && log.syncedCount == 0)
    }

    @Test("A sync counts only what it newly covers, and never past the end")
    func syncCounts() {
        var log = log(written: 4, synced: 1)
        #expect(log.sync(upTo: 3) == 2)
        #expect(log.sync(upTo: 2) == 0)
        #expect(log.sync(upTo: 99) == 1)
        #expect(log.syncedCount == 4)
    }
}

extension DurableLogTests {
    @Test("Truncating a follower's log shrinks the synced prefix with it")
    func truncate() {
        var log = log(written: 5, synced: 4)
        log.truncate(from: 2)
        #expect(Array(log) == [0, 1])
        #expect(log.syncedCount == 2)
    }
}
