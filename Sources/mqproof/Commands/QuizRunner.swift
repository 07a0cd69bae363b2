import Content
import Experiments
import Foundation
import Quiz
import Simulation

/// The interactive loop of `mqproof quiz`: shows a card, reads the answer, stores it, moves on.
struct QuizRunner {
    let app: App
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
    private var language: Language { app.primaryLanguage }
    private var zh: Bool { language == .zh }

    mutating func run() {
        let counts = session.remaining(now: Clock.now)
        if session.current == nil {
            Output.line(zh ? "现在没有到期的卡片，也没有新卡片了。" : "Nothing is due and no new cards are left for today.")
            return
        }
        Output.line(
            style.bold(zh ? "开始复习" : "Quiz")
                + style.dim("  \(counts.learning) learning · \(counts.review) review · \(counts.new) new"))
        while let card = session.current {
            guard let item = content[card.id], let entry = entries[item.entry] else {
                _ = session.bury(now: Clock.now)
                continue
            }
            Output.line()
            let left = session.remaining(now: Clock.now)
            Output.line(
                style.dim(
                    "[\(left.learning) learning · \(left.review) review · \(left.new) new]  \(entry.id) · \(entry.topic)"
                ))
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
        Output.lines(
            app.terminal.hanging(
                TerminalSafe.clean(entry.question[language]), first: style.accent(zh ? "问 " : "Q  ")))
        Output.line(
            style.dim(
                zh
                    ? "写下你的回答（可留空），回车显示参考答案："
                    : "Type your answer (or nothing), then Enter to see the reference:"))
        guard let typed = input.line() else { return false }
        // A lone control key works here too: q quits, u undoes, b buries, s skips.
        let word = typed.trimmingCharacters(in: .whitespaces)
        if word.count == 1, let key = word.first, let handled = control(key) { return handled }
        Output.line()
        Output.lines(app.terminal.renderer().render(entry.answer[language]))
        Output.line()
        Output.line(style.bold(zh ? "要点" : "Key points"))
        for (index, point) in entry.keyPoints[language].enumerated() {
            Output.lines(app.terminal.hanging(point, first: "  \(index + 1). "))
        }
        return grade(card)
    }

    private mutating func autoGraded(_ card: QuizCard, _ content: QuizCards.Content, _ entry: Entry) -> Bool {
        guard let item = content.item else { return false }
        Output.lines(
            app.terminal.hanging(
                TerminalSafe.clean(item.prompt[language]), first: style.accent(zh ? "问 " : "Q  ")))
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
                Output.lines(
                    app.terminal.hanging(TerminalSafe.clean(options[index][language]), first: "  \(key)) "))
            }
            Output.line(
                style.dim(
                    (zh ? "选择 " : "Answer ") + keys.map(String.init).joined(separator: "/")
                        + "   u undo · b bury · s skip · q quit"))
        case .trueFalse:
            keys = ["t", "f"]
            order = [0, 1]
            Output.line(
                style.dim((zh ? "对还是错？t/f" : "True or false? t/f") + "   u undo · b bury · s skip · q quit"))
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
                    Output.line(
                        style.dim(
                            zh
                                ? "请按 \(keys.map(String.init).joined(separator: "/"))"
                                : "Press one of \(keys.map(String.init).joined(separator: "/"))"))
                    continue
                }
                Output.line(
                    graded.correct
                        ? style.good(zh ? "✓ 正确" : "✓ Correct") : style.bad(zh ? "✗ 不对" : "✗ Not quite"))
                if !graded.correct, case .choice(let options, let correct) = item.kind {
                    Output.lines(
                        app.terminal.hanging(
                            TerminalSafe.clean(options[correct][language]),
                            first: zh ? "  正确答案：" : "  The answer: "))
                }
                Output.lines(
                    app.terminal.hanging(TerminalSafe.clean(item.explanation[language]), first: "  "))
                record(session.answer(graded.rating, at: Clock.now, fuzzFactor: fuzz(card)))
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
            _ = session.bury(now: Clock.now)
            return true
        }
        let scenario = experiment.scenario
        Output.line(style.accent(zh ? "预测实验结果 " : "Predict the outcome ") + style.dim(experiment.id))
        let settings = scenario.settings.filter { !$0.key.hasPrefix("sim.") }.map { "\($0.key)=\($0.value)" }
            .joined(separator: " ")
        Output.lines(
            app.terminal.hanging(
                "Kafka \(scenario.version.rawValue), \(scenario.brokers) brokers. " + settings,
                first: zh ? "  配置：" : "  Setup: "))
        for step in scenario.steps {
            Output.lines(app.terminal.hanging(TerminalSafe.clean(step.text), first: "    - "))
        }
        Output.line(
            style.dim(
                (zh
                    ? "会出现异常吗（丢失、重复、乱序、重复处理或漏处理）？t/f"
                    : "Will an anomaly show (lost, duplicated, reordered, processed twice or never)? t/f")
                    + "   u undo · b bury · s skip · q quit"))
        while true {
            switch input.key() {
            case .quit: return false
            case .enter: continue
            case .character(let key):
                if let handled = control(key) { return handled }
                guard let choice = ["t", "f"].firstIndex(of: key.lowercased()),
                    let graded = card.grade(choice: choice)
                else {
                    Output.line(style.dim(zh ? "请按 t 或 f" : "Press t or f"))
                    continue
                }
                let run = ScenarioRunner.run(
                    scenario, config: config, seed: experiment.info.witnessSeed ?? 1, recordTrace: false)
                let found = AnomalyKind.allCases.compactMap { kind -> String? in
                    let messages = run.report.messages(kind).map(run.world.name(of:))
                    return messages.isEmpty
                        ? nil : "\(kind.rawValue): \(messages.prefix(8).joined(separator: " "))"
                }
                Output.line(
                    graded.correct
                        ? style.good(zh ? "✓ 预测正确" : "✓ Right") : style.bad(zh ? "✗ 预测错了" : "✗ Wrong"))
                Output.lines(
                    app.terminal.hanging(
                        found.isEmpty ? (zh ? "没有异常" : "no anomaly") : found.joined(separator: "; "),
                        first: zh ? "  实验结果：" : "  Result: "))
                let claim =
                    zh
                    ? (experiment.info.claim?.zh ?? experiment.titleZH)
                    : (experiment.info.claim?.en ?? experiment.titleEN)
                Output.lines(app.terminal.hanging(TerminalSafe.clean(claim), first: "  "))
                Output.line(style.dim("  mqproof run \(experiment.id) --trace"))
                record(session.answer(graded.rating, at: Clock.now, fuzzFactor: fuzz(card)))
                return true
            }
        }
    }

    /// Self-grading for recall cards, with each button's next interval.
    private mutating func grade(_ card: QuizCard) -> Bool {
        let now = Clock.now
        let previews = session.previews(at: now, fuzzFactor: fuzz(card))
        let names = zh ? ["重来", "困难", "良好", "简单"] : ["Again", "Hard", "Good", "Easy"]
        let buttons = previews.enumerated().map { index, preview in
            "\(index + 1) \(names[index]) \(preview.intervalLabel)"
        }
        Output.line()
        Output.line(
            style.bold(buttons.joined(separator: " · ")) + style.dim("   u undo · b bury · s skip · q quit"))
        while true {
            switch input.key() {
            case .quit: return false
            case .enter: continue
            case .character(let key):
                if let handled = control(key) { return handled }
                guard let number = key.wholeNumberValue, let rating = Rating(rawValue: number) else {
                    Output.line(style.dim(zh ? "请按 1-4" : "Press 1-4"))
                    continue
                }
                record(session.answer(rating, at: Clock.now, fuzzFactor: fuzz(card)))
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
            if let id = session.bury(now: Clock.now) {
                let tomorrow = Clock.startOfDay(offset: 1)
                let current = stored[id].map(QuizCards.card) ?? Card(due: Clock.now)
                let state = QuizCards.stored(
                    current, id: id, leech: stored[id]?.leech ?? false, buriedUntil: tomorrow)
                save { try app.store.saveCardState(state) }
                stored[id] = state
                Output.line(style.dim(zh ? "已搁置到明天。" : "Buried until tomorrow."))
            }
            return true
        case "s", "S":
            session.skip(now: Clock.now)
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
        Output.line(style.dim((zh ? "下次：" : "Next in ") + next.intervalLabel))
        if becameLeech {
            Output.line(
                style.bad(
                    zh
                        ? "这张卡已遗忘 \(QuizSession.leechThreshold) 次，标记为顽固卡并暂停。换个角度重读这道题的答案吧。"
                        : "This card has lapsed \(QuizSession.leechThreshold) times: it is a leech and is suspended. Reread the answer from a new angle."
                ))
        }
    }

    private mutating func undo() {
        guard let last = answered.popLast(), session.undo(now: Clock.now) != nil else {
            Output.line(style.dim(zh ? "没有可以撤销的回答。" : "Nothing to undo."))
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
        Output.line(style.dim(zh ? "已撤销上一个回答。" : "Undid the last answer."))
    }

    private func save(_ body: () throws -> Void) {
        do {
            try body()
        } catch {
            // The answer could not be stored: stop rather than let the user answer into the void.
            Output.error("mqproof: \(error)")
            TerminalMode.restore()
            exit(1)
        }
    }

    private func fuzz(_ card: QuizCard) -> Double {
        QuizCards.fuzz(for: card.id, reviews: stored[card.id]?.reviews ?? 0)
    }

    private func summary() {
        let total = ratings.values.reduce(0, +)
        Output.line()
        guard total > 0 else {
            Output.line(zh ? "本次没有作答。" : "No answers this time.")
            return
        }
        let names: [(Rating, String)] =
            zh
            ? [(.again, "重来"), (.hard, "困难"), (.good, "良好"), (.easy, "简单")]
            : [(.again, "Again"), (.hard, "Hard"), (.good, "Good"), (.easy, "Easy")]
        let parts = names.map { "\($0.1) \(ratings[$0.0] ?? 0)" }.joined(separator: " · ")
        Output.line(
            style.bold(zh ? "本次作答 \(total) 次" : total == 1 ? "1 answer" : "\(total) answers") + "  " + parts)
        Output.line(
            style.dim(
                zh ? "每个回答都已保存。mqproof stats 查看进度。" : "Every answer is saved. See mqproof stats for progress."
            ))
    }
}
