/// One record in a partition's log.
///
/// Stored as 32-bit numbers: every fetch response copies a slice of the log, and a record half
/// the size is half the copying (28 bytes instead of 64). Runs never come near 2^31 messages,
/// epochs or sequence numbers; the initializer traps if one does.
public struct Record: Equatable, Sendable {
    private var storedMessage: Int32
    private var storedEpoch: Int32
    /// -1 without a producer id.
    private var storedProducer: Int32
    private var storedProducerEpoch: Int32
    private var storedSequence: Int32
    private var storedBatchFirstSequence: Int32
    private var storedBatchLastSequence: Int32

    public init(
        message: MessageID, epoch: Epoch, producer: ProducerID?, producerEpoch: Int, sequence: Int,
        batchFirstSequence: Int, batchLastSequence: Int
    ) {
        storedMessage = Int32(message.value)
        storedEpoch = Int32(epoch.value)
        storedProducer = Int32(producer?.value ?? -1)
        storedProducerEpoch = Int32(producerEpoch)
        storedSequence = Int32(sequence)
        storedBatchFirstSequence = Int32(batchFirstSequence)
        storedBatchLastSequence = Int32(batchLastSequence)
    }

    public var message: MessageID { MessageID(Int(storedMessage)) }
    /// The leader epoch in which the record was appended (K-REP-03).
    public var epoch: Epoch { Epoch(Int(storedEpoch)) }
    public var producer: ProducerID? { storedProducer < 0 ? nil : ProducerID(Int(storedProducer)) }
    public var producerEpoch: Int { Int(storedProducerEpoch) }
    /// The record's sequence number for the idempotent producer, or -1 without idempotence.
    public var sequence: Int { Int(storedSequence) }
    /// The sequence range of the batch the record came in, so that a replica rebuilding producer
    /// state from its log sees the same batches the leader saw (K-PRD-07).
    public var batchFirstSequence: Int { Int(storedBatchFirstSequence) }
    public var batchLastSequence: Int { Int(storedBatchLastSequence) }
}

/// Kafka error codes the model produces, named as the protocol names them.
public enum KafkaError: String, Equatable, Sendable {
    case notLeaderOrFollower = "NOT_LEADER_OR_FOLLOWER"
    case notEnoughReplicas = "NOT_ENOUGH_REPLICAS"
    case notEnoughReplicasAfterAppend = "NOT_ENOUGH_REPLICAS_AFTER_APPEND"
    case requestTimedOut = "REQUEST_TIMED_OUT"
    case outOfOrderSequenceNumber = "OUT_OF_ORDER_SEQUENCE_NUMBER"
    case invalidProducerEpoch = "INVALID_PRODUCER_EPOCH"
    /// Client side: the connection was refused or reset before the request reached the broker.
    case networkException = "NETWORK_EXCEPTION"
    /// Client side: the broker's process died with the request in flight; the kernel closed the
    /// connection, and NetworkClient fails the request at once (K-PRD-18). It may have appended.
    case disconnected = "NETWORK_EXCEPTION (the server disconnected before a response was received)"

    /// Whether the producer may retry after it (K-PRD-03).
    var isRetriable: Bool {
        switch self {
        case .invalidProducerEpoch: false
        default: true
        }
    }

    /// Whether the broker may have appended the batch before answering with this error.
    var mayHaveAppended: Bool {
        switch self {
        case .notEnoughReplicas, .outOfOrderSequenceNumber, .invalidProducerEpoch, .networkException: false
        // NOT_LEADER_OR_FOLLOWER from a deposed leader's purgatory, a timeout, or an append that
        // committed with too few replicas: the record is in a log and its fate is open.
        case .notLeaderOrFollower, .requestTimedOut, .notEnoughReplicasAfterAppend, .disconnected: true
        }
    }
}

/// A producer's batch as it travels in a produce request.
public struct ProduceBatch: Equatable, Sendable {
    public var messages: [MessageID]
    public var producer: ProducerID?
    public var producerEpoch: Int
    public var baseSequence: Int
    public var lastSequence: Int { baseSequence + messages.count - 1 }
}

/// The controller's view of the partition, as it tells brokers.
public struct PartitionState: Equatable, Sendable {
    public var leader: BrokerID?
    public var leaderEpoch: Epoch
    public var isr: [BrokerID]
    /// Bumped on every leader or ISR change, so a broker applies only newer states.
    public var partitionEpoch: Int
}

/// What travels over the simulated network.
public enum Payload: Sendable {
    case produce(request: Int, batch: ProduceBatch, acks: Acks)
    case produceResponse(request: Int, error: KafkaError?, baseOffset: Offset?)
    case fetch(
        request: Int, replica: BrokerID, fetchOffset: Offset, lastFetchedEpoch: Epoch?,
        currentLeaderEpoch: Epoch)
    case fetchResponse(
        request: Int, from: Offset, records: [Record], highWatermark: Offset,
        diverging: (epoch: Epoch, endOffset: Offset)?, notLeader: Bool)
    case heartbeat(BrokerID)
    case partitionState(PartitionState)
    case alterPartition(leader: BrokerID, leaderEpoch: Epoch, isr: [BrokerID])
    case consumerFetch(request: Int, offset: Offset, maxRecords: Int)
    case consumerFetchResponse(request: Int, from: Offset, records: [Record], logEnd: Offset, notLeader: Bool)
    case joinGroup(consumer: Int)
    case joinResponse(generation: Int, assigned: Bool, committed: Offset?)
    case groupHeartbeat(consumer: Int, generation: Int)
    case leaveGroup(consumer: Int)
    case offsetCommit(consumer: Int, generation: Int, offset: Offset)
    case offsetCommitResponse(ok: Bool, offset: Offset)

    /// The kind a fault rule can target: `drop next fetch-response to B2`.
    public var kind: MessageKind {
        switch self {
        case .produce: .produce
        case .produceResponse: .produceResponse
        case .fetch: .fetch
        case .fetchResponse: .fetchResponse
        case .heartbeat: .heartbeat
        case .partitionState: .partitionState
        case .alterPartition: .alterPartition
        case .consumerFetch: .consumerFetch
        case .consumerFetchResponse: .consumerFetchResponse
        case .joinGroup, .joinResponse, .groupHeartbeat, .leaveGroup: .group
        case .offsetCommit: .offsetCommit
        case .offsetCommitResponse: .offsetCommitResponse
        }
    }
}

extension Payload: WirePayload {}
