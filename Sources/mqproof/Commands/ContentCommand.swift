import ArgumentParser
import Content

/// Commands for content authors.
struct ContentCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "content",
        abstract: "Work with the question files (content/).",
        subcommands: [Check.self])

    /// Validates a content tree without touching the database.
    struct Check: EnvironmentCommand {
        static let pagesOutput = true

        static let configuration = CommandConfiguration(
            commandName: "check",
            abstract: "Validate the content and list every problem as file:line: reason.",
            discussion:
                "Checks the built-in content, or the directory given with --content. Exit status 1 when there is any problem."
        )

        @Option(
            help: ArgumentHelp(
                "The content directory to check; default: the built-in content.", valueName: "dir"))
        var content: String?

        @OptionGroup var language: LanguageOption
        @OptionGroup var format: JSONOption

        struct Report: Encodable {
            struct TopicCount: Encodable {
                var topic: String
                var group: String
                var entries: Int
                /// Entries that link to at least one experiment.
                var withProofs: Int
                /// Entries that say why no experiment can show them.
                var notDemonstrable: Int
                /// withProofs over the entries an experiment could show, 0 to 1.
                var coverage: Double
            }

            var origin: String
            var ok: Bool
            var problems: [ContentProblem]
            var entries: Int
            var quizItems: Int
            var sources: Int
            var entriesWithExperiments: Int
            var entriesNotDemonstrable: Int
            /// entriesWithExperiments over the entries an experiment could show, 0 to 1.
            var coverage: Double
            var topics: [TopicCount]
            /// How the quiz deck could be passed by guessing, if it drifts that way.
            var warnings: [String] = []
        }

        func run(in environment: Environment) throws {
            let output = environment.output
            let tree = try App.contentFiles(content)
            let report: Report
            switch App.parser.parse(tree) {
            case .failure(let failure):
                report = Report(
                    origin: tree.origin, ok: false, problems: failure.problems, entries: 0, quizItems: 0,
                    sources: 0, entriesWithExperiments: 0, entriesNotDemonstrable: 0, coverage: 0, topics: [])
            case .success(let set):
                report = Report(
                    origin: tree.origin, ok: true, problems: [], entries: set.entries.count,
                    quizItems: set.entries.reduce(0) { $0 + $1.quiz.count },
                    sources: set.entries.reduce(0) { $0 + $1.sources.count },
                    entriesWithExperiments: set.entries.filter { !$0.experiments.isEmpty }.count,
                    entriesNotDemonstrable: set.entries.filter { $0.notDemonstrable != nil }.count,
                    coverage: Self.coverage(set.entries),
                    topics: set.topics.map { topic in
                        let entries = set.entries.filter { $0.topic == topic.id }
                        return Report.TopicCount(
                            topic: topic.id, group: topic.group, entries: entries.count,
                            withProofs: entries.filter { !$0.experiments.isEmpty }.count,
                            notDemonstrable: entries.filter { $0.notDemonstrable != nil }.count,
                            coverage: Self.coverage(entries))
                    }, warnings: QuizBalance(set.entries).warnings)
            }
            if format.json {
                try output.json(report)
            } else if report.ok {
                let ui = language.ui(environment)
                output.line(
                    ui(
                        .contentOK(
                            origin: report.origin, entries: report.entries,
                            topicsUsed: report.topics.filter { $0.entries > 0 }.count,
                            topics: report.topics.count,
                            quizItems: report.quizItems, sources: report.sources,
                            linked: report.entriesWithExperiments)))
                output.line(
                    "  " + ui(.contentGroup).rightPadded(to: 6) + " " + ui(.contentTopic).rightPadded(to: 22)
                        + " "
                        + ui(.contentEntries).leftPadded(to: 7) + "  "
                        + ui(.contentWithProofs).leftPadded(to: 11) + "  "
                        + ui(.contentNotDemonstrable).leftPadded(to: 11) + "  "
                        + ui(.contentCoverage).leftPadded(to: 8))
                for topic in report.topics {
                    output.line(
                        "  \(topic.group.rightPadded(to: 6)) \(topic.topic.rightPadded(to: 22)) \(String(topic.entries).leftPadded(to: 7))"
                            + "  \(String(topic.withProofs).leftPadded(to: 11))"
                            + "  \(String(topic.notDemonstrable).leftPadded(to: 11))"
                            + "  \(UIText.percent(topic.withProofs, of: topic.entries - topic.notDemonstrable).leftPadded(to: 8))"
                    )
                }
                output.line(
                    ui(
                        .proofCoverage(
                            linked: report.entriesWithExperiments, entries: report.entries,
                            notDemonstrable: report.entriesNotDemonstrable)))
                for warning in report.warnings { output.line(ui(.warning) + warning) }
            } else {
                for problem in report.problems { output.line("\(problem)") }
                output.error(
                    language.ui(environment)(.problemsIn(report.problems.count, origin: report.origin)))
            }
            if !report.ok { throw ExitCode.failure }
        }
    }
}

extension ContentCommand.Check {
    /// The share of `entries` an experiment could show that link one.
    static func coverage(_ entries: [Entry]) -> Double {
        let demonstrable = entries.filter { $0.notDemonstrable == nil }
        guard !demonstrable.isEmpty else { return 1 }
        return Double(demonstrable.filter { !$0.experiments.isEmpty }.count) / Double(demonstrable.count)
    }
}

extension ContentProblem: Encodable {
    enum CodingKeys: String, CodingKey { case file, line, reason }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(file, forKey: .file)
        try container.encode(line, forKey: .line)
        try container.encode(reason, forKey: .reason)
    }
}
