import Experiments
import Simulation

/// The interface of the proof commands: run, run --seeds, verify, experiments, compare.
extension UIText {
    // MARK: - run

    static let proof = UIText(zh: "证明", en: "Proof")
    static let scenario = UIText(zh: "场景", en: "Scenario")
    static let claim = UIText(zh: "结论", en: "Claim")
    static let setup = UIText(zh: "配置", en: "Setup")
    static let run = UIText(zh: "运行", en: "Run")
    static let history = UIText(zh: "历史", en: "History")
    static let anomalies = UIText(zh: "异常", en: "Anomalies")
    static let expectations = UIText(zh: "预期", en: "Expectations")
    static let proves = UIText(zh: "证明了", en: "Proves")
    static let finalLog = UIText(zh: "最终日志", en: "Final log")
    static let finalQueue = UIText(zh: "队列 q", en: "Queue q")
    static let empty = UIText(zh: "（空）", en: "(empty)")
    static let none = UIText(zh: "无", en: "none")
    static let holdsMark = UIText(zh: "成立", en: "ok")
    static let failsMark = UIText(zh: "不成立", en: "FAIL")
    static let verdictHolds = UIText(zh: "判定：结果与预期一致。", en: "Verdict: the scenario came out as expected.")
    static let verdictFails = UIText(zh: "判定：有预期不成立。", en: "Verdict: an expectation does not hold.")
    static let noAnomalies = UIText(
        zh: "没有异常：确认过的消息没有丢失、重复或乱序，也没有被处理两次。",
        en: "No anomalies: nothing acknowledged was lost, duplicated, reordered or processed twice.")

    static func kind(_ kind: ExperimentInfo.Kind) -> UIText {
        switch kind {
        case .hazard: UIText(zh: "隐患", en: "hazard")
        case .safety: UIText(zh: "安全", en: "safety")
        }
    }

    static func systemSetup(_ scenario: Scenario) -> UIText {
        switch scenario.system {
        case .kafka(let version):
            UIText(
                zh: "Kafka \(version.rawValue)，\(scenario.brokers) 个 Broker",
                en: "Kafka \(version.rawValue), \(scenario.brokers) brokers")
        case .rabbitmq(let version):
            UIText(
                zh: "RabbitMQ \(version.rawValue)，\(scenario.brokers) 个节点",
                en:
                    "RabbitMQ \(version.rawValue), \(scenario.brokers) node\(scenario.brokers == 1 ? "" : "s")"
            )
        case .rocketmq(let version):
            UIText(
                zh: "RocketMQ \(version.rawValue)，\(scenario.brokers) 个节点",
                en:
                    "RocketMQ \(version.rawValue), \(scenario.brokers) node\(scenario.brokers == 1 ? "" : "s")"
            )
        case .activemq(let version):
            UIText(
                zh: "ActiveMQ Classic \(version.rawValue)，1 个 Broker",
                en: "ActiveMQ Classic \(version.rawValue), 1 broker")
        }
    }

    static func runSummary(seed: UInt64, events: Int, milliseconds: Int, hash: String) -> UIText {
        UIText(
            zh: "种子 \(seed)，\(events) 个事件，模拟 \(milliseconds) ms，trace \(hash)",
            en: "seed \(seed), \(events) events, \(milliseconds) ms simulated, trace \(hash)")
    }

    static func stepTimedOut(line: Int, step: String, at milliseconds: Int) -> UIText {
        UIText(
            zh: "第 \(line) 行「\(step)」在 \(milliseconds) ms 时超时",
            en: "line \(line): '\(step)' timed out at \(milliseconds) ms")
    }

    static func historySummary(acknowledged: Int, failed: Int, indeterminate: Int, recovered: Int) -> UIText {
        UIText(
            zh: "已确认 \(acknowledged) 条，失败 \(failed) 条，结果不明 \(indeterminate) 条（其中 \(recovered) 条在日志里）",
            en:
                "\(acknowledged) acknowledged, \(failed) failed, \(indeterminate) indeterminate (\(recovered) of them in the log)"
        )
    }

    /// An anomaly kind: its technical name, which scenario files use, glossed in Chinese.
    static func anomaly(_ kind: AnomalyKind) -> UIText {
        let gloss =
            switch kind {
            case .lostWrite: "已确认的写入丢失"
            case .duplicate: "重复"
            case .unexpected: "出现了从未发送的消息"
            case .reordered: "乱序"
            case .consumedThenLost: "投递后丢失，未被处理"
            case .processedTwice: "被处理了两次"
            case .neverProcessed: "从未被处理"
            case .pastDeliveryLimit: "投递次数超过上限"
            case .abortedRead: "读到并处理了已中止事务的消息"
            case .deletedUnread: "消费组处理之前就被保留策略删除"
            }
        return UIText(zh: "\(kind.rawValue)（\(gloss)）", en: kind.rawValue)
    }

    static func whyAnomaly(message: String, kind: AnomalyKind) -> UIText {
        UIText(zh: "为什么 \(message) 是 \(anomaly(kind).zh)", en: "Why \(message) is \(kind.rawValue)")
    }

    static func got(_ actual: String) -> UIText { UIText(zh: "（实际：\(actual)）", en: "(got \(actual))") }

    static func otherSide(_ contrast: String) -> UIText {
        UIText(
            zh: "结论的另一面：mqproof run \(contrast)", en: "The other side of the claim: mqproof run \(contrast)")
    }

    static func eventBudget(events: Int, at milliseconds: Int) -> UIText {
        UIText(
            zh: "mqproof：运行在事件上限处停止（\(events) 个事件，模拟时间 \(milliseconds) ms）；结果只涵盖到此为止的事件",
            en:
                "mqproof: the run stopped at its event budget (\(events) events, at \(milliseconds) ms simulated); the results cover the events up to then"
        )
    }

    static let traceLegend = UIText(
        zh: "图例：每个节点一列；● 该节点上的事件  ✖ 崩溃/断电/磁盘损坏  ↺ 重启  │ 运行中  · 宕机。\n时间是模拟的毫秒数。",
        en: """
            Legend: one column per node; ● event there  ✖ crash/power loss/disk loss  ↺ restart  │ up  · down.
            Times are simulated milliseconds.
            """)
    static let traceLegendASCII = UIText(
        zh: "图例：每个节点一列；* 该节点上的事件  X 崩溃/断电/磁盘损坏  R 重启  | 运行中  . 宕机。\n时间是模拟的毫秒数。",
        en: """
            Legend: one column per node; * event there  X crash/power loss/disk loss  R restart  | up  . down.
            Times are simulated milliseconds.
            """)
    static let traceTime = UIText(zh: "时间", en: "time")
    static let traceEvent = UIText(zh: "事件", en: "event")

    static func traceGap(_ events: Int) -> UIText {
        UIText(zh: "略去 \(events) 个事件", en: "\(events) event\(events == 1 ? "" : "s") left out")
    }

    static func traceCut(shown: Int, of total: Int) -> UIText {
        UIText(
            zh: "只列出与异常相关的 \(shown)/\(total) 个事件；--trace full 列出全部。",
            en: "\(shown) of \(total) events, those around the anomaly; --trace full shows them all.")
    }

    // MARK: - run --seeds

    static let sweep = UIText(zh: "扫描", en: "Sweep")
    static let expected = UIText(zh: "预期", en: "Expected")
    static let noAnomalyOnAnySeed = UIText(zh: "所有种子上都没有异常。", en: "No anomaly on any seed.")

    static func sweepSummary(seeds: Int, from: UInt64, to: UInt64, events: Int) -> UIText {
        UIText(
            zh: "\(seeds) 个种子（\(from)...\(to)），\(events) 个事件",
            en: "\(seeds) seeds (\(from)...\(to)), \(events) events")
    }

    static func heldOn(_ passed: Int, of seeds: Int) -> UIText {
        UIText(zh: "在 \(seeds) 个种子中的 \(passed) 个上成立", en: "held on \(passed) of \(seeds) seeds")
    }

    static func firstFailingSeed(_ seed: UInt64, reference: String) -> UIText {
        UIText(
            zh: "；第一个失败的种子是 \(seed)：mqproof run \(reference) --seed \(seed) --trace",
            en: "; first failing seed \(seed): mqproof run \(reference) --seed \(seed) --trace")
    }

    static func seedsShowing(hit: Int, of seeds: Int, percent: String) -> UIText {
        UIText(
            zh: "：\(seeds) 个种子中有 \(hit) 个出现（\(percent)%）",
            en: ": \(hit) of \(seeds) seeds (\(percent)%)")
    }

    static func smallestWitness(_ seed: UInt64) -> UIText {
        UIText(zh: "  最小的见证种子 \(seed)：", en: "  smallest witness seed \(seed): ")
    }

    static func sweepInterrupted(_ completed: Int, of seeds: Int) -> UIText {
        UIText(
            zh: "已中断：\(seeds) 个种子里跑完了 \(completed) 个，下面的统计只算这些。",
            en: "Interrupted: \(completed) of \(seeds) seeds ran; the statistics below cover those.")
    }

    static func sweepProgress(_ done: Int, of seeds: Int) -> UIText {
        UIText(zh: "\(done)/\(seeds) 个种子", en: "\(done)/\(seeds) seeds")
    }

    static let determinismHolds = UIText(zh: "mqproof：确定性成立", en: "mqproof: deterministic")

    static func deterministic(seed: UInt64, hash: String) -> UIText {
        UIText(
            zh: "mqproof：确定性成立：种子 \(seed) 的两次运行 trace hash 都是 \(hash)",
            en: "mqproof: deterministic: two runs of seed \(seed) have trace hash \(hash)")
    }

    static func notDeterministic(seed: UInt64, first: String, second: String) -> UIText {
        UIText(
            zh: "mqproof：不确定！种子 \(seed) 两次运行得到 \(first) 和 \(second)",
            en: "mqproof: NOT deterministic: seed \(seed) gave \(first) and \(second)")
    }

    // MARK: - verify

    static let verifyExperiment = UIText(zh: "实验", en: "claim")
    static let verifyKind = UIText(zh: "类型", en: "proves")
    static let verifyResult = UIText(zh: "结果", en: "result")
    static let verifyClaim = UIText(zh: "结论", en: "claim")

    static func witnessSeed(_ seed: UInt64) -> UIText {
        UIText(zh: "见证种子 \(seed)", en: "witness seed \(seed)")
    }

    static func seedsPassed(_ passed: Int, of seeds: Int) -> UIText {
        UIText(zh: "\(passed)/\(seeds) 个种子", en: "\(passed)/\(seeds) seeds")
    }

    static func failsOnSeed(_ seed: UInt64, experiment: String) -> UIText {
        UIText(
            zh: "在种子 \(seed) 上不成立：mqproof run \(experiment) --seed \(seed) --trace",
            en: "fails on seed \(seed): mqproof run \(experiment) --seed \(seed) --trace")
    }

    static func allProve(_ count: Int) -> UIText {
        UIText(zh: "全部 \(count) 个实验都证明了各自的结论。", en: "All \(count) experiments prove their claims.")
    }

    static func someFail(_ failed: Int, of count: Int) -> UIText {
        UIText(
            zh: "\(count) 个实验中有 \(failed) 个不再证明其结论。",
            en: "\(failed) of \(count) experiments no longer prove their claims.")
    }

    // MARK: - compare

    static func compareTitle(messages: Int, every: Int, faultAt: Int, down: Int) -> UIText {
        UIText(
            zh: "\(messages) 条消息，每 \(every) ms 一条；B1 在 \(faultAt) ms 断电，\(down) ms 后重启",
            en:
                "\(messages) messages, one every \(every) ms; B1 loses power at \(faultAt) ms and restarts \(down) ms later"
        )
    }

    static func compareDeterministic(seed: UInt64) -> UIText {
        UIText(
            zh: "确定性运行：种子 \(seed)。所有运行由同一个检查器判定。",
            en: "Deterministic: seed \(seed). The same checker reads every run.")
    }

    static let compareSystem = UIText(zh: "系统", en: "system")
    static let compareProfile = UIText(zh: "配置", en: "profile")
    static let compareLost = UIText(zh: "丢失", en: "lost")
    static let compareDuplicated = UIText(zh: "重复", en: "dup")
    static let compareReordered = UIText(zh: "乱序", en: "reord")
    static let compareFailed = UIText(zh: "失败", en: "failed")
    static let compareUnacknowledged = UIText(zh: "未确认", en: "unacked")
    static let compareFsyncs = UIText(zh: "fsync/条", en: "fsync/msg")
    static let compareRoundTrips = UIText(zh: "往返/条", en: "rtt/msg")
    static let compareSetups = UIText(zh: "各配置明细", en: "Setups")
    static let legend = UIText(zh: "说明", en: "Legend")

    static func profile(_ profile: ComparisonProfile) -> UIText {
        switch profile {
        case .common: UIText(zh: "默认", en: "default")
        case .safest: UIText(zh: "最安全", en: "safest")
        }
    }

    static let compareLegend = UIText(
        zh: """
            丢失：已向生产者确认，之后却没了。重复：被存储或处理了不止一次。乱序：处理顺序与确认顺序不一致。\
            失败：发送失败或没有得到回应，这是为可用性付出的代价。未确认：结束时仍未被确认的消息（最安全配置会\
            重发失败的消息）。fsync/条：每发送一条消息的 fsync 次数；Kafka 的写入路径上没有 fsync，靠副本保证\
            持久性。往返/条：每发送一条消息的网络消息数的一半，包括复制、消费者流量和心跳。
            """,
        en:
            "lost: acknowledged to the producer, then gone. dup: stored or processed more than once. reord: "
            + "processed out of the order it was acknowledged. failed: sends that failed or got no answer, "
            + "the availability paid. unacked: messages never acknowledged at the end (the safest profile "
            + "re-sends what failed). fsync/msg: fsync calls per message "
            + "sent; Kafka has none on its write path and relies on replication. rtt/msg: network messages "
            + "per message sent, halved; it includes replication, consumer traffic and heartbeats.")
}

/// `mqproof configs`.
extension UIText {
    static func configsTitle(system: String, version: String) -> UIText {
        UIText(
            zh: "\(system) \(version) 场景可设置的配置项（run --set 同样适用）",
            en: "What a \(system) \(version) scenario may set (and run --set)")
    }

    static func configDefault(_ value: String) -> UIText {
        UIText(zh: "默认 \(value)", en: "default \(value)")
    }
}

// MARK: - run --set: what-if

extension UIText {
    static let whatIf = UIText(zh: "假如", en: "What if")
    static let whatIfSettings = UIText(zh: "改动", en: "Changed")
    static let whatIfBefore = UIText(zh: "原样", en: "before")
    static let whatIfAfter = UIText(zh: "改后", en: "after")
    static let whatIfAcknowledged = UIText(zh: "已确认", en: "acknowledged")
    static let whatIfFailed = UIText(zh: "失败", en: "failed")
    static let whatIfIndeterminate = UIText(zh: "结果不明", en: "indeterminate")

    static func whatIfOn(_ scenario: String, seed: UInt64) -> UIText {
        UIText(
            zh: "\(scenario) 换上你的设置（种子 \(seed)，两边相同）",
            en: "\(scenario) with your settings (seed \(seed) on both sides)")
    }

    static let whatIfNoAnomaly = UIText(
        zh: "两边都没有异常：这次改动在这个种子上看不出差别。",
        en: "No anomaly on either side: on this seed the change makes no visible difference.")

    static func whatIfSameAnomalies(_ kinds: [AnomalyKind]) -> UIText {
        UIText(
            zh: "改动后仍然出现 \(kinds.map { anomaly($0).zh }.joined(separator: "、"))。",
            en: "The change does not remove \(kinds.map(\.rawValue).joined(separator: ", ")).")
    }

    static func whatIfMoved(gone: [AnomalyKind], came: [AnomalyKind]) -> UIText {
        let goneZH = gone.isEmpty ? "" : "\(gone.map { anomaly($0).zh }.joined(separator: "、"))不再出现"
        let cameZH = came.isEmpty ? "" : "新出现\(came.map { anomaly($0).zh }.joined(separator: "、"))"
        let goneEN = gone.isEmpty ? "" : "\(gone.map(\.rawValue).joined(separator: ", ")) no longer shows"
        let cameEN = came.isEmpty ? "" : "\(came.map(\.rawValue).joined(separator: ", ")) now shows"
        return UIText(
            zh: "改动后，" + [goneZH, cameZH].filter { !$0.isEmpty }.joined(separator: "，") + "。",
            en: "With the change, " + [goneEN, cameEN].filter { !$0.isEmpty }.joined(separator: "; ") + ".")
    }
}

// MARK: - run and verify --on rabbitmq: a real broker

extension UIText {
    static let realStarting = UIText(
        zh: "正在启动一个私有 RabbitMQ 节点（只监听 127.0.0.1，数据放在临时目录，约 4 秒）…",
        en: "Starting a private RabbitMQ node (127.0.0.1 only, data in a temporary directory, about 4 s)…")

    static func realRunning(_ id: String, broker: String) -> UIText {
        UIText(zh: "在 \(broker) 上运行 \(id)…", en: "Running \(id) on \(broker)…")
    }

    static func realHeading(_ id: String, broker: String, location: String, owned: Bool) -> UIText {
        let place = realLocation(location, owned: owned)
        return UIText(
            zh: "\(id)：模拟器与真实的 \(broker)（\(place.zh)）对照",
            en: "\(id) in the simulator and on a real \(broker) (\(place.en))")
    }

    /// A private node mqproof started, or the user's broker.
    static func realLocation(_ location: String, owned: Bool) -> UIText {
        owned
            ? UIText(zh: "私有节点 \(location)", en: "a private node on \(location)")
            : UIText(zh: "你的 broker \(location)", en: "your broker at \(location)")
    }

    static func realProfile(_ profile: String, seed: UInt64) -> UIText {
        UIText(
            zh: "模拟器按真实 broker 的版本取配置档 \(profile)，种子 \(seed)；真实运行按挂钟时间走完同一个脚本。",
            en:
                "The simulator uses the \(profile) profile, the real broker's version, on seed \(seed); the real run plays the same script in wall-clock time."
        )
    }

    static let realSimulator = UIText(zh: "模拟器", en: "simulator")
    static let realExpectations = UIText(zh: "预期", en: "Expectations")
    static let realSkippedMark = UIText(zh: "跳过", en: "skip")

    static func realSkipped(_ reason: String) -> UIText {
        UIText(zh: "单机上的真实 broker 做不到：\(reason)", en: "Not on one real node: \(reason)")
    }

    static let realAgree = UIText(
        zh: "一致：真实 broker 与模拟器的结果相同，预期全部成立。",
        en: "Agreed: the real broker and the simulator came out the same, and every expectation holds.")
    static let realAgreeBothFail = UIText(
        zh: "两边结果相同，但有预期在两边都不成立。",
        en: "Both sides came out the same, but an expectation fails on both.")

    static func realDisagree(_ reason: String) -> UIText {
        UIText(zh: "不一致：\(reason)", en: "Disagreement: \(reason)")
    }

    static func realVerifyHeading(broker: String, location: String, owned: Bool) -> UIText {
        let place = realLocation(location, owned: owned)
        return UIText(
            zh: "在真实的 \(broker)（\(place.zh)）上重跑 RabbitMQ 实验，与模拟器对照：",
            en: "RabbitMQ experiments on a real \(broker) (\(place.en)), compared with the simulator:")
    }

    static func realVerifySummary(agreed: Int, ran: Int, skipped: Int) -> UIText {
        UIText(
            zh: "\(ran) 个实验在真实 broker 上跑过，\(agreed) 个与模拟器一致；\(skipped) 个单机做不到，已列出原因。",
            en:
                "\(ran) experiments ran on the real broker and \(agreed) agree with the simulator; \(skipped) cannot run on one machine, with the reason listed."
        )
    }
}
