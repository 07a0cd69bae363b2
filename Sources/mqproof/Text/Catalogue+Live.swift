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
        zh: "直接写库的客户端争抢同一把写锁，等到 busy timeout 用完就失败；队列让数据库只有一个写入者并成批写入，代价是延迟：请求要排队，等突发流量消化完。",
        en:
            "Direct writers fight for one write lock and fail once their busy timeout runs out; the queue gives the database"
            + " one writer and batches, and pays in latency: a request waits its turn until the burst drains."
    )

    static let peakShavingNotShown = UIText(
        zh: "这台机器上直接写库一次也没失败：SQLite 吃下了整个突发，削峰的效果没有显现。写入者要多于数据库同时能服务的数量才看得到，试试 --writers 64。",
        en:
            "No direct write failed on this machine: SQLite took the whole burst, so peak shaving did not show here."
            + " It needs more writers than the database serves at once; try --writers 64.")

    static let liveDoneInSeconds = UIText(zh: "耗时 s", en: "done in s")
    static let liveFailedSignups = UIText(zh: "注册失败", en: "failed")
    static let liveMessagesPerSecond = UIText(zh: "条/秒", en: "msgs/s")
    static let liveFsyncsPerMessage = UIText(zh: "每条 fsync", en: "fsyncs/msg")
    static let livePeakShavingName = UIText(zh: "削峰", en: "peak shaving")
    static let liveAsyncName = UIText(zh: "异步解耦", en: "async decoupling")
    static let liveFsyncName = UIText(zh: "批量 fsync", en: "batched fsync")

    static func liveRepeats(_ repeats: Int) -> UIText {
        UIText(
            zh: "每项测 \(repeats) 次，列出中位数和（最低-最高）；--long 测得更久更稳。",
            en: "Each measured \(repeats) times: the median and (lowest-highest); --long measures longer.")
    }

    static func liveMeasuring(_ experiment: String, run: Int, of repeats: Int) -> UIText {
        UIText(
            zh: "正在测量\(experiment)：第 \(run)/\(repeats) 次…",
            en: "Measuring \(experiment): run \(run) of \(repeats)…")
    }

    static let asyncMeaning = UIText(
        zh: "同步注册要等短信和邮件两家服务都返回，短信服务一宕机注册就失败；经过队列的注册存好用户就返回，通知在队列里等服务恢复。",
        en:
            "A synchronous signup waits for both providers and fails while SMS is down; a queued one answers once the user"
            + " is saved, and the notifications wait in the queue for the provider.")

    static let asyncNotShown = UIText(
        zh: "这次测量里同步和经过队列的响应时间没拉开差距，效果没有显现；机器很忙时会这样，用 --long 再测一次。",
        en:
            "Synchronous and queued signups answered about as fast in this measurement, so the effect did not show;"
            + " a busy machine does this. Measure again with --long.")

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

    static func fsyncMeaning(factor: Int) -> UIText {
        UIText(
            zh: "成批 fsync 在本机每秒多写 \(factor) 倍的消息：基于日志的 Broker 吞吐量高，背后就是这个机制，这里是实测，不是引用别人的数字。",
            en:
                "Batching fsync wrote \(factor) times as many messages a second here: the mechanism behind log-structured"
                + " brokers' throughput, measured instead of quoted.")
    }

    static let fsyncNotShown = UIText(
        zh: "这里 fsync 几乎不花时间（内存文件系统，或先应答再落盘的磁盘缓存），批量的好处没有显现；换到真实磁盘上就会出现。",
        en:
            "fsync costs almost nothing here (a RAM-backed file system, or a disk cache that answers before the platter),"
            + " so batching did not show; on a real disk it does.")

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

extension UIText {
    static let liveExperiment = UIText(
        zh: "本机实测（mqproof live）", en: "measured live on this machine (mqproof live)")
}

// MARK: - Why Kafka is fast: sequential writes, the page cache, zero-copy

extension UIText {
    static let liveSequentialName = UIText(zh: "顺序写与随机写", en: "sequential vs random writes")
    static let livePageCacheName = UIText(zh: "页缓存与磁盘", en: "page cache vs disk")
    static let liveZeroCopyName = UIText(zh: "零拷贝", en: "zero-copy")

    static func sequentialTitle(blocks: Int) -> UIText {
        UIText(
            zh: "顺序写与随机写：\(blocks) 个 4 KiB 块，O_DSYNC（每次写都落到设备才返回）",
            en:
                "Sequential vs random writes: \(blocks) blocks of 4 KiB with O_DSYNC (each write reaches the device)"
        )
    }

    static func pageCacheTitle(megabytes: Int) -> UIText {
        UIText(
            zh: "页缓存与磁盘：把 \(megabytes) MiB 的日志读两遍，第一遍前先让内核丢掉缓存",
            en:
                "Page cache vs disk: reading a \(megabytes) MiB log twice, the first time after the kernel drops its cache"
        )
    }

    static func zeroCopyTitle(megabytes: Int) -> UIText {
        UIText(
            zh: "零拷贝：把 \(megabytes) MiB 的日志发给本机 TCP 连接，sendfile 与 read()+write() 对比",
            en:
                "Zero-copy: sending a \(megabytes) MiB log to a loopback TCP connection, sendfile vs read()+write()"
        )
    }

    static let liveSequential = UIText(zh: "顺序写", en: "sequential")
    static let liveRandom = UIText(zh: "随机写", en: "random")
    static let livePageCache = UIText(zh: "页缓存", en: "page cache")
    static let liveDisk = UIText(zh: "磁盘（先清缓存）", en: "disk (cache dropped)")
    static let liveSendfile = UIText(zh: "sendfile", en: "sendfile")
    static let liveReadWrite = UIText(zh: "read()+write()", en: "read()+write()")
    static let liveMegabytesPerSecond = UIText(zh: "MiB/秒", en: "MiB/s")
    static let liveSenderCPU = UIText(zh: "发送方 CPU 毫秒", en: "sender CPU ms")

    static func sequentialMeaning(factor: Double) -> UIText {
        let times = String(format: "%.1f", factor)
        return UIText(
            zh: "本机上顺序写比随机写快 \(times) 倍：只追加的日志把每次写都变成顺序写，这是 Kafka 写得快的原因之一。",
            en:
                "Sequential writes were \(times) times as fast as random ones here: an append-only log turns every write into a sequential one, one reason Kafka writes fast."
        )
    }

    static func sequentialNotShown(_ fileSystem: String) -> UIText {
        UIText(
            zh: "本机（\(fileSystem)）上顺序写和随机写差不多快：SSD 或虚拟磁盘没有磁头寻道，这个差距在机械盘上才大；它在这里没有显现。",
            en:
                "Sequential and random writes ran at about the same speed here (\(fileSystem)): an SSD or a virtual disk has no seek, and the gap is large only on spinning disks. It did not show on this machine."
        )
    }

    static func pageCacheMeaning(factor: Double) -> UIText {
        let times = String(format: "%.1f", factor)
        return UIText(
            zh: "从页缓存读比从磁盘读快 \(times) 倍：Kafka 不在进程里做缓存，而是让跟得上的消费者直接从操作系统页缓存读到刚写入的数据。",
            en:
                "Reading from the page cache was \(times) times as fast as from the disk: Kafka keeps no cache of its own and lets consumers that keep up read fresh data straight from the OS page cache."
        )
    }

    static func pageCacheNotShown(_ fileSystem: String) -> UIText {
        UIText(
            zh: "这里两遍读得一样快（\(fileSystem)）：内核没有丢掉缓存（内存文件系统），或者磁盘本身就在宿主机的缓存里。页缓存的好处在这台机器上没有显现。",
            en:
                "Both reads ran at about the same speed here (\(fileSystem)): the kernel kept the pages (a RAM-backed file system), or the disk itself sits in the host's cache. The page cache's advantage did not show on this machine."
        )
    }

    static func zeroCopyMeaning(cpuFactor: Double, speedFactor: Double) -> UIText {
        let cpu = String(format: "%.1f", cpuFactor)
        let speed = String(format: "%.1f", speedFactor)
        return UIText(
            zh:
                "sendfile 让内核直接把页缓存里的数据交给 socket，数据不经过进程：发送方的 CPU 时间少了 \(cpu) 倍，吞吐是 read()+write() 的 \(speed) 倍。Kafka 把日志发给消费者走的就是这条路（没有 TLS 时）。",
            en:
                "sendfile has the kernel hand page-cache data to the socket without passing through the process: the sender used \(cpu) times less CPU, at \(speed) times the throughput of read()+write(). This is how Kafka sends log data to consumers (without TLS)."
        )
    }

    static let zeroCopyNotShown = UIText(
        zh: "这里 sendfile 与 read()+write() 的差别很小：数据量小或回环网络本身就是瓶颈。零拷贝的好处在这台机器上没有明显显现。",
        en:
            "sendfile and read()+write() came out close here: the data is small, or the loopback network is itself the limit. Zero-copy's advantage did not clearly show on this machine."
    )
}
