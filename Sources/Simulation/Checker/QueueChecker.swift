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
        deliveryLimit: Int?, twicePerConsumer: Bool = false, witness: (MessageID) -> [TraceEvent]
    ) -> CheckerReport {
        check(
            history: history, messageCount: messageCount, held: held.map { ($0.copy.message, $0.copy.id) },
            queueOrder: queueOrder, deliveryLimit: deliveryLimit, twicePerConsumer: twicePerConsumer,
            witness: witness)
    }

    /// `held`: every queue's messages at the end, each with the number of the publish it came from.
    /// `twicePerConsumer`: a topic's subscribers each get the message once, so processed twice
    /// means twice by one consumer.
    static func check(
        history: History, messageCount: Int, held: [(message: MessageID, copy: Int)], queueOrder: [MessageID],
        deliveryLimit: Int?, twicePerConsumer: Bool = false, witness: (MessageID) -> [TraceEvent]
    ) -> CheckerReport {
        var tally = Tally(history: history, messageCount: messageCount, held: held)
        // A queue deletes what it delivered and had acked: a processed copy counts as kept.
        let survives = tally.copies.map { !$0.isEmpty }
        tally.judgeSends(survives: survives)
        tally.report(.duplicate, tally.copies.map { $0.count > 1 })
        if twicePerConsumer {
            struct Processing: Hashable {
                let consumer: Int
                let message: MessageID
            }
            var seen = Set<Processing>()
            var twice = [Bool](repeating: false, count: messageCount)
            for item in history.processed
            where !seen.insert(Processing(consumer: item.consumer, message: item.message)).inserted {
                twice[item.message.value] = true
            }
            tally.report(.processedTwice, twice)
        } else {
            tally.report(.processedTwice, tally.processedCount.map { $0 > 1 })
        }
        tally.report(.reordered, reorderedByProcessing(history: history, messageCount: messageCount))
        if let deliveryLimit {
            var deliveries = [Int](repeating: 0, count: messageCount)
            for delivery in history.polls { deliveries[delivery.message.value] += 1 }
            tally.report(.pastDeliveryLimit, deliveries.map { $0 > deliveryLimit + 1 })
        }
        return tally.report(finalLog: queueOrder, witness: witness)
    }

    /// `retrying`: messages waiting for a retry or in a dead-letter queue, which a consumer that
    /// failed on them has not simply skipped.
    static func checkStore(
        history: History, messageCount: Int, stored: [(message: MessageID, copy: Int)], order: [MessageID],
        retrying: Set<MessageID>, witness: (MessageID) -> [TraceEvent]
    ) -> CheckerReport {
        var storedAtAll = [Bool](repeating: false, count: messageCount)
        for item in stored { storedAtAll[item.message.value] = true }
        var tally = Tally(history: history, messageCount: messageCount, held: stored)
        tally.judgeSends(survives: storedAtAll)
        tally.report(.duplicate, tally.copies.map { $0.count > 1 })
        tally.report(.processedTwice, tally.processedCount.map { $0 > 1 })
        tally.report(.consumedThenLost, zip(tally.processedCount, storedAtAll).map { $0 > 0 && !$1 })
        // Delivered, stored, never processed, and not waiting for a retry: the consumer moved
        // past it (a BROADCASTING failure is dropped, RKT-09).
        var delivered = [Bool](repeating: false, count: messageCount)
        for poll in history.polls { delivered[poll.message.value] = true }
        tally.report(
            .neverProcessed,
            (0..<messageCount).map { message in
                delivered[message] && tally.processedCount[message] == 0 && storedAtAll[message]
                    && !retrying.contains(MessageID(message))
            })
        tally.report(.reordered, reorderedByProcessing(history: history, messageCount: messageCount))
        return tally.report(finalLog: order, witness: witness)
    }

    /// What both checks count the same way: the distinct copies of each message (held at the
    /// end or processed; a processed delivery's offset is its copy's number), the sends'
    /// outcomes, and the anomalies found so far.
    private struct Tally {
        let history: History
        var copies: [[Int]]
        var processedCount: [Int]
        /// In the order found, which is the order reported.
        var found: [(kind: AnomalyKind, message: MessageID)] = []
        var acknowledged = 0
        var failed = 0
        var indeterminate = 0
        var recovered = 0

        init(history: History, messageCount: Int, held: [(message: MessageID, copy: Int)]) {
            self.history = history
            copies = [[Int]](repeating: [], count: messageCount)
            for item in held where !copies[item.message.value].contains(item.copy) {
                copies[item.message.value].append(item.copy)
            }
            processedCount = [Int](repeating: 0, count: messageCount)
            for item in history.processed {
                processedCount[item.message.value] += 1
                if !copies[item.message.value].contains(item.offset.value) {
                    copies[item.message.value].append(item.offset.value)
                }
            }
        }

        /// Counts the outcomes, and reports as lost-write every acknowledged message that does
        /// not survive.
        mutating func judgeSends(survives: [Bool]) {
            var lost = [Bool](repeating: false, count: survives.count)
            for send in history.sends {
                switch send.outcome {
                case .ok:
                    acknowledged += 1
                    if !survives[send.message.value] { lost[send.message.value] = true }
                case .fail: failed += 1
                case .info:
                    indeterminate += 1
                    if survives[send.message.value] { recovered += 1 }
                case .pending: break
                }
            }
            report(.lostWrite, lost)
        }

        mutating func report(_ kind: AnomalyKind, _ flags: [Bool]) {
            for (message, flagged) in flags.enumerated() where flagged {
                found.append((kind, MessageID(message)))
            }
        }

        func report(finalLog: [MessageID], witness: (MessageID) -> [TraceEvent]) -> CheckerReport {
            CheckerReport(
                anomalies: found.map {
                    Anomaly(kind: $0.kind, message: $0.message, witness: witness($0.message))
                },
                acknowledged: acknowledged, failed: failed,
                indeterminate: indeterminate,
                recovered: recovered, finalLog: finalLog)
        }
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
