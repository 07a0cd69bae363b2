// Theory of operation
//
// One partition's log on B1, as segments of records with offsets that never change. Appends go
// to the active (last) segment, which rolls when it holds segment.bytes of records or its first
// record is older than segment.ms (K-LOG-01). Time retention deletes whole segments from the
// oldest while each one's largest timestamp is older than retention.ms, stopping at the first
// that is not, and rolls first if the active segment itself qualifies (K-LOG-02); size retention
// deletes oldest segments while what remains stays at least retention.bytes, never the active
// one (K-LOG-03). The log start offset moves to the first surviving record's segment base.
//
// Compaction (cleanup.policy=compact) cleans [first dirty offset, first uncleanable offset),
// where the first uncleanable offset is the lowest of the LSO, the active segment's base and the
// first segment younger than min.compaction.lag.ms (K-LOG-06); a pass runs when the dirty share
// of the cleanable log is above min.cleanable.dirty.ratio. A pass keeps the last record of each
// key in the range, drops aborted transactional records, and drops a tombstone only once a
// pass finds its delete horizon (stamped by the first pass that kept it, delete.retention.ms
// later) has passed (K-LOG-05, K-LOG-07). Offsets never change: a fetch from a removed offset
// reads the next record that is there.

/// One entry of a partition's log: a record, or the control record (marker) that ends a
/// transaction (K-TXN-06). A marker occupies an offset; no consumer ever gets it.
struct TopicEntry: Equatable, Sendable {
    enum Control: Equatable, Sendable {
        case commit
        case abort
    }

    var message: MessageID
    /// The producer id of a transactional record or marker; nil otherwise.
    var producer: Int?
    var control: Control?
    var offset = 0
    /// When B1 appended it (LogAppendTime; the producer's CreateTime is the same instant here).
    var time: Millis = 0
    var key: String?
    /// A record with a key and a null value (K-LOG-07).
    var tombstone = false
    /// Set by the first cleaning pass that kept the tombstone.
    var deleteHorizon: Millis?
}

struct TopicPartitionLog: Sendable {
    /// Ascending offsets, with gaps where compaction removed records.
    private(set) var entries: [TopicEntry] = []
    private(set) var logEnd = 0
    private(set) var logStartOffset = 0
    /// Base offsets of the segments, oldest first; the last is the active segment.
    private(set) var segmentBases: [Int] = [0]
    /// When the active segment got its first record.
    private var activeFirstTime: Millis?
    /// Where the next cleaning pass starts (the cleaner's checkpoint).
    private(set) var firstDirtyOffset = 0
    /// Open transactions on this partition: producer id -> first offset.
    var open: [Int: Int] = [:]
    /// Aborted transactions: producer id and the offsets they spanned.
    var aborted: [(producer: Int, range: Range<Int>)] = []

    /// Never below the log start: retention may delete an open transaction's first records.
    var lastStableOffset: Int { max(logStartOffset, open.values.min() ?? logEnd) }

    /// The position of the first entry at or after `offset`.
    func index(atOrAfter offset: Int) -> Int {
        var low = 0
        var high = entries.count
        while low < high {
            let middle = (low + high) / 2
            if entries[middle].offset < offset { low = middle + 1 } else { high = middle }
        }
        return low
    }

    func isAborted(_ entry: TopicEntry) -> Bool {
        guard let producer = entry.producer, entry.control == nil else { return false }
        return aborted.contains { $0.producer == producer && $0.range.contains(entry.offset) }
    }

    /// Appends and returns the offset; rolls the active segment first when it is full or old.
    mutating func append(_ entry: TopicEntry, now: Millis, recordsPerSegment: Int, segmentMs: Millis) -> Int {
        let activeCount = logEnd - (segmentBases.last ?? 0)
        if activeCount > 0,
            activeCount >= recordsPerSegment || now - (activeFirstTime ?? now) > segmentMs
        {
            segmentBases.append(logEnd)
            activeFirstTime = nil
        }
        if activeFirstTime == nil { activeFirstTime = now }
        var entry = entry
        entry.offset = logEnd
        entry.time = now
        entries.append(entry)
        logEnd += 1
        return entry.offset
    }

    /// K-LOG-02 and K-LOG-03: deletes whole segments from the oldest; returns what went.
    mutating func applyRetention(now: Millis, retentionMs: Millis?, retentionRecords: Int?) -> [TopicEntry] {
        var deleteBelow = logStartOffset
        var segment = 0
        // Time: from the oldest, while the segment's largest timestamp is past retention.ms.
        if let retentionMs {
            while segment < segmentBases.count {
                let base = segmentBases[segment]
                let end = segment + 1 < segmentBases.count ? segmentBases[segment + 1] : logEnd
                guard end > base else { break }
                let records = entries[index(atOrAfter: base)..<index(atOrAfter: end)]
                let largest = records.map(\.time).max() ?? -1
                // An emptied (fully compacted) segment has no timestamp; treat it as expired.
                guard largest < 0 || now - largest > retentionMs else { break }
                deleteBelow = end
                segment += 1
            }
        }
        // Size: delete oldest segments while the rest stays at least retention.bytes; never the
        // active segment.
        if let retentionRecords {
            var size = entries.count - index(atOrAfter: deleteBelow)
            var next = segmentBases.firstIndex { $0 >= deleteBelow } ?? segmentBases.count
            // retention.bytes=0 deletes everything below the high watermark, the active segment
            // too (rolled first); above 0 the active segment stays.
            let last = retentionRecords == 0 ? segmentBases.count : segmentBases.count - 1
            while next < last {
                let base = segmentBases[next]
                let end = next + 1 < segmentBases.count ? segmentBases[next + 1] : logEnd
                guard end > base else { break }
                let count = index(atOrAfter: end) - index(atOrAfter: base)
                guard size - count >= retentionRecords else { break }
                size -= count
                deleteBelow = end
                next += 1
            }
        }
        guard deleteBelow > logStartOffset else { return [] }
        if deleteBelow >= logEnd {
            // The active segment qualified: roll a new empty one, then delete.
            segmentBases.append(logEnd)
            activeFirstTime = nil
        }
        let cut = index(atOrAfter: deleteBelow)
        let deleted = Array(entries[..<cut])
        entries.removeFirst(cut)
        segmentBases.removeAll { $0 < deleteBelow }
        if segmentBases.isEmpty { segmentBases = [deleteBelow] }
        logStartOffset = deleteBelow
        firstDirtyOffset = max(firstDirtyOffset, deleteBelow)
        return deleted
    }

    /// K-LOG-06: the end of what a cleaning pass may touch.
    func firstUncleanableOffset(now: Millis, minCompactionLagMs: Millis) -> Int {
        var end = min(lastStableOffset, segmentBases.last ?? logEnd)
        if minCompactionLagMs > 0 {
            for (position, base) in segmentBases.enumerated() where base >= firstDirtyOffset {
                let segmentEnd = position + 1 < segmentBases.count ? segmentBases[position + 1] : logEnd
                let records = entries[index(atOrAfter: base)..<index(atOrAfter: segmentEnd)]
                if let largest = records.map(\.time).max(), now - largest < minCompactionLagMs {
                    end = min(end, base)
                    break
                }
            }
        }
        return end
    }

    /// The dirty share of the cleanable log, for min.cleanable.dirty.ratio.
    func dirtyRatio(uncleanable: Int) -> Double {
        let clean = index(atOrAfter: firstDirtyOffset) - index(atOrAfter: logStartOffset)
        let dirty = index(atOrAfter: uncleanable) - index(atOrAfter: firstDirtyOffset)
        guard dirty > 0 else { return 0 }
        return Double(dirty) / Double(clean + dirty)
    }

    /// One cleaning pass over [log start, `uncleanable`); returns the records it removed.
    mutating func clean(uncleanable: Int, now: Millis, deleteRetentionMs: Millis) -> [TopicEntry] {
        let end = index(atOrAfter: uncleanable)
        var latest: [String: Int] = [:]
        for entry in entries[..<end] where entry.control == nil && !isAborted(entry) {
            if let key = entry.key { latest[key] = entry.offset }
        }
        var kept: [TopicEntry] = []
        var removed: [TopicEntry] = []
        for position in 0..<end {
            var entry = entries[position]
            if entry.control != nil {
                kept.append(entry)
                continue
            }
            let superseded = entry.key.map { latest[$0] != entry.offset } ?? false
            if isAborted(entry) || superseded {
                removed.append(entry)
                continue
            }
            if entry.tombstone {
                if let horizon = entry.deleteHorizon, now >= horizon {
                    removed.append(entry)
                    continue
                }
                if entry.deleteHorizon == nil { entry.deleteHorizon = now + deleteRetentionMs }
            }
            kept.append(entry)
        }
        entries.replaceSubrange(..<end, with: kept)
        firstDirtyOffset = max(firstDirtyOffset, uncleanable)
        return removed
    }
}
