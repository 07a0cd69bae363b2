// A private RabbitMQ node for one mqproof run: its own data, log and cookie under a temporary
// directory, its own ports (free ones, on 127.0.0.1 only) and its own epmd. Never the distro's
// service, which would listen on every interface with the shared data directory.
//
// Processes: epmd runs in the foreground as mqproof's child (not `-daemon`, which would leave it
// to init), and rabbitmq-server in a process group of its own, so that a crash is `kill -9` of
// the whole group (the shell, beam.smp and its port programs) and nothing can outlive `stop`.
// Recipe and timings: ../shared/reference/real-brokers.md §1.

import Foundation

#if canImport(Glibc)
    import Glibc
#endif

public struct RealBrokerError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

final class PrivateRabbitNode {
    /// Where Debian's package puts the server; `rabbitmq-server` there runs as the caller,
    /// unlike the /usr/sbin wrapper, which switches to the rabbitmq user.
    static let libraryDirectory = "/usr/lib/rabbitmq"
    static let installHint = "apt-get install rabbitmq-server"

    let directory: String
    let amqpPort: Int
    private let distributionPort: Int
    private let epmdPort: Int
    private var epmd: pid_t?
    private var server: pid_t?
    private(set) var isPaused = false
    /// How long each start took, in ms: the first, then each restart.
    private(set) var startTimes: [Int] = []

    var address: AMQPAddress { AMQPAddress(host: "127.0.0.1", port: amqpPort) }
    var isRunning: Bool { server != nil }

    /// The rabbitmq-server script, or an error that says how to install it.
    static func serverScript(in library: String = libraryDirectory) throws(RealBrokerError) -> String {
        let script = library + "/bin/rabbitmq-server"
        guard access(script, X_OK) == 0,
            access("/usr/bin/epmd", X_OK) == 0 || access("/usr/lib/erlang/bin/epmd", X_OK) == 0
        else {
            throw RealBrokerError(
                "rabbitmq-server is not installed: run `\(installHint)` (Debian 12 ships 3.10.8)")
        }
        return script
    }

    static func rabbitHome() -> String? {
        let lib = libraryDirectory + "/lib"
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: lib)) ?? []
        return entries.filter { $0.hasPrefix("rabbitmq_server-") }.sorted().last.map { lib + "/" + $0 }
    }

    init() throws(RealBrokerError) {
        _ = try Self.serverScript()
        var template = Array((NSTemporaryDirectory() + "mqproof-rabbit-XXXXXX").utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw RealBrokerError("cannot create a temporary directory for the node")
        }
        directory = String(cString: made)
        amqpPort = try Self.freePort()
        distributionPort = try Self.freePort(avoiding: [amqpPort])
        epmdPort = try Self.freePort(avoiding: [amqpPort, distributionPort])
        for folder in ["home", "mnesia", "log"] {
            try? FileManager.default.createDirectory(
                atPath: directory + "/" + folder, withIntermediateDirectories: true)
        }
        let config = """
            listeners.tcp.default = 127.0.0.1:\(amqpPort)
            loopback_users.guest = true
            """
        _ = FileManager.default.createFile(atPath: directory + "/rabbitmq.conf", contents: Data(config.utf8))
        // No plugins: no management listener on 15672.
        _ = FileManager.default.createFile(
            atPath: directory + "/enabled_plugins", contents: Data("[].\n".utf8))
    }

    deinit { stop() }

    /// Starts the node and returns once it accepts an AMQP login; throws after `timeoutMs`.
    func start(timeoutMs: Int = 60_000, shouldStop: () -> Bool) throws(RealBrokerError) {
        let began = Clock.milliseconds()
        if epmd == nil {
            let epmdPath = access("/usr/bin/epmd", X_OK) == 0 ? "/usr/bin/epmd" : "/usr/lib/erlang/bin/epmd"
            epmd = try spawn(
                [epmdPath, "-address", "127.0.0.1", "-port", String(epmdPort)], log: "epmd.log")
        }
        server = try spawn([try Self.serverScript()], log: "server.log")
        let deadline = began + timeoutMs
        while true {
            if shouldStop() { throw RealBrokerError("interrupted") }
            if let server, waitpid(server, nil, WNOHANG) == server {
                self.server = nil
                throw RealBrokerError(
                    "rabbitmq-server exited while starting; its log: \(directory)/server.log")
            }
            if let connection = try? AMQPConnection.open(address, name: "mqproof probe") {
                connection.closeCleanly()
                startTimes.append(Clock.milliseconds() - began)
                return
            }
            guard Clock.milliseconds() < deadline else {
                throw RealBrokerError(
                    "rabbitmq-server did not accept connections within \(timeoutMs / 1_000) s")
            }
            usleep(50_000)
        }
    }

    /// kill -9 of the node's whole process group: what a crash of the machine's process is.
    func crash() {
        guard let server else { return }
        if isPaused { resume() }
        kill(-server, SIGKILL)
        waitpid(server, nil, 0)
        self.server = nil
    }

    func pause() {
        guard let server, !isPaused else { return }
        kill(-server, SIGSTOP)
        isPaused = true
    }

    func resume() {
        guard let server, isPaused else { return }
        kill(-server, SIGCONT)
        isPaused = false
    }

    /// Stops everything this node started and removes its directory. Safe to call twice.
    func stop() {
        if let server {
            if isPaused { resume() }
            kill(-server, SIGTERM)
            let deadline = Clock.milliseconds() + 5_000
            while waitpid(server, nil, WNOHANG) == 0 && Clock.milliseconds() < deadline { usleep(20_000) }
            // The group, not only the shell: beam.smp and its port programs.
            kill(-server, SIGKILL)
            waitpid(server, nil, WNOHANG)
            self.server = nil
        }
        if let epmd {
            kill(epmd, SIGKILL)
            waitpid(epmd, nil, 0)
            self.epmd = nil
        }
        try? FileManager.default.removeItem(atPath: directory)
    }

    // MARK: - Processes and ports

    private var environment: [String] {
        var variables = ProcessInfo.processInfo.environment
        let overrides: [String: String] = [
            "HOME": directory + "/home",
            "RABBITMQ_HOME": Self.rabbitHome() ?? "",
            "RABBITMQ_NODENAME": "mqproof@localhost",
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": String(amqpPort),
            "RABBITMQ_DIST_PORT": String(distributionPort),
            "ERL_EPMD_ADDRESS": "127.0.0.1",
            "ERL_EPMD_PORT": String(epmdPort),
            "RABBITMQ_MNESIA_BASE": directory + "/mnesia",
            "RABBITMQ_LOG_BASE": directory + "/log",
            "RABBITMQ_PID_FILE": directory + "/rabbit.pid",
            "RABBITMQ_CONFIG_FILE": directory + "/rabbitmq.conf",
            "RABBITMQ_ENABLED_PLUGINS_FILE": directory + "/enabled_plugins",
            // The Erlang distribution port on loopback too.
            "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": "-kernel inet_dist_use_interface {127,0,0,1}",
        ]
        variables.merge(overrides) { _, new in new }
        variables["PATH"] = Self.libraryDirectory + "/bin:" + (variables["PATH"] ?? "/usr/bin:/bin")
        return variables.map { "\($0.key)=\($0.value)" }
    }

    /// Starts `arguments` in a new process group, output to `log` in the node's directory.
    private func spawn(_ arguments: [String], log: String) throws(RealBrokerError) -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(
            &actions, 1, directory + "/" + log, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // A group of its own: Ctrl-C in the terminal reaches mqproof, which stops the node in order.
        posix_spawnattr_setpgroup(&attributes, 0)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGINT, SIGTERM, SIGPIPE, SIGHUP] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setflags(
            &attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))
        let argv = arguments.map { strdup($0) } + [nil]
        let envp = environment.map { strdup($0) } + [nil]
        defer {
            for pointer in argv { free(pointer) }
            for pointer in envp { free(pointer) }
        }
        var pid: pid_t = 0
        let status = posix_spawn(&pid, arguments[0], &actions, &attributes, argv, envp)
        guard status == 0 else {
            throw RealBrokerError("cannot start \(arguments[0]): \(String(cString: strerror(status)))")
        }
        return pid
    }

    /// A port nothing listens on now, on 127.0.0.1.
    private static func freePort(avoiding taken: [Int] = []) throws(RealBrokerError) -> Int {
        for _ in 0..<20 {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard fd >= 0 else { break }
            defer { close(fd) }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = 0
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            guard bound == 0 else { continue }
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            _ = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
            }
            let port = Int(UInt16(bigEndian: address.sin_port))
            if !taken.contains(port) { return port }
        }
        throw RealBrokerError("cannot find a free port on 127.0.0.1")
    }
}
