import Foundation

/// The chunks of a sweep, handed out in turn to the threads that run them, and what each thread
/// summed.
final class SweepWork: @unchecked Sendable {
    private let lock = NSLock()
    private let chunks: UInt64
    private var next: UInt64 = 0
    private var finished: [SeedSweep?]

    init(chunks: UInt64, threads: Int) {
        self.chunks = chunks
        finished = Array(repeating: nil, count: max(1, threads))
    }

    /// The next chunk to run, or nil when every chunk is taken.
    func takeChunk() -> UInt64? {
        lock.withLock {
            guard next < chunks else { return nil }
            defer { next += 1 }
            return next
        }
    }

    func finish(_ thread: Int, with partial: SeedSweep) {
        lock.withLock { finished[thread] = partial }
    }

    var partials: [SeedSweep] { lock.withLock { finished.compactMap { $0 } } }
}

/// A progress bar on standard error for a sweep that runs over a second; blanked at the end.
final class SweepProgress: @unchecked Sendable {
    private let lock = NSLock()
    private let total: Int
    private let output: Output
    private let clock: WallClock
    private let label: @Sendable (Int, Int) -> String
    private let started: Int64
    private var done = 0
    private var shownPercent = -1

    init(total: Int, output: Output, clock: WallClock, label: @escaping @Sendable (Int, Int) -> String) {
        self.total = total
        self.output = output
        self.clock = clock
        self.label = label
        started = clock.now().millisecondsSinceEpoch
    }

    func advance(by seeds: Int) {
        lock.withLock {
            done += seeds
            let percent = done * 100 / max(1, total)
            guard percent != shownPercent, clock.now().millisecondsSinceEpoch - started >= 1_000 else {
                return
            }
            shownPercent = percent
            let filled = done * 30 / max(1, total)
            let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: 30 - filled)
            output.progress("\r[\(bar)] \(label(done, total))")
        }
    }

    /// Blanks over the bar rather than an erase-line escape: no escape codes, whatever the terminal.
    func finish() {
        lock.withLock {
            if shownPercent >= 0 { output.progress("\r" + String(repeating: " ", count: 60) + "\r") }
        }
    }
}

/// Ctrl-C during a sweep: the threads finish the seed they are on and stop, and the sweep
/// reports what it has. The default action (the process ends) comes back when this is closed.
final class SweepStop: @unchecked Sendable {
    private let lock = NSLock()
    private var requested = false
    private var sources: [DispatchSourceSignal] = []
    private var signals: [Int32] = []

    /// Takes over SIGINT from now on; `alsoTermination` adds SIGTERM and SIGHUP, for runs that
    /// started processes which must be stopped however mqproof is asked to end.
    static func onInterrupt(alsoTermination: Bool = false) -> SweepStop {
        let stop = SweepStop()
        stop.signals = alsoTermination ? [SIGINT, SIGTERM, SIGHUP] : [SIGINT]
        for number in stop.signals {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { [weak stop] in stop?.request(signal: number) }
            source.resume()
            stop.sources.append(source)
        }
        return stop
    }

    private var received: Int32 = SIGINT

    func request(signal: Int32 = SIGINT) {
        lock.withLock {
            if !requested { received = signal }
            requested = true
        }
    }

    /// What a shell reports for a process ended by the signal: 130 for SIGINT, 143 for SIGTERM.
    var exitStatus: Int32 { lock.withLock { 128 + received } }

    var isRequested: Bool { lock.withLock { requested } }

    func close() {
        for source in sources { source.cancel() }
        sources = []
        for number in signals { signal(number, SIG_DFL) }
    }
}
