/// The classic protocol's assignors for one topic, members in the order K-GRP-05 gives them.
enum GroupAssignor {
    /// Member -> partitions. `members` pairs each member with what it owned before (the sticky
    /// assignors keep what they can of it).
    static func assign(
        partitions count: Int, members: [(consumer: Int, owned: [Int])], strategy: AssignmentStrategy
    )
        -> [Int: [Int]]
    {
        guard !members.isEmpty else { return [:] }
        switch strategy {
        case .range: return range(count, members.map(\.consumer))
        case .roundrobin: return roundRobin(count, members.map(\.consumer))
        case .sticky, .cooperativeSticky: return sticky(count, members)
        }
    }

    /// K-GRP-06: P / M consecutive partitions each, the first P % M members one more.
    static func range(_ count: Int, _ members: [Int]) -> [Int: [Int]] {
        let share = count / members.count
        let extra = count % members.count
        var result: [Int: [Int]] = [:]
        var next = 0
        for (index, member) in members.enumerated() {
            let take = share + (index < extra ? 1 : 0)
            result[member] = Array(next..<(next + take))
            next += take
        }
        return result
    }

    /// K-GRP-07: partitions dealt one at a time in member order.
    static func roundRobin(_ count: Int, _ members: [Int]) -> [Int: [Int]] {
        var result: [Int: [Int]] = Dictionary(uniqueKeysWithValues: members.map { ($0, []) })
        for partition in 0..<count {
            result[members[partition % members.count], default: []].append(partition)
        }
        return result
    }

    /// K-GRP-08, the constrained builder for identical subscriptions: each member keeps up to its
    /// quota of what it owned (lowest partitions first), and the rest are dealt round-robin to the
    /// members under quota. SIMPLIFICATION: members are walked in sorted order, not HashMap order.
    static func sticky(_ count: Int, _ members: [(consumer: Int, owned: [Int])]) -> [Int: [Int]] {
        let minQuota = count / members.count
        let maxQuota = (count + members.count - 1) / members.count
        let expectedOver = count % members.count
        var result: [Int: [Int]] = [:]
        var taken = Set<Int>()
        var atMax = 0
        for member in members {
            // An owned partition is valid if it exists and no earlier member kept it.
            let owned = member.owned.filter { $0 < count && !taken.contains($0) }.sorted()
            let keep: [Int]
            if owned.count < minQuota || minQuota == maxQuota {
                keep = Array(owned.prefix(minQuota == maxQuota ? minQuota : owned.count))
            } else if owned.count >= maxQuota && atMax < expectedOver {
                keep = Array(owned.prefix(maxQuota))
                atMax += 1
            } else {
                keep = Array(owned.prefix(minQuota))
            }
            result[member.consumer] = keep
            taken.formUnion(keep)
        }
        var unassigned = (0..<count).filter { !taken.contains($0) }[...]
        // Who may take an extra partition, in order: members already at minQuota after keeping
        // their own, then members in the order they reach it below.
        var atMinQuota = members.map(\.consumer).filter { (result[$0]?.count ?? 0) == minQuota }
        // First bring every member to minQuota, round-robin in member order.
        while !unassigned.isEmpty {
            let under = members.filter { (result[$0.consumer]?.count ?? 0) < minQuota }
            guard !under.isEmpty else { break }
            for member in under {
                guard let partition = unassigned.popFirst() else { break }
                result[member.consumer, default: []].append(partition)
                if result[member.consumer]?.count == minQuota { atMinQuota.append(member.consumer) }
            }
        }
        // Then the extra partitions, until expectedOver members are at maxQuota.
        for consumer in atMinQuota where !unassigned.isEmpty && atMax < expectedOver {
            result[consumer, default: []].append(unassigned.removeFirst())
            atMax += 1
        }
        return result.mapValues { $0.sorted() }
    }
}
