/// An append-only file on a node's disk: what was written, and how much of it an fsync (or the
/// operating system's writeback) has made durable.
///
/// What survives a fault is decided here, once, for every broker: a process crash keeps all of
/// it (the page cache belongs to the kernel, not the process); power loss keeps the synced
/// prefix; disk loss keeps nothing. A broker's journal, commit log or partition log is one of
/// these, and its crash handling says only `survive(fault)`.
struct DurableLog<Record: Sendable>: Sendable, RandomAccessCollection {
    private(set) var records: [Record] = []
    /// The first `syncedCount` records are on stable storage.
    private(set) var syncedCount = 0

    var startIndex: Int { 0 }
    var endIndex: Int { records.count }
    subscript(position: Int) -> Record { records[position] }
    var hasUnsynced: Bool { syncedCount < records.count }

    mutating func append(_ record: Record) {
        records.append(record)
    }

    /// Marks everything before `upTo` durable; returns how many records that newly covers.
    @discardableResult
    mutating func sync(upTo: Int) -> Int {
        let target = Swift.min(upTo, records.count)
        guard target > syncedCount else { return 0 }
        defer { syncedCount = target }
        return target - syncedCount
    }

    /// Removes everything from `position` on (a follower dropping entries its leader does not
    /// have); the synced prefix shrinks with it.
    mutating func truncate(from position: Int) {
        records.removeSubrange(position...)
        syncedCount = Swift.min(syncedCount, position)
    }

    /// What power loss would take: the records written since the last sync.
    var unsynced: ArraySlice<Record> { records[syncedCount...] }

    /// What is left after `fault`.
    mutating func survive(_ fault: Fault) {
        switch fault {
        case .crash, .applicationCrash: break
        case .powerLoss: records.removeLast(records.count - syncedCount)
        case .diskLoss:
            records = []
            syncedCount = 0
        }
    }
}
