import ArgumentParser
import Content
import Experiments

/// Shows one question with its answer, key points, misconceptions, sources and experiments.
struct Show: EnvironmentCommand {
    static let pagesOutput = true

    static let configuration = CommandConfiguration(
        commandName: "show", abstract: "Show a question and its answer.")

    @OptionGroup var options: GlobalOptions
    @OptionGroup var format: JSONOption

    @Argument(
        help: "The question's id (see `mqproof list`), or the number of a result of the last search.",
        completion: .none)
    var id: String

    func run(in environment: Environment) throws {
        let output = environment.output
        let app = try App.open(options, in: environment)
        var entry = try app.store.entry(id: id)
        if entry == nil, let number = Int(id) {
            guard let found = LastSearch.result(number, store: app.store) else {
                throw Failure(message: app.ui(.noSearchResult(number)))
            }
            entry = try app.store.entry(id: found)
        }
        guard let entry else {
            throw app.unknown("entry", id, among: try app.store.entryIDs(), searchHint: true)
        }
        if format.json {
            try output.json(entry)
        } else {
            EntryView(app: app, entry: entry).print()
        }
    }
}

/// The text view of one entry.
struct EntryView {
    let app: App
    var output: Output { app.output }
    let entry: Entry

    private var style: Style { app.terminal.style }

    /// A section label in the languages shown: one when one is shown, both when both are.
    private func label(_ text: UIText) -> String {
        style.bold(app.languages.map { text[$0] }.joined(separator: " · "))
    }

    func print() {
        let tags = entry.tags.map(TerminalSafe.clean).joined(separator: ", ")
        let difficulty =
            String(repeating: "●", count: entry.difficulty)
            + String(repeating: "○", count: 3 - entry.difficulty)
        let header = "\(TerminalSafe.clean(entry.topic)) · \(difficulty) · \(tags)"
        output.lines(
            app.terminal.hanging(
                [InlineParser.Span(text: header, kind: .plain)],
                first: style.accent(TerminalSafe.clean(entry.id)) + "  ", rest: "  "
            )
            .map { style.dim($0) })
        for language in app.languages {
            printAnswer(in: language)
        }
        if !entry.sources.isEmpty {
            output.line()
            output.line(label(.sources))
            for (index, source) in entry.sources.enumerated() {
                // A URL is never broken across lines, so that it stays clickable and copyable.
                let number = "  [\(index + 1)] "
                output.line(number + TerminalSafe.clean(source.url))
                let about = [source.version, source.note].compactMap { $0 }.map(TerminalSafe.clean).joined(
                    separator: " — ")
                let indent = String(repeating: " ", count: number.count)
                output.lines(
                    app.terminal.hanging([InlineParser.Span(text: about, kind: .plain)], first: indent).map {
                        style.dim($0)
                    })
            }
        }
        output.line()
        output.line(label(.experiments))
        if let reason = entry.notDemonstrable {
            for language in app.languages {
                output.lines(
                    app.terminal.hanging(
                        UIText.notDemonstrable[language] + reason[language], first: "  "))
            }
        } else if entry.experiments.isEmpty {
            output.line(
                style.dim(
                    "  "
                        + app.languages.map { UIText.noneLinkedYet[$0] }.joined(
                            separator: " · ")))
        } else {
            for id in entry.experiments {
                let title =
                    ExperimentCatalogue.experiment(id).map { experiment in
                        app.languages.map { $0 == .zh ? experiment.titleZH : experiment.titleEN }.joined(
                            separator: " · ")
                    }
                    ?? LiveCatalogue.experiment(id).map { live in
                        app.languages.map { live.title[$0] }.joined(separator: " · ")
                    }
                // Titles wrap under themselves, the id hanging in front, like every other field.
                let gap = String(repeating: " ", count: max(2, 6 - id.count))
                output.lines(app.terminal.hanging(title ?? "", first: "  " + style.code(id) + gap))
            }
        }
        if let seed = entry.seed {
            output.line()
            for line in app.terminal.wrapped(seed, first: app.ui(.grewFromSeed), rest: "  ") {
                output.line(style.dim(line))
            }
        }
    }

    private func printAnswer(in language: Language) {
        let renderer = app.terminal.renderer()
        output.line()
        output.lines(
            app.terminal.hanging(
                [InlineParser.Span(text: TerminalSafe.clean(entry.question[language]), kind: .bold)],
                first: style.accent(UIText.questionMark[language])))
        output.line()
        output.lines(renderer.render(entry.answer[language]))
        output.line()
        output.line(style.bold(UIText.keyPoints[language]))
        for (index, point) in entry.keyPoints[language].enumerated() {
            output.lines(app.terminal.hanging(point, first: "  \(index + 1). ".rightPadded(to: 6)))
        }
        guard !entry.misconceptions.isEmpty else { return }
        output.line()
        output.line(style.bold(UIText.misconceptions[language]))
        for misconception in entry.misconceptions {
            let cited = misconception.sources.map { "[\($0)]" }.joined()
            printMarked(style.bad("✗"), UIText.mythLead[language], misconception.myth[language], suffix: "")
            printMarked(
                style.good("✓"), UIText.truthLead[language], misconception.truth[language],
                suffix: " " + cited)
        }
    }

    private func printMarked(_ mark: String, _ lead: String, _ text: String, suffix: String) {
        let spans =
            [InlineParser.Span(text: lead, kind: .bold)]
            + InlineParser.spans(TerminalSafe.clean(text) + suffix)
        output.lines(app.terminal.hanging(spans, first: "  \(mark) "))
    }
}
