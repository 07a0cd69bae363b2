/// A min-heap of events ordered by (time, insertion sequence): ties in time resolve in the order
/// the events were scheduled, so the order never depends on anything but the seed.
///
/// The heap orders small fixed-size keys; the events themselves (which can carry arrays of
/// records) stay put in a slot pool and are moved out once, when popped. Sifting large enum
/// values through the heap would copy and retain them at every swap.
struct EventQueue<Event: Sendable>: Sendable {
    private struct Key {
        var time: Millis
        var sequence: Int
        var slot: Int32

        @inline(__always)
        func precedes(_ other: Key) -> Bool {
            time < other.time || (time == other.time && sequence < other.sequence)
        }
    }

    private var heap: [Key] = []
    private var slots: [Event?] = []
    private var freeSlots: [Int32] = []
    private var nextSequence = 0

    var isEmpty: Bool { heap.isEmpty }
    var count: Int { heap.count }
    var nextTime: Millis? { heap.first?.time }

    mutating func schedule(_ event: Event, at time: Millis) {
        let slot: Int32
        if let free = freeSlots.popLast() {
            slot = free
            slots[Int(free)] = event
        } else {
            slot = Int32(slots.count)
            slots.append(event)
        }
        heap.append(Key(time: time, sequence: nextSequence, slot: slot))
        nextSequence += 1
        var child = heap.count - 1
        let key = heap[child]
        while child > 0 {
            let parent = (child - 1) / 2
            guard key.precedes(heap[parent]) else { break }
            heap[child] = heap[parent]
            child = parent
        }
        heap[child] = key
    }

    init(capacity: Int = 256) {
        heap.reserveCapacity(capacity)
        slots.reserveCapacity(capacity)
        freeSlots.reserveCapacity(capacity)
    }

    /// Removes and returns the earliest event; `nextTime` (read before) is when it happens.
    mutating func pop() -> Event? {
        guard let top = heap.first else { return nil }
        let last = heap.removeLast()
        if !heap.isEmpty {
            var parent = 0
            let count = heap.count
            while true {
                let left = 2 * parent + 1
                guard left < count else { break }
                let right = left + 1
                let child = right < count && heap[right].precedes(heap[left]) ? right : left
                guard heap[child].precedes(last) else { break }
                heap[parent] = heap[child]
                parent = child
            }
            heap[parent] = last
        }
        let event = slots[Int(top.slot)].take()
        freeSlots.append(top.slot)
        return event
    }
}
