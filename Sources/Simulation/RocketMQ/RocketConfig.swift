// Theory of operation
//
// RocketMQ scenarios name their settings as RocketMQ 4.9 names them: broker settings from
// `MessageStoreConfig` and `BrokerConfig` (`brokerRole`, `flushDiskType`, `syncFlushTimeout`,
// `transactionCheckInterval`), producer settings from `DefaultMQProducer` (`sendMsgTimeout`,
// `retryTimesWhenSendFailed`) and consumer settings from `DefaultMQPushConsumer`
// (`messageModel`, `maxReconsumeTimes`). Every broker master has the same role and flush type,
// as in a cluster deployed from one broker.conf.
//
// Rules: ../shared/reference/semantics.md §5 (RKT-01 to RKT-10), RocketMQ 4.9.7 classic
// master/slave. DLedger and the 5.x controller mode are out of scope (RKT-05).

/// The RocketMQ release line a run follows.
public enum RocketVersion: String, CaseIterable, Sendable {
    /// 4.x classic master/slave: no automatic failover, SLAVE_NOT_AVAILABLE when no slave is
    /// connected (RKT-02, RKT-05).
    case v4 = "4.x"

    public init?(parsing text: String) {
        if text == "4.x" || text.hasPrefix("4.") || text == "4" {
            self = .v4
        } else {
            return nil
        }
    }
}

/// What a `MessageListenerConcurrently` returns for each message (RKT-09).
public enum ConsumeStatus: String, CaseIterable, Sendable {
    case success = "CONSUME_SUCCESS"
    /// Also what an exception or a null return counts as.
    case reconsumeLater = "RECONSUME_LATER"
    /// An orderly listener's failure (ConsumeOrderlyStatus): retry in place after a pause (RKT-19).
    case suspendCurrentQueue = "SUSPEND_CURRENT_QUEUE_A_MOMENT"
}

/// A push consumer application: what its listener returns, and what it deduplicates on.
public struct RocketConsumerSpec: Equatable, Sendable {
    /// What the application remembers to skip a message it has processed (RKT-12).
    public enum Dedupe: String, CaseIterable, Sendable {
        case none
        /// The msgId (UNIQ_KEY): the same across a send()'s retries and a consumer retry, new for
        /// an application re-send.
        case msgId = "msgid"
        /// A business key in KEYS (an order id): the same for every copy of the message.
        case key
    }

    /// MessageListenerConcurrently, or MessageListenerOrderly (RKT-19).
    public enum Listener: String, CaseIterable, Sendable {
        case concurrently
        case orderly
    }

    public var status: ConsumeStatus
    public var dedupe: Dedupe
    public var listener: Listener
    /// The messages `status` applies to (`for: [m1]`); the others succeed. Empty: every message.
    public var only: [String]
    /// How many deliveries of each such message get `status` before it succeeds (`times: 1`);
    /// nil: every delivery.
    public var times: Int?
    /// How long the dedupe store keeps a key (a Redis TTL, a table partition dropped by day);
    /// nil: for ever. A copy arriving later is processed as new.
    public var dedupeWindowMs: Millis?

    public init(
        status: ConsumeStatus, dedupe: Dedupe = .none, listener: Listener = .concurrently,
        only: [String] = [], times: Int? = nil, dedupeWindowMs: Millis? = nil
    ) {
        self.dedupeWindowMs = dedupeWindowMs
        self.status = status
        self.dedupe = dedupe
        self.listener = listener
        self.only = only
        self.times = times
    }
}

/// What a transactional producer's `executeLocalTransaction` does to the local database, and
/// so what `checkLocalTransaction` later finds there (RKT-08).
public enum LocalTransaction: String, CaseIterable, Sendable {
    /// The database transaction commits; the listener returns COMMIT_MESSAGE.
    case commit
    /// It rolls back; ROLLBACK_MESSAGE.
    case rollback
    /// The listener cannot tell (it returns UNKNOW, and so does every check).
    case unknown
    /// The database transaction commits, yet the listener answers UNKNOW, and so does every
    /// check (it cannot see the commit): the business change is done, the message never comes.
    case commitAnsweredUnknown = "commit-answered-unknown"
}

public struct RocketConfig: Sendable, Equatable {
    public enum BrokerRole: String, Sendable {
        case asyncMaster = "ASYNC_MASTER"
        case syncMaster = "SYNC_MASTER"
    }
    public enum FlushDiskType: String, Sendable {
        case asyncFlush = "ASYNC_FLUSH"
        case syncFlush = "SYNC_FLUSH"
    }
    public enum MessageModel: String, Sendable {
        case clustering = "CLUSTERING"
        case broadcasting = "BROADCASTING"
    }

    public var version: RocketVersion
    /// B1 is the master of broker group a and B2 its slave; B3 and B4 the same for group b.
    public var nodes: Int

    /// How the commit log reaches the disk (MessageStoreConfig).
    public struct Flush: Equatable, Sendable {
        public var flushDiskType = FlushDiskType.asyncFlush
        public var syncFlushTimeout: Millis = 5_000
        public var flushIntervalCommitLog: Millis = 500
        public var flushCommitLogLeastPages = 4
        public var flushCommitLogThoroughInterval: Millis = 10_000
    }
    public var flush = Flush()

    /// Master/slave replication (MessageStoreConfig). Every master has the same role.
    public struct Replication: Equatable, Sendable {
        public var brokerRole = BrokerRole.asyncMaster
        public var slaveTimeout: Millis = 3_000
        /// How often the slave reports its offset to the master when idle (haSendHeartbeatInterval).
        public var haHeartbeatMs: Millis = 5_000
        /// How long a master keeps a silent slave's connection (haHousekeepingInterval).
        public var haHousekeepingMs: Millis = 20_000
    }
    public var replication = Replication()

    /// The broker's checks of half messages nobody committed or rolled back (BrokerConfig).
    public struct TransactionCheck: Equatable, Sendable {
        public var transactionTimeOut: Millis = 6_000
        /// 60 s in 4.x's BrokerConfig; 5.x lowered it to 30 s.
        public var transactionCheckInterval: Millis = 60_000
        public var transactionCheckMax = 15
    }
    public var transactionCheck = TransactionCheck()

    /// DefaultMQProducer, or TransactionMQProducer with `transactional`.
    public struct Producer: Equatable, Sendable {
        public var sendMsgTimeout: Millis = 3_000
        public var retryTimesWhenSendFailed = 2
        public var retryAnotherBrokerWhenNotStoreOK = false
        /// Every send is a half message first.
        public var transactional = false
        public var localTransaction = LocalTransaction.commit
        /// How long `executeLocalTransaction` runs before it returns.
        public var localTransactionMs: Millis = 20
    }
    public var producer = Producer()

    /// DefaultMQPushConsumer.
    public struct Consumer: Equatable, Sendable {
        public var messageModel = MessageModel.clustering
        /// 16 by default; -1 also means 16 for concurrent consumption (RKT-09).
        public var maxReconsumeTimes = -1
        /// How often a consumer and the broker persist consume offsets (persistConsumerOffsetInterval).
        public var persistOffsetMs: Millis = 5_000
        /// How long an orderly consumer waits before retrying a failed message in place (RKT-19).
        public var suspendCurrentQueueTimeMillis: Millis = 1_000

        /// Retries before `%DLQ%`: -1 means 16 (RKT-09).
        public var effectiveMaxReconsumeTimes: Int { maxReconsumeTimes == -1 ? 16 : maxReconsumeTimes }
    }
    public var consumer = Consumer()

    // The simulator's own knobs.
    public var networkDelayMs: ClosedRange<Millis> = 1...3
    /// How long one flush (force) of the commit log takes; a slow disk is a large value.
    public var fsyncMs: Millis = 5
    /// Bytes per message, for the page arithmetic of the async flush (a page is 4 KB).
    public var messageBytes = 1_024
    public var processingMs: Millis = 10

    /// The 18 delay levels of `messageDelayLevel`, in milliseconds.
    public static let delayLevels: [Millis] = [
        1_000, 5_000, 10_000, 30_000, 60_000, 120_000, 180_000, 240_000, 300_000, 360_000, 420_000, 480_000,
        540_000, 600_000, 1_200_000, 1_800_000, 3_600_000, 7_200_000,
    ]

    /// Every config key a scenario may set, with its values, default and documentation.
    public static var table: ConfigTable<RocketConfig> {
        ConfigTable(
            system: "RocketMQ",
            keys: [
                ConfigKey(
                    "brokerRole",
                    values: "ASYNC_MASTER or SYNC_MASTER (the masters' role; B2 and B4 are slaves)",
                    source:
                        "https://github.com/apache/rocketmq/blob/rocketmq-all-4.9.7/store/src/main/java/org/apache/rocketmq/store/config/MessageStoreConfig.java",
                    default: { $0.replication.brokerRole.rawValue },
                    apply: { config, setting throws(ConfigError) in
                        if setting.value == "SLAVE" {
                            throw ConfigError(
                                key: setting.key,
                                reason: "B2 and B4 are the slaves; set the masters' role here")
                        }
                        config.replication.brokerRole = try setting.choice([
                            BrokerRole.asyncMaster, .syncMaster,
                        ])
                    }),
                .choice(
                    "flushDiskType", \.flush.flushDiskType, [FlushDiskType.asyncFlush, .syncFlush],
                    source:
                        "https://github.com/apache/rocketmq/blob/rocketmq-all-4.9.7/store/src/main/java/org/apache/rocketmq/store/config/MessageStoreConfig.java"
                ),
                .integer(
                    "syncFlushTimeout", \.flush.syncFlushTimeout, 1...600_000,
                    source:
                        "https://github.com/apache/rocketmq/blob/rocketmq-all-4.9.7/store/src/main/java/org/apache/rocketmq/store/config/MessageStoreConfig.java"
                ),
                .integer(
                    "slaveTimeout", \.replication.slaveTimeout, 1...600_000,
                    source:
                        "https://github.com/apache/rocketmq/blob/rocketmq-all-4.9.7/store/src/main/java/org/apache/rocketmq/store/config/MessageStoreConfig.java"
                ),
                .integer(
                    "flushIntervalCommitLog", \.flush.flushIntervalCommitLog, 1...600_000,
                    source:
                        "https://github.com/apache/rocketmq/blob/rocketmq-all-4.9.7/store/src/main/java/org/apache/rocketmq/store/config/MessageStoreConfig.java"
                ),
                .integer(
                    "flushCommitLogLeastPages", \.flush.flushCommitLogLeastPages, 0...1_000_000,
                    source:
                        "https://github.com/apache/rocketmq/blob/rocketmq-all-4.9.7/store/src/main/java/org/apache/rocketmq/store/config/MessageStoreConfig.java"
                ),
                .integer(
                    "flushCommitLogThoroughInterval", \.flush.flushCommitLogThoroughInterval, 1...3_600_000,
                    source:
                        "https://github.com/apache/rocketmq/blob/rocketmq-all-4.9.7/store/src/main/java/org/apache/rocketmq/store/config/MessageStoreConfig.java"
                ),
                .integer(
                    "transactionTimeOut", \.transactionCheck.transactionTimeOut, 0...3_600_000,
                    source:
                        "https://github.com/apache/rocketmq/blob/rocketmq-all-4.9.7/common/src/main/java/org/apache/rocketmq/common/BrokerConfig.java"
                ),
                .integer(
                    "transactionCheckInterval", \.transactionCheck.transactionCheckInterval,
                    1_000...3_600_000,
                    source:
                        "https://github.com/apache/rocketmq/blob/rocketmq-all-4.9.7/common/src/main/java/org/apache/rocketmq/common/BrokerConfig.java"
                ),
                .integer(
                    "transactionCheckMax", \.transactionCheck.transactionCheckMax, 1...1_000,
                    source:
                        "https://github.com/apache/rocketmq/blob/rocketmq-all-4.9.7/common/src/main/java/org/apache/rocketmq/common/BrokerConfig.java"
                ),
                .integer(
                    "sendMsgTimeout", \.producer.sendMsgTimeout, 1...600_000,
                    source:
                        "https://github.com/apache/rocketmq/blob/rocketmq-all-4.9.7/client/src/main/java/org/apache/rocketmq/client/producer/DefaultMQProducer.java"
                ),
                .integer(
                    "retryTimesWhenSendFailed", \.producer.retryTimesWhenSendFailed, 0...16,
                    source:
                        "https://github.com/apache/rocketmq/blob/rocketmq-all-4.9.7/client/src/main/java/org/apache/rocketmq/client/producer/DefaultMQProducer.java"
                ),
                .boolean(
                    "retryAnotherBrokerWhenNotStoreOK", \.producer.retryAnotherBrokerWhenNotStoreOK,
                    source:
                        "https://github.com/apache/rocketmq/blob/rocketmq-all-4.9.7/client/src/main/java/org/apache/rocketmq/client/producer/DefaultMQProducer.java"
                ),
                .boolean(
                    "transactional", \.producer.transactional,
                    source: "https://rocketmq.apache.org/docs/4.x/producer/06message5"),
                .choice(
                    "sim.local-transaction", \.producer.localTransaction, LocalTransaction.allCases,
                    source: ConfigTable<RocketConfig>.simulator),
                .choice(
                    "messageModel", \.consumer.messageModel, [MessageModel.clustering, .broadcasting],
                    source:
                        "https://github.com/apache/rocketmq/blob/rocketmq-all-4.9.7/client/src/main/java/org/apache/rocketmq/client/consumer/DefaultMQPushConsumer.java"
                ),
                .integer(
                    "maxReconsumeTimes", \.consumer.maxReconsumeTimes, -1...32,
                    source:
                        "https://github.com/apache/rocketmq/blob/rocketmq-all-4.9.7/client/src/main/java/org/apache/rocketmq/client/consumer/DefaultMQPushConsumer.java"
                ),
                .integer(
                    "suspendCurrentQueueTimeMillis", \.consumer.suspendCurrentQueueTimeMillis, 10...30_000,
                    source:
                        "https://github.com/apache/rocketmq/blob/rocketmq-all-4.9.7/client/src/main/java/org/apache/rocketmq/client/consumer/DefaultMQPushConsumer.java"
                ),
                .milliseconds("sim.network.delay.ms", \.networkDelayMs),
                .integer("sim.fsync.ms", \.fsyncMs, 0...600_000, source: ConfigTable<RocketConfig>.simulator),
                .integer(
                    "sim.message.bytes", \.messageBytes, 1...4_194_304,
                    source: ConfigTable<RocketConfig>.simulator),
                .integer(
                    "sim.processing.ms", \.processingMs, 0...3_600_000,
                    source: ConfigTable<RocketConfig>.simulator),
                .integer(
                    "sim.local-transaction.ms", \.producer.localTransactionMs, 0...3_600_000,
                    source: ConfigTable<RocketConfig>.simulator),
            ])
    }

    /// The defaults with `settings` applied; every problem is reported, and the checks across
    /// keys run once each key is valid on its own.
    public static func resolve(version: RocketVersion, nodes: Int, settings: [(key: String, value: String)])
        throws(ConfigProblems) -> RocketConfig
    {
        guard (1...4).contains(nodes) else {
            throw ConfigProblems.one(
                key: "nodes",
                reason: "RocketMQ runs 1 to 4 nodes: B1 master, B2 its slave, B3 and B4 a second group")
        }
        var config = RocketConfig(version: version, nodes: nodes)
        let problems = table.apply(settings, to: &config)
        guard problems.isEmpty else { throw ConfigProblems(problems) }
        return config
    }
}
