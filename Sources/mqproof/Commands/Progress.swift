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

    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "export", abstract: "Write all quiz progress to a JSON file.")
        @OptionGroup var options: GlobalOptions
        @Flag(help: "Replace the file if it exists.") var force = false
        @Argument(help: "The file to write (- for standard output).") var file: String

        func run() throws {
            let app = try App.open(options)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            let archive = try app.store.exportProgress()
            try OutputFile.write(try encoder.encode(archive) + Data("\n".utf8), to: file, force: force)
            if file == "-" { return }
            Output.error(
                "mqproof: wrote \(archive.cards.count) cards and \(archive.reviews.count) answers to \(file)")
        }
    }

    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "import",
            abstract: "Replace quiz progress with a JSON file written by export. A bad file changes nothing.")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "The file to read.") var file: String

        func run() throws {
            let app = try App.open(options)
            guard let data = FileManager.default.contents(atPath: file) else {
                throw Failure(message: "\(file): cannot read the file")
            }
            let archive: ProgressArchive
            do {
                archive = try JSONDecoder().decode(ProgressArchive.self, from: data)
            } catch let error as DecodingError {
                throw Failure(
                    message: "\(file): not a progress export: \(Self.describe(error)); nothing was changed")
            }
            guard archive.format == ProgressArchive.currentFormat else {
                throw Failure(
                    message:
                        "\(file): progress format \(archive.format) is not \(ProgressArchive.currentFormat); nothing was changed"
                )
            }
            if let problem = Self.problem(in: archive) {
                throw Failure(message: "\(file): \(problem); nothing was changed")
            }
            try app.store.importProgress(archive)
            Output.error(
                "mqproof: imported \(archive.cards.count) cards and \(archive.reviews.count) answers from \(file)"
            )
        }

        /// Checks what JSON types cannot: ranges and references.
        static func problem(in archive: ProgressArchive) -> String? {
            for card in archive.cards {
                if !(1...3).contains(card.state) {
                    return "card \(card.cardID) has state \(card.state), not 1-3"
                }
                if card.reviews < 0 || card.lapses < 0 { return "card \(card.cardID) has a negative count" }
            }
            for review in archive.reviews where !(1...4).contains(review.rating) {
                return "an answer to \(review.cardID) has rating \(review.rating), not 1-4"
            }
            return nil
        }

        static func describe(_ error: DecodingError) -> String {
            switch error {
            case .keyNotFound(let key, let context):
                "missing '\(key.stringValue)' at \(context.codingPath.map(\.stringValue).joined(separator: "."))"
            case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
                context.codingPath.isEmpty
                    ? context.debugDescription
                    : "\(context.codingPath.map(\.stringValue).joined(separator: ".")): \(context.debugDescription)"
            @unknown default: "\(error)"
            }
        }
    }
}

/// Reviews today, streak, retention, cards by state, and what falls due over the next 30 days.
struct Stats: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: "Show quiz statistics: today, streak, true retention, states, due forecast.")

    @OptionGroup var options: GlobalOptions
    @OptionGroup var output: JSONOption

    struct Report: Encodable {
        var reviewsToday: Int
        var streakDays: Int
        /// Share of answers to review cards in the last 30 days that were not Again.
        var trueRetention: Double?
        var cards: [String: Int]
        /// Cards falling due on each of the next 30 days (index 0 is today, overdue included).
        var dueForecast: [Int]
    }

    func run() throws {
        let app = try App.open(options)
        let states = try app.store.cardStates()
        let reviews = try app.store.reviews()
        let totalCards = QuizCards.make(from: try app.store.allEntries()).count
        let dayStarts = (0...30).map { Clock.startOfDay(offset: $0).millisecondsSinceEpoch }
        let todayStart = dayStarts[0]
        let reviewsToday = reviews.filter { $0.reviewedMs >= todayStart }.count
        // Streak: consecutive days, ending today (or yesterday), with at least one answer. Days
        // are walked backwards against the answer times, newest first, so each is looked at once.
        let times = reviews.map(\.reviewedMs).sorted(by: >)
        var next = 0
        func answered(daysAgo: Int) -> Bool {
            let start = Clock.startOfDay(offset: -daysAgo).millisecondsSinceEpoch
            let end = Clock.startOfDay(offset: 1 - daysAgo).millisecondsSinceEpoch
            while next < times.count && times[next] >= end { next += 1 }
            return next < times.count && times[next] >= start
        }
        var streak = 0
        var day = answered(daysAgo: 0) ? 0 : 1
        while answered(daysAgo: day) {
            streak += 1
            day += 1
        }
        let monthAgo = Clock.startOfDay(offset: -30).millisecondsSinceEpoch
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
        if output.json {
            try Output.json(report)
            return
        }
        let style = app.terminal.style
        let zh = app.primaryLanguage == .zh
        Output.line(style.bold(zh ? "今天作答" : "Answers today") + "  \(reviewsToday)")
        Output.line(
            style.bold(zh ? "连续天数" : "Streak") + "  \(streak) " + (zh ? "天" : streak == 1 ? "day" : "days"))
        Output.line(
            style.bold(zh ? "真实保留率" : "True retention")
                + "  "
                + (retention.map {
                    String(format: "%.1f%%", $0 * 100)
                        + (zh ? "（近 30 天复习卡）" : " (review cards, last 30 days)")
                } ?? "—"))
        let order = ["new", "learning", "review", "relearning", "leech"]
        Output.line(
            style.bold(zh ? "卡片" : "Cards") + "  "
                + order.map { "\($0) \(byState[$0] ?? 0)" }.joined(separator: " · "))
        Output.line()
        Output.line(style.bold(zh ? "未来 30 天到期" : "Due in the next 30 days"))
        let largest = max(1, forecast.max() ?? 1)
        let height = 6
        for level in stride(from: height, through: 1, by: -1) {
            let row = forecast.map { count in
                count * height >= level * largest && count > 0 ? (app.terminal.isTerminal ? "█" : "#") : " "
            }
            Output.line(
                (level == height ? String(largest).leftPadded(to: 4) : "    ") + " │"
                    + row.map { $0 + " " }.joined())
        }
        Output.line("     └" + String(repeating: "──", count: 30))
        Output.line(
            "      " + (zh ? "今天" : "today").rightPadded(to: 28) + "+14d".rightPadded(to: 28) + "+29d")
    }
}
