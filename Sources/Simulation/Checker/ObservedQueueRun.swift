/// A run observed outside the simulator, on a real queue broker: what its clients were told and
/// what its queues held at the end. It is judged by the same checker and expectations as a
/// simulated RabbitMQ run, so the two outcomes can be set side by side.
public struct ObservedQueueRun: Sendable {
    /// Message names by id: ids run from 0.
    public var messageNames: [String]
    public var history: History
    /// Each queue's messages at the end, in order, with the number of the publish each came from.
    public var queues: [String: [(message: MessageID, copy: Int)]]
    public var deliveryLimit: Int?

    public init(
        messageNames: [String], history: History, queues: [String: [(message: MessageID, copy: Int)]],
        deliveryLimit: Int?
    ) {
        self.messageNames = messageNames
        self.history = history
        self.queues = queues
        self.deliveryLimit = deliveryLimit
    }

    public func name(of message: MessageID) -> String { messageNames[message.value] }

    /// A real run has no trace, so its anomalies come without witness chains.
    public func check() -> CheckerReport {
        QueueChecker.check(
            history: history, messageCount: messageNames.count,
            held: queues.keys.sorted().flatMap { queues[$0] ?? [] },
            queueOrder: (queues["q"] ?? []).map(\.message), deliveryLimit: deliveryLimit, witness: { _ in [] }
        )
    }

    public func evaluate(_ expectations: [Expectation], report: CheckerReport) -> [ScenarioRun
        .ExpectationResult]
    {
        expectations.map { expectation in
            ScenarioRunner.evaluate(
                expectation, report: report, history: history, name: name(of:),
                queue: { queues[$0]?.map(\.message) })
        }
    }
}
