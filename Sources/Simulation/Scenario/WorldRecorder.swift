/// What every world keeps the same way: message names, the trace and its running hash, and the
/// client history the checker reads.
struct WorldRecorder: Sendable {
    let recordsTrace: Bool
    private(set) var trace: [TraceEvent] = []
    private var hasher = TraceHasher()
    var history = History()
    private(set) var messageNames: [String] = []
    private var messageIndex: [String: MessageID] = [:]

    init(recordsTrace: Bool) {
        self.recordsTrace = recordsTrace
    }

    var traceHash: UInt64 { hasher.value }

    mutating func message(named name: String) -> MessageID {
        if let existing = messageIndex[name] { return existing }
        let id = MessageID(messageNames.count)
        messageNames.append(name)
        messageIndex[name] = id
        return id
    }

    func existingMessage(named name: String) -> MessageID? { messageIndex[name] }

    mutating func automaticMessages(count: Int, first: Int) -> [MessageID] {
        (first..<(first + count)).map { message(named: "#\($0)") }
    }

    func name(of message: MessageID) -> String { messageNames[message.value] }

    mutating func note(_ note: Note, at node: NodeID, time: Millis) {
        hasher.mix(time)
        hasher.mix(node.hashValueForTrace)
        hasher.mix(note.hashCode)
        if recordsTrace { trace.append(TraceEvent(time: time, node: node, note: note)) }
    }

    /// Whether every named message has an acknowledged send.
    func acknowledged(_ names: [String]) -> Bool {
        names.allSatisfy { name in messageIndex[name].map(history.isAcknowledged) ?? false }
    }
}
