// The kinds of network message every broker model sends, in one vocabulary because fault rules
// (`drop 50% of fetch`) and the network match them by name. Each broker uses only its own; a
// scenario's fault rules are checked against the kinds its broker sends (Scenario validation).

/// Message kinds as fault rules and scenario files name them.
public enum MessageKind: String, CaseIterable, Sendable {
    case produce
    case produceResponse = "produce-response"
    case fetch
    case fetchResponse = "fetch-response"
    case heartbeat
    case partitionState = "partition-state"
    case alterPartition = "alter-partition"
    case consumerFetch = "consumer-fetch"
    case consumerFetchResponse = "consumer-fetch-response"
    case group
    case offsetCommit = "offset-commit"
    case offsetCommitResponse = "offset-commit-response"
    // RabbitMQ (AMQP 0-9-1 methods and the quorum queue's Raft messages).
    case publish
    /// A publisher confirm: `basic.ack` or `basic.nack` from the broker.
    case confirm
    /// `basic.return` of an unroutable mandatory message.
    case `return`
    case deliver
    /// A consumer's `basic.ack`, `basic.nack` or `basic.reject`.
    case ack
    case consume
    case raftAppend = "raft-append"
    case raftAppendResponse = "raft-append-response"
    case raftVote = "raft-vote"
    // RocketMQ remoting commands.
    /// SEND_MESSAGE from a producer; also a transactional half message.
    case send
    case sendResult = "send-result"
    /// END_TRANSACTION, a oneway commit or rollback of a half message.
    case endTransaction = "end-transaction"
    /// CHECK_TRANSACTION_STATE, the broker's check-back.
    case checkTransaction = "check-transaction"
    /// The master's commit log pushed to its slave (HAConnection).
    case haTransfer = "ha-transfer"
    /// The slave's reported offset (HAClient).
    case haReport = "ha-report"
    case pull
    case pullResult = "pull-result"
    /// CONSUMER_SEND_MSG_BACK: a failed message handed back for a retry.
    case sendBack = "send-back"
    // ActiveMQ OpenWire.
    /// The broker's receipt for a synchronous send.
    case receipt
}

extension MessageKind {
    /// Whether a model of `system` ever sends this kind: a fault rule on a kind the broker never
    /// sends would silently match nothing, so a scenario naming one is refused.
    public func isSent(in system: BrokerSystem) -> Bool {
        switch system {
        case .kafka:
            [
                .produce, .produceResponse, .fetch, .fetchResponse, .heartbeat, .partitionState,
                .alterPartition,
                .consumerFetch, .consumerFetchResponse, .group, .offsetCommit, .offsetCommitResponse,
            ].contains(self)
        case .rabbitmq:
            [
                .publish, .confirm, .return, .deliver, .ack, .consume, .raftAppend, .raftAppendResponse,
                .raftVote,
            ]
            .contains(self)
        case .rocketmq:
            [
                .send, .sendResult, .endTransaction, .checkTransaction, .haTransfer, .haReport, .pull,
                .pullResult,
                .sendBack,
            ].contains(self)
        case .activemq: [.send, .receipt, .deliver, .ack, .consume].contains(self)
        }
    }

    /// The kinds a model of `system` sends, for error messages.
    public static func sent(in system: BrokerSystem) -> [MessageKind] {
        allCases.filter { $0.isSent(in: system) }
    }
}
