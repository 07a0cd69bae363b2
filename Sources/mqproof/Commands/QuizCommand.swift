import ArgumentParser
import Content
import Experiments
import Foundation
import Quiz
import Simulation

/// A terminal quiz scheduled by FSRS-6: due reviews first, then new cards, every answer stored
/// before the next card shows.
struct QuizCommand: EnvironmentCommand {
    static let configuration = CommandConfiguration(
        commandName: "quiz",
        abstract: "Drill with spaced repetition (FSRS-6): recall cards you grade, and auto-graded questions.",
        discussion: """
            On a terminal, answers are single keys. Without one, answers are read line by line from \
            standard input, so a session can be scripted: a line holds a key (1-4, a-f, t/f, u, b, s, q) \
            or, for a recall card, the typed answer. Every answer is stored at once; Ctrl-C or end of \
            input ends the session and keeps all answers given.
            """)

    @OptionGroup var options: GlobalOptions

    @Option(help: "Only this topic's cards.") var topic: String?
    @Option(help: "Only cards with this tag.") var tag: String?
    @Option(help: "Only cards of this difficulty (1-3).") var difficulty: Int?
    @Option(help: "New cards per day (saved as a setting; default 20).") var newPerDay: Int?
    @Option(help: "Reviews per day (saved as a setting; default 200).") var reviewsPerDay: Int?
    @Option(help: "Desired retention, 0.7-0.99 (saved as a setting; default 0.9).") var retention: Double?

    func validate() throws {
        if let difficulty, !(1...3).contains(difficulty) {
            throw ValidationError("--difficulty must be 1, 2 or 3")
        }
        if let newPerDay, newPerDay < 0 { throw ValidationError("--new-per-day must be at least 0") }
        if let reviewsPerDay, reviewsPerDay < 0 {
            throw ValidationError("--reviews-per-day must be at least 0")
        }
        if let retention, !(0.7...0.99).contains(retention) {
            throw ValidationError("--retention must be between 0.7 and 0.99")
        }
    }

    func run(in environment: Environment) throws {
        let app = try App.open(options, in: environment)
        let store = app.store
        for (key, value) in [
            ("new_per_day", newPerDay.map(String.init)), ("reviews_per_day", reviewsPerDay.map(String.init)),
            ("desired_retention", retention.map { String($0) }),
        ] {
            if let value { try store.setSetting(key, to: value) }
        }
        let entries = try store.allEntries()
        if let topic, !entries.contains(where: { $0.topic == topic }) {
            throw app.unknown(
                "topic", topic, among: Array(Set(entries.map(\.topic))).sorted(), searchHint: false)
        }
        let deck = try QuizDeck.open(app, filter: CardFilter(topic: topic, tag: tag, difficulty: difficulty))
        var runner = deck.runner(app)
        runner.run()
    }
}

/// Builds quiz cards from content, and maps stored rows to and from the scheduler's cards.
enum QuizCards {
    struct Content {
        var card: QuizCard
        var entry: String
        /// The quiz item for auto-graded cards.
        var item: QuizItem?
        /// For predict-the-outcome cards: the experiment whose outcome the user predicts.
        var experiment: String?
    }

    static func make(from entries: [Entry]) -> [Content] {
        entries.flatMap { entry -> [Content] in
            let recall = Content(
                card: QuizCard(
                    id: entry.id, entryID: entry.id, topic: entry.topic, tags: entry.tags,
                    difficulty: entry.difficulty,
                    kind: .recall),
                entry: entry.id, item: nil)
            let items = entry.quiz.enumerated().map { index, item in
                let kind: QuizCard.Kind =
                    switch item.kind {
                    case .choice(let options, let correct):
                        .choice(options: options.map(\.en), correctIndex: correct)
                    case .trueFalse(let answer): .trueFalse(answer: answer)
                    }
                return Content(
                    card: QuizCard(
                        id: "\(entry.id)/\(index + 1)", entryID: entry.id, topic: entry.topic,
                        tags: entry.tags,
                        difficulty: entry.difficulty, kind: kind),
                    entry: entry.id, item: item)
            }
            // Predict-the-outcome cards: for each experiment the answer links to, the user
            // predicts whether an anomaly shows, then the experiment runs.
            let predictions = entry.experiments.compactMap { id -> Content? in
                guard let experiment = ExperimentCatalogue.experiment(id), let kind = experiment.info.kind
                else { return nil }
                return Content(
                    card: QuizCard(
                        id: "\(entry.id)/predict/\(id)", entryID: entry.id, topic: entry.topic,
                        tags: entry.tags,
                        difficulty: entry.difficulty, kind: .trueFalse(answer: kind == .hazard)),
                    entry: entry.id, item: nil, experiment: id)
            }
            return [recall] + items + predictions
        }
    }

    static func status(_ stored: StoredCardState) -> CardStatus {
        CardStatus(
            card: card(stored), buriedUntil: stored.buriedUntilMs.map(Instant.init(millisecondsSinceEpoch:)),
            isLeech: stored.leech)
    }

    static func card(_ stored: StoredCardState) -> Card {
        Card(
            state: Card.State(rawValue: stored.state) ?? .learning, step: stored.step,
            memory: zip(stored.stability, stored.difficulty).map {
                MemoryState(stability: $0, difficulty: $1)
            },
            due: Instant(millisecondsSinceEpoch: stored.dueMs),
            lastReview: stored.lastReviewMs.map(Instant.init(millisecondsSinceEpoch:)),
            reviewCount: stored.reviews,
            lapseCount: stored.lapses)
    }

    static func stored(_ card: Card, id: String, leech: Bool = false, buriedUntil: Instant? = nil)
        -> StoredCardState
    {
        StoredCardState(
            cardID: id, state: card.state.rawValue, step: card.step, stability: card.memory?.stability,
            difficulty: card.memory?.difficulty, dueMs: card.due.millisecondsSinceEpoch,
            lastReviewMs: card.lastReview?.millisecondsSinceEpoch, reviews: card.reviewCount,
            lapses: card.lapseCount,
            buriedUntilMs: buriedUntil?.millisecondsSinceEpoch, leech: leech)
    }

    /// The answer to store, given the card's state as stored now. When that is the state this
    /// session last saw, the session's answer stands. When another session on the same file
    /// answered the card meanwhile, the same rating at the same moment is applied to the stored
    /// state instead, so that both sessions' answers count.
    static func reconcile(
        _ answer: QuizSession.Answer, seen: StoredCardState?, current: StoredCardState?, scheduler: Scheduler
    ) -> (state: StoredCardState, review: StoredReview, after: Card, becameLeech: Bool) {
        var after = answer.after
        var log = answer.log
        var becameLeech = answer.becameLeech
        // A stored state that cannot occur counts as none, as it did when the session started.
        let current = current.flatMap { ProgressCheck.problems(in: $0).isEmpty ? $0 : nil }
        if current != seen {
            let before = current.map(card) ?? Card(due: log.reviewedAt)
            (after, log) = scheduler.review(
                before, rating: log.rating, at: log.reviewedAt,
                fuzzFactor: fuzz(for: answer.cardID, reviews: current?.reviews ?? 0))
            becameLeech =
                before.lapseCount < after.lapseCount && after.lapseCount >= QuizSession.leechThreshold
        }
        let state = stored(after, id: answer.cardID, leech: becameLeech)
        let review = StoredReview(
            cardID: answer.cardID, rating: log.rating.rawValue,
            reviewedMs: log.reviewedAt.millisecondsSinceEpoch,
            stateBefore: log.state.rawValue, dueMs: after.due.millisecondsSinceEpoch,
            retrievability: log.retrievability)
        return (state, review, after, becameLeech)
    }

    /// The order a choice card's options are shown in, as indexes into its options: shuffled on
    /// every presentation, so that "always the first" is worth chance, yet fixed by the card and
    /// how often it was answered, so undo and a replayed session show the same order.
    static func optionOrder(for id: String, reviews: Int, count: Int) -> [Int] {
        var random = SeededRandom(
            seed: stableHash(id) ^ (UInt64(truncatingIfNeeded: reviews) &* 0x9E37_79B9_7F4A_7C15))
        var order = Array(0..<count)
        // Fisher-Yates, drawing from the seeded generator.
        for index in stride(from: count - 1, to: 0, by: -1) {
            order.swapAt(index, random.next(in: 0...index))
        }
        return order
    }

    /// FNV-1a over the id: stable across processes, unlike Hasher.
    static func stableHash(_ id: String) -> UInt64 {
        id.utf8.reduce(UInt64(0xcbf2_9ce4_8422_2325)) { ($0 ^ UInt64($1)) &* 0x100_0000_01b3 }
    }

    /// A fuzz factor in [0, 1) that depends only on the card and how often it was reviewed, so the
    /// button labels and the stored answer agree and no global randomness is involved.
    static func fuzz(for id: String, reviews: Int) -> Double {
        var random = SeededRandom(seed: stableHash(id))
        for _ in 0...reviews { _ = random.next() }
        return Double(random.next() >> 11) / Double(1 << 53)
    }
}

private func zip(_ a: Double?, _ b: Double?) -> (Double, Double)? {
    guard let a, let b else { return nil }
    return (a, b)
}
