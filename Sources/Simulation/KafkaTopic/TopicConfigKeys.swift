/// The config keys of the partitioned-topic model (KafkaTopicWorld): partitions, groups,
/// transactions, retention and compaction. Kept apart from the rest of KafkaConfig.table so the
/// type checker takes the two lists one at a time.
extension KafkaConfig {
    static var partitionedTopicConfigKeys: [ConfigKey<KafkaConfig>] {
        let (producer, consumer, topic, broker) = (
            Documentation.producer, Documentation.consumer, Documentation.topic, Documentation.broker
        )
        let most = Int(Int32.max)
        var keys: [ConfigKey<KafkaConfig>] = []
        keys.append(
            ConfigKey(
                "num.partitions",
                values: "1 to 64 (set, the scenario runs on the partitioned-topic model)",
                source: broker("num.partitions"),
                default: { $0.numPartitions.map(String.init) ?? "unset (one partition, replicated)" },
                apply: { config, setting throws(ConfigError) in
                    config.numPartitions = try setting.integer(1...64)
                }))
        keys.append(
            .choice(
                "partition.assignment.strategy", \.assignmentStrategy, AssignmentStrategy.allCases,
                source: consumer("partition.assignment.strategy")))
        keys.append(
            .integer(
                "group.initial.rebalance.delay.ms", \.groupInitialRebalanceDelayMs, 0...most,
                source: broker("group.initial.rebalance.delay.ms")))
        keys.append(
            .integer(
                "heartbeat.interval.ms", \.heartbeatIntervalMs, 1...most,
                source: consumer("heartbeat.interval.ms")))
        keys.append(
            .integer(
                "metadata.max.age.ms", \.metadataMaxAgeMs, 0...most,
                source: producer("metadata.max.age.ms")))
        keys.append(
            ConfigKey(
                "transactional.id",
                values: "a name (set, every producer is transactional with it)",
                source: producer("transactional.id"),
                default: { $0.transactionalID ?? "unset" },
                apply: { config, setting throws(ConfigError) in
                    guard !setting.value.isEmpty else {
                        throw ConfigError(key: setting.key, reason: "expected a name")
                    }
                    config.transactionalID = setting.value
                }))
        keys.append(
            .integer(
                "transaction.timeout.ms", \.transactionTimeoutMs, 1...900_000,
                source: producer("transaction.timeout.ms")))
        keys.append(
            .integer(
                "transaction.abort.timed.out.transaction.cleanup.interval.ms",
                \.transactionAbortCheckIntervalMs, 1...most,
                source: broker("transaction.abort.timed.out.transaction.cleanup.interval.ms")))
        keys.append(
            .choice(
                "isolation.level", \.isolationLevel, IsolationLevel.allCases,
                source: consumer("isolation.level")))
        keys.append(
            ConfigKey(
                "cleanup.policy", values: "delete, compact or compact,delete",
                source: topic("cleanup.policy"),
                default: { $0.cleanupPolicy.rawValue },
                apply: { config, setting throws(ConfigError) in
                    let value = String(setting.value.filter { $0 != " " })
                    guard
                        let policy = CleanupPolicy(
                            rawValue: value == "delete,compact" ? "compact,delete" : value)
                    else {
                        throw ConfigError(
                            key: setting.key,
                            reason: "expected delete, compact or compact,delete, got '\(setting.value)'")
                    }
                    config.cleanupPolicy = policy
                }))
        keys.append(
            ConfigKey(
                "retention.ms", values: "-1 (no limit) or 0 to \(most)", source: topic("retention.ms"),
                default: { String($0.retentionMs) },
                apply: { config, setting throws(ConfigError) in
                    config.retentionMs = setting.value == "-1" ? -1 : try setting.integer(0...most)
                }))
        keys.append(
            ConfigKey(
                "retention.bytes", values: "-1 (no limit) or 0 to \(most)", source: topic("retention.bytes"),
                default: { String($0.retentionBytes) },
                apply: { config, setting throws(ConfigError) in
                    config.retentionBytes = setting.value == "-1" ? -1 : try setting.integer(0...most)
                }))
        keys.append(
            .integer("segment.bytes", \.segmentBytes, 1...Int(Int32.max), source: topic("segment.bytes")))
        keys.append(
            .integer("segment.ms", \.segmentMs, 1...most, source: topic("segment.ms")))
        keys.append(
            .integer(
                "log.retention.check.interval.ms", \.logRetentionCheckIntervalMs, 1...most,
                source: broker("log.retention.check.interval.ms")))
        keys.append(
            .integer(
                "log.initial.task.delay.ms", \.logInitialTaskDelayMs, 0...most,
                source: broker("log.initial.task.delay.ms")))
        keys.append(
            ConfigKey(
                "min.cleanable.dirty.ratio", values: "0 to 1", source: topic("min.cleanable.dirty.ratio"),
                default: { String($0.minCleanableDirtyRatio) },
                apply: { config, setting throws(ConfigError) in
                    guard let ratio = Double(setting.value), (0...1).contains(ratio) else {
                        throw ConfigError(
                            key: setting.key, reason: "expected a number from 0 to 1, got '\(setting.value)'")
                    }
                    config.minCleanableDirtyRatio = ratio
                }))
        keys.append(
            .integer(
                "log.cleaner.backoff.ms", \.logCleanerBackoffMs, 1...most,
                source: broker("log.cleaner.backoff.ms")))
        keys.append(
            .integer(
                "delete.retention.ms", \.deleteRetentionMs, 0...most, source: topic("delete.retention.ms")))
        keys.append(
            .integer(
                "min.compaction.lag.ms", \.minCompactionLagMs, 0...most,
                source: topic("min.compaction.lag.ms")))
        return keys
    }
}
