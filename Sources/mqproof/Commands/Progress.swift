import ArgumentParser
import Content
import Foundation
import Quiz

/// Backs quiz progress up as JSON and restores it.
struct ProgressCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "progress",
        abstract: "Export or import quiz progress (card states, every answer, settings) as JSON.",
        subcommands: [Export.self, Import.self])

    struct Export: EnvironmentCommand {
        static let configuration = CommandConfiguration(
            commandName: "export", abstract: "Write all quiz progress to a JSON file.")
        @OptionGroup var options: GlobalOptions
        @Flag(help: "Replace the file if it exists.") var force = false
        @Argument(help: "The file to write (- for standard output).") var file: String

        func run(in environment: Environment) throws {
            let output = environment.output
            let app = try App.open(options, in: environment)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            let archive = try app.store.exportProgress()
            try OutputFile.write(
                try encoder.encode(archive) + Data("\n".utf8), to: file, force: force, output: output)
            if file == "-" { return }
            output.error(
                app.ui(.wroteProgress(cards: archive.cards.count, answers: archive.reviews.count, file: file))
            )
        }
    }

    struct Import: EnvironmentCommand {
        static let configuration = CommandConfiguration(
            commandName: "import",
            abstract: "Merge quiz progress from a JSON file written by export. A bad file changes nothing.",
            discussion: """
                Answers are added unless the store already has them; each card keeps the state of its \
                latest answer, from the store or the file; settings the store lacks are added. Nothing \
                is deleted. --replace instead replaces all progress with the file's, after writing a \
                backup of the current progress beside the database.
                """)
        @OptionGroup var options: GlobalOptions
        @Flag(
            help: "Replace all progress with the file's (a backup of the current progress is written first).")
        var replace = false
        @Argument(help: "The file to read.") var file: String

        /// No real export comes near this: a year of daily study is about 5 MB.
        static let maximumSize = 64 << 20

        func run(in environment: Environment) throws {
            let output = environment.output
            let app = try App.open(options, in: environment)
            let archive = try Self.read(file)
            let known = Set(QuizCards.make(from: try app.store.allEntries()).map(\.card.id))
            let problems = ProgressCheck.problems(in: archive, knownCards: known)
            if let first = problems.first {
                let others = problems.count - 1
                throw Failure(
                    message: "\(file): \(first)"
                        + (others > 0 ? " (and \(others) more problem\(others == 1 ? "" : "s"))" : "")
                        + "; nothing was changed")
            }
            if replace {
                let backup =
                    app.store.path + ".progress-backup-\(app.clock.now().millisecondsSinceEpoch).json"
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                try OutputFile.write(
                    try encoder.encode(try app.store.exportProgress()), to: backup, force: false,
                    output: output)
                output.error(app.ui(.backedUp(backup)))
            }
            let summary = try app.store.importProgress(archive, replacing: replace)
            output.error(
                app.ui(
                    replace
                        ? .replacedProgress(
                            cards: archive.cards.count, answers: archive.reviews.count, file: file)
                        : .mergedProgress(
                            file: file, answers: summary.answersAdded, cards: summary.cardsUpdated,
                            settings: summary.settingsAdded)))
        }

        /// The archive in `path`, or a one-line failure that says why not.
        static func read(_ path: String) throws -> ProgressArchive {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory),
                !isDirectory.boolValue
            else {
                throw Failure(message: "\(path): no such file")
            }
            let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
            guard size <= maximumSize else {
                throw Failure(
                    message:
                        "\(path): over \(maximumSize >> 20) MB, not a progress export; nothing was changed")
            }
            guard let data = FileManager.default.contents(atPath: path) else {
                throw Failure(message: "\(path): cannot read the file")
            }
            guard !data.isEmpty else {
                throw Failure(message: "\(path): the file is empty; nothing was changed")
            }
            let archive: ProgressArchive
            do {
                archive = try JSONDecoder().decode(ProgressArchive.self, from: data)
            } catch let error as DecodingError {
                throw Failure(
                    message: "\(path): not a progress export: \(describe(error)); nothing was changed")
            } catch {
                throw Failure(message: "\(path): not a progress export; nothing was changed")
            }
            guard archive.format == ProgressArchive.currentFormat else {
                throw Failure(
                    message:
                        "\(path): progress format \(archive.format) is not \(ProgressArchive.currentFormat); nothing was changed"
                )
            }
            return archive
        }

        static func describe(_ error: DecodingError) -> String {
            func place(_ path: [any CodingKey]) -> String {
                path.isEmpty ? "the top level" : path.map(\.stringValue).joined(separator: ".")
            }
            switch error {
            case .keyNotFound(let key, let context):
                return "missing '\(key.stringValue)' at \(place(context.codingPath))"
            case .typeMismatch(_, let context), .valueNotFound(_, let context):
                return "\(place(context.codingPath)) has the wrong type"
            case .dataCorrupted(let context):
                return context.codingPath.isEmpty ? "not JSON" : "\(place(context.codingPath)) is malformed"
            @unknown default: return "\(error)"
            }
        }
    }
}

/// What a progress file must satisfy before it may touch the store: the scheduler's invariants,
/// so that no imported state can crash a later quiz, and cards that exist.
enum ProgressCheck {
    /// Times from 1970 to the year 9999, in milliseconds.
    static let times: ClosedRange<Int64> = 0...253_402_300_799_999
    static let counts: ClosedRange<Int> = 0...1_000_000
    /// Stability in days: FSRS keeps it at 0.001 or more, and caps intervals at 36,500 days.
    static let stability: ClosedRange<Double> = 0.001...1_000_000
    static let settings: [String: @Sendable (String) -> Bool] = [
        "desired_retention": { Double($0).map { (0.7...0.99).contains($0) } ?? false },
        "new_per_day": { Int($0).map { (0...10_000).contains($0) } ?? false },
        "reviews_per_day": { Int($0).map { (0...100_000).contains($0) } ?? false },
        "last_search": { _ in true },
    ]

    /// What is impossible about one card's state: what the scheduler would trap on, or what no
    /// sequence of answers produces.
    static func problems(in card: StoredCardState) -> [String] {
        var found: [String] = []
        let name = "card \(card.cardID)"
        guard let state = Card.State(rawValue: card.state) else {
            found.append(
                "\(name) has state \(card.state), not 1 (learning), 2 (review) or 3 (relearning)")
            return found
        }
        switch state {
        case .learning, .relearning:
            if !(card.step.map { (0...50).contains($0) } ?? false) {
                found.append("\(name) is learning but has no learning step (0-50)")
            }
        case .review:
            if card.step != nil { found.append("\(name) is in review but has a learning step") }
        }
        let isNew = card.reviews == 0
        if (card.stability == nil) != (card.difficulty == nil) {
            found.append("\(name) has a stability or a difficulty but not both")
        }
        if let value = card.stability, !(value.isFinite && stability.contains(value)) {
            found.append("\(name) has stability \(value), not from 0.001 to 1000000 days")
        }
        if let value = card.difficulty, !(value.isFinite && (1...10).contains(value)) {
            found.append("\(name) has difficulty \(value), not from 1 to 10")
        }
        if !isNew && card.stability == nil {
            found.append("\(name) was answered but has no memory state")
        }
        if state != .learning && card.stability == nil {
            found.append("\(name) graduated without a memory state")
        }
        if !counts.contains(card.reviews) || !counts.contains(card.lapses) || card.lapses > card.reviews {
            found.append("\(name) has \(card.reviews) answers and \(card.lapses) lapses")
        }
        for (field, time) in [
            ("due", card.dueMs), ("last answer", card.lastReviewMs), ("buried until", card.buriedUntilMs),
        ]
        where time.map({ !times.contains($0) }) ?? false {
            found.append("\(name) has a \(field) time outside 1970-9999")
        }
        if card.stability != nil && card.lastReviewMs == nil {
            found.append("\(name) has a memory state but no last answer")
        }
        return found
    }

    /// Every problem, in file order; empty when the archive may be imported.
    static func problems(in archive: ProgressArchive, knownCards: Set<String>) -> [String] {
        var found: [String] = []
        for card in archive.cards {
            if !knownCards.contains(card.cardID) {
                found.append("card \(card.cardID) is not a card of this content")
            }
            found += problems(in: card)
        }
        for review in archive.reviews {
            let name = "an answer to \(review.cardID)"
            if !knownCards.contains(review.cardID) { found.append("\(name): not a card of this content") }
            if !(1...4).contains(review.rating) {
                found.append("\(name) has rating \(review.rating), not 1-4")
            }
            if !(1...3).contains(review.stateBefore) {
                found.append("\(name) has state \(review.stateBefore), not 1-3")
            }
            if !times.contains(review.reviewedMs) || !times.contains(review.dueMs) {
                found.append("\(name) has a time outside 1970-9999")
            }
            if !(review.retrievability.isFinite && (0...1).contains(review.retrievability)) {
                found.append("\(name) has retrievability \(review.retrievability), not from 0 to 1")
            }
        }
        for mark in archive.study ?? [] {
            // An entry's recall card has the entry's id.
            if !knownCards.contains(mark.entryID) {
                found.append("study mark for \(mark.entryID): not an entry of this content")
            }
            if !times.contains(mark.markedMs) {
                found.append("study mark for \(mark.entryID) has a time outside 1970-9999")
            }
        }
        for (key, value) in archive.settings.sorted(by: { $0.key < $1.key }) {
            guard let valid = settings[key] else {
                found.append("unknown setting '\(key)'")
                continue
            }
            if !valid(value) { found.append("setting \(key) has the value '\(value)', out of range") }
        }
        return found
    }
}

/// Reviews today, streak, retention, cards by state, and what falls due over the next 30 days.
struct Stats: EnvironmentCommand {
    static let pagesOutput = true

    static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: "Show quiz statistics: today, streak, true retention, states, due forecast.")

    @OptionGroup var options: GlobalOptions
    @OptionGroup var format: JSONOption

    struct Report: Encodable {
        var reviewsToday: Int
        var streakDays: Int
        /// Share of answers to review cards in the last 30 days that were not Again.
        var trueRetention: Double?
        var cards: [String: Int]
        /// Cards falling due on each of the next 30 days (index 0 is today, overdue included).
        var dueForecast: [Int]
    }

    func run(in environment: Environment) throws {
        let output = environment.output
        let app = try App.open(options, in: environment)
        let states = try app.store.cardStates()
        let reviews = try app.store.reviews()
        let totalCards = QuizCards.make(from: try app.store.allEntries()).count
        let dayStarts = (0...30).map { app.clock.startOfDay(offset: $0).millisecondsSinceEpoch }
        let todayStart = dayStarts[0]
        let reviewsToday = reviews.filter { $0.reviewedMs >= todayStart }.count
        // Streak: consecutive days, ending today (or yesterday), with at least one answer. Days
        // are walked backwards against the answer times, newest first, so each is looked at once.
        let times = reviews.map(\.reviewedMs).sorted(by: >)
        var next = 0
        func answered(daysAgo: Int) -> Bool {
            let start = app.clock.startOfDay(offset: -daysAgo).millisecondsSinceEpoch
            let end = app.clock.startOfDay(offset: 1 - daysAgo).millisecondsSinceEpoch
            while next < times.count && times[next] >= end { next += 1 }
            return next < times.count && times[next] >= start
        }
        var streak = 0
        var day = answered(daysAgo: 0) ? 0 : 1
        while answered(daysAgo: day) {
            streak += 1
            day += 1
        }
        let monthAgo = app.clock.startOfDay(offset: -30).millisecondsSinceEpoch
        let matured = reviews.filter {
            $0.reviewedMs >= monthAgo && $0.stateBefore == Card.State.review.rawValue
        }
        let retention =
            matured.isEmpty ? nil : Double(matured.filter { $0.rating != 1 }.count) / Double(matured.count)
        var byState: [String: Int] = [
            "new": totalCards - states.count, "learning": 0, "review": 0, "relearning": 0, "leech": 0,
        ]
        for state in states.values {
            if state.leech {
                byState["leech", default: 0] += 1
                continue
            }
            let name = state.state == 2 ? "review" : state.state == 3 ? "relearning" : "learning"
            byState[name, default: 0] += 1
        }
        var forecast = [Int](repeating: 0, count: 30)
        for state in states.values where !state.leech {
            guard let day = (0..<30).first(where: { state.dueMs < dayStarts[$0 + 1] }) else { continue }
            forecast[day] += 1
        }
        let report = Report(
            reviewsToday: reviewsToday, streakDays: streak, trueRetention: retention, cards: byState,
            dueForecast: forecast)
        if format.json {
            try output.json(report)
            return
        }
        let style = app.terminal.style
        let ui = app.ui
        output.line(style.bold(ui(.answersToday)) + "  \(reviewsToday)")
        output.line(style.bold(ui(.streak)) + "  " + ui(.days(streak)))
        output.line(
            style.bold(ui(.trueRetention)) + "  "
                + (retention.map { String(format: "%.1f%%", $0 * 100) + ui(.retentionScope) } ?? "—"))
        let order = ["new", "learning", "review", "relearning", "leech"]
        output.lines(
            app.terminal.wrapped(
                order.map { "\(ui(.cardState($0))) \(byState[$0] ?? 0)" }.joined(separator: " · "),
                first: style.bold(ui(.cards)) + "  "))
        output.line()
        output.line(style.bold(ui(.dueInNext30Days)))
        let largest = max(1, forecast.max() ?? 1)
        let height = 6
        // Two columns a day where they fit with the labels (68 columns), else one.
        let cell = app.terminal.width >= 68 ? 2 : 1
        for level in stride(from: height, through: 1, by: -1) {
            let row = forecast.map { count in
                count * height >= level * largest && count > 0 ? (app.terminal.isTerminal ? "█" : "#") : " "
            }
            output.line(
                (level == height ? String(largest).leftPadded(to: 4) : "    ") + " │"
                    + row.map { $0 + String(repeating: " ", count: cell - 1) }.joined())
        }
        output.line("     └" + String(repeating: "─", count: 30 * cell))
        output.line(
            "      " + ui(.today).rightPadded(to: 14 * cell) + "+14d".rightPadded(to: 15 * cell) + "+29d")
    }
}
