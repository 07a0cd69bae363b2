// The trace hash's numbers: one per node and one per note, stable across processes (Hashable's
// hashValue is seeded per process), mixed by TraceHasher in the order events happen.

extension NodeID {
    /// A stable number for the trace hash (Hashable's hashValue is seeded per process).
    var hashValueForTrace: Int {
        switch self {
        case .controller: 0
        case .broker(let id): 1_000 + id.value
        case .producer(let index): 2_000 + index
        case .consumer(let index): 3_000 + index
        }
    }
}

extension Note {
    /// The trace-hash number of a list of messages.
    static func hashCode(ofMessages messages: some Collection<MessageID>) -> Int {
        messages.reduce(messages.count) { $0 &* 31 &+ $1.value }
    }

    /// The `.replicated` note's hash number, computed from the copied records themselves: when the
    /// trace is not kept, the follower need not build the list of messages (twice per message).
    static func replicatedHashCode(broker: BrokerID, from: Offset, records: [Record]) -> Int {
        3 &+ broker.value &* 7 &+ from.value &* 13 &+ hashCode(ofMessages: records.lazy.map(\.message))
    }

    /// A stable summary number per note for the trace hash: the case and its key numbers.
    var hashCode: Int {
        func ids(_ messages: [MessageID]) -> Int { Note.hashCode(ofMessages: messages) }
        switch self {
        case .step(let text): return 1 &+ text.utf8.reduce(0) { $0 &* 31 &+ Int($1) }
        case .appended(let broker, let from, let messages, let epoch):
            return 2 &+ broker.value &* 7 &+ from.value &* 13 &+ ids(messages) &* 17 &+ epoch.value
        case .replicated(let broker, let from, let messages):
            return 3 &+ broker.value &* 7 &+ from.value &* 13 &+ Note.hashCode(ofMessages: messages)
        case .truncated(let broker, let to, let removed, _):
            return 4 &+ broker.value &* 7 &+ to.value &* 13 &+ ids(removed)
        case .highWatermark(let broker, let to): return 5 &+ broker.value &* 7 &+ to.value &* 13
        case .becameLeader(let broker, let epoch): return 6 &+ broker.value &* 7 &+ epoch.value
        case .becameFollower(let broker, let leader, let epoch):
            return 7 &+ broker.value &* 7 &+ (leader?.value ?? 0) &* 3 &+ epoch.value
        case .isrChanged(let isr, let epoch): return 8 &+ isr.reduce(0) { $0 &* 5 &+ $1.value } &+ epoch.value
        case .elected(let leader, let epoch, let clean, _):
            return 9 &+ leader.value &* 7 &+ epoch.value &+ (clean ? 1 : 0)
        case .offline(let epoch, _): return 10 &+ epoch.value
        case .fenced(let broker): return 11 &+ broker.value
        case .unfenced(let broker): return 12 &+ broker.value
        case .duplicateBatch(let broker, let messages, let offset):
            return 13 &+ broker.value &+ ids(messages) &+ offset.value
        case .rejected(let broker, let messages, let error):
            return 14 &+ broker.value &+ ids(messages) &+ error.rawValue.count
        case .crashed(let node, let fault): return 15 &+ node.hashValueForTrace &+ fault.rawValue.count
        case .restarted(let node): return 16 &+ node.hashValueForTrace
        case .paused(let node, let milliseconds): return 17 &+ node.hashValueForTrace &+ milliseconds
        case .partitioned(let description): return 18 &+ description.utf8.count
        case .healed: return 19
        case .dropped(let kind, let from, let to, _):
            return 20 &+ kind.rawValue.count &+ from.hashValueForTrace &* 3 &+ to.hashValueForTrace
        case .sent(let producer, let messages, let to, let attempt, let sequence):
            return 21 &+ producer &+ ids(messages) &+ to.value &+ attempt &+ (sequence ?? -1)
        case .acknowledged(let producer, let messages, let offset, let broker):
            return 22 &+ producer &+ ids(messages) &+ (offset?.value ?? -1) &+ broker.value
        case .failed(let producer, let messages, let error, let retrying):
            return 23 &+ producer &+ ids(messages) &+ error.utf8.count &+ (retrying ? 1 : 0)
        case .newSession(let producer, let id): return 24 &+ producer &+ (id?.value ?? -1)
        case .polled(let consumer, let from, let messages):
            return 25 &+ consumer &+ from.value &+ ids(messages)
        case .processed(let consumer, let message, let offset):
            return 26 &+ consumer &+ message.value &+ offset.value
        case .committedOffset(let consumer, let offset, let ok):
            return 27 &+ consumer &+ offset.value &+ (ok ? 1 : 0)
        case .assigned(let consumer, let generation, let position):
            return 28 &+ consumer &+ generation &+ position.value
        case .leftGroup(let consumer, _): return 29 &+ consumer
        case .queue(let fact): return fact.hashCode
        }
    }
}
