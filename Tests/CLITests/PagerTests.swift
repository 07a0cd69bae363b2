import Foundation
import TestSupport
import Testing

/// Long output goes through $PAGER on a terminal, and never when piped. The terminal is a
/// pseudo-terminal from script(1) (util-linux, in every Debian); the pager is a shell command
/// that keeps what it is given.
@Suite("Paging")
struct PagerTests {
    let directory = TemporaryDirectory()
    let binary = BuiltBinary.mqproof

    /// Runs mqproof on a 20-row terminal with `pager` as $PAGER; returns what reached the screen.
    func onTerminal(_ arguments: String, pager: String, variables: [String: String] = [:]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/script")
        process.arguments = ["-qec", "stty rows 20 cols 80; \(binary.url.path) \(arguments)", "/dev/null"]
        process.environment = [
            "MQPROOF_DB": directory.file("pager.sqlite"), "HOME": directory.path, "LANG": "C.UTF-8",
            "TERM": "xterm", "PAGER": pager,
        ].merging(variables) { $1 }
        let out = Pipe()
        process.standardOutput = out
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let screen = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return screen
    }

    @Test("An answer longer than the screen is handed to the pager; a short list is not")
    func pagesLongOutput() throws {
        let paged = directory.file("paged.txt")
        _ = try onTerminal("show kafka-acks-message-loss --lang en", pager: "cat > \(paged)")
        let text = try String(contentsOfFile: paged, encoding: .utf8)
        #expect(text.contains("acks"))
        #expect(text.split(separator: "\n").count > 20)

        try FileManager.default.removeItem(atPath: paged)
        let screen = try onTerminal("topics --lang en", pager: "cat > \(paged)")
        #expect(!FileManager.default.fileExists(atPath: paged))
        #expect(screen.contains("message-loss"))
    }

    @Test("Piped output is never paged")
    func neverWhenPiped() throws {
        let paged = directory.file("piped.txt")
        let result = try binary.run(
            ["show", "kafka-acks-message-loss", "--lang", "en"],
            environment: [
                "MQPROOF_DB": directory.file("pager.sqlite"), "HOME": directory.path, "LANG": "C.UTF-8",
                "PAGER": "cat > \(paged)",
            ])
        #expect(result.standardOutput.split(separator: "\n").count > 20)
        #expect(!FileManager.default.fileExists(atPath: paged))
    }

    @Test("Colour on a terminal is whole escape sequences; none with NO_COLOR or TERM=dumb")
    func colour() throws {
        let coloured = try onTerminal("run K01 --lang en", pager: "cat")
        #expect(coloured.contains("\u{1B}[32m"))
        // An escape's "[32m" never appears without the escape byte before it.
        let all = coloured.ranges(of: /\[[0-9;]+m/)
        let whole = coloured.ranges(of: /\x{1B}\[[0-9;]+m/)
        #expect(!all.isEmpty && all.count == whole.count, "\(all.count - whole.count) lost their escape byte")
        for variables in [["NO_COLOR": "1"], ["TERM": "dumb"]] {
            let plain = try onTerminal("run K01 --lang en", pager: "cat", variables: variables)
            #expect(plain.contains("Verdict"))
            #expect(!plain.contains("\u{1B}["), "\(variables)")
        }
    }
}
