/// Plain-language descriptions of trace events, for the lane view, JSON traces and witnesses.
extension Note {
    /// One line about what happened, naming messages as the scenario named them.
    public func text(_ name: (MessageID) -> String) -> String {
        func list(_ messages: [MessageID]) -> String {
            MessageRanges.compact(messages.map(name), limit: 6)
        }
        func brokers(_ ids: [BrokerID]) -> String {
            "{" + ids.map { String($0.value) }.joined(separator: ",") + "}"
        }
        switch self {
        case .step(let text):
            return "step: \(text)"
        case .appended(let broker, let from, let messages, let epoch):
            return "\(broker) appends \(list(messages)) at offset \(from) (leader epoch \(epoch))"
        case .replicated(let broker, let from, let messages):
            return "\(broker) fetches \(list(messages)) (offset \(from)) from the leader"
        case .truncated(let broker, let to, let removed, let reason):
            return
                "\(broker) truncates its log to offset \(to): \(list(removed)) removed (\(reason.rawValue))"
        case .highWatermark(let broker, let to):
            return "\(broker) high watermark -> \(to)"
        case .becameLeader(let broker, let epoch):
            return "\(broker) becomes leader (epoch \(epoch))"
        case .becameFollower(let broker, let leader, let epoch):
            return leader.map { "\(broker) becomes follower of \($0) (epoch \(epoch))" }
                ?? "\(broker) learns the partition has no leader"
        case .isrChanged(let isr, _):
            return "ISR -> \(brokers(isr))"
        case .elected(let leader, let epoch, let clean, let isr):
            return clean
                ? "elects \(leader) leader at epoch \(epoch) (first in-sync replica in assignment order), ISR \(brokers(isr))"
                : "elects \(leader) leader at epoch \(epoch) UNCLEANLY (not in sync), ISR forced to \(brokers(isr))"
        case .offline(_, let isr):
            return "partition offline: no live in-sync replica (ISR \(brokers(isr)))"
        case .fenced(let broker):
            return "fences \(broker) (no heartbeat, or it re-registered)"
        case .unfenced(let broker):
            return "unfences \(broker)"
        case .duplicateBatch(let broker, let messages, let offset):
            return
                "\(broker) recognises \(list(messages)) as a duplicate batch: nothing appended, answers with offset \(offset)"
        case .rejected(let broker, let messages, let error):
            return "\(broker) rejects \(list(messages)): \(error.rawValue)"
        case .crashed(let node, let fault):
            return
                "\(node) \(fault == .crash ? "crashes (process)" : fault == .applicationCrash ? "application crashes" : "suffers \(fault.rawValue)")"
        case .restarted(let node):
            return "\(node) restarts"
        case .paused(let node, let milliseconds):
            return "\(node) pauses for \(milliseconds) ms"
        case .partitioned(let description):
            return "network partition: \(description)"
        case .healed:
            return "network heals"
        case .dropped(let kind, let from, let to, let reason):
            return "\(kind.rawValue) \(from) -> \(to) lost (\(reason.rawValue))"
        case .sent(let producer, let messages, let to, let attempt, let sequence):
            let sequenceText = sequence.map { ", seq \($0)" } ?? ""
            return "p\(producer) sends \(list(messages)) to \(to) (attempt \(attempt)\(sequenceText))"
        case .acknowledged(let producer, let messages, let offset, let broker):
            return "p\(producer): \(list(messages)) acknowledged by \(broker)"
                + (offset.map { " at offset \($0)" } ?? " (acks=0: no offset)")
        case .failed(let producer, let messages, let error, let retrying):
            return "p\(producer): \(list(messages)) failed: \(error)"
                + (retrying ? ", will retry" : ", given up")
        case .sendBlocked(let producer, let message, let bytes):
            return
                "p\(producer): send(\(name(message))) blocks: buffer.memory is full (\(bytes) bytes of batches unsent or unanswered)"
        case .newSession(let producer, let id):
            return "p\(producer) starts" + (id.map { " (producer id \($0.value))" } ?? "")
        case .polled(let consumer, let from, let messages):
            return "c\(consumer) polls \(list(messages)) from offset \(from)"
        case .processed(let consumer, let message, let offset):
            return "c\(consumer) processes \(name(message)) (offset \(offset)) into the sink"
        case .committedOffset(let consumer, let offset, let ok):
            return ok
                ? "c\(consumer) commits offset \(offset)"
                : "c\(consumer) commit of offset \(offset) fails: CommitFailedException"
        case .assigned(let consumer, let generation, let position):
            return "c\(consumer) gets P0 (generation \(generation)), starts at offset \(position)"
        case .leftGroup(let consumer, let reason):
            return "c\(consumer) leaves the group (\(reason))"
        case .seeked(let consumer, let offset):
            return "c\(consumer) seeks to offset \(offset): the next fetch reads from there"
        case .queue(let fact):
            return fact.text(name)
        case .topic(let fact):
            return fact.text(name)
        }
    }
}
