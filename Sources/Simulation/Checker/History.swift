/// Every client operation, as Jepsen records them: invoked, then ok, fail or info (indeterminate).
public struct History: Sendable {
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
    }

    public struct Delivery: Sendable {
        public var consumer: Int
        public var message: MessageID
        public var offset: Offset
        public var time: Millis
    }

    public var sends: [Send] = []
    /// What consumers' polls returned.
    public var polls: [Delivery] = []
    /// Side effects in the external sink: one per processed record.
    public var processed: [Delivery] = []
}
