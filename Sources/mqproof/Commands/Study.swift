import ArgumentParser
import Content
import Experiments
import Foundation
import Quiz
import Simulation

/// Walks the study path: for each question in turn, read the answer, run its proof, quiz its
/// cards. Each call takes the next step and says what comes after it.
struct Study: EnvironmentCommand {
    static let configuration = CommandConfiguration(
        commandName: "study",
        abstract: "Take the next step on the study path: read an answer, run its proof, quiz its cards.",
        discussion: """
            The path starts with the seed document's questions (why introduce a message queue, the four \
            brokers compared, message loss, duplicates), then the interview canon by how often each \
            question is asked. `mqproof study --path` shows the whole path and how far you are.
            """,
        aliases: ["next"])

    @OptionGroup var options: GlobalOptions
    @OptionGroup var format: JSONOption

    @Flag(help: "Show the whole path, stage by stage, with what is done.")
    var path = false

    @Option(help: "Take the next step of this question instead of the first unfinished one.")
    var entry: String?

    func run(in environment: Environment) throws {
        let output = environment.output
        let app = try App.open(options, in: environment)
        let plan = try StudyPlan.load(app)
        if path {
            if format.json {
                try output.json(plan.steps.map { plan.report(for: $0) })
            } else {
                StudyPathView(app: app, plan: plan).print()
            }
            return
        }
        var target = plan.next
        if let entry {
            guard let chosen = plan.steps.first(where: { $0.entryID == entry }) else {
                throw app.unknown("entry", entry, among: plan.steps.map(\.entryID), searchHint: true)
            }
            target = chosen
        }
        if format.json {
            try output.json(target.map { plan.report(for: $0) })
            return
        }
        guard let target else {
            output.line(app.terminal.style.good(app.ui(.pathComplete)))
            return
        }
        try take(target, plan: plan, app: app)
    }

    private func take(_ step: ContentStore.StudyStep, plan: StudyPlan, app: App) throws {
        let output = app.output
        let ui = app.ui
        let style = app.terminal.style
        output.lines(
            app.terminal.wrapped(
                ui(.pathPosition(step.position, of: plan.steps.count)) + " · "
                    + step.stageTitle[app.primaryLanguage],
                first: style.bold(ui(.studyPath)) + "  "
            ).map(style.dim))
        output.line()
        let now = app.clock.now().millisecondsSinceEpoch
        switch plan.nextAction(for: step) {
        case .read:
            guard let entry = try app.store.entry(id: step.entryID) else { return }
            EntryView(app: app, entry: entry).print()
            try app.store.markStudy(step.entryID, .read, atMs: now)
        case .proof(let id):
            if let live = LiveCatalogue.experiment(id) {
                // A live proof measures this machine for a few seconds, in the study's language.
                let language: LanguageChoice =
                    app.languages.count > 1 ? .both : app.languages[0] == .zh ? .zh : .en
                try live.run(language: language, json: false, in: app.environment)
            } else {
                guard let experiment = ExperimentCatalogue.experiment(id) else { return }
                let config = try experiment.scenario.resolvedConfig()
                let run = ScenarioRunner.run(
                    experiment.scenario, config: config, seed: experiment.info.witnessSeed ?? 1)
                RunView(
                    scenario: experiment.scenario, experiment: experiment, languages: app.languages, run: run,
                    terminal: app.terminal, output: app.output, showTrace: false, showRoutine: false
                ).print()
            }
            let others = step.experiments.filter { $0 != id }
            if !others.isEmpty {
                output.line()
                output.line(
                    style.dim(ui(.alsoRun(others.map { "mqproof run \($0)" }.joined(separator: ", ")))))
            }
            try app.store.markStudy(step.entryID, .proof, atMs: now)
        case .quiz:
            let deck = try QuizDeck.open(app, filter: CardFilter(entry: step.entryID))
            guard deck.session.current != nil else {
                output.line(ui(.newLimitReached))
                return
            }
            var runner = deck.runner(app)
            runner.run()
        case .done:
            break
        }
        // What comes after, read again: the step just taken changed it.
        let after = try StudyPlan.load(app)
        output.line()
        // The same question's next step when it has one left, else the path's next question.
        let sameQuestion = after.steps.first {
            $0.entryID == step.entryID && after.nextAction(for: $0) != .done
        }
        if let next = sameQuestion ?? after.next {
            let action = after.describe(after.nextAction(for: next), ui: ui)
            let command =
                next.entryID == after.next?.entryID
                ? "mqproof study" : "mqproof study --entry \(next.entryID)"
            let question = next.entryID == step.entryID ? "" : " · " + next.entryID
            output.line(style.accent(ui(.studyThen(command, action + question))))
        } else {
            output.line(style.good(ui(.pathComplete)))
        }
    }
}

/// The study path with the learner's progress on it.
struct StudyPlan {
    enum Action: Equatable {
        case read
        case proof(String)
        case quiz
        case done
    }

    let steps: [ContentStore.StudyStep]
    let marks: [String: Set<ContentStore.StudyMark>]
    /// Every card id of each entry, and the ids of cards answered at least once.
    let cardsByEntry: [String: [String]]
    let answered: Set<String>

    static func load(_ app: App) throws -> StudyPlan {
        let cards = QuizCards.make(from: try app.store.allEntries())
        return StudyPlan(
            steps: try app.store.studyPath(), marks: try app.store.studyMarks(),
            cardsByEntry: Dictionary(grouping: cards, by: \.entry).mapValues { $0.map(\.card.id) },
            answered: Set(try app.store.cardStates().keys))
    }

    /// Read, then run the first proof (when the answer has one), then quiz every card once.
    func nextAction(for step: ContentStore.StudyStep) -> Action {
        let done = marks[step.entryID] ?? []
        if !done.contains(.read) { return .read }
        if let first = step.experiments.first, !done.contains(.proof) { return .proof(first) }
        if cardsAnswered(step.entryID) < cards(step.entryID) { return .quiz }
        return .done
    }

    func cards(_ entry: String) -> Int { cardsByEntry[entry]?.count ?? 0 }

    func cardsAnswered(_ entry: String) -> Int {
        (cardsByEntry[entry] ?? []).filter(answered.contains).count
    }

    /// The first question on the path with a step left.
    var next: ContentStore.StudyStep? { steps.first { nextAction(for: $0) != .done } }

    func describe(_ action: Action, ui: UI) -> String {
        switch action {
        case .read: ui(.stepRead)
        case .proof(let id): ui(.stepProofOf(id))
        case .quiz: ui(.stepQuiz)
        case .done: ""
        }
    }

    struct Report: Encodable {
        var position: Int
        var total: Int
        var stage: String
        var stageTitle: [String: String]
        var entry: String
        var question: [String: String]
        var step: String
        var experiment: String?
        var read: Bool
        var proofRun: Bool
        var cards: Int
        var cardsAnswered: Int
        var command: String
    }

    func report(for step: ContentStore.StudyStep) -> Report {
        let action = nextAction(for: step)
        let name: String
        var experiment: String?
        switch action {
        case .read: name = "read"
        case .proof(let id):
            name = "proof"
            experiment = id
        case .quiz: name = "quiz"
        case .done: name = "done"
        }
        let done = marks[step.entryID] ?? []
        return Report(
            position: step.position, total: steps.count, stage: step.stageID,
            stageTitle: ["zh": step.stageTitle.zh, "en": step.stageTitle.en], entry: step.entryID,
            question: ["zh": step.question.zh, "en": step.question.en], step: name, experiment: experiment,
            read: done.contains(.read), proofRun: done.contains(.proof), cards: cards(step.entryID),
            cardsAnswered: cardsAnswered(step.entryID),
            command: action == .done
                ? "mqproof show \(step.entryID)" : "mqproof study --entry \(step.entryID)")
    }
}

/// `mqproof study --path`: the stages, each question with its three steps.
struct StudyPathView {
    let app: App
    var output: Output { app.output }
    let plan: StudyPlan

    func print() {
        let style = app.terminal.style
        let ui = app.ui
        let current = plan.next?.entryID
        let idWidth = min(40, plan.steps.map { DisplayWidth.of($0.entryID) }.max() ?? 0)
        var stageOrder: [String] = []
        let byStage = Dictionary(grouping: plan.steps, by: \.stageID)
        for step in plan.steps where !stageOrder.contains(step.stageID) { stageOrder.append(step.stageID) }
        for stage in stageOrder {
            let steps = byStage[stage] ?? []
            let done = steps.filter { plan.nextAction(for: $0) == .done }.count
            let title = app.languages.map { steps[0].stageTitle[$0] }.joined(separator: " · ")
            output.line(style.bold(title) + "  " + style.dim(ui(.stageProgress(done: done, of: steps.count))))
            for step in steps {
                let marks = plan.marks[step.entryID] ?? []
                let cards = plan.cards(step.entryID)
                let answered = plan.cardsAnswered(step.entryID)
                let symbols =
                    (marks.contains(.read) ? "R" : "·")
                    + (step.experiments.isEmpty ? " " : marks.contains(.proof) ? "P" : "·")
                    + (cards > 0 && answered == cards ? "Q" : "·")
                var line =
                    "  " + String(step.position).leftPadded(to: 3) + "  " + symbols + "  " + step.entryID
                if step.entryID == current {
                    // Beside the id where it fits, else one space after it.
                    let column =
                        idWidth + 12 + 2 + DisplayWidth.of(ui(.youAreHere)) <= app.terminal.width
                        ? idWidth + 12 : 0
                    line = line.rightPadded(to: column) + (column == 0 ? " " : "  ") + ui(.youAreHere)
                }
                output.line(plan.nextAction(for: step) == .done ? style.dim(line) : line)
            }
            output.line()
        }
        output.lines(app.terminal.wrapped(ui(.studyLegend), first: "").map(style.dim))
    }
}
