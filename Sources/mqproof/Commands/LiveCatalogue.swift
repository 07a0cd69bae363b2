import Content

/// The live experiments as catalogue entries, so that answers link them like any other proof:
/// `mqproof run L01` measures peak shaving on this machine. They read real files, threads and
/// clocks, so their figures vary by machine and run; their claims are about the mechanism.
enum LiveCatalogue {
    struct Experiment {
        let id: String
        let name: Live.Name
        let title: Localized
        let claim: Localized
        /// A deterministic twin in the simulator, where there is one.
        let simulated: String?

        /// Measures it now, as `mqproof live <name>` does, in `language` (else the environment's).
        func run(language: LanguageChoice?, json: Bool, in environment: Environment) throws {
            var arguments = [name.rawValue]
            if let language { arguments += ["--lang", language.rawValue] }
            if json { arguments.append("--json") }
            try Live.parse(arguments).run(in: environment)
        }
    }

    static let all: [Experiment] = [
        Experiment(
            id: "L01", name: .peakShaving,
            title: Localized(
                zh: "削峰：32 个客户端突发写 SQLite，直接写与经过队列对比（本机实测）",
                en:
                    "Peak shaving: a burst of 32 clients writing SQLite, direct vs through a queue (measured here)"
            ),
            claim: Localized(
                zh: "直接写库时，突发的写入者争抢同一把写锁，超出数据库承受能力的请求失败；经过队列后数据库只有一个写入者，每条都写入，代价是排队延迟。",
                en:
                    "Written directly, a burst's writers fight for the database's write lock and the excess fails;"
                    + " through a queue the database sees one writer and every write lands, at the cost of queueing delay."
            ),
            simulated: "mqproof live peak-shaving --simulated"),
        Experiment(
            id: "L02", name: .asyncSignup,
            title: Localized(
                zh: "异步解耦：注册时同步发短信和邮件 vs 放进队列（本机实测）",
                en:
                    "Async decoupling: a signup that sends SMS and email synchronously vs through a queue (measured here)"
            ),
            claim: Localized(
                zh: "同步调用时，注册要等下游服务都返回，下游一宕机注册就失败；经过队列，注册存好用户即返回，通知等下游恢复后再发。",
                en:
                    "Called synchronously, a signup waits for every downstream service and fails when one is down;"
                    + " through a queue it answers once the user is saved, and the notifications wait for the service."
            ),
            simulated: nil),
        Experiment(
            id: "L03", name: .fsyncBatching,
            title: Localized(
                zh: "批量 fsync：每条消息 fsync 一次 vs 每 100 条一次（本机实测）",
                en: "Batched fsync: an fsync per message vs one per 100 messages (measured here)"),
            claim: Localized(
                zh: "顺序追加时把多条消息合成一次 fsync，每秒写入的消息数成倍增加：基于日志的 Broker 吞吐量高的原因之一。",
                en:
                    "Appending sequentially and fsyncing many messages at once multiplies the messages written per"
                    + " second: one reason log-structured brokers are fast."),
            simulated: nil),
        Experiment(
            id: "L04", name: .sequentialWrites,
            title: Localized(
                zh: "顺序写与随机写：4 KiB 块同步写入，按顺序与打乱顺序对比（本机实测）",
                en:
                    "Sequential vs random writes: synchronous 4 KiB block writes in order and shuffled (measured here)"
            ),
            claim: Localized(
                zh: "只追加的日志让每次写都是顺序写；在机械盘上顺序写比随机写快得多，在 SSD 和虚拟磁盘上差距小得多，实测会如实说明。",
                en:
                    "An append-only log makes every write sequential; on spinning disks that is far faster than random writes,"
                    + " on SSDs and virtual disks much less so, and the measurement says which this machine is."
            ),
            simulated: nil),
        Experiment(
            id: "L05", name: .pageCache,
            title: Localized(
                zh: "页缓存与磁盘：清掉缓存后读日志，与从页缓存读对比（本机实测）",
                en:
                    "Page cache vs disk: reading a log after dropping it from the cache, and again from the cache (measured here)"
            ),
            claim: Localized(
                zh: "刚写入的数据还在操作系统页缓存里，跟得上的消费者从内存读，不碰磁盘；Kafka 因此不需要自己的进程内缓存。",
                en:
                    "Freshly written data is still in the OS page cache, so consumers that keep up read it from memory"
                    + " without touching the disk; this is why Kafka needs no cache of its own."),
            simulated: nil),
        Experiment(
            id: "L06", name: .zeroCopy,
            title: Localized(
                zh: "零拷贝：sendfile 与 read()+write() 把日志发给 TCP 连接（本机实测）",
                en: "Zero-copy: sendfile vs read()+write() sending a log to a TCP connection (measured here)"),
            claim: Localized(
                zh: "sendfile 让内核把页缓存里的数据直接交给 socket，省掉两次用户态拷贝和上下文切换，发送方 CPU 更省；差距大小取决于机器，实测会如实说明。",
                en:
                    "sendfile has the kernel pass page-cache data straight to the socket, saving two user-space copies and"
                    + " context switches, so the sender spends less CPU; how much depends on the machine, and the measurement says so."
            ),
            simulated: nil),
    ]

    static var ids: Set<String> { Set(all.map(\.id)) }

    static func experiment(_ id: String) -> Experiment? {
        all.first { $0.id.lowercased() == id.lowercased() }
    }
}
