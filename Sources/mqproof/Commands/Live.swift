import ArgumentParser
import Foundation
import LiveExperiments
import Simulation

/// The why-MQ experiments, measured live on this machine.
struct Live: EnvironmentCommand {
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
    @OptionGroup var language: LanguageOption
    @OptionGroup var format: JSONOption

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

    func run(in environment: Environment) throws {
        let output = environment.output
        if simulated {
            try runSimulatedPeakShaving(environment)
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
        if format.json {
            try output.json(report)
            return
        }
        let style = environment.terminal.style
        let ui = language.ui(environment)
        output.line(style.dim(ui(.measuredOn(report.machine))))
        if let result = report.peakShaving {
            output.line()
            output.line(
                style.bold(ui(.peakShavingTitle(writes: result.direct.writes, writers: writers))))
            output.line(
                "  " + "".rightPadded(to: 14) + ui(.liveSucceeded).leftPadded(to: 7)
                    + ui(.liveBusy).leftPadded(to: 7) + ui(.liveWritesPerSecond).leftPadded(to: 10)
                    + ui(.liveP50).leftPadded(to: 9) + ui(.liveP99).leftPadded(to: 9)
                    + ui(.livePeakWriters).leftPadded(to: 14) + ui(.liveDoneIn).leftPadded(to: 10))
            for (label, side) in [(ui(.liveDirect), result.direct), (ui(.liveThroughQueue), result.queued)] {
                output.line(
                    "  " + label.rightPadded(to: 14) + "\(side.succeeded)".leftPadded(to: 7)
                        + "\(side.busyErrors)".leftPadded(to: 7)
                        + String(format: "%.0f", side.writesPerSecond).leftPadded(to: 10)
                        + String(format: "%.1f", side.latencyP50).leftPadded(to: 9)
                        + String(format: "%.1f", side.latencyP99).leftPadded(to: 9)
                        + "\(side.peakDatabaseConcurrency)".leftPadded(to: 14)
                        + String(format: "%.2f s", side.seconds).leftPadded(to: 10))
            }
            output.lines(environment.terminal.hanging(ui(.peakShavingMeaning), first: "").map(style.dim))
        }
        if let result = report.asyncSignup {
            output.line()
            output.line(style.bold(ui(.asyncTitle(signups: result.synchronous.signups))))
            for (label, side) in [
                (ui(.liveSynchronous), result.synchronous), (ui(.liveQueued), result.queued),
                (ui(.liveSynchronousSMSDown), result.synchronousWithSMSDown),
                (ui(.liveQueuedSMSDown), result.queuedWithSMSDown),
            ] {
                output.line(
                    "  " + label.rightPadded(to: 20)
                        + ui(
                            .asyncRow(
                                p50: String(format: "%.2f", side.responseP50).leftPadded(to: 7),
                                p99: String(format: "%.2f", side.responseP99).leftPadded(to: 7),
                                failed: side.failed, sent: side.notificationsSent,
                                waiting: side.notificationsQueued)))
            }
        }
        if let result = report.fsyncBatching {
            output.line()
            output.line(style.bold(ui(.fsyncTitle(messages: result.perMessage.messages))))
            for (label, side) in [
                (ui(.liveFsyncEach), result.perMessage),
                (ui(.liveFsyncPer(result.batchSize)), result.batched),
            ] {
                output.line(
                    "  " + label.rightPadded(to: 20)
                        + ui(
                            .fsyncRow(
                                messagesPerSecond: String(format: "%.0f", side.messagesPerSecond).leftPadded(
                                    to: 10),
                                fsyncsPerMessage: String(format: "%.3f", side.fsyncsPerMessage))))
            }
            output.lines(environment.terminal.hanging(ui(.fsyncMeaning), first: "").map(style.dim))
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

    private func runSimulatedPeakShaving(_ environment: Environment) throws {
        let output = environment.output
        let setup = simulatedSetup
        let outcome = PeakShavingModel.run(setup, seed: seed)
        if format.json {
            try output.json(
                SimulatedReport(
                    seed: seed, requests: setup.requests, burstMilliseconds: setup.burstMilliseconds,
                    maxConnections: setup.maxConnections, capacity: setup.capacity,
                    clientTimeoutMilliseconds: setup.clientTimeoutMilliseconds, consumers: setup.consumers,
                    direct: outcome.direct, queued: outcome.queued))
            return
        }
        let terminal = environment.terminal
        let style = terminal.style
        let ui = language.ui(environment)
        output.lines(
            terminal.hanging(
                ui(
                    .simulatedPeakTitle(
                        requests: setup.requests, burst: setup.burstMilliseconds, capacity: setup.capacity,
                        maxConnections: setup.maxConnections)), first: ""
            ).map(style.bold))
        output.lines(
            terminal.wrapped(
                ui(
                    .simulatedPeakSetup(
                        seed: seed, timeout: setup.clientTimeoutMilliseconds, consumers: setup.consumers)),
                first: ""
            ).map(style.dim))
        // One row per measure and a column per side: two numbers a row fit any terminal.
        func milliseconds(_ value: Double) -> String { String(format: "%.0f", value) + " ms" }
        let measures: [(UIText, (PeakShavingSide) -> String)] = [
            (.liveWritten, { "\($0.written)" }), (.liveTooManyConnections, { "\($0.tooManyConnections)" }),
            (.liveTimedOut, { "\($0.timedOut)" }), (.livePeakConnections, { "\($0.peakConnections)" }),
            (.livePeakWaiting, { "\($0.peakWaiting)" }),
            (.liveAnswerP99, { milliseconds($0.responseP99Milliseconds) }),
            (.liveWriteP99, { milliseconds($0.writeP99Milliseconds) }),
            (.liveDrainedIn, { milliseconds($0.drainMilliseconds) }),
        ]
        let labelWidth = measures.map { DisplayWidth.of(ui($0.0)) }.max() ?? 0
        let columnWidth =
            max(10, DisplayWidth.of(ui(.liveDirect)), DisplayWidth.of(ui(.liveThroughQueue))) + 2
        output.line(
            "  " + "".rightPadded(to: labelWidth) + ui(.liveDirect).leftPadded(to: columnWidth)
                + ui(.liveThroughQueue).leftPadded(to: columnWidth))
        for (measure, value) in measures {
            output.line(
                "  " + ui(measure).rightPadded(to: labelWidth)
                    + value(outcome.direct).leftPadded(to: columnWidth)
                    + value(outcome.queued).leftPadded(to: columnWidth))
        }
        output.lines(
            terminal.hanging(ui(.simulatedPeakMeaning(consumers: setup.consumers)), first: "").map(style.dim))
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
