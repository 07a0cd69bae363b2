/// The interface of `mqproof live`: measurements on this machine, and the simulated peak shaving.
extension UIText {
    static func measuredOn(_ machine: String) -> UIText {
        UIText(zh: "测量环境：\(machine)", en: "Measured on \(machine)")
    }

    static func peakShavingTitle(writes: Int, writers: Int) -> UIText {
        UIText(
            zh: "削峰：\(writers) 个客户端向 SQLite 突发写入 \(writes) 次",
            en: "Peak shaving: a burst of \(writes) writes from \(writers) clients into SQLite")
    }

    static let liveDirect = UIText(zh: "直接写库", en: "direct")
    static let liveThroughQueue = UIText(zh: "经过队列", en: "through queue")
    static let liveSucceeded = UIText(zh: "成功", en: "ok")
    static let liveBusy = UIText(zh: "忙", en: "busy")
    static let liveWritesPerSecond = UIText(zh: "写入/秒", en: "writes/s")
    static let liveP50 = UIText(zh: "p50 ms", en: "p50 ms")
    static let liveP99 = UIText(zh: "p99 ms", en: "p99 ms")
    static let livePeakWriters = UIText(zh: "最多同时写", en: "peak writers")
    static let liveDoneIn = UIText(zh: "耗时", en: "done in")
    static let peakShavingMeaning = UIText(
        zh: "  直接写库的客户端争抢同一把写锁，等到 busy timeout 用完就失败；队列让数据库只有一个写入者并成批写入，代价是延迟：请求要排队，等突发流量消化完。",
        en:
            "  Direct writers fight for one write lock and fail once their busy timeout runs out; the queue gives the database"
            + " one writer and batches, and pays in latency: a request waits its turn until the burst drains."
    )

    static func asyncTitle(signups: Int) -> UIText {
        UIText(
            zh: "异步解耦：\(signups) 次注册，每次都要发短信和邮件",
            en: "Async decoupling: \(signups) signups that send an SMS and an email")
    }

    static let liveSynchronous = UIText(zh: "同步调用", en: "synchronous")
    static let liveQueued = UIText(zh: "经过队列", en: "queued")
    static let liveSynchronousSMSDown = UIText(zh: "同步，短信服务宕机", en: "sync, SMS down")
    static let liveQueuedSMSDown = UIText(zh: "队列，短信服务宕机", en: "queued, SMS down")

    static func asyncRow(p50: String, p99: String, failed: Int, sent: Int, waiting: Int) -> UIText {
        UIText(
            zh: "p50 \(p50) ms   p99 \(p99) ms   注册失败 \(failed)   已发通知 \(sent)，待发 \(waiting)",
            en:
                "p50 \(p50) ms   p99 \(p99) ms   failed signups \(failed)   notifications sent \(sent), waiting \(waiting)"
        )
    }

    static func fsyncTitle(messages: Int) -> UIText {
        UIText(
            zh: "批量追加：向真实文件写 \(messages) 条 100 字节的消息",
            en: "Batched appends: \(messages) messages of 100 bytes to a real file")
    }

    static let liveFsyncEach = UIText(zh: "每条 fsync 一次", en: "fsync each message")

    static func liveFsyncPer(_ batch: Int) -> UIText {
        UIText(zh: "每 \(batch) 条 fsync 一次", en: "fsync per \(batch)")
    }

    static func fsyncRow(messagesPerSecond: String, fsyncsPerMessage: String) -> UIText {
        UIText(
            zh: "\(messagesPerSecond) 条/秒   每条消息 \(fsyncsPerMessage) 次 fsync",
            en: "\(messagesPerSecond) msgs/s   \(fsyncsPerMessage) fsyncs per message")
    }

    static let fsyncMeaning = UIText(
        zh: "  基于日志的 Broker 吞吐量高，背后就是这个机制；这里是在本机实测，不是引用别人的数字。",
        en: "  The mechanism behind log-structured brokers' throughput, measured here instead of quoted.")

    static func simulatedPeakTitle(requests: Int, burst: Int, capacity: Int, maxConnections: Int) -> UIText {
        UIText(
            zh:
                "削峰（模拟）：\(burst) ms 内 \(requests) 个请求，数据库每秒处理 \(capacity) 个查询，max_connections=\(maxConnections)",
            en:
                "Peak shaving, simulated: \(requests) requests in \(burst) ms against a database"
                + " of \(capacity) queries/s and max_connections=\(maxConnections)")
    }

    static func simulatedPeakSetup(seed: UInt64, timeout: Int, consumers: Int) -> UIText {
        UIText(
            zh: "  确定性运行：种子 \(seed)；客户端超时 \(timeout) ms；队列后面有 \(consumers) 个消费者。",
            en:
                "  Deterministic: seed \(seed); client timeout \(timeout) ms; \(consumers) consumers behind the queue."
        )
    }

    static let liveWritten = UIText(zh: "已写入", en: "written")
    static let liveTooManyConnections = UIText(zh: "连接过多", en: "too many conn")
    static let liveTimedOut = UIText(zh: "超时", en: "timed out")
    static let livePeakConnections = UIText(zh: "最多连接", en: "peak conn")
    static let livePeakWaiting = UIText(zh: "最多等待", en: "peak waiting")
    static let liveAnswerP99 = UIText(zh: "应答 p99", en: "answer p99")
    static let liveWriteP99 = UIText(zh: "写入 p99", en: "write p99")
    static let liveDrainedIn = UIText(zh: "消化完用时", en: "drained in")

    static func simulatedPeakMeaning(consumers: Int) -> UIText {
        UIText(
            zh: "  直接访问的客户端在等待时一直占着连接，突发流量超过数据库处理能力时，先是连接被占满，接着客户端等到超时。"
                + "队列立即应答，只让数据库承受 \(consumers) 个连接，每一行都会写入；代价是写入前的等待（写入 p99）。",
            en:
                "  Direct clients each hold a connection while they wait, so a burst above the database's capacity"
                + " runs out of connections and then of patience. The queue answers at once, keeps the database"
                + " at \(consumers) connections, and writes every row; the price is the wait before a row is"
                + " written (write p99).")
    }
}
