// Theory of operation
//
// A note is encoded once, here: its kind (a stable number and the name the JSON trace uses) and
// every field, in order, each with its name. The trace hash, the structured fields of
// `run --json` and the kind names are all read from this one encoding, so a field cannot be
// shown and yet left out of the hash: two runs hash equal exactly when they noted the same
// events with the same fields. (The prose of the text view is written per note in TraceText.)

/// What an encoding is read by: the trace hasher, the field collector, the kind reader.
protocol NoteFieldSink {
    mutating func kind(_ tag: Int, _ name: StaticString)
    mutating func number(_ name: StaticString, _ value: Int)
    mutating func flag(_ name: StaticString, _ value: Bool)
    mutating func text(_ name: StaticString, _ value: String)
    mutating func messages<Messages: Collection<MessageID>>(_ name: StaticString, _ value: Messages)
    mutating func message(_ name: StaticString, _ value: MessageID)
    mutating func node(_ name: StaticString, _ value: NodeID)
    mutating func brokers(_ name: StaticString, _ value: [BrokerID])
}

extension NoteFieldSink {
    mutating func broker(_ name: StaticString, _ value: BrokerID) { number(name, value.value) }
    mutating func offset(_ name: StaticString, _ value: Offset) { number(name, value.value) }
    mutating func epoch(_ name: StaticString, _ value: Epoch) { number(name, value.value) }
    mutating func optional(_ name: StaticString, _ value: Int?) {
        flag(name, value != nil)
        if let value { number(name, value) }
    }
}

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
    /// The note's one encoding: its kind, then every field.
    func encode<Sink: NoteFieldSink>(into sink: inout Sink) {
        switch self {
        case .step(let text):
            sink.kind(1, "step")
            sink.text("text", text)
        case .appended(let broker, let from, let messages, let epoch):
            sink.kind(2, "appended")
            sink.broker("broker", broker)
            sink.offset("from", from)
            sink.messages("messages", messages)
            sink.epoch("epoch", epoch)
        case .replicated(let broker, let from, let messages):
            Self.encodeReplicated(broker: broker, from: from, messages: messages, into: &sink)
        case .truncated(let broker, let to, let removed, let reason):
            sink.kind(4, "truncated")
            sink.broker("broker", broker)
            sink.offset("to", to)
            sink.messages("removed", removed)
            sink.text("reason", reason.rawValue)
        case .highWatermark(let broker, let to):
            sink.kind(5, "high-watermark")
            sink.broker("broker", broker)
            sink.offset("to", to)
        case .becameLeader(let broker, let epoch):
            sink.kind(6, "became-leader")
            sink.broker("broker", broker)
            sink.epoch("epoch", epoch)
        case .becameFollower(let broker, let leader, let epoch):
            sink.kind(7, "became-follower")
            sink.broker("broker", broker)
            sink.optional("leader", leader?.value)
            sink.epoch("epoch", epoch)
        case .isrChanged(let isr, let epoch):
            sink.kind(8, "isr-changed")
            sink.brokers("isr", isr)
            sink.epoch("epoch", epoch)
        case .elected(let leader, let epoch, let clean, let isr):
            sink.kind(9, "elected")
            sink.broker("leader", leader)
            sink.epoch("epoch", epoch)
            sink.flag("clean", clean)
            sink.brokers("isr", isr)
        case .offline(let epoch, let isr):
            sink.kind(10, "offline")
            sink.epoch("epoch", epoch)
            sink.brokers("isr", isr)
        case .fenced(let broker):
            sink.kind(11, "fenced")
            sink.broker("broker", broker)
        case .unfenced(let broker):
            sink.kind(12, "unfenced")
            sink.broker("broker", broker)
        case .duplicateBatch(let broker, let messages, let offset):
            sink.kind(13, "duplicate-batch")
            sink.broker("broker", broker)
            sink.messages("messages", messages)
            sink.offset("offset", offset)
        case .rejected(let broker, let messages, let error):
            sink.kind(14, "rejected")
            sink.broker("broker", broker)
            sink.messages("messages", messages)
            sink.text("error", error.rawValue)
        case .crashed(let node, let fault):
            sink.kind(15, "crashed")
            sink.node("node", node)
            sink.text("fault", fault.rawValue)
        case .restarted(let node):
            sink.kind(16, "restarted")
            sink.node("node", node)
        case .paused(let node, let milliseconds):
            sink.kind(17, "paused")
            sink.node("node", node)
            sink.number("milliseconds", milliseconds)
        case .partitioned(let description):
            sink.kind(18, "partitioned")
            sink.text("sides", description)
        case .healed:
            sink.kind(19, "healed")
        case .dropped(let kind, let from, let to, let reason):
            sink.kind(20, "dropped")
            sink.text("message-kind", kind.rawValue)
            sink.node("from", from)
            sink.node("to", to)
            sink.text("reason", reason.rawValue)
        case .sent(let producer, let messages, let to, let attempt, let sequence):
            sink.kind(21, "sent")
            sink.number("producer", producer)
            sink.messages("messages", messages)
            sink.broker("to", to)
            sink.number("attempt", attempt)
            sink.optional("sequence", sequence)
        case .acknowledged(let producer, let messages, let offset, let broker):
            sink.kind(22, "acknowledged")
            sink.number("producer", producer)
            sink.messages("messages", messages)
            sink.optional("offset", offset?.value)
            sink.broker("broker", broker)
        case .failed(let producer, let messages, let error, let retrying):
            sink.kind(23, "failed")
            sink.number("producer", producer)
            sink.messages("messages", messages)
            sink.text("error", error)
            sink.flag("retrying", retrying)
        case .sendBlocked(let producer, let message, let bytes):
            sink.kind(30, "send-blocked")
            sink.number("producer", producer)
            sink.message("message", message)
            sink.number("buffered-bytes", bytes)
        case .newSession(let producer, let id):
            sink.kind(24, "new-session")
            sink.number("producer", producer)
            sink.optional("producer-id", id?.value)
        case .polled(let consumer, let from, let messages):
            sink.kind(25, "polled")
            sink.number("consumer", consumer)
            sink.offset("from", from)
            sink.messages("messages", messages)
        case .processed(let consumer, let message, let offset):
            sink.kind(26, "processed")
            sink.number("consumer", consumer)
            sink.message("message", message)
            sink.offset("offset", offset)
        case .committedOffset(let consumer, let offset, let ok):
            sink.kind(27, "committed")
            sink.number("consumer", consumer)
            sink.offset("offset", offset)
            sink.flag("ok", ok)
        case .assigned(let consumer, let generation, let position):
            sink.kind(28, "assigned")
            sink.number("consumer", consumer)
            sink.number("generation", generation)
            sink.offset("position", position)
        case .leftGroup(let consumer, let reason):
            sink.kind(29, "left-group")
            sink.number("consumer", consumer)
            sink.text("reason", reason)
        case .seeked(let consumer, let offset):
            sink.kind(31, "seeked")
            sink.number("consumer", consumer)
            sink.offset("offset", offset)
        case .queue(let fact):
            fact.encode(into: &sink)
        case .topic(let fact):
            fact.encode(into: &sink)
        }
    }

    /// `.replicated`, from any collection of messages: a follower that copies records need not
    /// build the list of their messages when the trace is not kept (a Kafka follower, BrokerState.noteReplicated).
    static func encodeReplicated<Sink: NoteFieldSink, Messages: Collection<MessageID>>(
        broker: BrokerID, from: Offset, messages: Messages, into sink: inout Sink
    ) {
        sink.kind(3, "replicated")
        sink.broker("broker", broker)
        sink.offset("from", from)
        sink.messages("messages", messages)
    }
}

extension QueueNote {
    func encode<Sink: NoteFieldSink>(into sink: inout Sink) {
        switch self {
        case .enqueued(let node, let queue, let message, let persistent):
            sink.kind(101, "enqueued")
            sink.broker("node", node)
            sink.text("queue", queue)
            sink.message("message", message)
            sink.flag("persistent", persistent)
        case .unroutable(let node, let message, let returned):
            sink.kind(102, "unroutable")
            sink.broker("node", node)
            sink.message("message", message)
            sink.flag("returned", returned)
        case .returned(let producer, let message):
            sink.kind(103, "returned")
            sink.number("producer", producer)
            sink.message("message", message)
        case .fsynced(let node, let messages):
            sink.kind(104, "fsynced")
            sink.broker("node", node)
            sink.number("messages", messages)
        case .delivered(let node, let consumer, let message, let tag, let redelivered, let count):
            sink.kind(105, "delivered")
            sink.broker("node", node)
            sink.number("consumer", consumer)
            sink.message("message", message)
            sink.number("tag", tag)
            sink.flag("redelivered", redelivered)
            sink.number("delivery-count", count)
        case .settled(let consumer, let message, let settlement):
            sink.kind(106, "settled")
            sink.number("consumer", consumer)
            sink.message("message", message)
            sink.text("settlement", settlement.rawValue)
        case .requeued(let node, let messages, let reason):
            sink.kind(107, "requeued")
            sink.broker("node", node)
            sink.messages("messages", messages)
            sink.text("reason", reason)
        case .deadLettered(let node, let message, let exchange, let reason):
            sink.kind(108, "dead-lettered")
            sink.broker("node", node)
            sink.message("message", message)
            sink.text("exchange", exchange)
            sink.text("reason", reason)
        case .discarded(let node, let message, let reason):
            sink.kind(109, "discarded")
            sink.broker("node", node)
            sink.message("message", message)
            sink.text("reason", reason)
        case .recovered(let node, let queue, let kept, let lost, let durable):
            sink.kind(110, "recovered")
            sink.broker("node", node)
            sink.text("queue", queue)
            sink.messages("kept", kept)
            sink.messages("lost", lost)
            sink.flag("durable", durable)
        case .confirmed(let producer, let message, let node):
            sink.kind(111, "confirmed")
            sink.number("producer", producer)
            sink.message("message", message)
            sink.broker("node", node)
        case .raftAppended(let node, let index, let term, let message, let leader):
            sink.kind(112, "raft-appended")
            sink.broker("node", node)
            sink.number("index", index)
            sink.number("term", term)
            sink.message("message", message)
            sink.flag("leader", leader)
        case .alarm(let node, let resource, let raised):
            sink.kind(113, "alarm")
            sink.broker("node", node)
            sink.text("resource", resource)
            sink.flag("raised", raised)
        case .publishBlocked(let node, let message):
            sink.kind(114, "publish-blocked")
            sink.broker("node", node)
            sink.message("message", message)
        case .rocket(let note): note.encode(into: &sink)
        case .activeMQ(let note): note.encode(into: &sink)
        }
    }
}

/// A note's hash: every field weighted by its position and summed, then mixed into the trace's
/// running hash once (TraceHasher.mix). The weights are independent of the values, so the
/// multiplications run side by side; a chain of hash steps per field cost Kafka sweeps 8%.
struct NoteHash: NoteFieldSink {
    private(set) var value: UInt64 = 0
    private var position: UInt64 = 0

    private mutating func add(_ number: Int) {
        position &+= 1
        // An odd weight per position (the golden ratio's odd multiples): a field in another
        // position, or a value moved between fields, weighs differently.
        value &+= UInt64(bitPattern: Int64(number)) &* (0x9E37_79B9_7F4A_7C15 &* (2 &* position &+ 1))
    }

    mutating func kind(_ tag: Int, _ name: StaticString) { add(tag) }
    mutating func number(_ name: StaticString, _ value: Int) { add(value) }
    mutating func flag(_ name: StaticString, _ value: Bool) { add(value ? 1 : 0) }
    mutating func node(_ name: StaticString, _ value: NodeID) { add(value.hashValueForTrace) }
    mutating func message(_ name: StaticString, _ value: MessageID) { add(value.value) }

    /// The length, then FNV-1a over the bytes: String.hashValue is seeded per process.
    mutating func text(_ name: StaticString, _ value: String) {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        var count = 0
        for byte in value.utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
            count += 1
        }
        add(count)
        add(Int(bitPattern: UInt(hash)))
    }

    /// The count, then the ids folded: a fetch can copy thousands of records.
    mutating func messages<Messages: Collection<MessageID>>(_ name: StaticString, _ value: Messages) {
        add(value.count)
        add(value.reduce(0) { $0 &* 31 &+ $1.value })
    }

    mutating func brokers(_ name: StaticString, _ value: [BrokerID]) {
        add(value.count)
        for broker in value { add(broker.value) }
    }
}

extension TraceHasher {
    /// Mixes one note in: its hash over every field, as one number.
    mutating func mix(_ note: Note) {
        var hash = NoteHash()
        note.encode(into: &hash)
        mix(Int(bitPattern: UInt(hash.value)))
    }
}

/// Reads a note's fields by name, for `run --json`.
struct NoteFields: NoteFieldSink {
    var kindName = ""
    var fields: [(name: String, value: String)] = []
    /// Names the scenario gave its messages.
    let name: (MessageID) -> String

    mutating func kind(_ tag: Int, _ name: StaticString) { kindName = "\(name)" }
    mutating func number(_ name: StaticString, _ value: Int) { fields.append(("\(name)", String(value))) }
    mutating func flag(_ name: StaticString, _ value: Bool) {
        // An optional's presence flag is followed by its value under the same name.
        fields.append(("\(name)", String(value)))
    }
    mutating func text(_ name: StaticString, _ value: String) { fields.append(("\(name)", value)) }
    mutating func messages<Messages: Collection<MessageID>>(_ name: StaticString, _ value: Messages) {
        fields.append(("\(name)", value.map(self.name).joined(separator: " ")))
    }
    mutating func node(_ name: StaticString, _ value: NodeID) {
        fields.append(("\(name)", value.description))
    }
    mutating func message(_ name: StaticString, _ value: MessageID) {
        fields.append(("\(name)", self.name(value)))
    }
    mutating func brokers(_ name: StaticString, _ value: [BrokerID]) {
        fields.append(("\(name)", value.map(\.description).joined(separator: " ")))
    }
}

extension Note {
    /// The name `run --json` gives this kind of note.
    public var kind: String {
        var reader = NoteFields(name: { _ in "" })
        encode(into: &reader)
        return reader.kindName
    }

    /// Every field by name, as text, with messages named as the scenario named them.
    public func fields(_ name: @escaping (MessageID) -> String) -> [String: String] {
        var reader = NoteFields(name: name)
        encode(into: &reader)
        // An optional's presence flag and its value share a name; the value, written last, wins.
        return Dictionary(reader.fields.map { ($0.name, $0.value) }, uniquingKeysWith: { $1 })
    }
}
