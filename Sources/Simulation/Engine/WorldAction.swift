/// A change the scenario (or the random fault schedule) makes to the world.
public enum WorldAction: Sendable, Equatable {
    case crash(BrokerID, Fault)
    case restart(BrokerID)
    case pause(NodeID, Millis)
    /// Cuts every link from each node of one side to each of the other (both ways unless one-way).
    case partition([NodeID], [NodeID], oneWay: Bool)
    case isolate(NodeID)
    case heal
    case drop(DropRule)
    case delay(DelayRule)
    case produce([MessageID], producer: Int)
    case crashApplication(producer: Int)
    case resendUnacknowledged(producer: Int)
    case startConsumer(Int)
    case crashConsumer(Int)
    case stopConsumer(Int)
    case alarm(BrokerID, ResourceAlarm, raised: Bool)
    case seek(consumer: Int, offset: Int)
    /// Kafka's partitioned topic: `add partitions 4` grows the topic (K-PART-04).
    case addPartitions(Int)
    /// Kafka's transactional producer: `begin p1`, `commit p1`, `abort p1`.
    case transaction(producer: Int, TransactionAction)
}

/// What a scenario asks of a transactional producer.
public enum TransactionAction: String, Sendable, Equatable {
    case begin
    case commit
    case abort
}

/// A send spread over time: `produce 100 every 5ms`.
struct PacedSend: Sendable {
    var producer: Int
    var messages: [MessageID]
    var next: Int
    var every: Millis
}
