/// The checker for the partitioned topic: the anomalies of the one-partition checker that mean
/// something across partitions, with order judged where Kafka promises it, per key (K-PART-03):
///   lost-write        acknowledged, in no partition
///   duplicate         in the partitions more than once
///   reordered         processed before a message its producer sent earlier with the same key
///                     (records without a key count as one key per producer)
///   processed-twice   a side effect in the sink more than once
///   never-processed   below the group's committed offset of its partition, never processed
///   aborted-read      processed, though its transaction aborted (Adya's G1a)
///   deleted-unread    acknowledged, deleted by retention before the group processed it
enum TopicChecker {
    static func check(_ world: KafkaTopicWorld) -> CheckerReport {
        let history = world.history
        let count = world.messageCount
        var anomalies: [Anomaly] = []
        func report(_ kind: AnomalyKind, _ message: Int) {
            anomalies.append(
                Anomaly(
                    kind: kind, message: MessageID(message),
                    witness: Checker.witness(
                        for: MessageID(message), trace: world.trace, recordsTrace: world.recordsTrace)))
        }
        var inLog = [Int](repeating: 0, count: count)
        var aborted = [Bool](repeating: false, count: count)
        var belowCommitted = [Bool](repeating: false, count: count)
        var finalLog: [MessageID] = []
        for (partition, log) in world.cluster.partitions.enumerated() {
            let committed = world.cluster.committed[partition] ?? 0
            for entry in log.entries where entry.control == nil {
                let offset = entry.offset
                let message = entry.message.value
                guard message >= 0, message < count else { continue }
                inLog[message] += 1
                finalLog.append(entry.message)
                if log.isAborted(entry) {
                    aborted[message] = true
                } else if offset < committed {
                    belowCommitted[message] = true
                }
            }
        }
        var processedCount = [Int](repeating: 0, count: count)
        var firstProcessed = [Int](repeating: -1, count: count)
        for (position, item) in history.processed.enumerated() {
            processedCount[item.message.value] += 1
            if firstProcessed[item.message.value] < 0 { firstProcessed[item.message.value] = position }
        }
        var acknowledged = 0
        var failed = 0
        var indeterminate = 0
        var recovered = 0
        var lost = [Bool](repeating: false, count: count)
        var reordered = [Bool](repeating: false, count: count)
        var latest: [String: Int] = [:]
        for send in history.sends {
            let message = send.message.value
            switch send.outcome {
            case .ok:
                acknowledged += 1
                // Deleted by retention or compaction is the topic's policy, not a lost write.
                if inLog[message] == 0 && !world.cluster.deletedByRetention.contains(send.message)
                    && !world.cluster.removedByCompaction.contains(send.message)
                {
                    lost[message] = true
                }
            case .fail: failed += 1
            case .info:
                indeterminate += 1
                if inLog[message] > 0 { recovered += 1 }
            case .pending: break
            }
            let position = firstProcessed[message]
            guard position >= 0 else { continue }
            let group = "p\(send.producer)/" + (world.keys[send.message] ?? "")
            if let highest = latest[group], position < highest { reordered[message] = true }
            latest[group] = max(latest[group] ?? -1, position)
        }
        for message in 0..<count where lost[message] { report(.lostWrite, message) }
        for message in 0..<count where inLog[message] > 1 { report(.duplicate, message) }
        for message in 0..<count where reordered[message] { report(.reordered, message) }
        for message in 0..<count where processedCount[message] > 1 { report(.processedTwice, message) }
        for message in 0..<count where belowCommitted[message] && processedCount[message] == 0 {
            report(.neverProcessed, message)
        }
        for message in 0..<count where aborted[message] && processedCount[message] > 0 {
            report(.abortedRead, message)
        }
        // Retention deleted it before the group processed it (K-LOG-04).
        if world.consumers.contains(where: { $0.processed > 0 || $0.polled > 0 }) {
            for message in world.cluster.deletedByRetention.map(\.value).sorted()
            where message < count && processedCount[message] == 0
                && history.isAcknowledged(MessageID(message))
            {
                report(.deletedUnread, message)
            }
        }
        return CheckerReport(
            anomalies: anomalies, acknowledged: acknowledged, failed: failed, indeterminate: indeterminate,
            recovered: recovered, finalLog: finalLog)
    }
}
