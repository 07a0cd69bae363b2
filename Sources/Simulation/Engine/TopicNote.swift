/// What the partitioned-topic Kafka model notes: partitions, groups and rebalances,
/// transactions. One case per kind of fact; its wording and encoding are written here.
public enum TopicNote: Equatable, Sendable {
    case sent(producer: Int, partition: Int, messages: [MessageID], key: String?)
    case appended(partition: Int, offset: Int, messages: [MessageID], transactional: Bool)
    case acknowledged(producer: Int, partition: Int, messages: [MessageID], offset: Int)
    case rejected(producer: Int, partition: Int, messages: [MessageID], error: String)
    /// A COMMIT or ABORT control record (K-TXN-06).
    case marker(partition: Int, offset: Int, commit: Bool, producer: Int)
    case transaction(producer: Int, event: String)
    case partitionsAdded(count: Int)
    case metadata(node: NodeID, partitions: Int)
    case rebalanceStarted(generation: Int, reason: String)
    /// The coordinator completed a rebalance: `partitions` is the consumer's new assignment.
    case assigned(consumer: Int, generation: Int, partitions: [Int], added: [Int])
    /// onPartitionsRevoked (or onPartitionsLost) with these partitions.
    case revoked(consumer: Int, partitions: [Int], lost: Bool)
    case staticRejoin(consumer: Int, instance: String, partitions: [Int])
    case left(consumer: Int, reason: String)
    case polled(consumer: Int, records: [MessageID])
    case processed(consumer: Int, message: MessageID, partition: Int, offset: Int)
    case committed(consumer: Int, offsets: String, error: String?)
    case reset(consumer: Int, partition: Int, offset: Int, policy: String)
    /// Retention deleted whole segments: the log now starts at `logStart` (K-LOG-02, K-LOG-03).
    case retentionDeleted(partition: Int, messages: [MessageID], logStart: Int)
    /// A cleaning pass removed superseded records, aborted records and expired tombstones.
    case compacted(partition: Int, removed: [MessageID], upTo: Int)
    /// A fetch below the log start: OFFSET_OUT_OF_RANGE, and auto.offset.reset moved it.
    case outOfRange(consumer: Int, partition: Int, from: Int, to: Int)

    func mentions(_ message: MessageID) -> Bool {
        switch self {
        case .sent(_, _, let messages, _), .appended(_, _, let messages, _),
            .acknowledged(_, _, let messages, _), .rejected(_, _, let messages, _),
            .polled(_, let messages), .retentionDeleted(_, let messages, _), .compacted(_, let messages, _):
            messages.contains(message)
        case .processed(_, let processed, _, _): processed == message
        default: false
        }
    }

    func text(_ name: (MessageID) -> String) -> String {
        func list(_ messages: [MessageID]) -> String {
            MessageRanges.compact(messages.map(name), limit: 6)
        }
        func partitions(_ list: [Int]) -> String {
            list.isEmpty ? "none" : list.map { "t-\($0)" }.joined(separator: " ")
        }
        switch self {
        case .sent(let producer, let partition, let messages, let key):
            return "p\(producer) sends \(list(messages)) to partition t-\(partition)"
                + (key.map { " (key \($0))" } ?? " (no key: sticky partition)")
        case .appended(let partition, let offset, let messages, let transactional):
            return "t-\(partition) appends \(list(messages)) at offset \(offset)"
                + (transactional ? " (in an open transaction)" : "")
        case .acknowledged(let producer, let partition, let messages, let offset):
            return "p\(producer): \(list(messages)) acknowledged (t-\(partition), offset \(offset))"
        case .rejected(let producer, let partition, let messages, let error):
            return "p\(producer): \(list(messages))"
                + (partition < 0 ? " not sent: " : " to t-\(partition) rejected: ") + error
        case .marker(let partition, let offset, let commit, let producer):
            return
                "t-\(partition) writes \(commit ? "a COMMIT" : "an ABORT") marker at offset \(offset) for producer id \(producer)"
        case .transaction(let producer, let event):
            return "p\(producer): \(event)"
        case .partitionsAdded(let count):
            return "topic t grows to \(count) partitions (existing records stay where they are)"
        case .metadata(let node, let count):
            return "\(node) refreshes metadata: the topic has \(count) partitions"
        case .rebalanceStarted(let generation, let reason):
            return "group rebalance after generation \(generation): \(reason)"
        case .assigned(let consumer, let generation, let list, let added):
            return "c\(consumer) gets \(partitions(list)) in generation \(generation)"
                + (added.isEmpty ? "" : " (new: \(partitions(added)))")
        case .revoked(let consumer, let list, let lost):
            return lost
                ? "c\(consumer): onPartitionsLost(\(partitions(list))): it is no longer in the group"
                : "c\(consumer): onPartitionsRevoked(\(partitions(list)))"
        case .staticRejoin(let consumer, let instance, let list):
            return
                "c\(consumer) rejoins as static member \(instance): it gets \(partitions(list)) back, no rebalance"
        case .left(let consumer, let reason):
            return "c\(consumer) leaves the group (\(reason))"
        case .polled(let consumer, let records):
            return "c\(consumer) polls \(list(records))"
        case .processed(let consumer, let message, let partition, let offset):
            return "c\(consumer) processes \(name(message)) (t-\(partition), offset \(offset)) into the sink"
        case .committed(let consumer, let offsets, let error):
            return error.map { "c\(consumer) commit of \(offsets) fails: \($0)" }
                ?? "c\(consumer) commits \(offsets)"
        case .retentionDeleted(let partition, let messages, let logStart):
            return
                "t-\(partition): retention deletes \(messages.isEmpty ? "only markers" : list(messages)); the log now starts at offset \(logStart)"
        case .compacted(let partition, let removed, let upTo):
            return
                "t-\(partition): the cleaner compacts below offset \(upTo), removing \(removed.isEmpty ? "nothing" : list(removed))"
        case .outOfRange(let consumer, let partition, let from, let to):
            return
                "c\(consumer): OFFSET_OUT_OF_RANGE for t-\(partition) at offset \(from) (deleted); auto.offset.reset moves it to \(to)"
        case .reset(let consumer, let partition, let offset, let policy):
            return "c\(consumer): no committed offset for t-\(partition): auto.offset.reset=\(policy) starts "
                + (offset == -2 ? "at the log start" : offset < 0 ? "at the log end" : "at offset \(offset)")
        }
    }

    func encode<Sink: NoteFieldSink>(into sink: inout Sink) {
        switch self {
        case .sent(let producer, let partition, let messages, let key):
            sink.kind(401, "topic-sent")
            sink.number("producer", producer)
            sink.number("partition", partition)
            sink.messages("messages", messages)
            sink.text("key", key ?? "")
        case .appended(let partition, let offset, let messages, let transactional):
            sink.kind(402, "topic-appended")
            sink.number("partition", partition)
            sink.number("offset", offset)
            sink.messages("messages", messages)
            sink.flag("transactional", transactional)
        case .acknowledged(let producer, let partition, let messages, let offset):
            sink.kind(403, "topic-acknowledged")
            sink.number("producer", producer)
            sink.number("partition", partition)
            sink.messages("messages", messages)
            sink.number("offset", offset)
        case .rejected(let producer, let partition, let messages, let error):
            sink.kind(404, "topic-rejected")
            sink.number("producer", producer)
            sink.number("partition", partition)
            sink.messages("messages", messages)
            sink.text("error", error)
        case .marker(let partition, let offset, let commit, let producer):
            sink.kind(405, "transaction-marker")
            sink.number("partition", partition)
            sink.number("offset", offset)
            sink.flag("commit", commit)
            sink.number("producerId", producer)
        case .transaction(let producer, let event):
            sink.kind(406, "transaction")
            sink.number("producer", producer)
            sink.text("event", event)
        case .partitionsAdded(let count):
            sink.kind(407, "partitions-added")
            sink.number("partitions", count)
        case .metadata(let node, let count):
            sink.kind(408, "metadata")
            sink.node("node", node)
            sink.number("partitions", count)
        case .rebalanceStarted(let generation, let reason):
            sink.kind(409, "rebalance")
            sink.number("generation", generation)
            sink.text("reason", reason)
        case .assigned(let consumer, let generation, let partitions, let added):
            sink.kind(410, "partitions-assigned")
            sink.number("consumer", consumer)
            sink.number("generation", generation)
            sink.text("partitions", partitions.map(String.init).joined(separator: " "))
            sink.text("added", added.map(String.init).joined(separator: " "))
        case .revoked(let consumer, let partitions, let lost):
            sink.kind(411, "partitions-revoked")
            sink.number("consumer", consumer)
            sink.text("partitions", partitions.map(String.init).joined(separator: " "))
            sink.flag("lost", lost)
        case .staticRejoin(let consumer, let instance, let partitions):
            sink.kind(412, "static-rejoin")
            sink.number("consumer", consumer)
            sink.text("instance", instance)
            sink.text("partitions", partitions.map(String.init).joined(separator: " "))
        case .left(let consumer, let reason):
            sink.kind(413, "left-group")
            sink.number("consumer", consumer)
            sink.text("reason", reason)
        case .polled(let consumer, let records):
            sink.kind(414, "topic-polled")
            sink.number("consumer", consumer)
            sink.messages("messages", records)
        case .processed(let consumer, let message, let partition, let offset):
            sink.kind(415, "topic-processed")
            sink.number("consumer", consumer)
            sink.message("message", message)
            sink.number("partition", partition)
            sink.number("offset", offset)
        case .committed(let consumer, let offsets, let error):
            sink.kind(416, "topic-committed")
            sink.number("consumer", consumer)
            sink.text("offsets", offsets)
            sink.text("error", error ?? "")
        case .retentionDeleted(let partition, let messages, let logStart):
            sink.kind(418, "retention-deleted")
            sink.number("partition", partition)
            sink.messages("messages", messages)
            sink.number("logStartOffset", logStart)
        case .compacted(let partition, let removed, let upTo):
            sink.kind(419, "compacted")
            sink.number("partition", partition)
            sink.messages("removed", removed)
            sink.number("upTo", upTo)
        case .outOfRange(let consumer, let partition, let from, let to):
            sink.kind(420, "offset-out-of-range")
            sink.number("consumer", consumer)
            sink.number("partition", partition)
            sink.number("from", from)
            sink.number("to", to)
        case .reset(let consumer, let partition, let offset, let policy):
            sink.kind(417, "offset-reset")
            sink.number("consumer", consumer)
            sink.number("partition", partition)
            sink.number("offset", offset)
            sink.text("policy", policy)
        }
    }
}
