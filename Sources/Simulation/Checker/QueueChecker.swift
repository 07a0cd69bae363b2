// Theory of operation
//
// Queue brokers consume destructively: a processed message leaves the queue, so "the final log"
// of the Kafka checker becomes what the application processed plus what the queues still hold
// (the work queue and its dead-letter queue). Every publish makes its own copy, so the checker
// can tell the two ways a message shows up twice:
//   lost-write       acknowledged to the publisher, never processed, and in no queue at the end
//   duplicate        more than one copy of the message was processed or is still held (a
//                    re-publish or a retry stored it twice)
//   processed-twice  its side effect ran more than once (a redelivery, or a duplicate copy)
//   past-delivery-limit  delivered more than `x-delivery-limit` + 1 times: the limit a user set
//                    against poison messages did not stop this one
//   reordered        processed before a message its producer had sent, and had acknowledged,
//                    earlier
//
// Log brokers (RocketMQ) keep a message after it is consumed, so `checkStore` judges by what the
// commit logs still hold: an acknowledged message with no stored copy is lost even if a consumer
// processed it first, which is then also consumed-then-lost.

enum QueueChecker {
    static func check(
        history: History, messageCount: Int, held: [QueuedMessage], queueOrder: [MessageID],
        deliveryLimit: Int?, witness: (MessageID) -> [TraceEvent]
    ) -> CheckerReport {
        var copies = [[Int]](repeating: [], count: messageCount)
        for message in held where !copies[message.copy.message.value].contains(message.copy.id) {
            copies[message.copy.message.value].append(message.copy.id)
        }
        var processedCount = [Int](repeating: 0, count: messageCount)
        for item in history.processed {
            processedCount[item.message.value] += 1
            // A processed delivery's offset is its copy's number.
            if !copies[item.message.value].contains(item.offset.value) {
                copies[item.message.value].append(item.offset.value)
            }
        }
        var anomalies: [Anomaly] = []
        var acknowledged = 0
        var failed = 0
        var indeterminate = 0
        var recovered = 0
        var lost = [Bool](repeating: false, count: messageCount)
        for send in history.sends {
            let survives = !copies[send.message.value].isEmpty
            switch send.outcome {
            case .ok:
                acknowledged += 1
                if !survives { lost[send.message.value] = true }
            case .fail: failed += 1
            case .info:
                indeterminate += 1
                if survives { recovered += 1 }
            case .pending: break
            }
        }
        func report(_ kind: AnomalyKind, _ flags: [Bool]) {
            for (message, flagged) in flags.enumerated() where flagged {
                anomalies.append(
                    Anomaly(kind: kind, message: MessageID(message), witness: witness(MessageID(message))))
            }
        }
        report(.lostWrite, lost)
        report(.duplicate, copies.map { $0.count > 1 })
        report(.processedTwice, processedCount.map { $0 > 1 })
        report(.reordered, reorderedByProcessing(history: history, messageCount: messageCount))
        if let deliveryLimit {
            var deliveries = [Int](repeating: 0, count: messageCount)
            for delivery in history.polls { deliveries[delivery.message.value] += 1 }
            report(.pastDeliveryLimit, deliveries.map { $0 > deliveryLimit + 1 })
        }
        return CheckerReport(
            anomalies: anomalies, acknowledged: acknowledged, failed: failed, indeterminate: indeterminate,
            recovered: recovered, finalLog: queueOrder)
    }

    /// `retrying`: messages waiting for a retry or in a dead-letter queue, which a consumer that
    /// failed on them has not simply skipped.
    static func checkStore(
        history: History, messageCount: Int, stored: [(message: MessageID, copy: Int)], order: [MessageID],
        retrying: Set<MessageID>, witness: (MessageID) -> [TraceEvent]
    ) -> CheckerReport {
        var copies = [[Int]](repeating: [], count: messageCount)
        for item in stored where !copies[item.message.value].contains(item.copy) {
            copies[item.message.value].append(item.copy)
        }
        let storedAtAll = copies.map { !$0.isEmpty }
        var processedCount = [Int](repeating: 0, count: messageCount)
        for item in history.processed {
            processedCount[item.message.value] += 1
            if !copies[item.message.value].contains(item.offset.value) {
                copies[item.message.value].append(item.offset.value)
            }
        }
        var acknowledged = 0
        var failed = 0
        var indeterminate = 0
        var recovered = 0
        var lost = [Bool](repeating: false, count: messageCount)
        for send in history.sends {
            switch send.outcome {
            case .ok:
                acknowledged += 1
                if !storedAtAll[send.message.value] { lost[send.message.value] = true }
            case .fail: failed += 1
            case .info:
                indeterminate += 1
                if storedAtAll[send.message.value] { recovered += 1 }
            case .pending: break
            }
        }
        var anomalies: [Anomaly] = []
        func report(_ kind: AnomalyKind, _ flags: [Bool]) {
            for (message, flagged) in flags.enumerated() where flagged {
                anomalies.append(
                    Anomaly(kind: kind, message: MessageID(message), witness: witness(MessageID(message))))
            }
        }
        report(.lostWrite, lost)
        report(.duplicate, copies.map { $0.count > 1 })
        report(.processedTwice, processedCount.map { $0 > 1 })
        report(.consumedThenLost, zip(processedCount, storedAtAll).map { $0 > 0 && !$1 })
        // Delivered, stored, never processed, and not waiting for a retry: the consumer moved
        // past it (a BROADCASTING failure is dropped, RKT-09).
        var delivered = [Bool](repeating: false, count: messageCount)
        for poll in history.polls { delivered[poll.message.value] = true }
        report(
            .neverProcessed,
            (0..<messageCount).map { message in
                delivered[message] && processedCount[message] == 0 && storedAtAll[message]
                    && !retrying.contains(MessageID(message))
            })
        report(.reordered, reorderedByProcessing(history: history, messageCount: messageCount))
        return CheckerReport(
            anomalies: anomalies, acknowledged: acknowledged, failed: failed, indeterminate: indeterminate,
            recovered: recovered, finalLog: order)
    }

    /// Per producer, acknowledged messages whose first processing came before that of a message
    /// the producer sent earlier.
    static func reorderedByProcessing(history: History, messageCount: Int) -> [Bool] {
        var firstProcessed = [Int](repeating: -1, count: messageCount)
        for (position, item) in history.processed.enumerated() where firstProcessed[item.message.value] < 0 {
            firstProcessed[item.message.value] = position
        }
        var reordered = [Bool](repeating: false, count: messageCount)
        var highestByProducer: [Int: Int] = [:]
        for send in history.sends {
            guard case .ok = send.outcome else { continue }
            let position = firstProcessed[send.message.value]
            guard position >= 0 else { continue }
            let highest = highestByProducer[send.producer] ?? -1
            if position < highest { reordered[send.message.value] = true }
            highestByProducer[send.producer] = max(highest, position)
        }
        return reordered
    }
}
