import Foundation
import GRDB

// Theory of operation
//
// The live experiments measure on this machine, with real files, threads and clocks, the
// mechanisms behind the answers to "why introduce a message queue". They live outside
// Simulation on purpose: nothing here is deterministic, so their tests check mechanisms (errors
// appear without the queue, none with it), never absolute speeds.
//
// Peak shaving: a burst of writers hits one SQLite database directly, each in its own
// connection and write transaction, against the same burst sent through an in-memory queue that
// one writer drains in batches. SQLite admits one writer at a time, like a hot row under a
// row lock in a server database: the direct writers collide (SQLITE_BUSY once their busy
// timeout runs out), and the queue turns the burst into a steady stream with no errors.

/// Figures of one side of the peak-shaving experiment.
public struct BurstResult: Codable, Sendable {
    public var writes: Int
    public var succeeded: Int
    /// SQLITE_BUSY: the database refused the write because another held the lock too long.
    public var busyErrors: Int
    public var seconds: Double
    public var writesPerSecond: Double
    /// Milliseconds from the request to its commit (or failure).
    public var latencyP50: Double
    public var latencyP99: Double
    /// The most writers trying to hold the database at the same moment.
    public var peakDatabaseConcurrency: Int
}

public struct PeakShavingResult: Codable, Sendable {
    public var direct: BurstResult
    public var queued: BurstResult
}

public enum PeakShaving {
    /// - Parameters:
    ///   - writers: concurrent clients in the burst.
    ///   - writesPerWriter: inserts each client makes.
    ///   - busyTimeoutMs: how long a direct writer waits for the lock before failing.
    ///   - holdMs: work done inside each write transaction (the "business logic" under the lock).
    public static func run(
        folder: URL, writers: Int = 32, writesPerWriter: Int = 20, busyTimeoutMs: Int = 20,
        holdMs: Double = 1, batch: Int = 100
    ) throws -> PeakShavingResult {
        let directPath = folder.appending(path: "direct.sqlite").path
        let queuedPath = folder.appending(path: "queued.sqlite").path
        for path in [directPath, queuedPath] { try prepare(path) }
        let direct = try directBurst(
            path: directPath, writers: writers, writesPerWriter: writesPerWriter,
            busyTimeoutMs: busyTimeoutMs, holdMs: holdMs)
        let queued = try queuedBurst(
            path: queuedPath, writers: writers, writesPerWriter: writesPerWriter, holdMs: holdMs, batch: batch
        )
        return PeakShavingResult(direct: direct, queued: queued)
    }

    private static func prepare(_ path: String) throws {
        try? FileManager.default.removeItem(atPath: path)
        let queue = try DatabaseQueue(path: path)
        try queue.write { db in
            try db.execute(sql: "PRAGMA journal_mode = WAL")
            try db.execute(
                sql:
                    "CREATE TABLE orders (id INTEGER PRIMARY KEY, customer INTEGER, amount INTEGER, created REAL)"
            )
        }
    }

    /// Every writer opens its own connection and inserts inside BEGIN IMMEDIATE, holding the
    /// write lock while it works, as a request handler that writes straight to the database.
    private static func directBurst(
        path: String, writers: Int, writesPerWriter: Int, busyTimeoutMs: Int, holdMs: Double
    ) throws -> BurstResult {
        let counters = Counters()
        let start = Date()
        onThreads(writers) { writer, ready in
            var configuration = Configuration()
            configuration.busyMode = .timeout(Double(busyTimeoutMs) / 1000)
            let connection = try? DatabaseQueue(path: path, configuration: configuration)
            ready()
            guard let connection else { return }
            for write in 0..<writesPerWriter {
                let requested = Date()
                counters.enter()
                do {
                    try connection.inTransaction(.immediate) { db in
                        try db.execute(
                            sql: "INSERT INTO orders (customer, amount, created) VALUES (?, ?, ?)",
                            arguments: [writer, write, requested.timeIntervalSince1970])
                        busyWork(milliseconds: holdMs)
                        return .commit
                    }
                    counters.record(latency: Date().timeIntervalSince(requested), error: false)
                } catch {
                    counters.record(latency: Date().timeIntervalSince(requested), error: true)
                }
                counters.leave()
            }
        }
        return counters.result(writes: writers * writesPerWriter, seconds: Date().timeIntervalSince(start))
    }

    /// Writers only enqueue; one consumer drains the queue in batches of `batch`, one
    /// transaction per batch. A request's latency is from enqueue to the commit of its batch.
    private static func queuedBurst(
        path: String, writers: Int, writesPerWriter: Int, holdMs: Double, batch: Int
    ) throws -> BurstResult {
        let queue = WorkQueue<(writer: Int, write: Int, requested: Date)>()
        let counters = Counters()
        let connection = try DatabaseQueue(path: path)
        let start = Date()
        let total = writers * writesPerWriter
        let consumer = Thread {
            var done = 0
            while done < total {
                let items = queue.take(upTo: batch)
                counters.enter()
                do {
                    try connection.inTransaction(.immediate) { db in
                        for item in items {
                            try db.execute(
                                sql: "INSERT INTO orders (customer, amount, created) VALUES (?, ?, ?)",
                                arguments: [item.writer, item.write, item.requested.timeIntervalSince1970])
                            busyWork(milliseconds: holdMs)
                        }
                        return .commit
                    }
                    for item in items {
                        counters.record(latency: Date().timeIntervalSince(item.requested), error: false)
                    }
                } catch {
                    for item in items {
                        counters.record(latency: Date().timeIntervalSince(item.requested), error: true)
                    }
                }
                counters.leave()
                done += items.count
            }
            queue.finish()
        }
        consumer.start()
        onThreads(writers) { writer in
            for write in 0..<writesPerWriter { queue.put((writer, write, Date())) }
        }
        queue.waitUntilFinished()
        return counters.result(writes: total, seconds: Date().timeIntervalSince(start))
    }

    /// Runs `body` on `count` threads of their own at once (a burst of clients, not a pool sized
    /// to the cores), and waits for all of them.
    static func onThreads(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
        onThreads(count) { index, _ in body(index) }
    }

    /// Runs `body` on `count` threads at once. A body calls the gate it is given once it is
    /// ready (its connection open); it returns when every thread has called it, so the burst
    /// starts together even when the machine is busy and threads start late.
    static func onThreads(_ count: Int, _ body: @escaping @Sendable (Int, () -> Void) -> Void) {
        let group = DispatchGroup()
        let gate = StartGate(count: count)
        for index in 0..<count {
            group.enter()
            Thread {
                body(index) { gate.arriveAndWait() }
                group.leave()
            }.start()
        }
        group.wait()
    }

    /// Work under the lock, spinning rather than sleeping so the lock is really held busy.
    static func busyWork(milliseconds: Double) {
        let until = Date().addingTimeInterval(milliseconds / 1000)
        while Date() < until {}
    }
}

/// Holds threads until `count` of them have arrived.
final class StartGate: @unchecked Sendable {
    private let condition = NSCondition()
    private var waiting: Int

    init(count: Int) { waiting = count }

    func arriveAndWait() {
        condition.lock()
        waiting -= 1
        if waiting <= 0 {
            condition.broadcast()
        } else {
            while waiting > 0 { condition.wait() }
        }
        condition.unlock()
    }
}

/// Thread-safe tallies for the burst experiments.
final class Counters: @unchecked Sendable {
    private let lock = NSLock()
    private var latencies: [Double] = []
    private var errors = 0
    private var active = 0
    private var peak = 0

    func enter() {
        lock.lock()
        active += 1
        peak = max(peak, active)
        lock.unlock()
    }

    func leave() {
        lock.lock()
        active -= 1
        lock.unlock()
    }

    func record(latency: TimeInterval, error: Bool) {
        lock.lock()
        latencies.append(latency * 1000)
        if error { errors += 1 }
        lock.unlock()
    }

    func result(writes: Int, seconds: Double) -> BurstResult {
        lock.lock()
        defer { lock.unlock() }
        let sorted = latencies.sorted()
        func percentile(_ p: Double) -> Double {
            sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]
        }
        let succeeded = writes - errors
        return BurstResult(
            writes: writes, succeeded: succeeded, busyErrors: errors, seconds: seconds,
            writesPerSecond: Double(succeeded) / max(seconds, 1e-9), latencyP50: percentile(0.5),
            latencyP99: percentile(0.99),
            peakDatabaseConcurrency: peak)
    }
}

/// A blocking FIFO for the queue side of the experiments.
final class WorkQueue<Item>: @unchecked Sendable {
    private let condition = NSCondition()
    private var items: [Item] = []
    private var finished = false

    func put(_ item: Item) {
        condition.lock()
        items.append(item)
        condition.signal()
        condition.unlock()
    }

    /// Waits for at least one item, then takes up to `count`.
    func take(upTo count: Int) -> [Item] {
        condition.lock()
        while items.isEmpty { condition.wait() }
        let taken = Array(items.prefix(count))
        items.removeFirst(taken.count)
        condition.unlock()
        return taken
    }

    func finish() {
        condition.lock()
        finished = true
        condition.broadcast()
        condition.unlock()
    }

    func waitUntilFinished() {
        condition.lock()
        while !finished { condition.wait() }
        condition.unlock()
    }
}
