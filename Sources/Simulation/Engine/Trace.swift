/// Something that happened in the world, worth a line in the trace. Notes are facts, not
/// prose: the renderer turns them into words, and the checker reads them to build witnesses.
public enum Note: Equatable, Sendable {
    case step(String)
    // Brokers and the controller.
    case appended(broker: BrokerID, from: Offset, messages: [MessageID], epoch: Epoch)
    case replicated(broker: BrokerID, from: Offset, messages: [MessageID])
    case truncated(broker: BrokerID, to: Offset, removed: [MessageID], reason: TruncationReason)
    case highWatermark(broker: BrokerID, to: Offset)
    case becameLeader(broker: BrokerID, epoch: Epoch)
    case becameFollower(broker: BrokerID, leader: BrokerID?, epoch: Epoch)
    case isrChanged(isr: [BrokerID], epoch: Epoch)
    case elected(leader: BrokerID, epoch: Epoch, clean: Bool, isr: [BrokerID])
    case offline(epoch: Epoch, isr: [BrokerID])
    case fenced(broker: BrokerID)
    case unfenced(broker: BrokerID)
    case duplicateBatch(broker: BrokerID, messages: [MessageID], offset: Offset)
    case rejected(broker: BrokerID, messages: [MessageID], error: KafkaError)
    // Faults.
    case crashed(node: NodeID, fault: Fault)
    case restarted(node: NodeID)
    case paused(node: NodeID, milliseconds: Millis)
    case partitioned(description: String)
    case healed
    case dropped(kind: MessageKind, from: NodeID, to: NodeID, reason: DropReason)
    // Producers.
    case sent(producer: Int, messages: [MessageID], to: BrokerID, attempt: Int, sequence: Int?)
    case acknowledged(producer: Int, messages: [MessageID], offset: Offset?, broker: BrokerID)
    case failed(producer: Int, messages: [MessageID], error: String, retrying: Bool)
    case newSession(producer: Int, id: ProducerID?)
    /// send() found buffer.memory full: the application's thread waits (K-PRD-15).
    case sendBlocked(producer: Int, message: MessageID, bufferedBytes: Int)
    // Consumers.
    case polled(consumer: Int, from: Offset, messages: [MessageID])
    case processed(consumer: Int, message: MessageID, offset: Offset)
    case committedOffset(consumer: Int, offset: Offset, ok: Bool)
    case assigned(consumer: Int, generation: Int, position: Offset)
    case leftGroup(consumer: Int, reason: String)
    /// The application called seek(): the next fetch starts at `offset` (K-CON-13).
    case seeked(consumer: Int, offset: Offset)
    // Queue brokers (RabbitMQ).
    case queue(QueueNote)
    // Kafka's partitioned-topic model: partitions, groups, transactions.
    case topic(TopicNote)

    /// Whether the note is routine background (heartbeats, watermark steps): hidden unless asked.
    public var isRoutine: Bool {
        switch self {
        case .highWatermark: true
        case .queue(.fsynced): true
        default: false
        }
    }
}

public enum TruncationReason: String, Sendable {
    case divergingEpoch = "diverging leader epoch"
    case highWatermark = "truncate to high watermark on becoming follower"
    case powerLoss = "power loss: unflushed tail lost"
    case diskLoss = "disk lost"
}

/// The kinds of node failure.
public enum Fault: String, Sendable {
    case crash
    case powerLoss = "power loss"
    case diskLoss = "disk loss"
    case applicationCrash = "application crash"
}

/// A note with when and where it happened.
public struct TraceEvent: Equatable, Sendable {
    public var time: Millis
    public var node: NodeID
    public var note: Note
}

/// A 64-bit running hash of everything that happened, for determinism checks without keeping the
/// trace: two runs agree when their hashes agree.
struct TraceHasher {
    private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325

    mutating func mix(_ number: Int) {
        value = (value ^ UInt64(bitPattern: Int64(number))) &* 0x0000_0100_0000_01b3
        value ^= value >> 29
    }
}
