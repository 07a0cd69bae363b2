/// A record a producer sends: its message and the partition it chose.
struct TopicSend: Equatable, Sendable {
    var message: MessageID
    var partition: Int
    /// The history index of the send, to complete it.
    var call: Int
    var key: String?
    var tombstone = false
}

/// A fetched record as the consumer gets it.
struct FetchedRecord: Equatable, Sendable {
    var message: MessageID
    var partition: Int
    var offset: Int
}

/// Why the coordinator answers a heartbeat with an error (classic protocol).
enum GroupError: String, Equatable, Sendable {
    case rebalanceInProgress = "REBALANCE_IN_PROGRESS"
    case unknownMember = "UNKNOWN_MEMBER_ID"
    case illegalGeneration = "ILLEGAL_GENERATION"
    /// Another instance took this member's group.instance.id (K-GRP-10).
    case fencedInstanceID = "FENCED_INSTANCE_ID"
}

/// What travels between the clients and the cluster (B1: every partition's leader, the group
/// coordinator and the transaction coordinator).
enum TopicPayload: WirePayload {
    /// `transactional` carries the producer id and epoch of a transactional producer.
    case produce(request: Int, partition: Int, sends: [TopicSend], transactional: (id: Int, epoch: Int)?)
    case produceResponse(request: Int, partition: Int, baseOffset: Int?, error: String?)
    /// initTransactions(): the coordinator bumps the epoch and aborts what the previous
    /// instance left open (K-TXN-08).
    case initProducerID(transactionalID: String)
    case producerIdentity(id: Int, epoch: Int)
    /// commitTransaction() or abortTransaction(); `offsets` are sendOffsetsToTransaction's.
    case endTransaction(id: Int, epoch: Int, commit: Bool)
    case endTransactionResponse(commit: Bool, error: String?)
    /// One fetch for every assigned partition, each from its position.
    case fetch(request: Int, consumer: Int, positions: [(partition: Int, offset: Int)], maxRecords: Int)
    /// The records, and each partition's position after them (control and aborted records
    /// skipped on the broker's side move it too).
    /// `outOfRange`: positions below the log start, reset by auto.offset.reset (K-CON-12).
    case fetchResponse(
        request: Int, records: [FetchedRecord], next: [(partition: Int, offset: Int)],
        outOfRange: [(partition: Int, from: Int, to: Int)])
    /// JoinGroup and SyncGroup as one exchange (K-GRP-01 SIMPLIFICATION).
    /// `member` tells a consumer's incarnations apart: a restarted dynamic member is a new one
    /// (Kafka gives it a new member id), and the old one stays until its session expires.
    /// `partitions`: the topic's partition count in the member's metadata; the group leader's is
    /// the one the assignment uses (K-PART-05).
    case join(consumer: Int, member: Int, instance: String?, owned: [Int], partitions: Int)
    case assignment(member: Int, generation: Int, partitions: [Int], committed: [Int: Int], leader: Bool)
    case heartbeat(consumer: Int, member: Int, generation: Int)
    case heartbeatResponse(member: Int, generation: Int, error: GroupError?)
    case leave(consumer: Int, member: Int)
    case commit(consumer: Int, member: Int, generation: Int, offsets: [Int: Int])
    case commitResponse(ok: Bool, offsets: [Int: Int])

    var kind: MessageKind {
        switch self {
        case .produce: .produce
        case .produceResponse: .produceResponse
        case .initProducerID, .producerIdentity, .endTransaction, .endTransactionResponse: .endTransaction
        case .fetch: .consumerFetch
        case .fetchResponse: .consumerFetchResponse
        case .join, .assignment, .heartbeat, .heartbeatResponse, .leave: .group
        case .commit: .offsetCommit
        case .commitResponse: .offsetCommitResponse
        }
    }
}

/// The partitioned-topic model's timers.
enum TopicTimer: Sendable {
    case fetchExpired(request: Int)
    case rebalanceDeadline(round: Int)
    /// group.initial.rebalance.delay.ms ran out for an empty group's rebalance.
    case initialDelay(round: Int)
    case sessionCheck
    case transactionCheck
    case retentionCheck
    case cleanerCheck
    case heartbeat
    case consumerWake
    case pollAgain
    /// request.timeout.ms for the consumer's fetch or commit with this number.
    case requestTimeout(request: Int)
}
