import ArgumentParser
import Foundation

/// The `mqproof` command: message-queue interview prep whose answers link runnable proofs.
@main
struct MQProof: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mqproof",
        abstract: "Message-queue interview prep, in Chinese and English, whose answers link runnable proofs.",
        discussion: """
            Run with no command for the home screen. Content is served from a SQLite store under \
            $XDG_DATA_HOME/mqproof (else ~/.local/share/mqproof); --db or MQPROOF_DB choose another file.

            Exit status: 0 success, 1 a failure (unknown id, bad content, unusable database), 64 bad usage.
            """,
        version: "0.1.0",
        subcommands: [
            Home.self, Topics.self, List.self, Show.self, Search.self, ExperimentsCommand.self, Run.self,
            Verify.self,
            Compare.self, Configs.self, Study.self, QuizCommand.self, Stats.self, ProgressCommand.self,
            ExportCommand.self,
            Live.self,
            Scenarios.self,
            ContentCommand.self,
        ],
        defaultSubcommand: Home.self
    )

    /// Runs the command the arguments name, printing failures as one `mqproof: …` line.
    static func main() {
        do {
            var command = try parseAsRoot(spellingOut(Array(CommandLine.arguments.dropFirst())))
            try command.run()
        } catch let failure as Failure {
            Output.process.error("mqproof: \(Self.oneLine(failure.message))")
            Foundation.exit(failure.exitCode)
        } catch {
            exit(withError: error)
        }
    }
}

extension MQProof {
    /// `--trace full` (and `--trace=full`) as the one flag it means: an option whose value may
    /// be left out is not something the argument parser has.
    static func spellingOut(_ arguments: [String]) -> [String] {
        var result: [String] = []
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            if argument == "--", index > 0 {
                result.append(contentsOf: arguments[index...])
                break
            }
            if argument == "--trace=full" {
                result.append("--trace-full")
            } else if argument == "--trace", index + 1 < arguments.count, arguments[index + 1] == "full" {
                result.append("--trace-full")
                index += 1
            } else {
                result.append(argument)
            }
            index += 1
        }
        return result
    }

    /// A message as one line of reasonable length: whatever it quotes of the user's input (a
    /// 100 KB scenario line, a pasted book) is cut, so the reason stays readable.
    static func oneLine(_ message: String, limit: Int = 400) -> String {
        let flat = message.split(separator: "\n", omittingEmptySubsequences: true).joined(separator: " ")
        return flat.count <= limit ? flat : String(flat.prefix(limit)) + "…"
    }
}

/// A failure to report to the user as one line, with the exit status to leave with.
struct Failure: Error {
    var message: String
    var exitCode: Int32 = 1
}
