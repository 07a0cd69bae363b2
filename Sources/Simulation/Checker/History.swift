/// Every client operation, as Jepsen records them: invoked, then ok, fail or info (indeterminate).
public struct History: Sendable {
    public init() {}

    public enum Outcome: Equatable, Sendable {
        case pending
        case ok(offset: Offset?, broker: BrokerID?, time: Millis)
        /// Definitely not written.
        case fail(error: String, time: Millis)
        /// May or may not have been written.
        case info(error: String, time: Millis)
    }

    public struct Send: Sendable {
        public var message: MessageID
        public var producer: Int
        public var session: Int
        public var invoked: Millis
        public var outcome: Outcome

        public init(message: MessageID, producer: Int, session: Int, invoked: Millis, outcome: Outcome) {
            self.message = message
            self.producer = producer
            self.session = session
            self.invoked = invoked
            self.outcome = outcome
        }
    }

    public struct Delivery: Sendable {
        public var consumer: Int
        public var message: MessageID
        public var offset: Offset
        public var time: Millis

        public init(consumer: Int, message: MessageID, offset: Offset, time: Millis) {
            self.consumer = consumer
            self.message = message
            self.offset = offset
            self.time = time
        }
    }

    /// The error of a mandatory publish that no queue took: basic.return, then its confirm.
    public static let returnedError = "basic.return (312 NO_ROUTE)"

    public internal(set) var sends: [Send] = []
    /// Sends without an outcome yet.
    public internal(set) var pendingSends = 0
    /// Per message id, whether some send of it was acknowledged.
    var acknowledged: [Bool] = []

    public mutating func invoke(_ send: Send) -> Int {
        // Sized here, once per new message, so that acknowledging never grows it.
        if acknowledged.count <= send.message.value {
            acknowledged.append(
                contentsOf: repeatElement(false, count: send.message.value + 1 - acknowledged.count))
        }
        sends.append(send)
        pendingSends += 1
        return sends.count - 1
    }

    public mutating func complete(_ index: Int, _ outcome: Outcome) {
        guard case .pending = sends[index].outcome else { return }
        sends[index].outcome = outcome
        pendingSends -= 1
        if case .ok = outcome {
            let message = sends[index].message.value
            if acknowledged.count <= message {
                acknowledged.append(contentsOf: repeatElement(false, count: message + 1 - acknowledged.count))
            }
            acknowledged[message] = true
        }
    }

    public func isAcknowledged(_ message: MessageID) -> Bool {
        message.value < acknowledged.count && acknowledged[message.value]
    }
    /// What consumers' polls returned.
    public var polls: [Delivery] = []
    /// Side effects in the external sink: one per processed record.
    public var processed: [Delivery] = []
    /// Exceptions the client library raised to the application outside a send's outcome
    /// (CommitFailedException, ProducerFencedException from commitTransaction(), ...): node and
    /// exception, in order.
    public var raised: [(node: NodeID, error: String)] = []
}
