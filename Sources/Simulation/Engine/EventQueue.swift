// Theory of operation
//
// Events come out ordered by (time, insertion sequence): ties in time resolve in the order the
// events were scheduled, so the order never depends on anything but the seed.
//
// Almost every event is due within a few milliseconds (network deliveries, retries), so the
// queue is a calendar rather than a heap: a ring of one-millisecond buckets covering the next
// `window` milliseconds, each bucket a FIFO list, and a bitmap of the buckets in use. Scheduling
// into the window appends to a bucket; popping takes the head of the first bucket in use. Events
// due later (heartbeats, request timeouts, faults scheduled by a scenario) wait in a small
// min-heap and move into the ring once the window reaches them.
//
// Why the calendar keeps (time, sequence) order: a bucket is a FIFO, so events scheduled into it
// come out in sequence order. An event goes to the heap only while its time is at least a window
// ahead of the last pop, and to the ring only once it is less than that; the last pop's time
// never goes back, so every heap event for a time was scheduled before every ring event for the
// same time. Heap events move into the ring (in (time, sequence) order) as soon as the window
// reaches them, before anything else can be scheduled for their time: they land at the front.
//
// Events themselves (which can carry arrays of records) stay put in a slot pool and are moved out
// once, when popped: the ring and the heap hold small slot numbers, never the events.

/// A queue of events ordered by (time, insertion sequence).
struct EventQueue<Event: Sendable>: Sendable {
    /// A later event: its time, its insertion sequence and its slot.
    private struct Later {
        var time: Millis
        var sequence: Int
        var slot: Int32

        @inline(__always)
        func precedes(_ other: Later) -> Bool {
            time < other.time || (time == other.time && sequence < other.sequence)
        }
    }

    /// Milliseconds the ring covers (a power of two, so a time's bucket is a mask away).
    private static var window: Int { 1_024 }
    private static var wordCount: Int { window / 64 }

    /// An event waiting and the next slot in its bucket, or a free slot and the next free one
    /// (-1 ends either list).
    private struct Slot {
        var event: Event?
        var next: Int32
    }

    private var slots: [Slot] = []
    private var firstFreeSlot: Int32 = -1
    /// Per bucket, its first and last slot, or -1 when empty.
    private var bucketEnds: [(head: Int32, tail: Int32)]
    /// One bit per bucket in use.
    private var occupied: [UInt64]
    /// The time of the last pop: the ring covers [base, base + window).
    private var base: Millis = 0
    private var inRing = 0
    private var later: [Later] = []
    private var nextSequence = 0

    init(capacity: Int = 256) {
        bucketEnds = Array(repeating: (-1, -1), count: Self.window)
        occupied = [UInt64](repeating: 0, count: Self.wordCount)
        slots.reserveCapacity(capacity)
    }

    var isEmpty: Bool { inRing == 0 && later.isEmpty }
    var count: Int { inRing + later.count }

    /// When the next event is due, if any.
    var nextTime: Millis? {
        if inRing > 0 { return base + distanceToFirstBucketInUse() }
        return later.first?.time
    }

    mutating func schedule(_ event: consuming Event, at time: Millis) {
        precondition(time >= base, "an event scheduled at \(time), before the last one popped (\(base))")
        let slot: Int32
        if firstFreeSlot >= 0 {
            slot = firstFreeSlot
            firstFreeSlot = slots[Int(slot)].next
            slots[Int(slot)] = Slot(event: consume event, next: -1)
        } else {
            slot = Int32(slots.count)
            slots.append(Slot(event: consume event, next: -1))
        }
        if time - base < Self.window {
            appendToBucket(slot, at: time)
        } else {
            pushLater(Later(time: time, sequence: nextSequence, slot: slot))
        }
        nextSequence += 1
    }

    /// Removes and returns the earliest event and its time, if one is due at or before `limit`.
    @inline(__always)
    mutating func pop(dueBy limit: Millis = .max) -> (time: Millis, event: Event)? {
        let time: Millis
        if inRing > 0 {
            time = base + distanceToFirstBucketInUse()
        } else if let first = later.first {
            time = first.time
        } else {
            return nil
        }
        guard time <= limit else { return nil }
        base = time
        admitLaterEvents()
        let bucket = base & (Self.window - 1)
        let slot = bucketEnds[bucket].head
        let next = slots[Int(slot)].next
        if next < 0 {
            bucketEnds[bucket] = (-1, -1)
            occupied[bucket >> 6] &= ~(UInt64(1) &<< UInt64(bucket & 63))
        } else {
            bucketEnds[bucket].head = next
        }
        inRing -= 1
        let event = slots[Int(slot)].event.take()!
        slots[Int(slot)].next = firstFreeSlot
        firstFreeSlot = slot
        return (time, event)
    }

    // MARK: - The ring

    private mutating func appendToBucket(_ slot: Int32, at time: Millis) {
        let bucket = time & (Self.window - 1)
        slots[Int(slot)].next = -1
        let tail = bucketEnds[bucket].tail
        if tail < 0 {
            bucketEnds[bucket] = (slot, slot)
            occupied[bucket >> 6] |= UInt64(1) &<< UInt64(bucket & 63)
        } else {
            slots[Int(tail)].next = slot
            bucketEnds[bucket].tail = slot
        }
        inRing += 1
    }

    /// How many milliseconds after `base` the first bucket in use is (the ring is not empty).
    private func distanceToFirstBucketInUse() -> Int {
        let start = base & (Self.window - 1)
        var word = start >> 6
        // The first word, from the base's own bit on.
        var bits = occupied[word] & (UInt64.max &<< UInt64(start & 63))
        var scanned = 0
        while bits == 0 {
            word = (word + 1) & (Self.wordCount - 1)
            bits = occupied[word]
            scanned += 1
            if scanned == Self.wordCount {
                // Wrapped around to the base's word: the bits before the base's own.
                bits = occupied[word] & ~(UInt64.max &<< UInt64(start & 63))
                break
            }
        }
        let bucket = word << 6 + bits.trailingZeroBitCount
        return (bucket - start) & (Self.window - 1)
    }

    /// Moves the later events the window now reaches into the ring, earliest first.
    private mutating func admitLaterEvents() {
        while let first = later.first, first.time - base < Self.window {
            popLater()
            appendToBucket(first.slot, at: first.time)
        }
    }

    // MARK: - The heap of later events

    private mutating func pushLater(_ entry: Later) {
        later.append(entry)
        var child = later.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard entry.precedes(later[parent]) else { break }
            later[child] = later[parent]
            child = parent
        }
        later[child] = entry
    }

    private mutating func popLater() {
        let last = later.removeLast()
        guard !later.isEmpty else { return }
        var parent = 0
        let count = later.count
        while true {
            let left = 2 * parent + 1
            guard left < count else { break }
            let right = left + 1
            let child = right < count && later[right].precedes(later[left]) ? right : left
            guard later[child].precedes(last) else { break }
            later[parent] = later[child]
            parent = child
        }
        later[parent] = last
    }
}
