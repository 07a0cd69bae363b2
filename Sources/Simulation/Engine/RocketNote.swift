/// What RocketMQ's nodes note in the trace, beyond what every queue broker notes (QueueNote):
/// one case per kind of fact, its fields typed, its wording and its encoding written here. Trace
/// notes are the shared vocabulary the checker, the views and the hash read, so they live with
/// the engine; the broker's folder holds the rules that write them.
public enum RocketNote: Equatable, Sendable {
    // The producer (RKT-01, RKT-08).
    /// send() returns a status, not an exception, whatever the status (RKT-01).
    case sendReturned(producer: Int, message: MessageID, status: SendStatus, broker: BrokerID)
    /// A half message that was not stored OK: the producer rolls it back unrun.
    case halfNotStored(producer: Int, message: MessageID, status: SendStatus)
    case halfStored(producer: Int, message: MessageID)
    case localTransactionEnded(producer: Int, message: MessageID, outcome: LocalTransaction)
    case transactionChecked(producer: Int, message: MessageID, found: LocalTransaction)

    // The consumer (RKT-09).
    case broadcastFailureDropped(consumer: Int, message: MessageID)
    case sentBack(consumer: Int, message: MessageID, reconsumeTimes: Int)
    /// The application found the message's dedupe key already processed and skipped it (RKT-12).
    case duplicateSkipped(consumer: Int, message: MessageID, key: String)
    /// An orderly consumer's message failed: its queue waits, then the same message is retried.
    case queueSuspended(consumer: Int, message: MessageID, reconsumeTimes: Int, delay: Millis)
    /// Its local retries reached maxReconsumeTimes: sent back to %RETRY%, and the queue moves on.
    case orderlyGaveUp(consumer: Int, message: MessageID, reconsumeTimes: Int)

    // The broker (RKT-02 to RKT-09).
    case appended(broker: BrokerID, message: MessageID, half: Bool, offset: Int)
    case answered(broker: BrokerID, status: SendStatus)
    case slaveDisconnected(broker: BrokerID)
    case slaveReceived(broker: BrokerID, message: MessageID)
    case halfCommitted(broker: BrokerID, message: MessageID)
    case halfRolledBack(broker: BrokerID, message: MessageID)
    case halfDiscarded(broker: BrokerID, message: MessageID, checks: Int)
    case noProducerToCheck(broker: BrokerID, message: MessageID)
    case checkedBack(broker: BrokerID, message: MessageID, producer: Int, check: Int)
    case deadLettered(broker: BrokerID, message: MessageID, retries: Int)
    case retryScheduled(broker: BrokerID, message: MessageID, retry: Int, level: Int, delay: Millis)
    /// A message sent with a delay level waits in SCHEDULE_TOPIC_XXXX (RKT-14).
    case delayed(broker: BrokerID, message: MessageID, level: Int, delay: Millis)
    /// Its delay is over: the message is written to its real topic and becomes visible.
    case delayDue(broker: BrokerID, message: MessageID)

    /// The message the note is about, if one.
    var message: MessageID? {
        switch self {
        case .sendReturned(_, let m, _, _), .halfNotStored(_, let m, _), .halfStored(_, let m),
            .localTransactionEnded(_, let m, _), .transactionChecked(_, let m, _),
            .broadcastFailureDropped(_, let m), .sentBack(_, let m, _), .appended(_, let m, _, _),
            .slaveReceived(_, let m), .halfCommitted(_, let m), .halfRolledBack(_, let m),
            .halfDiscarded(_, let m, _), .noProducerToCheck(_, let m), .checkedBack(_, let m, _, _),
            .deadLettered(_, let m, _), .retryScheduled(_, let m, _, _, _), .duplicateSkipped(_, let m, _),
            .queueSuspended(_, let m, _, _), .orderlyGaveUp(_, let m, _),
            .delayed(_, let m, _, _), .delayDue(_, let m):
            m
        case .answered, .slaveDisconnected: nil
        }
    }

    func text(_ name: (MessageID) -> String) -> String {
        switch self {
        case .sendReturned(let producer, let message, let status, let broker):
            return status == .sendOK
                ? "p\(producer): send(\(name(message))) returns SEND_OK from \(broker)"
                : "p\(producer): send(\(name(message))) returns \(status.rawValue) from \(broker): a result, not an exception"
        case .halfNotStored(let producer, let message, let status):
            return
                "p\(producer): half message \(name(message)) got \(status.rawValue): ROLLBACK_MESSAGE without running the local transaction"
        case .halfStored(let producer, let message):
            return "p\(producer): half message \(name(message)) SEND_OK; executeLocalTransaction runs"
        case .localTransactionEnded(let producer, let message, let outcome):
            let ended =
                switch outcome {
                case .commit: "commits"
                case .rollback: "rolls back"
                case .unknown: "returns UNKNOW"
                case .commitAnsweredUnknown: "commits, but the listener returns UNKNOW"
                }
            return
                "p\(producer): local transaction for \(name(message)) \(ended); END_TRANSACTION goes oneway"
        case .transactionChecked(let producer, let message, let found):
            return
                "p\(producer): checkLocalTransaction(\(name(message))) finds \(found.rawValue) in the database"
        case .broadcastFailureDropped(let consumer, let message):
            return
                "c\(consumer): RECONSUME_LATER in BROADCASTING: \"the message consume failed, drop it\" (\(name(message)))"
        case .sentBack(let consumer, let message, let reconsumeTimes):
            return
                "c\(consumer): RECONSUME_LATER for \(name(message)) (reconsumeTimes \(reconsumeTimes)): sent back"
        case .appended(let broker, let message, let half, let offset):
            return
                "\(broker) appends \(half ? "half message" : "message") \(name(message)) to its commit log at \(offset) (page cache; visible to consumers)"
        case .answered(let broker, let status):
            return "\(broker) answers \(status.rawValue)"
        case .slaveDisconnected(let broker):
            return "\(broker): the slave's connection closed"
        case .slaveReceived(let broker, let message):
            return "\(broker) (slave) gets \(name(message)) from its master's HA push"
        case .halfCommitted(let broker, let message):
            return "\(broker) commits half message \(name(message)): written to the real topic, now visible"
        case .halfRolledBack(let broker, let message):
            return "\(broker) rolls back half message \(name(message))"
        case .halfDiscarded(let broker, let message, let checks):
            return
                "\(broker) discards half message \(name(message)) to TRANS_CHECK_MAX_TIME_TOPIC after \(checks) checks"
        case .noProducerToCheck(let broker, let message):
            return "\(broker): no live producer in the group to check \(name(message))"
        case .checkedBack(let broker, let message, let producer, let check):
            return "\(broker) checks back half message \(name(message)) with p\(producer) (check \(check))"
        case .deadLettered(let broker, let message, let retries):
            return "\(broker) moves \(name(message)) to %DLQ% after \(retries) retries"
        case .retryScheduled(let broker, let message, let retry, let level, let delay):
            return
                "\(broker) schedules retry \(retry) of \(name(message)) at delay level \(level) (\(Self.shown(delay)))"
        case .duplicateSkipped(let consumer, let message, let key):
            return "c\(consumer): \(key) of \(name(message)) already processed: skipped, no side effect"
        case .queueSuspended(let consumer, let message, let reconsumeTimes, let delay):
            return
                "c\(consumer) (orderly): \(name(message)) failed; its queue waits \(delay) ms, then retries it (reconsumeTimes \(reconsumeTimes))"
        case .orderlyGaveUp(let consumer, let message, let reconsumeTimes):
            return
                "c\(consumer) (orderly): \(name(message)) reached maxReconsumeTimes: sent back (reconsumeTimes \(reconsumeTimes)); the queue moves on"
        case .delayed(let broker, let message, let level, let delay):
            return
                "\(broker) holds \(name(message)) in SCHEDULE_TOPIC_XXXX at delay level \(level) (\(Self.shown(delay))): not visible yet"
        case .delayDue(let broker, let message):
            return "\(broker): \(name(message))'s delay is over: written to its topic, now visible"
        }
    }

    /// A delay-level time as the level table writes it: 10s, 2m, 1h.
    static func shown(_ delay: Millis) -> String {
        delay >= 3_600_000
            ? "\(delay / 3_600_000)h" : delay >= 60_000 ? "\(delay / 60_000)m" : "\(delay / 1_000)s"
    }

    func encode<Sink: NoteFieldSink>(into sink: inout Sink) {
        switch self {
        case .sendReturned(let producer, let message, let status, let broker):
            sink.kind(201, "send-returned")
            sink.number("producer", producer)
            sink.message("message", message)
            sink.text("status", status.rawValue)
            sink.broker("broker", broker)
        case .halfNotStored(let producer, let message, let status):
            sink.kind(202, "half-not-stored")
            sink.number("producer", producer)
            sink.message("message", message)
            sink.text("status", status.rawValue)
        case .halfStored(let producer, let message):
            sink.kind(203, "half-stored")
            sink.number("producer", producer)
            sink.message("message", message)
        case .localTransactionEnded(let producer, let message, let outcome):
            sink.kind(204, "local-transaction-ended")
            sink.number("producer", producer)
            sink.message("message", message)
            sink.text("outcome", outcome.rawValue)
        case .transactionChecked(let producer, let message, let found):
            sink.kind(205, "transaction-checked")
            sink.number("producer", producer)
            sink.message("message", message)
            sink.text("found", found.rawValue)
        case .broadcastFailureDropped(let consumer, let message):
            sink.kind(206, "broadcast-failure-dropped")
            sink.number("consumer", consumer)
            sink.message("message", message)
        case .sentBack(let consumer, let message, let reconsumeTimes):
            sink.kind(207, "sent-back")
            sink.number("consumer", consumer)
            sink.message("message", message)
            sink.number("reconsume-times", reconsumeTimes)
        case .appended(let broker, let message, let half, let offset):
            sink.kind(208, "commit-log-appended")
            sink.broker("broker", broker)
            sink.message("message", message)
            sink.flag("half", half)
            sink.number("offset", offset)
        case .answered(let broker, let status):
            sink.kind(209, "answered")
            sink.broker("broker", broker)
            sink.text("status", status.rawValue)
        case .slaveDisconnected(let broker):
            sink.kind(210, "slave-disconnected")
            sink.broker("broker", broker)
        case .slaveReceived(let broker, let message):
            sink.kind(211, "slave-received")
            sink.broker("broker", broker)
            sink.message("message", message)
        case .halfCommitted(let broker, let message):
            sink.kind(212, "half-committed")
            sink.broker("broker", broker)
            sink.message("message", message)
        case .halfRolledBack(let broker, let message):
            sink.kind(213, "half-rolled-back")
            sink.broker("broker", broker)
            sink.message("message", message)
        case .halfDiscarded(let broker, let message, let checks):
            sink.kind(214, "half-discarded")
            sink.broker("broker", broker)
            sink.message("message", message)
            sink.number("checks", checks)
        case .noProducerToCheck(let broker, let message):
            sink.kind(215, "no-producer-to-check")
            sink.broker("broker", broker)
            sink.message("message", message)
        case .checkedBack(let broker, let message, let producer, let check):
            sink.kind(216, "checked-back")
            sink.broker("broker", broker)
            sink.message("message", message)
            sink.number("producer", producer)
            sink.number("check", check)
        case .deadLettered(let broker, let message, let retries):
            sink.kind(217, "dlq")
            sink.broker("broker", broker)
            sink.message("message", message)
            sink.number("retries", retries)
        case .retryScheduled(let broker, let message, let retry, let level, let delay):
            sink.kind(218, "retry-scheduled")
            sink.broker("broker", broker)
            sink.message("message", message)
            sink.number("retry", retry)
            sink.number("level", level)
            sink.number("delay-ms", delay)
        case .duplicateSkipped(let consumer, let message, let key):
            sink.kind(219, "duplicate-skipped")
            sink.number("consumer", consumer)
            sink.message("message", message)
            sink.text("key", key)
        case .delayed(let broker, let message, let level, let delay):
            sink.kind(220, "delayed")
            sink.broker("broker", broker)
            sink.message("message", message)
            sink.number("level", level)
            sink.number("delay-ms", delay)
        case .queueSuspended(let consumer, let message, let reconsumeTimes, let delay):
            sink.kind(222, "queue-suspended")
            sink.number("consumer", consumer)
            sink.message("message", message)
            sink.number("reconsume-times", reconsumeTimes)
            sink.number("delay-ms", delay)
        case .orderlyGaveUp(let consumer, let message, let reconsumeTimes):
            sink.kind(223, "orderly-gave-up")
            sink.number("consumer", consumer)
            sink.message("message", message)
            sink.number("reconsume-times", reconsumeTimes)
        case .delayDue(let broker, let message):
            sink.kind(221, "delay-due")
            sink.broker("broker", broker)
            sink.message("message", message)
        }
    }
}
