import ArgumentParser
import Foundation
import LiveExperiments

/// The why-MQ experiments, measured live on this machine.
struct Live: ParsableCommand {
    static let configuration = CommandConfiguration(
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

    struct Report: Encodable {
        var machine: String
        var peakShaving: PeakShavingResult?
        var asyncSignup: AsyncSignupResult?
        var fsyncBatching: FsyncBatchingResult?
    }

    func validate() throws {
        guard (1...256).contains(writers) else { throw ValidationError("--writers must be 1 to 256") }
    }

    func run() throws {
        let folder = FileManager.default.temporaryDirectory.appending(
            path: "mqproof-live-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
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
