// Theory of operation
//
// The simulated twin of the live peak-shaving experiment: a burst of requests that each write
// one row, against a database with a connection limit and a fixed capacity, either directly or
// through a queue. The live experiment shows lock contention on a real SQLite file; this one
// shows what a server database does that SQLite cannot: refuse connections once
// `max_connections` are open ("Too many connections", MySQL error 1040; "sorry, too many
// clients already" in PostgreSQL), and make waiting clients time out once its capacity is
// exceeded.
//
// The database serves one query at a time, first come first served, at `capacity` queries per
// second: the simplest server whose throughput does not grow with the number of clients. (A real
// one degrades past some concurrency; leaving that out makes the direct side look better than it
// is, never worse.) A direct request opens a connection when it arrives, holds it until its
// query finishes, and gives up (closing the connection, its query never run) after the client
// timeout. Through the queue, a request is accepted at once and a pool of consumers, each with
// its own connection, drains the queue at the database's pace.
//
// Arrival times are drawn from the seed, so the same setup and seed give the same figures in
// any process. Time is kept in microseconds so that a capacity such as 3,000 queries per second
// needs no rounding.

/// The burst, the database and the queue side of a peak-shaving run.
public struct PeakShavingSetup: Equatable, Sendable {
    /// Requests in the burst, each writing one row.
    public var requests: Int
    /// The requests arrive at times drawn uniformly from this window.
    public var burstMilliseconds: Int
    /// The database's connection limit (MySQL's `max_connections` defaults to 151 in 8.x).
    public var maxConnections: Int
    /// Queries the database completes per second.
    public var capacity: Int
    /// How long a direct client waits for its query before it gives up.
    public var clientTimeoutMilliseconds: Int
    /// Queue side: consumers draining the queue, each holding one connection.
    public var consumers: Int

    public init(
        requests: Int = 2_000, burstMilliseconds: Int = 1_000, maxConnections: Int = 151,
        capacity: Int = 500, clientTimeoutMilliseconds: Int = 1_000, consumers: Int = 4
    ) {
        self.requests = requests
        self.burstMilliseconds = burstMilliseconds
        self.maxConnections = maxConnections
        self.capacity = capacity
        self.clientTimeoutMilliseconds = clientTimeoutMilliseconds
        self.consumers = consumers
    }

    /// Why a setup cannot run, or nil.
    public var problem: String? {
        if requests < 1 || requests > 1_000_000 { return "requests must be 1 to 1,000,000" }
        if burstMilliseconds < 1 { return "the burst window must be at least 1 ms" }
        if maxConnections < 1 { return "max connections must be at least 1" }
        if capacity < 1 || capacity > 1_000_000 { return "capacity must be 1 to 1,000,000 queries/s" }
        if clientTimeoutMilliseconds < 1 { return "the client timeout must be at least 1 ms" }
        if consumers < 1 || consumers > maxConnections {
            return "consumers must be 1 to max connections (\(maxConnections))"
        }
        return nil
    }
}

/// What one side of the run did.
public struct PeakShavingSide: Equatable, Sendable, Codable {
    /// Rows written.
    public var written: Int
    /// Refused at connect: the database already had `maxConnections` open.
    public var tooManyConnections: Int
    /// Connected, but the query had not run when the client's timeout expired.
    public var timedOut: Int
    /// The most connections open at one moment.
    public var peakConnections: Int
    /// The most requests waiting for the database (direct) or in the queue (queued).
    public var peakWaiting: Int
    /// From the first arrival to the last row written.
    public var drainMilliseconds: Double
    /// What the requesting user waited for an answer: the write itself (direct) or the enqueue.
    public var responseP50Milliseconds: Double
    public var responseP99Milliseconds: Double
    /// From the request to its row being written, for rows written.
    public var writeP99Milliseconds: Double
}

public struct PeakShavingOutcome: Equatable, Sendable, Codable {
    public var direct: PeakShavingSide
    public var queued: PeakShavingSide
}

public enum PeakShavingModel {
    public static func run(_ setup: PeakShavingSetup, seed: UInt64) -> PeakShavingOutcome {
        precondition(setup.problem == nil, "an invalid setup: \(setup.problem ?? "")")
        var random = SeededRandom(seed: seed).child("arrivals")
        let window = setup.burstMilliseconds * 1_000
        let arrivals = (0..<setup.requests).map { _ in random.next(in: 0...(window - 1)) }.sorted()
        return PeakShavingOutcome(direct: direct(setup, arrivals), queued: queued(setup, arrivals))
    }

    /// Microseconds the database spends on one query.
    private static func serviceTime(_ setup: PeakShavingSetup) -> Int {
        max(1, 1_000_000 / setup.capacity)
    }

    private enum DirectEvent: Sendable {
        case arrive(Int)
        case finish(Int)
        case giveUp(Int)
    }

    private static func direct(_ setup: PeakShavingSetup, _ arrivals: [Int]) -> PeakShavingSide {
        var events = EventQueue<DirectEvent>(capacity: arrivals.count * 2)
        for (request, time) in arrivals.enumerated() { events.schedule(.arrive(request), at: time) }
        enum State { case waiting, running, done }
        var state = [State?](repeating: nil, count: arrivals.count)
        var waiting = Deque<Int>()
        var busy = false
        var open = 0
        var side = PeakShavingSide.empty
        var responses: [Int] = []
        var writes: [Int] = []
        var lastWrite = 0
        let service = serviceTime(setup)

        func startNext(at now: Int, _ events: inout EventQueue<DirectEvent>) {
            while let next = waiting.popFirst() {
                guard state[next] == .waiting else { continue }  // gave up while waiting
                state[next] = .running
                busy = true
                events.schedule(.finish(next), at: now + service)
                return
            }
            busy = false
        }

        while let (now, event) = events.pop() {
            switch event {
            case .arrive(let request):
                guard open < setup.maxConnections else {
                    side.tooManyConnections += 1
                    responses.append(0)
                    continue
                }
                open += 1
                side.peakConnections = max(side.peakConnections, open)
                state[request] = .waiting
                waiting.append(request)
                side.peakWaiting = max(side.peakWaiting, waiting.count)
                events.schedule(.giveUp(request), at: now + setup.clientTimeoutMilliseconds * 1_000)
                if !busy { startNext(at: now, &events) }
            case .finish(let request):
                state[request] = .done
                open -= 1
                side.written += 1
                responses.append(now - arrivals[request])
                writes.append(now - arrivals[request])
                lastWrite = now
                startNext(at: now, &events)
            case .giveUp(let request):
                // A query already running finishes; the client only gives up on one still queued.
                guard state[request] == .waiting else { continue }
                state[request] = .done
                open -= 1
                side.timedOut += 1
                responses.append(now - arrivals[request])
            }
        }
        side.drainMilliseconds = Double(lastWrite - (arrivals.first ?? 0)) / 1_000
        side.responseP50Milliseconds = percentile(responses, 50)
        side.responseP99Milliseconds = percentile(responses, 99)
        side.writeP99Milliseconds = percentile(writes, 99)
        return side
    }

    private static func queued(_ setup: PeakShavingSetup, _ arrivals: [Int]) -> PeakShavingSide {
        // The consumers are the only clients of the database, so it serves one query every
        // service time from the moment the queue is non-empty; which consumer runs it changes
        // nothing but the peak of open connections, which is the pool size.
        let service = serviceTime(setup)
        var side = PeakShavingSide.empty
        side.peakConnections = setup.consumers
        var writes: [Int] = []
        writes.reserveCapacity(arrivals.count)
        var databaseFree = 0
        var finishes = Deque<Int>()
        for arrival in arrivals {
            while let first = finishes.first, first <= arrival { _ = finishes.popFirst() }
            let start = max(arrival, databaseFree)
            databaseFree = start + service
            finishes.append(databaseFree)
            // Waiting in the queue: accepted, its row not yet being written.
            side.peakWaiting = max(side.peakWaiting, finishes.count - 1)
            writes.append(databaseFree - arrival)
        }
        side.written = arrivals.count
        side.drainMilliseconds = Double(databaseFree - (arrivals.first ?? 0)) / 1_000
        // The enqueue answers at once: a producer's wait is the broker's acknowledgement, which
        // this model does not time (zero), not the write.
        side.responseP50Milliseconds = 0
        side.responseP99Milliseconds = 0
        side.writeP99Milliseconds = percentile(writes, 99)
        return side
    }

    /// The nearest-rank percentile, in milliseconds, of microsecond samples.
    private static func percentile(_ samples: [Int], _ rank: Int) -> Double {
        guard !samples.isEmpty else { return 0 }
        let sorted = samples.sorted()
        let index = max(0, (sorted.count * rank + 99) / 100 - 1)
        return Double(sorted[index]) / 1_000
    }
}

extension PeakShavingSide {
    static let empty = PeakShavingSide(
        written: 0, tooManyConnections: 0, timedOut: 0, peakConnections: 0, peakWaiting: 0,
        drainMilliseconds: 0, responseP50Milliseconds: 0, responseP99Milliseconds: 0, writeP99Milliseconds: 0)
}

/// A first-in first-out queue with amortised O(1) removal from the front.
struct Deque<Element> {
    private var storage: [Element] = []
    private var head = 0

    var count: Int { storage.count - head }
    var first: Element? { head < storage.count ? storage[head] : nil }

    mutating func append(_ element: Element) { storage.append(element) }

    mutating func popFirst() -> Element? {
        guard head < storage.count else { return nil }
        defer {
            head += 1
            if head > 1_024 && head * 2 > storage.count {
                storage.removeFirst(head)
                head = 0
            }
        }
        return storage[head]
    }
}
