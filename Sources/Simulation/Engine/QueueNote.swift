/// Trace facts of queue brokers (RabbitMQ, RocketMQ, ActiveMQ): what a node did with one message,
/// and why.
public enum QueueNote: Equatable, Sendable {
    case enqueued(node: BrokerID, queue: String, message: MessageID, persistent: Bool)
    case unroutable(node: BrokerID, message: MessageID, returned: Bool)
    case returned(producer: Int, message: MessageID)
    case confirmed(producer: Int, message: MessageID, node: BrokerID)
    case fsynced(node: BrokerID, messages: Int)
    /// A quorum queue member wrote an enqueue command to its Raft log.
    case raftAppended(node: BrokerID, index: Int, term: Int, message: MessageID, leader: Bool)
    case delivered(
        node: BrokerID, consumer: Int, message: MessageID, tag: Int, redelivered: Bool, deliveryCount: Int)
    case settled(consumer: Int, message: MessageID, settlement: Settlement)
    case requeued(node: BrokerID, messages: [MessageID], reason: String)
    case deadLettered(node: BrokerID, message: MessageID, exchange: String, reason: String)
    case discarded(node: BrokerID, message: MessageID, reason: String)
    case recovered(node: BrokerID, queue: String, kept: [MessageID], lost: [MessageID], durable: Bool)
    /// A resource alarm raised or cleared on a node: while any is in force, every node stops
    /// reading from publishing connections (RMQ-21).
    case alarm(node: BrokerID, resource: String, raised: Bool)
    /// A publish that reached a node during an alarm waits unread in its connection.
    case publishBlocked(node: BrokerID, message: MessageID)
    /// What only RocketMQ or only ActiveMQ does: a send status, a half message, a poison ack.
    case rocket(RocketNote)
    case activeMQ(ActiveMQNote)

    func text(_ name: (MessageID) -> String) -> String {
        func list(_ messages: [MessageID]) -> String {
            messages.isEmpty ? "nothing" : MessageRanges.compact(messages.map(name), limit: 6)
        }
        switch self {
        case .enqueued(let node, let queue, let message, let persistent):
            return
                "\(node) enqueues \(name(message)) in \(queue) (\(persistent ? "persistent" : "transient"))"
        case .unroutable(let node, let message, let returned):
            return returned
                ? "\(node): \(name(message)) is unroutable; mandatory, so basic.return goes back"
                : "\(node): \(name(message)) is unroutable and mandatory=false: dropped silently"
        case .returned(let producer, let message):
            return "p\(producer) gets basic.return for \(name(message))"
        case .confirmed(let producer, let message, let node):
            return "p\(producer): \(name(message)) confirmed (basic.ack from \(node))"
        case .fsynced(let node, let messages):
            return "\(node) fsyncs its message store (\(messages) new)"
        case .raftAppended(let node, let index, let term, let message, let leader):
            return leader
                ? "\(node) (leader) appends enqueue \(name(message)) to its Raft log at index \(index) (term \(term))"
                : "\(node) gets enqueue \(name(message)) from the leader at Raft index \(index) (term \(term))"
        case .delivered(let node, let consumer, let message, let tag, let redelivered, let count):
            return
                "\(node) delivers \(name(message)) to c\(consumer) (tag \(tag)\(redelivered ? ", redelivered" : "")\(count > 0 ? ", delivery-count \(count)" : ""))"
        case .settled(let consumer, let message, let settlement):
            return "c\(consumer) answers \(name(message)) with \(settlement.rawValue)"
        case .requeued(let node, let messages, let reason):
            return "\(node) requeues \(list(messages)) (\(reason))"
        case .deadLettered(let node, let message, let exchange, let reason):
            return "\(node) dead-letters \(name(message)) to \(exchange) (\(reason))"
        case .discarded(let node, let message, let reason):
            return "\(node) discards \(name(message)) (\(reason))"
        case .recovered(let node, let queue, let kept, let lost, let durable):
            return durable
                ? "\(node) recovers \(queue): \(list(kept)); gone: \(list(lost))"
                : "\(node): non-durable \(queue) comes back empty; gone: \(list(lost))"
        case .alarm(let node, let resource, let raised):
            return raised
                ? "\(node): \(resource) alarm: every node stops reading from publishing connections (connection.blocked)"
                : "\(node): \(resource) alarm cleared"
        case .publishBlocked(let node, let message):
            return "\(node): the publish of \(name(message)) waits unread in its blocked connection"
        case .rocket(let note): return note.text(name)
        case .activeMQ(let note): return note.text(name)
        }
    }

    func mentions(_ message: MessageID) -> Bool {
        switch self {
        case .enqueued(_, _, let m, _), .unroutable(_, let m, _), .returned(_, let m),
            .confirmed(_, let m, _),
            .raftAppended(_, _, _, let m, _),
            .delivered(_, _, let m, _, _, _), .settled(_, let m, _), .deadLettered(_, let m, _, _),
            .discarded(_, let m, _), .publishBlocked(_, let m):
            m == message
        case .requeued(_, let messages, _): messages.contains(message)
        case .recovered(_, _, let kept, let lost, _): kept.contains(message) || lost.contains(message)
        case .fsynced, .alarm: false
        case .rocket(let note): note.message == message
        case .activeMQ(let note): note.message == message
        }
    }
}
