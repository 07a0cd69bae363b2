import ArgumentParser
import Foundation
import LiveExperiments
import Simulation

/// The why-MQ experiments, measured live on this machine.
struct Live: EnvironmentCommand {
    static let configuration = CommandConfiguration(
        commandName: "live",
        abstract:
            "Measure, on this machine, why a queue helps and why Kafka is fast: peak shaving, async decoupling, batched fsync, sequential writes, the page cache, zero-copy.",
        discussion:
            "These touch real files, threads and clocks, so the figures vary by machine and run; the mechanism does not."
    )

    enum Name: String, ExpressibleByArgument, CaseIterable {
        case peakShaving = "peak-shaving"
        case asyncSignup = "async-signup"
        case fsyncBatching = "fsync-batching"
        case sequentialWrites = "sequential-writes"
        case pageCache = "page-cache"
        case zeroCopy = "zero-copy"
        case all
    }

    @Argument(
        help:
            "peak-shaving, async-signup, fsync-batching, sequential-writes, page-cache, zero-copy or all.")
    var experiment: Name = .all
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

    @Flag(
        help:
            "Measure longer: seven repeats of the full-size workloads (about 20 s) instead of three small ones (about 3 s)."
    )
    var long = false

    /// How much to measure: every experiment repeats, and the report shows the median and the
    /// spread (lowest to highest), because one run on a shared machine can mislead.
    struct Plan {
        var repeats: Int
        var writesPerWriter: Int
        var signups: Int
        var fsyncMessages: Int
        var blocks: Int
        var readMegabytes: Int
        var sendMegabytes: Int

        static let quick = Plan(
            repeats: 3, writesPerWriter: 6, signups: 5, fsyncMessages: 400, blocks: 256, readMegabytes: 16,
            sendMegabytes: 32)
        static let long = Plan(
            repeats: 7, writesPerWriter: 20, signups: 40, fsyncMessages: 1_000, blocks: 1_024,
            readMegabytes: 64,
            sendMegabytes: 128)
    }

    struct Report: Encodable {
        var machine: String
        var repeats: Int
        var peakShaving: [PeakShavingResult]?
        var asyncSignup: [AsyncSignupResult]?
        var fsyncBatching: [FsyncBatchingResult]?
        var sequentialWrites: [IOComparison]?
        var pageCache: [IOComparison]?
        var zeroCopy: [IOComparison]?
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
        let plan = long ? Plan.long : Plan.quick
        let ui = language.ui(environment)
        let progress =
            format.json || !environment.terminal.isErrorTerminal
            ? nil : LiveProgress(output: output, ui: ui, repeats: plan.repeats)
        var report = Report(machine: Self.machine, repeats: plan.repeats)
        if experiment == .peakShaving || experiment == .all {
            report.peakShaving = try (1...plan.repeats).map { run in
                progress?.show(.livePeakShavingName, run: run)
                return try PeakShaving.run(
                    folder: folder, writers: writers, writesPerWriter: plan.writesPerWriter)
            }
        }
        if experiment == .asyncSignup || experiment == .all {
            report.asyncSignup = (1...plan.repeats).map { run in
                progress?.show(.liveAsyncName, run: run)
                return AsyncSignup.run(signups: plan.signups)
            }
        }
        if experiment == .fsyncBatching || experiment == .all {
            report.fsyncBatching = try (1...plan.repeats).map { run in
                progress?.show(.liveFsyncName, run: run)
                return try FsyncBatching.run(folder: folder, messages: plan.fsyncMessages)
            }
        }
        if experiment == .sequentialWrites || experiment == .all {
            report.sequentialWrites = try (1...plan.repeats).map { run in
                progress?.show(.liveSequentialName, run: run)
                return try LogIO.sequentialVersusRandom(folder: folder, blocks: plan.blocks)
            }
        }
        if experiment == .pageCache || experiment == .all {
            report.pageCache = try (1...plan.repeats).map { run in
                progress?.show(.livePageCacheName, run: run)
                return try LogIO.pageCacheVersusDisk(folder: folder, megabytes: plan.readMegabytes)
            }
        }
        if experiment == .zeroCopy || experiment == .all {
            report.zeroCopy = try (1...plan.repeats).map { run in
                progress?.show(.liveZeroCopyName, run: run)
                return try LogIO.sendfileVersusCopy(folder: folder, megabytes: plan.sendMegabytes)
            }
        }
        progress?.finish()
        if format.json {
            try output.json(report)
            return
        }
        LiveView(terminal: environment.terminal, output: output, ui: ui, writers: writers).print(report)
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
