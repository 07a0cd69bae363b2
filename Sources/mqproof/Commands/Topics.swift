import ArgumentParser
import Content

/// Lists the topic groups with their entry counts.
struct Topics: EnvironmentCommand {
    static let pagesOutput = true

    static let configuration = CommandConfiguration(
        commandName: "topics",
        abstract: "List the topics with how many questions each holds.")

    @OptionGroup var options: GlobalOptions
    @OptionGroup var format: JSONOption

    func run(in environment: Environment) throws {
        let output = environment.output
        let app = try App.open(options, in: environment)
        let topics = try app.store.topics()
        if format.json {
            try output.json(topics)
        } else {
            TopicTable(app: app).print(topics)
        }
    }
}

/// Lists questions, all or one topic's.
struct List: EnvironmentCommand {
    static let pagesOutput = true

    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List the questions, grouped by topic.")

    @OptionGroup var options: GlobalOptions
    @OptionGroup var format: JSONOption

    @Option(help: "Only this topic's questions (an id from `mqproof topics`).")
    var topic: String?

    func run(in environment: Environment) throws {
        let output = environment.output
        let app = try App.open(options, in: environment)
        let topics = try app.store.topics()
        if let topic, !topics.contains(where: { $0.topic.id == topic }) {
            throw app.unknown("topic", topic, among: topics.map(\.topic.id), searchHint: false)
        }
        let entries = try app.store.entries(topic: topic)
        if format.json {
            try output.json(entries)
            return
        }
        let style = app.terminal.style
        let idWidth = min(40, entries.map { DisplayWidth.of($0.id) }.max() ?? 0)
        for summary in topics where summary.entryCount > 0 && (topic == nil || summary.topic.id == topic) {
            let title = app.languages.map { TerminalSafe.clean(summary.topic.title[$0]) }.joined(
                separator: " · ")
            output.line(style.bold("\(summary.topic.group)  \(title)") + style.dim("  (\(summary.topic.id))"))
            for entry in entries where entry.topic == summary.topic.id {
                let question = TerminalSafe.clean(entry.question[app.primaryLanguage])
                let difficulty =
                    String(repeating: "●", count: entry.difficulty)
                    + String(repeating: "○", count: 3 - entry.difficulty)
                let spans = [InlineParser.Span(text: question, kind: .plain)]
                let prefix = "  \(TerminalSafe.clean(entry.id).rightPadded(to: idWidth))  \(difficulty)  "
                if DisplayWidth.of(prefix) + 30 <= app.terminal.textWidth {
                    output.lines(app.terminal.hanging(spans, first: prefix))
                } else {
                    // Less than 30 columns left for the question: the id and difficulty on a line,
                    // the question under them.
                    output.line("  \(TerminalSafe.clean(entry.id))  \(difficulty)")
                    output.lines(app.terminal.hanging(spans, first: "      "))
                }
            }
            output.line()
        }
        if entries.isEmpty {
            output.line(app.ui(.noQuestionsInTopic))
        }
    }
}
