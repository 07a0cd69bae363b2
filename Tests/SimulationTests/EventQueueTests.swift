import Testing

@testable import Simulation

@Suite("Event queue")
struct EventQueueTests {
    /// What the queue must do, stated the slow way: the earliest time first, ties in the order
    /// they were scheduled.
    struct ReferenceQueue {
        var pending: [(time: Millis, sequence: Int, value: Int)] = []
        var sequence = 0

        mutating func schedule(_ value: Int, at time: Millis) {
            pending.append((time, sequence, value))
            sequence += 1
        }

        mutating func pop() -> (time: Millis, value: Int)? {
            guard
                let index = pending.indices.min(by: {
                    (pending[$0].time, pending[$0].sequence) < (pending[$1].time, pending[$1].sequence)
                })
            else { return nil }
            let entry = pending.remove(at: index)
            return (entry.time, entry.value)
        }
    }

    @Test(
        "Events come out by time, then in the order they were scheduled, near or far, across the window",
        arguments: [1, 2, 3, 4, 5, 6, 7, 8])
    func matchesTheReference(seed: UInt64) {
        var random = SeededRandom(seed: seed)
        var queue = EventQueue<Int>()
        var reference = ReferenceQueue()
        var now: Millis = 0
        var popped: [(Millis, Int)] = []
        var expected: [(Millis, Int)] = []
        for value in 0..<4_000 {
            // Mostly a few milliseconds ahead (deliveries), some ties at now, some seconds ahead
            // (timers), and some exactly at the window's edge.
            let delay: Millis =
                switch random.next(in: 0...9) {
                case 0: 0
                case 1: random.next(in: 500...20_000)
                case 2: 1_024 + random.next(in: -2...2)
                default: random.next(in: 1...5)
                }
            queue.schedule(value, at: now + delay)
            reference.schedule(value, at: now + delay)
            if random.next(in: 0...2) > 0 {
                #expect(queue.nextTime == reference.pending.map(\.time).min())
                if let (time, event) = queue.pop(), let want = reference.pop() {
                    popped.append((time, event))
                    expected.append((want.time, want.value))
                    now = time
                }
            }
        }
        while let (time, event) = queue.pop() { popped.append((time, event)) }
        while let want = reference.pop() { expected.append((want.time, want.value)) }
        #expect(popped.map(\.0) == expected.map(\.0))
        #expect(popped.map(\.1) == expected.map(\.1))
        #expect(queue.isEmpty && queue.count == 0)
    }

    @Test("A queue that empties and jumps far ahead keeps its order")
    func jumpsOverEmptyStretches() {
        var queue = EventQueue<String>()
        queue.schedule("late", at: 50_000)
        queue.schedule("later, same time", at: 50_000)
        queue.schedule("first", at: 3)
        #expect(queue.pop(dueBy: 2) == nil)
        #expect(queue.pop()?.event == "first")
        #expect(queue.nextTime == 50_000)
        #expect(queue.pop(dueBy: 49_999) == nil)
        #expect(queue.pop()?.event == "late")
        queue.schedule("scheduled at the same time afterwards", at: 50_000)
        queue.schedule("next millisecond", at: 50_001)
        #expect(queue.pop()?.event == "later, same time")
        #expect(queue.pop()?.event == "scheduled at the same time afterwards")
        #expect(queue.pop()?.event == "next millisecond")
        #expect(queue.pop() == nil)
    }
}
