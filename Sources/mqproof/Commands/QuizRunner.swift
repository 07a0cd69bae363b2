import Content
import Experiments
import Foundation
import Quiz
import Simulation

/// The interactive loop of `mqproof quiz`: shows a card, reads the answer, stores it, moves on.
struct QuizRunner {
    let app: App
    var output: Output { app.output }
    var session: QuizSession
    let content: [String: QuizCards.Content]
    let entries: [String: Entry]
    var stored: [String: StoredCardState]
    let input: KeyInput
    /// This session's answers, newest last, with the log row and the state each stored (for undo).
    private var answered: [(answer: QuizSession.Answer, reviewID: Int64, state: StoredCardState)] = []
    private var ratings: [Rating: Int] = [:]

    init(
        app: App, session: QuizSession, content: [String: QuizCards.Content], entries: [String: Entry],
        stored: [String: StoredCardState], input: KeyInput
    ) {
        self.app = app
        self.session = session
        self.content = content
        self.entries = entries
        self.stored = stored
        self.input = input
    }

    private var style: Style { app.terminal.style }
    private var ui: UI { app.ui }

    /// Content in every language shown (`--lang both`: Chinese, then English), each language's
    /// lines hanging under the same lead.
    /// What the keys do, then the controls (undo, bury, skip, quit): on one line where it fits,
    /// the controls on their own line where it does not.
    private func keysLine(_ emphasis: (String) -> String, _ keys: String) {
        let controls = ui(.quizControls)
        if DisplayWidth.of(keys + "   " + controls) <= app.terminal.width {
            output.line(emphasis(keys) + app.terminal.style.dim("   " + controls))
        } else {
            output.lines(app.terminal.wrapped(keys, first: "").map(emphasis))
            output.line(app.terminal.style.dim(controls))
        }
    }

    private func show(_ text: (Language) -> String, first: String, rest: String? = nil) {
        let indent = rest ?? String(repeating: " ", count: DisplayWidth.of(Terminal.visible(first)))
        for (index, language) in app.languages.enumerated() {
            output.lines(
                app.terminal.hanging(
                    TerminalSafe.clean(text(language)), first: index == 0 ? first : indent, rest: indent))
        }
    }

    /// A question, led by "问" or "Q" in its own language.
    private func showQuestion(_ text: (Language) -> String) {
        for language in app.languages {
            output.lines(
                app.terminal.hanging(
                    TerminalSafe.clean(text(language)), first: style.accent(UIText.questionMark[language])))
        }
    }

    mutating func run() {
        let counts = session.remaining(now: app.clock.now())
        if session.current == nil {
            output.line(ui(.nothingDue))
            return
        }
        output.line(
            style.bold(ui(.quizTitle))
                + style.dim(
                    "  " + ui(.cardCounts(learning: counts.learning, review: counts.review, new: counts.new)))
        )
        while let card = session.current {
            guard let item = content[card.id], let entry = entries[item.entry] else {
                _ = session.bury(now: app.clock.now())
                continue
            }
            output.line()
            let left = session.remaining(now: app.clock.now())
            output.line(
                style.dim(
                    "[" + ui(.cardCounts(learning: left.learning, review: left.review, new: left.new)) + "]  "
                        + "\(entry.id) · \(entry.topic)"))
            let keepGoing: Bool
            switch card.kind {
            case .recall: keepGoing = recall(card, entry)
            case .choice, .trueFalse:
                keepGoing = item.experiment.map { predict(card, $0) } ?? autoGraded(card, item, entry)
            }
            if !keepGoing { break }
        }
        summary()
    }

    // MARK: - Cards

    private mutating func recall(_ card: QuizCard, _ entry: Entry) -> Bool {
        showQuestion { entry.question[$0] }
        output.lines(app.terminal.wrapped(ui(.typeYourAnswer), first: "").map(style.dim))
        guard let typed = input.line() else { return false }
        // A lone control key works here too: q quits, u undoes, b buries, s skips.
        let word = typed.trimmingCharacters(in: .whitespaces)
        if word.count == 1, let key = word.first, let handled = control(key) { return handled }
        for language in app.languages {
            output.line()
            output.lines(app.terminal.renderer().render(entry.answer[language]))
            output.line()
            output.line(style.bold(UIText.keyPoints[language]))
            for (index, point) in entry.keyPoints[language].enumerated() {
                output.lines(app.terminal.hanging(point, first: "  \(index + 1). "))
            }
        }
        return grade(card)
    }

    private mutating func autoGraded(_ card: QuizCard, _ content: QuizCards.Content, _ entry: Entry) -> Bool {
        guard let item = content.item else { return false }
        showQuestion { item.prompt[$0] }
        // Options are numbered 1, 2, 3...: digits, which no command key (u, b, s, q) can be.
        var keys: [Character] = []
        var order: [Int] = []
        switch item.kind {
        case .choice(let options, _):
            order = QuizCards.optionOrder(
                for: card.id, reviews: stored[card.id]?.reviews ?? 0, count: options.count)
            for (position, index) in order.enumerated() {
                let key = Character(String(position + 1))
                keys.append(key)
                show({ options[index][$0] }, first: "  \(key)) ")
            }
            keysLine(style.dim, ui(.chooseOne(keys.map(String.init).joined(separator: "/"))))
        case .trueFalse:
            keys = ["t", "f"]
            order = [0, 1]
            keysLine(style.dim, ui(.trueOrFalse))
        }
        while true {
            switch input.key() {
            case .quit: return false
            case .enter: continue
            case .character(let key):
                if let handled = control(key) { return handled }
                guard let position = keys.firstIndex(of: Character(key.lowercased())),
                    let graded = card.grade(choice: order[position])
                else {
                    output.line(style.dim(ui(.pressOneOf(keys.map(String.init).joined(separator: "/")))))
                    continue
                }
                output.line(
                    graded.correct
                        ? style.good(ui(.correct)) : style.bad(ui(.notQuite)))
                if !graded.correct, case .choice(let options, let correct) = item.kind {
                    show({ options[correct][$0] }, first: ui(.theAnswer))
                }
                show({ item.explanation[$0] }, first: "  ")
                record(session.answer(graded.rating, at: app.clock.now(), fuzzFactor: fuzz(card)))
                return true
            }
        }
    }

    /// Predict the outcome: the setup and the script, then "will an anomaly show?"; then the
    /// experiment runs on its witness seed and the checker's findings decide.
    private mutating func predict(_ card: QuizCard, _ experimentID: String) -> Bool {
        guard let experiment = ExperimentCatalogue.experiment(experimentID),
            let config = try? experiment.scenario.resolvedConfig()
        else {
            _ = session.bury(now: app.clock.now())
            return true
        }
        let scenario = experiment.scenario
        output.line(style.accent(ui(.predictTheOutcome)) + style.dim(experiment.id))
        let settings = scenario.settings.filter { !$0.key.hasPrefix("sim.") }.map { "\($0.key)=\($0.value)" }
            .joined(separator: " ")
        output.lines(
            app.terminal.hanging(
                ui(.systemSetup(scenario)) + (ui.isChinese ? "。" : ". ") + settings, first: ui(.predictSetup))
        )
        for step in scenario.steps {
            output.lines(app.terminal.hanging(TerminalSafe.clean(step.text), first: "    - "))
        }
        keysLine(style.dim, ui(.willAnAnomalyShow))
        while true {
            switch input.key() {
            case .quit: return false
            case .enter: continue
            case .character(let key):
                if let handled = control(key) { return handled }
                guard let choice = ["t", "f"].firstIndex(of: key.lowercased()),
                    let graded = card.grade(choice: choice)
                else {
                    output.line(style.dim(ui(.pressTOrF)))
                    continue
                }
                let run = ScenarioRunner.run(
                    scenario, config: config, seed: experiment.info.witnessSeed ?? 1, recordTrace: false)
                let found = AnomalyKind.allCases.compactMap { kind -> String? in
                    let messages = run.report.messages(kind).map(run.world.name(of:))
                    return messages.isEmpty
                        ? nil : "\(ui(.anomaly(kind))): \(messages.prefix(8).joined(separator: " "))"
                }
                output.line(
                    graded.correct
                        ? style.good(ui(.predictedRight)) : style.bad(ui(.predictedWrong)))
                output.lines(
                    app.terminal.hanging(
                        found.isEmpty ? ui(.noAnomaly) : found.joined(separator: "; "),
                        first: ui(.experimentResult)))
                show(
                    { language in
                        language == .zh
                            ? (experiment.info.claim?.zh ?? experiment.titleZH)
                            : (experiment.info.claim?.en ?? experiment.titleEN)
                    }, first: "  ")
                output.line(style.dim("  mqproof run \(experiment.id) --trace"))
                record(session.answer(graded.rating, at: app.clock.now(), fuzzFactor: fuzz(card)))
                return true
            }
        }
    }

    /// Self-grading for recall cards, with each button's next interval.
    private mutating func grade(_ card: QuizCard) -> Bool {
        let now = app.clock.now()
        let previews = session.previews(at: now, fuzzFactor: fuzz(card))
        let buttons = previews.enumerated().map { index, preview in
            "\(index + 1) \(ui(.rating(index + 1))) \(preview.intervalLabel)"
        }
        output.line()
        keysLine(style.bold, buttons.joined(separator: " · "))
        while true {
            switch input.key() {
            case .quit: return false
            case .enter: continue
            case .character(let key):
                if let handled = control(key) { return handled }
                guard let number = key.wholeNumberValue, let rating = Rating(rawValue: number) else {
                    output.line(style.dim(ui(.press1To4)))
                    continue
                }
                record(session.answer(rating, at: app.clock.now(), fuzzFactor: fuzz(card)))
                return true
            }
        }
    }

    /// Undo, bury, skip and quit, common to every prompt. Nil when the key is none of them.
    private mutating func control(_ key: Character) -> Bool? {
        switch key {
        case "q", "Q": return false
        case "u", "U":
            undo()
            return true
        case "b", "B":
            if let id = session.bury(now: app.clock.now()) {
                let tomorrow = app.clock.startOfDay(offset: 1)
                let current = stored[id].map(QuizCards.card) ?? Card(due: app.clock.now())
                let state = QuizCards.stored(
                    current, id: id, leech: stored[id]?.leech ?? false, buriedUntil: tomorrow)
                save { try app.store.saveCardState(state) }
                stored[id] = state
                output.line(style.dim(ui(.buriedUntilTomorrow)))
            }
            return true
        case "s", "S":
            session.skip(now: app.clock.now())
            return true
        default:
            return nil
        }
    }

    // MARK: - Storing

    private mutating func record(_ answer: QuizSession.Answer?) {
        guard let answer else { return }
        let seen = stored[answer.cardID]
        var result: (reviewID: Int64, state: StoredCardState, review: StoredReview)?
        var after = answer.after
        var becameLeech = answer.becameLeech
        save {
            result = try app.store.recordAnswer(cardID: answer.cardID) { current in
                let reconciled = QuizCards.reconcile(
                    answer, seen: seen, current: current, scheduler: session.scheduler)
                after = reconciled.after
                becameLeech = reconciled.becameLeech
                return (reconciled.state, reconciled.review)
            }
        }
        guard let result else { return }
        stored[answer.cardID] = result.state
        answered.append((answer, result.reviewID, result.state))
        ratings[answer.log.rating, default: 0] += 1
        let next = ReviewPreview(
            rating: answer.log.rating, card: after, interval: after.due - answer.log.reviewedAt)
        output.line(style.dim(ui(.nextReviewIn(next.intervalLabel))))
        if becameLeech { output.line(style.bad(ui(.becameLeech(after: QuizSession.leechThreshold)))) }
    }

    private mutating func undo() {
        guard let last = answered.popLast(), session.undo(now: app.clock.now()) != nil else {
            output.line(style.dim(ui(.nothingToUndo)))
            return
        }
        let previous = last.answer.before.map { QuizCards.stored($0, id: last.answer.cardID) }
        save {
            try app.store.undoAnswer(
                reviewID: last.reviewID, cardID: last.answer.cardID, restoring: previous,
                ifStillAt: last.state)
        }
        stored[last.answer.cardID] = previous
        ratings[last.answer.log.rating, default: 1] -= 1
        output.line(style.dim(ui(.undid(last.answer.cardID))))
    }

    private func save(_ body: () throws -> Void) {
        do {
            try body()
        } catch {
            // The answer could not be stored: stop rather than let the user answer into the void.
            output.error("mqproof: \(error)")
            TerminalMode.restore()
            exit(1)
        }
    }

    private func fuzz(_ card: QuizCard) -> Double {
        QuizCards.fuzz(for: card.id, reviews: stored[card.id]?.reviews ?? 0)
    }

    private func summary() {
        let total = ratings.values.reduce(0, +)
        output.line()
        guard total > 0 else {
            output.line(ui(.noAnswersThisTime))
            return
        }
        let parts = [Rating.again, .hard, .good, .easy].map {
            "\(ui(.rating($0.rawValue))) \(ratings[$0] ?? 0)"
        }
        .joined(separator: " · ")
        output.line(style.bold(ui(.answersThisTime(total))) + "  " + parts)
        output.line(style.dim(ui(.everyAnswerSaved)))
    }
}
