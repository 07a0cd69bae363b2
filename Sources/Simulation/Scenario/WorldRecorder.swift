/// What every world keeps the same way: message names, the trace and its running hash, and the
/// client history the checker reads.
struct WorldRecorder: Sendable {
    let recordsTrace: Bool
    private(set) var trace: [TraceEvent] = []
    private var hasher = TraceHasher()
    var history = History()
    private(set) var messageNames = MessageNames()

    init(recordsTrace: Bool) {
        self.recordsTrace = recordsTrace
    }

    var traceHash: UInt64 { hasher.value }

    mutating func message(named name: String) -> MessageID { messageNames.id(forName: name) }

    func existingMessage(named name: String) -> MessageID? { messageNames.id(of: name) }

    mutating func automaticMessages(count: Int, first: Int) -> [MessageID] {
        messageNames.numbered(count: count, first: first)
    }

    func name(of message: MessageID) -> String { messageNames[message] }

    mutating func note(_ note: Note, at node: NodeID, time: Millis) {
        hasher.mix(time)
        hasher.mix(node.hashValueForTrace)
        hasher.mix(note)
        if recordsTrace { trace.append(TraceEvent(time: time, node: node, note: note)) }
    }

    /// Mixes an event into the hash without keeping it: for a note whose list of messages is
    /// costly to build and is only needed when the trace is kept (a Kafka follower's `.replicated`).
    mutating func hash(at node: NodeID, time: Millis, encode: (inout NoteHash) -> Void) {
        hasher.mix(time)
        hasher.mix(node.hashValueForTrace)
        var hash = NoteHash()
        encode(&hash)
        hasher.mix(Int(bitPattern: UInt(hash.value)))
    }

    /// Whether every named message has an acknowledged send.
    func acknowledged(_ names: [String]) -> Bool {
        names.allSatisfy { name in messageNames.id(of: name).map(history.isAcknowledged) ?? false }
    }
}
