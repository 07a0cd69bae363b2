import Foundation
import TestSupport
import Testing

@testable import RealBrokers

/// Whether these tests can run here. CI sets MQPROOF_REQUIRE_REAL_BROKERS=1 so that a missing
/// broker fails them instead of skipping them.
enum RealBrokerAvailability {
    static var installed: Bool { (try? PrivateRabbitNode.serverScript()) != nil }
    static var required: Bool { ProcessInfo.processInfo.environment["MQPROOF_REQUIRE_REAL_BROKERS"] == "1" }
    static var runs: Bool { installed || required }
    static let skipReason: Comment =
        "rabbitmq-server is not installed (apt-get install rabbitmq-server); CI installs it and runs these"
}

/// What a private node leaves behind, if anything: processes that carry its directory in their
/// command line or environment (beam.smp, epmd, the port programs) and its temporary directories.
struct Leftovers: Equatable {
    var processes: [String]
    var directories: [String]

    static func now() -> Leftovers {
        var processes: [String] = []
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        for pid in entries where Int(pid) != nil {
            for file in ["cmdline", "environ"] {
                guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/\(file)") else {
                    continue
                }
                if String(decoding: data, as: UTF8.self).contains("mqproof-rabbit-") {
                    let name = (try? String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8)) ?? "?"
                    processes.append("\(pid) \(name.trimmingCharacters(in: .whitespacesAndNewlines))")
                    break
                }
            }
        }
        let temporary = NSTemporaryDirectory()
        let directories = ((try? FileManager.default.contentsOfDirectory(atPath: temporary)) ?? [])
            .filter { $0.hasPrefix("mqproof-rabbit-") }
        return Leftovers(processes: processes.sorted(), directories: directories.sorted())
    }

    /// The listening TCP sockets of processes that carry `marker`, as "address:port" in hex, from /proc.
    static func listeners(of marker: String) -> [String] {
        var inodes: Set<String> = []
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        for pid in entries where Int(pid) != nil {
            guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/environ"),
                String(decoding: data, as: UTF8.self).contains(marker)
            else { continue }
            let fds = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd")) ?? []
            for fd in fds {
                if let link = try? FileManager.default.destinationOfSymbolicLink(
                    atPath: "/proc/\(pid)/fd/\(fd)"),
                    link.hasPrefix("socket:[")
                {
                    inodes.insert(String(link.dropFirst("socket:[".count).dropLast()))
                }
            }
        }
        var listening: [String] = []
        for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
            let text = (try? String(contentsOfFile: table, encoding: .utf8)) ?? ""
            for line in text.split(separator: "\n").dropFirst() {
                let fields = line.split(separator: " ")
                // local_address, state 0A = LISTEN, inode at index 9.
                guard fields.count > 9, fields[3] == "0A", inodes.contains(String(fields[9])) else {
                    continue
                }
                listening.append(String(fields[1]))
            }
        }
        return listening
    }
}

/// `run --on rabbitmq` and `verify --on rabbitmq`: the simulator against a real RabbitMQ 3.10,
/// on a private node each run starts and stops.
@Suite(
    "Real RabbitMQ", .serialized, .enabled(if: RealBrokerAvailability.runs, RealBrokerAvailability.skipReason)
)
struct RealBrokerRunTests {
    let directory = TemporaryDirectory()
    let binary = BuiltBinary.mqproof

    var environment: [String: String] {
        [
            "MQPROOF_DB": directory.file("real.sqlite"), "HOME": directory.path, "LANG": "C.UTF-8",
            "COLUMNS": "100", "PATH": "/usr/bin:/bin",
        ]
    }

    @Test("verify --on rabbitmq: at least 8 experiments agree, the five the issue names among them")
    func verifyAgrees() throws {
        let before = Leftovers.now()
        let result = try binary.run(
            ["verify", "--on", "rabbitmq", "--json"], environment: environment, timeout: 600)
        let rows = try #require(
            try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [[String: Any]],
            "stdout: \(result.standardOutput)\nstderr: \(result.standardError)")
        let agreed = rows.filter { $0["agrees"] as? Bool == true }.compactMap { $0["id"] as? String }
        #expect(result.status == 0, "\(rows.filter { $0["agrees"] as? Bool == false && $0["real"] != nil })")
        #expect(agreed.count >= 8, "agreed: \(agreed)")
        // A confirm then a crash; an autoAck consumer crash; the prefetch bound; DLX after a
        // rejection; a mandatory return.
        for id in ["R02", "R04", "R10b", "R05b", "R11"] { #expect(agreed.contains(id), "\(id) agrees") }
        // Length limits and TTLs (drop-head, reject-publish, head-of-line expiry), priorities, and
        // a single active consumer against competing ones.
        for id in ["R12", "R12b", "R13", "R13b", "R14", "R15", "R15b", "R16", "R16b"] {
            #expect(agreed.contains(id), "\(id) agrees")
        }
        // What cannot run says why, and is never left out.
        let skipped = rows.filter { $0["real"] == nil }
        #expect(skipped.allSatisfy { ($0["reason"] as? String)?.isEmpty == false })
        #expect(rows.count == agreed.count + skipped.count)
        #expect(
            rows.contains {
                $0["id"] as? String == "R01" && ($0["reason"] as? String)?.contains("file system") == true
            })
        #expect(rows.allSatisfy { ($0["broker"] as? String)?.hasPrefix("RabbitMQ 3.") == true })
        #expect(Leftovers.now() == before, "the run stopped its node and removed its directory")
    }

    @Test("run R04 --on rabbitmq: the simulated and the real outcome side by side, and nothing left behind")
    func sideBySide() throws {
        let before = Leftovers.now()
        let result = try binary.run(
            ["run", "R04", "--on", "rabbitmq", "--lang", "en"], environment: environment)
        let text = result.standardOutput
        #expect(result.status == 0, "\(text)\n\(result.standardError)")
        #expect(text.contains("R04 in the simulator and on a real RabbitMQ 3."))
        #expect(text.contains("The simulator uses the 3.x profile"))
        let lostWrite =
            text.split(separator: "\n").first { $0.hasPrefix("  lost-write") }.map(String.init) ?? ""
        #expect(lostWrite.components(separatedBy: "ok [m4-m10]").count == 3, "both sides: \(lostWrite)")
        #expect(text.contains("Agreed: the real broker and the simulator came out the same"))
        #expect(result.standardError.contains("Starting a private RabbitMQ node"))
        #expect(Leftovers.now() == before)
    }

    @Test(
        "Ctrl-C (or SIGTERM) during a real run stops the node, removes its files and exits 128 + the signal",
        arguments: [SIGINT, SIGTERM])
    func interrupted(signal: Int32) throws {
        let before = Leftovers.now()
        let process = Process()
        process.executableURL = binary.url
        process.arguments = ["run", "R10", "--on", "rabbitmq", "--lang", "en"]
        process.environment = environment
        let errors = Pipe()
        process.standardOutput = FileHandle.nullDevice
        process.standardError = errors
        try process.run()
        // Wait until the node is up and the script is running, then interrupt.
        var seen = Data()
        let deadline = Date().addingTimeInterval(60)
        while !String(decoding: seen, as: UTF8.self).contains("Running R10"), Date() < deadline {
            seen += errors.fileHandleForReading.availableData
        }
        #expect(Leftovers.now() != before, "a node is running")
        Thread.sleep(forTimeInterval: 0.5)
        kill(process.processIdentifier, signal)
        process.waitUntilExit()
        #expect(process.terminationReason == .exit)
        #expect(process.terminationStatus == 128 + signal)
        #expect(Leftovers.now() == before)
    }

    @Test("A private node listens on loopback only: AMQP, Erlang distribution and epmd")
    func loopbackOnly() throws {
        let rabbit = try RealRabbit.startPrivateNode(shouldStop: { false })
        defer { rabbit.close() }
        let marker = try #require(Leftovers.now().directories.first)
        let listening = Leftovers.listeners(of: marker)
        #expect(listening.count >= 3, "AMQP, distribution and epmd: \(listening)")
        for address in listening {
            let host = address.split(separator: ":")[0]
            // 127.0.0.1 and ::1 as /proc/net writes them.
            #expect(host == "0100007F" || host == "00000000000000000000000001000000", "\(address)")
        }
    }

    @Test("--broker runs the fault-free experiments on a broker mqproof did not start, and refuses the rest")
    func existingBroker() throws {
        let rabbit = try RealRabbit.startPrivateNode(shouldStop: { false })
        defer { rabbit.close() }
        let url = "amqp://guest:guest@127.0.0.1:\(rabbit.port)/"
        let fine = try binary.run(["run", "R05b", "--broker", url, "--lang", "en"], environment: environment)
        #expect(fine.status == 0, "\(fine.standardOutput)\n\(fine.standardError)")
        #expect(fine.standardOutput.contains("Agreed"))
        #expect(!fine.standardError.contains("Starting a private"), "it used the given broker")
        let refused = try binary.run(["run", "R02", "--broker", url], environment: environment)
        #expect(refused.status == 64)
        #expect(refused.standardError.contains("only a node mqproof started can be killed or paused"))
    }

    @Test(
        "pause B1 is SIGSTOP and SIGCONT: a publish during the pause waits past its confirm timeout, then is stored"
    )
    func pausedNode() throws {
        // The publisher gives up on a confirm after 1 s and the node is stopped for 1.5 s: m2 ends
        // in doubt, and is in the queue once the node resumes. Without a real pause it would be
        // acknowledged within milliseconds, and the expectations would fail.
        let file = directory.file("pause.yaml")
        try """
        name: a paused node
        rabbitmq: "3.10"
        nodes: 1
        config: {durable: true, delivery_mode: 2, confirm.select: true, sim.confirm.timeout.ms: 1000}
        steps:
          - publish m1
          - wait until acknowledged m1 within 5s
          - pause B1 for 1500ms
          - publish m2
          - wait 3s
        expect:
          acknowledged: [m1]
          indeterminate: [m2]
          queue q: [m1, m2]
        """.write(toFile: file, atomically: true, encoding: .utf8)
        let result = try binary.run(["run", file, "--on", "rabbitmq", "--json"], environment: environment)
        let report = try #require(
            try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any],
            "\(result.standardOutput)\n\(result.standardError)")
        #expect(report["agrees"] as? Bool == true, "\(report["reason"] ?? "")")
        #expect((report["real"] as? [String: Any])?["passed"] as? Bool == true)
        #expect(result.status == 0)
    }
}
