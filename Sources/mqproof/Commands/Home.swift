import ArgumentParser
import Content

/// The home screen: what is here and what to try next.
struct Home: EnvironmentCommand {
    static let pagesOutput = true

    static let configuration = CommandConfiguration(
        commandName: "home",
        abstract: "Show the topics, how much content there is, and what to try next.")

    @OptionGroup var options: GlobalOptions
    @OptionGroup var format: JSONOption

    struct Report: Encodable {
        struct Today: Encodable {
            var due: Int
            var newLeft: Int
        }

        var counts: ContentStore.Counts
        var topics: [ContentStore.TopicSummary]
        var today: Today
        var next: StudyPlan.Report?
        var tryNext: [String]
    }

    func run(in environment: Environment) throws {
        let output = environment.output
        let app = try App.open(options, in: environment)
        let counts = try app.store.counts()
        let topics = try app.store.topics()
        // Where a learner starts: the entry from the seed document's first heading (why introduce
        // a message queue at all), not the first id in alphabetical order.
        let headings = App.seedHeadings(options.content)
        let firstEntry =
            try app.store.seededEntries().min { a, b in
                (headings[a.seed] ?? Int.max, a.id) < (headings[b.seed] ?? Int.max, b.id)
            }?.id ?? app.store.entries().first?.id
        let deck = try QuizDeck.open(app, reportImpossible: false)
        let plan = try StudyPlan.load(app)
        var tryNext = ["mqproof topics", "mqproof search 如何保证消息不丢失", "mqproof search kafka acks"]
        if let firstEntry { tryNext.insert("mqproof show \(firstEntry)", at: 0) }
        tryNext.insert("mqproof study", at: 0)
        if let busiest = topics.max(by: { $0.entryCount < $1.entryCount }), busiest.entryCount > 0 {
            tryNext.insert("mqproof list --topic \(busiest.topic.id)", at: min(1, tryNext.count))
        }
        if format.json {
            try output.json(
                Report(
                    counts: counts, topics: topics,
                    today: .init(due: deck.today.due, newLeft: deck.today.new),
                    next: plan.next.map { plan.report(for: $0) }, tryNext: tryNext))
            return
        }
        let style = app.terminal.style
        output.lines(
            app.terminal.hanging(
                app.languages.map { UIText.headline[$0] }.joined(separator: " · "),
                first: style.accent("mqproof") + "  ", rest: "         "))
        output.line()
        let summary = UIText.contentSummary(
            entries: counts.entries, topics: counts.topics, quizItems: counts.quizItems,
            withExperiments: counts.entriesWithExperiments, notDemonstrable: counts.entriesNotDemonstrable)
        for language in app.languages { output.lines(app.terminal.hanging(summary[language], first: "")) }
        output.line()
        let ui = app.ui
        let labelWidth = [UIText.todayLabel, .nextStep].map { DisplayWidth.of(ui($0)) }.max()! + 2
        output.line(
            style.bold(ui.label(.todayLabel, width: labelWidth))
                + ui(.todayCounts(due: deck.today.due, new: deck.today.new)))
        if let next = plan.next {
            let step = ui(
                .nextStepIs(
                    plan.describe(plan.nextAction(for: next), ui: ui),
                    question: next.question[app.primaryLanguage]))
            output.lines(
                app.terminal.hanging(
                    step + "  (\(next.position)/\(plan.steps.count))",
                    first: style.bold(ui.label(.nextStep, width: labelWidth))))
            output.line(String(repeating: " ", count: labelWidth) + style.code("mqproof study"))
        } else {
            output.line(style.bold(ui.label(.nextStep, width: labelWidth)) + ui(.pathComplete))
        }
        output.line()
        output.line(style.bold(app.ui(.topics)))
        TopicTable(app: app).print(topics)
        output.line()
        output.line(style.bold(app.ui(.tryNext)))
        for command in tryNext { output.line("  " + style.code(command)) }
    }
}

/// The topic list shared by the home screen and `mqproof topics`.
struct TopicTable {
    let app: App
    var output: Output { app.output }

    func print(_ topics: [ContentStore.TopicSummary]) {
        let style = app.terminal.style
        let idWidth = topics.map { DisplayWidth.of($0.topic.id) }.max() ?? 0
        for summary in topics {
            let id = TerminalSafe.clean(summary.topic.id)
            let count = String(summary.entryCount).leftPadded(to: 3)
            let titles = app.languages.map { TerminalSafe.clean(summary.topic.title[$0]) }.joined(
                separator: " · ")
            let prefix = "  \(summary.topic.group)  \(id.rightPadded(to: idWidth))  \(count)  "
            for line in app.terminal.hanging([InlineParser.Span(text: titles, kind: .plain)], first: prefix) {
                output.line(summary.entryCount == 0 ? style.dim(line) : line)
            }
        }
    }
}

extension String {
    /// Pads with spaces on the right to `width` display columns.
    func rightPadded(to width: Int) -> String {
        self + String(repeating: " ", count: max(0, width - DisplayWidth.of(self)))
    }

    func leftPadded(to width: Int) -> String {
        String(repeating: " ", count: max(0, width - DisplayWidth.of(self))) + self
    }
}
