// Theory of operation
//
// A session is a queue over cards the caller provides, with their stored scheduling states and
// today's counts; time always comes in as a parameter. It shows, in this order: learning and
// relearning cards that are due, review cards that are due (oldest first), then new cards, up to
// the day's limits for new cards and reviews. An answered card whose next due time falls within
// the learn-ahead window (a learning step) comes back later in the same session. Every answer
// returns the new state and its log for the caller to store before the next card shows; undo
// returns the previous state for the caller to restore. A card that lapses for the eighth time
// is a leech: it is reported, and the caller suspends it. Nothing here reads a clock, the
// environment or a random source: fuzz comes in with each answer.

/// A card as the quiz shows it. The caller builds it from the content; the session only needs
/// its id, where it belongs (for filters), and whether it grades itself.
public struct QuizCard: Equatable, Sendable {
    public enum Kind: Equatable, Sendable {
        /// The user recalls the answer, then grades themselves.
        case recall
        /// Multiple choice; graded by correctness.
        case choice(options: [String], correctIndex: Int)
        case trueFalse(answer: Bool)
    }

    /// `<entry id>` for recall cards, `<entry id>/<n>` for the entry's n-th quiz item.
    public var id: String
    public var entryID: String
    public var topic: String
    public var tags: [String]
    public var difficulty: Int
    public var kind: Kind

    public init(id: String, entryID: String, topic: String, tags: [String], difficulty: Int, kind: Kind) {
        self.id = id
        self.entryID = entryID
        self.topic = topic
        self.tags = tags
        self.difficulty = difficulty
        self.kind = kind
    }

    /// Grades an auto-graded card's answer; nil for recall cards, which the user grades.
    public func grade(choice: Int) -> (correct: Bool, rating: Rating)? {
        switch kind {
        case .recall: return nil
        case .choice(_, let correctIndex):
            let correct = choice == correctIndex
            return (correct, rating(forCorrectAnswer: correct))
        case .trueFalse(let answer):
            let correct = (choice == 0) == answer  // 0 is "true", 1 is "false"
            return (correct, rating(forCorrectAnswer: correct))
        }
    }
}

/// How much a day may hold, and how far ahead a learning card may be shown.
public struct SessionLimits: Equatable, Sendable {
    public var newPerDay: Int
    public var reviewsPerDay: Int
    /// Anki's "learn ahead limit": a learning card due within this is shown rather than waited for.
    public var learnAhead: Duration

    public init(newPerDay: Int = 20, reviewsPerDay: Int = 200, learnAhead: Duration = .seconds(20 * 60)) {
        self.newPerDay = newPerDay
        self.reviewsPerDay = reviewsPerDay
        self.learnAhead = learnAhead
    }
}

/// Which cards a session takes.
public struct CardFilter: Equatable, Sendable {
    public var topic: String?
    public var tag: String?
    public var difficulty: Int?
    /// One entry's cards only (the study path's quiz step).
    public var entry: String?

    public init(topic: String? = nil, tag: String? = nil, difficulty: Int? = nil, entry: String? = nil) {
        self.topic = topic
        self.tag = tag
        self.difficulty = difficulty
        self.entry = entry
    }

    public func admits(_ card: QuizCard) -> Bool {
        (topic == nil || card.topic == topic) && (tag == nil || card.tags.contains(tag!))
            && (difficulty == nil || card.difficulty == difficulty) && (entry == nil || card.entryID == entry)
    }
}

/// What is stored per card besides its FSRS state.
public struct CardStatus: Equatable, Sendable {
    public var card: Card
    /// Not shown before this instant (buried until tomorrow).
    public var buriedUntil: Instant?
    /// Suspended as a leech: never shown again until the user unsuspends it.
    public var isLeech: Bool

    public init(card: Card, buriedUntil: Instant? = nil, isLeech: Bool = false) {
        self.card = card
        self.buriedUntil = buriedUntil
        self.isLeech = isLeech
    }
}

public struct QuizSession: Sendable {
    /// What one answer did, for the caller to store in one transaction.
    public struct Answer: Equatable, Sendable {
        public var cardID: String
        public var before: Card?
        public var after: Card
        public var log: ReviewLog
        /// The card just reached 8 lapses: the caller suspends it.
        public var becameLeech: Bool
    }

    /// Lapses that make a card a leech (Anki's default).
    public static let leechThreshold = 8

    public let scheduler: Scheduler
    public let limits: SessionLimits
    private var cards: [String: QuizCard] = [:]
    private var states: [String: Card]
    private var learning: [String] = []
    private var reviews: [String] = []
    private var newCards: [String] = []
    private var newShown: Int
    private var reviewsShown: Int
    private var history: [Answer] = []
    public private(set) var current: QuizCard?
    private var currentIsNew = false

    /// - Parameters:
    ///   - cards: every card, in the order new cards should be introduced.
    ///   - statuses: stored state by card id; a card without one is new.
    ///   - newToday, reviewsToday: what today already used of the limits.
    public init(
        cards: [QuizCard], statuses: [String: CardStatus], filter: CardFilter = CardFilter(),
        limits: SessionLimits = SessionLimits(), newToday: Int = 0, reviewsToday: Int = 0, now: Instant,
        scheduler: Scheduler
    ) {
        self.scheduler = scheduler
        self.limits = limits
        newShown = newToday
        reviewsShown = reviewsToday
        states = statuses.mapValues(\.card)
        for card in cards where filter.admits(card) {
            self.cards[card.id] = card
            guard let status = statuses[card.id] else {
                newCards.append(card.id)
                continue
            }
            if status.isLeech { continue }
            if let buried = status.buriedUntil, buried > now { continue }
            switch status.card.state {
            case .learning, .relearning:
                if status.card.isNew { newCards.append(card.id) } else { learning.append(card.id) }
            case .review:
                if status.card.due <= now { reviews.append(card.id) }
            }
        }
        // Oldest due first; ids break ties so the order never depends on dictionary order.
        reviews.sort { (states[$0]!.due, $0) < (states[$1]!.due, $1) }
        advance(now: now)
    }

    /// Cards left: learning (due within the learn-ahead window), reviews and new within limits.
    public func remaining(now: Instant) -> (learning: Int, review: Int, new: Int) {
        var learningLeft = learning.filter { states[$0]!.due <= now + limits.learnAhead }.count
        var reviewsLeft = reviews.count
        var newLeft = newCards.count
        if let current {
            if currentIsNew {
                newLeft += 1
            } else if states[current.id]?.state == .review {
                reviewsLeft += 1
            } else {
                learningLeft += 1
            }
        }
        return (
            learningLeft, min(reviewsLeft, max(0, limits.reviewsPerDay - reviewsShown)),
            min(newLeft, max(0, limits.newPerDay - newShown))
        )
    }

    /// The state a card would have after each answer, for labelling the buttons.
    public func previews(at now: Instant, fuzzFactor: Double?) -> [ReviewPreview] {
        guard let current else { return [] }
        return scheduler.previewReviews(
            of: states[current.id] ?? Card(due: now), at: now, fuzzFactor: fuzzFactor)
    }

    /// Grades the current card and moves on.
    public mutating func answer(_ rating: Rating, at now: Instant, fuzzFactor: Double?) -> Answer? {
        guard let current else { return nil }
        let before = states[current.id]
        let (after, log) = scheduler.review(
            before ?? Card(due: now), rating: rating, at: now, fuzzFactor: fuzzFactor)
        states[current.id] = after
        let lapsed = (before?.lapseCount ?? 0) < after.lapseCount
        let answer = Answer(
            cardID: current.id, before: before, after: after, log: log,
            becameLeech: lapsed && after.lapseCount >= Self.leechThreshold)
        history.append(answer)
        if currentIsNew { newShown += 1 } else if before?.state == .review { reviewsShown += 1 }
        if !answer.becameLeech, after.state != .review, after.due <= now + limits.learnAhead {
            learning.append(current.id)
        }
        self.current = nil
        advance(now: now)
        return answer
    }

    /// Takes back the last answer: the card shows again, and the caller restores `before`.
    public mutating func undo(now: Instant) -> Answer? {
        guard let last = history.popLast() else { return nil }
        learning.removeAll { $0 == last.cardID }
        if let shown = current { requeueFront(shown) }
        if last.before == nil || last.before!.isNew {
            newShown -= 1
        } else if last.before!.state == .review {
            reviewsShown -= 1
        }
        states[last.cardID] = last.before
        current = cards[last.cardID]
        currentIsNew = last.before == nil || last.before!.isNew
        return last
    }

    /// Sets the current card aside until tomorrow; the caller stores that.
    public mutating func bury(now: Instant) -> String? {
        guard let current else { return nil }
        self.current = nil
        advance(now: now)
        return current.id
    }

    /// Shows the current card again later in this session.
    public mutating func skip(now: Instant) {
        guard let current else { return }
        switch (currentIsNew, states[current.id]?.state) {
        case (true, _): newCards.append(current.id)
        case (false, .review?): reviews.append(current.id)
        default: learning.append(current.id)
        }
        self.current = nil
        advance(now: now, avoiding: current.id)
    }

    private mutating func requeueFront(_ card: QuizCard) {
        if currentIsNew {
            newCards.insert(card.id, at: 0)
        } else if states[card.id]?.state == .review {
            reviews.insert(card.id, at: 0)
        } else {
            learning.insert(card.id, at: 0)
        }
    }

    /// Picks the next card: due learning first, then reviews, then new, then learning ahead.
    private mutating func advance(now: Instant, avoiding skipped: String? = nil) {
        learning.sort { (states[$0]!.due, $0) < (states[$1]!.due, $1) }
        func take(_ queue: inout [String], where admits: (String) -> Bool) -> String? {
            guard let index = queue.firstIndex(where: { admits($0) && ($0 != skipped || queue.count == 1) })
            else { return nil }
            return queue.remove(at: index)
        }
        currentIsNew = false
        if let id = take(&learning, where: { states[$0]!.due <= now }) {
            current = cards[id]
        } else if reviewsShown < limits.reviewsPerDay, let id = take(&reviews, where: { _ in true }) {
            current = cards[id]
        } else if newShown < limits.newPerDay, let id = take(&newCards, where: { _ in true }) {
            current = cards[id]
            currentIsNew = true
        } else if let id = take(&learning, where: { states[$0]!.due <= now + limits.learnAhead }) {
            current = cards[id]
        } else {
            current = nil
        }
    }
}
