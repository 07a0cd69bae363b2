// Theory of operation
//
// The checker reads the history (what clients were told) and the final state (what the
// partition holds) and names every anomaly with Jepsen's vocabulary where it has one:
//   lost-write          acknowledged to a producer, absent from the final log
//   duplicate           one application message at more than one offset of the final log
//   unexpected          in the log but never sent
//   reordered           sent later by one producer, yet earlier in the log (nonmonotonic-send)
//   consumed-then-lost  returned by a poll, later gone from the log (or its offset reused)
//   processed-twice     a side effect in the sink more than once
//   never-processed     in the log below where the group consumed, never processed
//   past-delivery-limit (queue brokers) delivered more times than the delivery limit allows
//   aborted-read        (transactions) a record of an aborted transaction was processed
//   deleted-unread      (retention) acknowledged, deleted before the group processed it
// Indeterminate sends (info) are neither lost nor acknowledged: if they turn up in the log they
// are "recovered". Each anomaly carries a witness: the trace events that touched the message,
// in order, in plain words, so a reader can see which event made it disappear.

/// The anomalies the checker names.
public enum AnomalyKind: String, CaseIterable, Sendable {
    case lostWrite = "lost-write"
    case duplicate
    case unexpected
    case reordered
    case consumedThenLost = "consumed-then-lost"
    case processedTwice = "processed-twice"
    case neverProcessed = "never-processed"
    /// Queue brokers: delivered more often than the queue's delivery limit allows (a poison
    /// message the limit did not stop).
    case pastDeliveryLimit = "past-delivery-limit"
    /// Kafka transactions: a record of an aborted transaction was processed (Adya's G1a).
    case abortedRead = "aborted-read"
    /// Kafka retention: deleted before the consumer group processed it (K-LOG-04).
    case deletedUnread = "deleted-unread"
}

public struct Anomaly: Equatable, Sendable {
    public var kind: AnomalyKind
    public var message: MessageID
    /// What happened to the message, event by event.
    public var witness: [TraceEvent]
}

public struct CheckerReport: Sendable {
    public var anomalies: [Anomaly]
    public var acknowledged: Int
    public var failed: Int
    public var indeterminate: Int
    /// Indeterminate sends that reached the final log anyway.
    public var recovered: Int
    public var finalLog: [MessageID]

    public func messages(_ kind: AnomalyKind) -> [MessageID] {
        anomalies.filter { $0.kind == kind }.map(\.message)
    }

    public var isClean: Bool { anomalies.isEmpty }
}

public enum Checker {
    static func check(_ world: KafkaWorld) -> CheckerReport {
        let history = world.history
        let finalLog = world.authoritativeLog.map(\.message)
        // Message ids are dense (0, 1, 2, ...), so per-message facts live in arrays, not hashes:
        // the checker runs once per seed in sweeps of thousands.
        let messageCount = world.messageCount
        var countInLog = [Int](repeating: 0, count: messageCount)
        var firstPosition = [Int](repeating: -1, count: messageCount)
        for (offset, message) in finalLog.enumerated() {
            countInLog[message.value] += 1
            if firstPosition[message.value] < 0 { firstPosition[message.value] = offset }
        }
        var anomalies: [Anomaly] = []
        func report(_ kind: AnomalyKind, _ message: MessageID) {
            anomalies.append(Anomaly(kind: kind, message: message, witness: witness(for: message, in: world)))
        }
        func reportAll(_ kind: AnomalyKind, _ flags: [Bool]) {
            for (message, flagged) in flags.enumerated() where flagged { report(kind, MessageID(message)) }
        }
        /// Reports every message id for which `flagged` holds, in id order, without building a
        /// table of flags (the checker runs once per seed in sweeps of thousands).
        func reportWhere(_ kind: AnomalyKind, _ flagged: (Int) -> Bool) {
            for message in 0..<messageCount where flagged(message) { report(kind, MessageID(message)) }
        }

        var acknowledged = 0
        var failed = 0
        var indeterminate = 0
        var recovered = 0
        var sent = [Bool](repeating: false, count: messageCount)
        var lost = [Bool](repeating: false, count: messageCount)
        // The sends are read in place, field by field: a copy of a send copies its outcome's
        // error text, once per message per seed.
        let sends = history.sends
        for index in sends.indices {
            let message = sends[index].message.value
            sent[message] = true
            switch sends[index].outcome {
            case .ok:
                acknowledged += 1
                if countInLog[message] == 0 { lost[message] = true }
            case .fail: failed += 1
            case .info:
                indeterminate += 1
                if countInLog[message] > 0 { recovered += 1 }
            case .pending: break
            }
        }
        reportAll(.lostWrite, lost)
        reportWhere(.duplicate) { countInLog[$0] > 1 }
        reportWhere(.unexpected) { countInLog[$0] > 0 && !sent[$0] }

        // nonmonotonic-send: per producer, acknowledged messages must keep their send order.
        var reordered = [Bool](repeating: false, count: messageCount)
        // Producers are numbered 1, 2, ...: an array indexed by number, not a hash per send.
        var highestByProducer: [Int] = []
        for index in sends.indices {
            guard case .ok = sends[index].outcome else { continue }
            let message = sends[index].message.value
            let producer = sends[index].producer
            let position = firstPosition[message]
            guard position >= 0 else { continue }
            if highestByProducer.count <= producer {
                highestByProducer.append(
                    contentsOf: repeatElement(-1, count: producer + 1 - highestByProducer.count))
            }
            let highest = highestByProducer[producer]
            if position < highest { reordered[message] = true }
            highestByProducer[producer] = max(highest, position)
        }
        reportAll(.reordered, reordered)

        var consumedThenLost = [Bool](repeating: false, count: messageCount)
        for poll in history.polls {
            let offset = poll.offset.value
            if offset >= finalLog.count || finalLog[offset] != poll.message {
                consumedThenLost[poll.message.value] = true
            }
        }
        reportAll(.consumedThenLost, consumedThenLost)

        var processedCount = [Int](repeating: 0, count: messageCount)
        for item in history.processed { processedCount[item.message.value] += 1 }
        reportWhere(.processedTwice) { processedCount[$0] > 1 }
        if let consumedUpTo = history.polls.map(\.offset.value).max() {
            var neverProcessed = [Bool](repeating: false, count: messageCount)
            for message in finalLog.prefix(consumedUpTo + 1) where processedCount[message.value] == 0 {
                neverProcessed[message.value] = true
            }
            reportAll(.neverProcessed, neverProcessed)
        }
        return CheckerReport(
            anomalies: anomalies, acknowledged: acknowledged, failed: failed, indeterminate: indeterminate,
            recovered: recovered, finalLog: finalLog)
    }

    /// The trace events that mention `message`, the elections and restarts between its first and
    /// last mention, and every crash, power or disk loss, pause or partition after its first
    /// mention that hit a node of its story (the broker that stored it, the consumer it was
    /// delivered to): the story of what happened to it, with the fault that caused it, which often
    /// comes after the message was last touched (a consumer dies holding it, a disk is lost).
    static func witness(for message: MessageID, in world: KafkaWorld) -> [TraceEvent] {
        witness(for: message, trace: world.trace, recordsTrace: world.recordsTrace)
    }

    static func witness(for message: MessageID, trace: [TraceEvent], recordsTrace: Bool) -> [TraceEvent] {
        guard recordsTrace else { return [] }
        let mentions = trace.indices.filter { trace[$0].note.mentions(message) }
        guard let first = mentions.first, let last = mentions.last else { return [] }
        var story = Set(mentions.map { trace[$0].node })
        for index in mentions {
            switch trace[index].note {
            case .queue(.delivered(_, let consumer, _, _, _, _)): story.insert(.consumer(consumer))
            case .sent(_, _, let broker, _, _): story.insert(.broker(broker))
            default: break
            }
        }
        let mentioned = Set(mentions)
        return trace.indices.filter { index in
            if mentioned.contains(index) { return true }
            guard index > first else { return false }
            switch trace[index].note {
            case .crashed(let node, _), .paused(let node, _):
                return index <= last || story.contains(node)
            case .partitioned:
                return true
            case .elected, .offline, .restarted, .healed, .fenced, .isrChanged, .becameLeader:
                return index <= last
            default: return false
            }
        }.map { trace[$0] }
    }
}

extension Note {
    func mentions(_ message: MessageID) -> Bool {
        switch self {
        case .appended(_, _, let messages, _), .replicated(_, _, let messages),
            .truncated(_, _, let messages, _),
            .duplicateBatch(_, let messages, _), .rejected(_, let messages, _),
            .sent(_, let messages, _, _, _),
            .acknowledged(_, let messages, _, _), .failed(_, let messages, _, _), .polled(_, _, let messages):
            messages.contains(message)
        case .processed(_, let processed, _): processed == message
        case .queue(let fact): fact.mentions(message)
        case .topic(let fact): fact.mentions(message)
        default: false
        }
    }
}
