import Foundation

/// Runs the `mqproof` binary that `swift build` / `swift test` built next to the test bundle.
public struct BuiltBinary: Sendable {
    public struct Result: Sendable {
        public var status: Int32
        public var standardOutput: String
        public var standardError: String
    }

    public let url: URL

    /// The binary beside the running test executable, in the same build folder.
    public static var mqproof: BuiltBinary {
        let testExecutable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        return BuiltBinary(url: testExecutable.deletingLastPathComponent().appending(path: "mqproof"))
    }

    public init(url: URL) {
        self.url = url
    }

    /// Runs with exactly `environment` (nothing inherited, so the developer's LANG or NO_COLOR
    /// cannot change what a test sees), in `directory`, with `input` on standard input. A run
    /// still going after `timeout` seconds is killed and reported with status -1: a hang fails
    /// its test instead of the whole suite.
    public func run(
        _ arguments: [String], environment: [String: String], in directory: URL? = nil, input: String = "",
        timeout: Double = 300
    ) throws -> Result {
        let scratch = TemporaryDirectory()
        let outURL = scratch.url.appending(path: "out")
        let errURL = scratch.url.appending(path: "err")
        let inURL = scratch.url.appending(path: "in")
        try Data().write(to: outURL)
        try Data().write(to: errURL)
        try Data(input.utf8).write(to: inURL)
        let process = Process()
        process.executableURL = url
        process.arguments = arguments
        process.environment = environment
        if let directory { process.currentDirectoryURL = directory }
        process.standardOutput = try FileHandle(forWritingTo: outURL)
        process.standardError = try FileHandle(forWritingTo: errURL)
        process.standardInput = try FileHandle(forReadingFrom: inURL)
        try process.run()
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        var timedOut = false
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            timedOut = true
        }
        process.waitUntilExit()
        return Result(
            status: timedOut ? -1 : process.terminationStatus,
            standardOutput: String(decoding: try Data(contentsOf: outURL), as: UTF8.self),
            standardError: String(decoding: try Data(contentsOf: errURL), as: UTF8.self))
    }
}
