import Content
import Foundation
import Quiz

/// Today's quiz: every card, its stored state and today's limits, as a session for the filter.
/// The quiz, the study path and the home screen's counts all start from here.
struct QuizDeck {
    var session: QuizSession
    let cards: [QuizCards.Content]
    let entries: [String: Entry]
    let stored: [String: StoredCardState]
    let clock: WallClock

    static func open(_ app: App, filter: CardFilter = CardFilter(), reportImpossible: Bool = true) throws
        -> QuizDeck
    {
        let store = app.store
        let settings = try store.allSettings()
        let scheduler: Scheduler
        do {
            scheduler = try Scheduler(desiredRetention: Double(settings["desired_retention"] ?? "") ?? 0.9)
        } catch {
            throw Failure(message: "desired_retention setting: \(error)")
        }
        let limits = SessionLimits(
            newPerDay: Int(settings["new_per_day"] ?? "") ?? 20,
            reviewsPerDay: Int(settings["reviews_per_day"] ?? "") ?? 200)
        // New cards come in the study path's order, not the alphabet's.
        let position = Dictionary(
            uniqueKeysWithValues: try store.studyPath().map { ($0.entryID, $0.position) })
        let entries = try store.allEntries().sorted {
            (position[$0.id] ?? Int.max, $0.id) < (position[$1.id] ?? Int.max, $1.id)
        }
        let cards = QuizCards.make(from: entries)
        // A state no answer produces (imported by an older mqproof, or edited by hand) would trap
        // the scheduler: such a card starts again as new, and the user is told.
        let allStored = try store.cardStates()
        let stored = allStored.filter { ProgressCheck.problems(in: $0.value).isEmpty }
        if stored.count < allStored.count && reportImpossible {
            app.output.error(app.ui(.impossibleStates(allStored.count - stored.count)))
        }
        let now = app.clock.now()
        let today = app.clock.startOfToday
        let todays = try store.reviews(sinceMs: today.millisecondsSinceEpoch)
        let everReviewedBefore = Set(
            try store.reviews().filter { $0.reviewedMs < today.millisecondsSinceEpoch }.map(\.cardID))
        let newToday = Set(todays.map(\.cardID)).subtracting(everReviewedBefore).count
        let reviewsToday = todays.filter { $0.stateBefore == Card.State.review.rawValue }.count
        let session = QuizSession(
            cards: cards.map(\.card), statuses: stored.mapValues(QuizCards.status), filter: filter,
            limits: limits, newToday: newToday, reviewsToday: reviewsToday, now: now, scheduler: scheduler)
        return QuizDeck(
            session: session, cards: cards,
            entries: Dictionary(uniqueKeysWithValues: entries.map { ($0.id, $0) }), stored: stored,
            clock: app.clock)
    }

    /// Cards due now or soon (learning and review) and new cards left today.
    var today: (due: Int, new: Int) {
        let counts = session.remaining(now: clock.now())
        return (counts.learning + counts.review, counts.new)
    }

    func runner(_ app: App) -> QuizRunner {
        QuizRunner(
            app: app, session: session,
            content: Dictionary(uniqueKeysWithValues: cards.map { ($0.card.id, $0) }), entries: entries,
            stored: stored, input: KeyInput())
    }
}
