import ArgumentParser
import Foundation
import LiveExperiments
import Simulation

/// The why-MQ experiments, measured live on this machine.
struct Live: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "live",
        abstract:
            "Measure, on this machine, why a queue helps: peak shaving, async decoupling, batched fsync.",
        discussion:
            "These touch real files, threads and clocks, so the figures vary by machine and run; the mechanism does not."
    )

    enum Name: String, ExpressibleByArgument, CaseIterable {
        case peakShaving = "peak-shaving"
        case asyncSignup = "async-signup"
        case fsyncBatching = "fsync-batching"
        case all
    }

    @Argument(help: "peak-shaving, async-signup, fsync-batching or all.") var experiment: Name = .all
    @Option(help: "Peak shaving: concurrent writers in the burst.") var writers = 32
    @OptionGroup var output: JSONOption

    @Flag(
        help: """
            Peak shaving in the deterministic simulator instead: a server database with a connection \
            limit and a fixed capacity, so "too many connections" shows up the same way every run.
            """)
    var simulated = false
    @Option(help: "Simulated: requests in the burst.") var requests = PeakShavingSetup().requests
    @Option(help: "Simulated: the burst's length in ms.") var burst = PeakShavingSetup().burstMilliseconds
    @Option(help: "Simulated: the database's connection limit (max_connections).")
    var maxConnections = PeakShavingSetup().maxConnections
    @Option(help: "Simulated: queries per second the database completes.")
    var dbCapacity = PeakShavingSetup().capacity
    @Option(help: "Simulated: how long a client waits for its query, in ms.")
    var clientTimeout = PeakShavingSetup().clientTimeoutMilliseconds
    @Option(help: "Simulated: consumers draining the queue, one connection each.")
    var consumers = PeakShavingSetup().consumers
    @Option(help: "Simulated: the seed that draws the arrival times.") var seed: UInt64 = 1

    var simulatedSetup: PeakShavingSetup {
        PeakShavingSetup(
            requests: requests, burstMilliseconds: burst, maxConnections: maxConnections,
            capacity: dbCapacity,
            clientTimeoutMilliseconds: clientTimeout, consumers: consumers)
    }

    struct Report: Encodable {
        var machine: String
        var peakShaving: PeakShavingResult?
        var asyncSignup: AsyncSignupResult?
        var fsyncBatching: FsyncBatchingResult?
    }

    func validate() throws {
        guard (1...256).contains(writers) else { throw ValidationError("--writers must be 1 to 256") }
        if simulated {
            guard experiment == .peakShaving else {
                throw ValidationError("--simulated applies to peak-shaving only")
            }
            if let problem = simulatedSetup.problem { throw ValidationError(problem) }
        }
    }

    func run() throws {
        if simulated {
            try runSimulatedPeakShaving()
            return
        }
        let folder = FileManager.default.temporaryDirectory.appending(
            path: "mqproof-live-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        LiveScratch.removeOnSignal(folder.path)
        var report = Report(machine: Self.machine)
        if experiment == .peakShaving || experiment == .all {
            report.peakShaving = try PeakShaving.run(folder: folder, writers: writers)
        }
        if experiment == .asyncSignup || experiment == .all { report.asyncSignup = AsyncSignup.run() }
        if experiment == .fsyncBatching || experiment == .all {
            report.fsyncBatching = try FsyncBatching.run(folder: folder)
        }
        if output.json {
            try Output.json(report)
            return
        }
        let style = Terminal.current().style
        Output.line(style.dim("Measured on \(report.machine)"))
        if let result = report.peakShaving {
            Output.line()
            Output.line(
                style.bold(
                    "Peak shaving: a burst of \(result.direct.writes) writes from \(writers) clients into SQLite"
                ))
            Output.line(
                "  " + "".rightPadded(to: 14) + "ok".leftPadded(to: 7) + "busy".leftPadded(to: 7)
                    + "writes/s".leftPadded(to: 10)
                    + "p50 ms".leftPadded(to: 9) + "p99 ms".leftPadded(to: 9)
                    + "peak writers".leftPadded(to: 14) + "done in".leftPadded(to: 10))
            for (label, side) in [("direct", result.direct), ("through queue", result.queued)] {
                Output.line(
                    "  " + label.rightPadded(to: 14) + "\(side.succeeded)".leftPadded(to: 7)
                        + "\(side.busyErrors)".leftPadded(to: 7)
                        + String(format: "%.0f", side.writesPerSecond).leftPadded(to: 10)
                        + String(format: "%.1f", side.latencyP50).leftPadded(to: 9)
                        + String(format: "%.1f", side.latencyP99).leftPadded(to: 9)
                        + "\(side.peakDatabaseConcurrency)".leftPadded(to: 14)
                        + String(format: "%.2f s", side.seconds).leftPadded(to: 10))
            }
            Output.line(
                style.dim(
                    "  Direct writers fight for one write lock and fail once their busy timeout runs out; the queue gives the database"
                        + " one writer and batches, and pays in latency: a request waits its turn until the burst drains."
                ))
        }
        if let result = report.asyncSignup {
            Output.line()
            Output.line(
                style.bold(
                    "Async decoupling: \(result.synchronous.signups) signups that send an SMS and an email"))
            for (label, side) in [
                ("synchronous", result.synchronous), ("queued", result.queued),
                ("sync, SMS down", result.synchronousWithSMSDown),
                ("queued, SMS down", result.queuedWithSMSDown),
            ] {
                Output.line(
                    "  " + label.rightPadded(to: 18) + "p50 "
                        + String(format: "%.2f", side.responseP50).leftPadded(to: 7) + " ms   p99 "
                        + String(format: "%.2f", side.responseP99).leftPadded(to: 7)
                        + " ms   failed signups \(side.failed)   notifications sent \(side.notificationsSent), waiting \(side.notificationsQueued)"
                )
            }
        }
        if let result = report.fsyncBatching {
            Output.line()
            Output.line(
                style.bold(
                    "Batched appends: \(result.perMessage.messages) messages of 100 bytes to a real file"))
            for (label, side) in [
                ("fsync each message", result.perMessage), ("fsync per \(result.batchSize)", result.batched),
            ] {
                Output.line(
                    "  " + label.rightPadded(to: 20)
                        + String(format: "%.0f", side.messagesPerSecond).leftPadded(to: 10) + " msgs/s   "
                        + String(format: "%.3f", side.fsyncsPerMessage) + " fsyncs per message")
            }
            Output.line(
                style.dim(
                    "  The mechanism behind log-structured brokers' throughput, measured here instead of quoted."
                ))
        }
    }

    struct SimulatedReport: Encodable {
        var seed: UInt64
        var requests: Int
        var burstMilliseconds: Int
        var maxConnections: Int
        var capacity: Int
        var clientTimeoutMilliseconds: Int
        var consumers: Int
        var direct: PeakShavingSide
        var queued: PeakShavingSide
    }

    private func runSimulatedPeakShaving() throws {
        let setup = simulatedSetup
        let outcome = PeakShavingModel.run(setup, seed: seed)
        if output.json {
            try Output.json(
                SimulatedReport(
                    seed: seed, requests: setup.requests, burstMilliseconds: setup.burstMilliseconds,
                    maxConnections: setup.maxConnections, capacity: setup.capacity,
                    clientTimeoutMilliseconds: setup.clientTimeoutMilliseconds, consumers: setup.consumers,
                    direct: outcome.direct, queued: outcome.queued))
            return
        }
        let style = Terminal.current().style
        Output.line(
            style.bold(
                "Peak shaving, simulated: \(setup.requests) requests in \(setup.burstMilliseconds) ms against a database"
                    + " of \(setup.capacity) queries/s and max_connections=\(setup.maxConnections)"))
        Output.line(
            style.dim(
                "  Deterministic: seed \(seed); client timeout \(setup.clientTimeoutMilliseconds) ms;"
                    + " \(setup.consumers) consumers behind the queue."))
        Output.line(
            "  " + "".rightPadded(to: 14) + "written".leftPadded(to: 9) + "too many conn".leftPadded(to: 15)
                + "timed out".leftPadded(to: 11) + "peak conn".leftPadded(to: 11)
                + "peak waiting".leftPadded(to: 14) + "answer p99".leftPadded(to: 12)
                + "write p99".leftPadded(to: 11) + "drained in".leftPadded(to: 12))
        for (label, side) in [("direct", outcome.direct), ("through queue", outcome.queued)] {
            Output.line(
                "  " + label.rightPadded(to: 14) + "\(side.written)".leftPadded(to: 9)
                    + "\(side.tooManyConnections)".leftPadded(to: 15) + "\(side.timedOut)".leftPadded(to: 11)
                    + "\(side.peakConnections)".leftPadded(to: 11) + "\(side.peakWaiting)".leftPadded(to: 14)
                    + (String(format: "%.0f", side.responseP99Milliseconds) + " ms").leftPadded(to: 12)
                    + (String(format: "%.0f", side.writeP99Milliseconds) + " ms").leftPadded(to: 11)
                    + (String(format: "%.0f", side.drainMilliseconds) + " ms").leftPadded(to: 12))
        }
        Output.line(
            style.dim(
                "  Direct clients each hold a connection while they wait, so a burst above the database's capacity"
                    + " runs out of connections and then of patience. The queue answers at once, keeps the database"
                    + " at \(setup.consumers) connections, and writes every row; the price is the wait before a row is"
                    + " written (write p99)."))
    }

    static var machine: String {
        var info = utsname()
        uname(&info)
        let release = withUnsafeBytes(of: &info.release) {
            String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self)
        }
        let arch = withUnsafeBytes(of: &info.machine) {
            String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self)
        }
        return "Linux \(release) \(arch), \(ProcessInfo.processInfo.activeProcessorCount) cores"
    }
}

/// Ctrl-C (or a kill) during `live` removes its scratch folder before the process ends: the
/// measurements write SQLite files and fsync test files straight into it, one level deep.
enum LiveScratch {
    nonisolated(unsafe) private static var folder: UnsafeMutablePointer<CChar>?

    static func removeOnSignal(_ path: String) {
        folder = strdup(path)
        for signalNumber in [SIGINT, SIGTERM, SIGHUP] {
            signal(signalNumber) { received in
                // opendir and readdir are not on POSIX's async-signal-safe list; the process
                // ends right after, so the worst case is a folder left behind, as before.
                if let folder = LiveScratch.folder, let directory = opendir(folder) {
                    while let entry = readdir(directory) {
                        var name = entry.pointee.d_name
                        let file = withUnsafeBytes(of: &name) {
                            String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self)
                        }
                        if file != "." && file != ".." { unlink(String(cString: folder) + "/" + file) }
                    }
                    closedir(directory)
                    rmdir(folder)
                }
                _exit(128 + received)
            }
        }
    }
}
