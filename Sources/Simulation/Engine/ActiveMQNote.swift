/// What ActiveMQ's nodes note in the trace, beyond what every queue broker notes (QueueNote):
/// one case per kind of fact, its fields typed, its wording and its encoding written here. Trace
/// notes are the shared vocabulary the checker, the views and the hash read, so they live with
/// the engine; the broker's folder holds the rules that write them.
public enum ActiveMQNote: Equatable, Sendable {
    /// A synchronous send returns once the broker's receipt arrives (AMQ-02).
    case sendReturned(producer: Int, message: MessageID, broker: BrokerID)
    /// onMessage gets a redelivery: JMSRedelivered is set, JMSXDeliveryCount counts from 1.
    case redelivered(consumer: Int, message: MessageID, deliveryCount: Int)
    /// The listener threw in CLIENT or SESSION_TRANSACTED mode: no rollback (AMQ-04).
    case threwAndContinued(consumer: Int, message: MessageID, mode: ActiveMQConfig.AcknowledgeMode)
    case rolledBack(consumer: Int, message: MessageID, discarded: [MessageID])
    case threwRedelivery(consumer: Int, message: MessageID)
    /// Past maximumRedeliveries the client sends a poison ack (AMQ-06).
    case poisonAck(consumer: Int, message: MessageID, redeliveryCounter: Int, limit: Int)
    case transactionCommitted(broker: BrokerID, sent: Int, acked: Int)
    /// An async store task whose message was acknowledged first never writes (AMQ-03).
    case storeCancelled(broker: BrokerID)

    var message: MessageID? {
        switch self {
        case .sendReturned(_, let m, _), .redelivered(_, let m, _), .threwAndContinued(_, let m, _),
            .rolledBack(_, let m, _), .threwRedelivery(_, let m), .poisonAck(_, let m, _, _):
            m
        case .transactionCommitted, .storeCancelled: nil
        }
    }

    func text(_ name: (MessageID) -> String) -> String {
        switch self {
        case .sendReturned(let producer, let message, let broker):
            return "p\(producer): send(\(name(message))) returns: \(broker)'s receipt arrived"
        case .redelivered(let consumer, let message, let count):
            return
                "c\(consumer): onMessage(\(name(message))) with JMSRedelivered=true, JMSXDeliveryCount=\(count)"
        case .threwAndContinued(let consumer, let message, let mode):
            return
                "c\(consumer): onMessage(\(name(message))) threw; in \(mode.rawValue) the next message is delivered"
        case .rolledBack(let consumer, let message, let discarded):
            let dropped = discarded.isEmpty ? "" : "\(discarded.map(name).joined(separator: " ")) discarded, "
            return "c\(consumer): session.rollback(): \(dropped)\(name(message)) to be redelivered"
        case .threwRedelivery(let consumer, let message):
            return "c\(consumer): onMessage(\(name(message))) threw a RuntimeException: redelivery"
        case .poisonAck(let consumer, let message, let counter, let limit):
            return
                "c\(consumer): redeliveryCounter \(counter) > maximumRedeliveries \(limit): poison ack for \(name(message))"
        case .transactionCommitted(let broker, let sent, let acked):
            return "\(broker) commits a transaction: \(sent) sent, \(acked) acked"
        case .storeCancelled(let broker):
            return "\(broker) cancels the store of an already acknowledged message"
        }
    }

    func encode<Sink: NoteFieldSink>(into sink: inout Sink) {
        switch self {
        case .sendReturned(let producer, let message, let broker):
            sink.kind(301, "send-returned")
            sink.number("producer", producer)
            sink.message("message", message)
            sink.broker("broker", broker)
        case .redelivered(let consumer, let message, let count):
            sink.kind(302, "redelivered")
            sink.number("consumer", consumer)
            sink.message("message", message)
            sink.number("delivery-count", count)
        case .threwAndContinued(let consumer, let message, let mode):
            sink.kind(303, "threw-and-continued")
            sink.number("consumer", consumer)
            sink.message("message", message)
            sink.text("mode", mode.rawValue)
        case .rolledBack(let consumer, let message, let discarded):
            sink.kind(304, "rolled-back")
            sink.number("consumer", consumer)
            sink.message("message", message)
            sink.messages("discarded", discarded)
        case .threwRedelivery(let consumer, let message):
            sink.kind(305, "threw-redelivery")
            sink.number("consumer", consumer)
            sink.message("message", message)
        case .poisonAck(let consumer, let message, let counter, let limit):
            sink.kind(306, "poison-ack")
            sink.number("consumer", consumer)
            sink.message("message", message)
            sink.number("redelivery-counter", counter)
            sink.number("maximum-redeliveries", limit)
        case .transactionCommitted(let broker, let sent, let acked):
            sink.kind(307, "transaction-committed")
            sink.broker("broker", broker)
            sink.number("sent", sent)
            sink.number("acked", acked)
        case .storeCancelled(let broker):
            sink.kind(308, "store-cancelled")
            sink.broker("broker", broker)
        }
    }
}
