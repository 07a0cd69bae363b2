import Testing

@testable import Simulation

/// The key partitioner and the classic assignors, against the vectors and examples of
/// semantics-kafka-2.md (K-PART-01, K-GRP-06..09).
@Suite("Kafka partitioner and assignors")
struct GroupAssignorTests {
    @Test("murmur2 matches Kafka's UtilsTest vectors")
    func murmur2Vectors() {
        #expect(KafkaPartitioner.murmur2("21") == -973_932_308)
        #expect(KafkaPartitioner.murmur2("foobar") == -790_332_482)
        #expect(KafkaPartitioner.murmur2("abc") == 479_470_107)
    }

    @Test("Keys land where K-PART-01's table says, for 3, 4 and 6 partitions")
    func keyTable() {
        let table: [(String, [Int])] = [
            ("user-1", [2, 0, 2]), ("user-2", [2, 0, 2]), ("user-3", [2, 3, 5]), ("user-4", [1, 3, 1]),
        ]
        for (key, expected) in table {
            let actual = [3, 4, 6].map { KafkaPartitioner.partition(forKey: key, partitions: $0) }
            #expect(actual == expected, "\(key)")
        }
    }

    @Test("Range gives the first members one more; roundrobin deals one at a time")
    func rangeAndRoundRobin() {
        #expect(GroupAssignor.range(3, [1, 2]) == [1: [0, 1], 2: [2]])
        #expect(GroupAssignor.range(3, [1, 2, 3, 4]) == [1: [0], 2: [1], 3: [2], 4: []])
        #expect(GroupAssignor.roundRobin(5, [1, 2]) == [1: [0, 2, 4], 2: [1, 3]])
    }

    @Test("K-GRP-09: when c2 leaves, range moves a partition between live members, sticky moves only c2's")
    func stickyAfterLeave() {
        // Before: c1:p0, c2:p1, c3:p2, c4 idle. c2 leaves.
        #expect(GroupAssignor.range(3, [1, 3, 4]) == [1: [0], 3: [1], 4: [2]])
        let sticky = GroupAssignor.sticky(3, [(1, [0]), (3, [2]), (4, [])])
        #expect(sticky == [1: [0], 3: [2], 4: [1]])
    }

    @Test("Sticky keeps what it can when a member joins: the owner of everything keeps its quota")
    func stickyOnJoin() {
        let sticky = GroupAssignor.sticky(6, [(1, [0, 1, 2, 3, 4, 5]), (2, [])])
        #expect(sticky == [1: [0, 1, 2], 2: [3, 4, 5]])
        let uneven = GroupAssignor.sticky(5, [(1, [0, 1, 2, 3, 4]), (2, [])])
        #expect(uneven[1]?.count == 3 && uneven[2]?.count == 2)
        #expect(Set((uneven[1] ?? []) + (uneven[2] ?? [])) == Set(0..<5))
    }
}
