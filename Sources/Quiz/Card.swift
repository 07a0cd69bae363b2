/// The scheduling of one quiz card: where it is in the learning cycle, what FSRS believes about the
/// memory of it, and when it is next due.
///
/// A card is a plain value. `Scheduler.review(_:rating:at:fuzzFactor:)` returns the next one and
/// never changes the one it was given, so undo is keeping the previous value.
public struct Card: Hashable, Sendable, Codable {
    /// Where a card is in the learning cycle. The raw values are py-fsrs' and Anki's numbering.
    public enum State: Int, CaseIterable, Hashable, Sendable, Codable {
        /// Not yet graduated: a new card, or one that walks through the learning steps.
        case learning = 1
        /// Graduated: due after whole days that the memory model chooses.
        case review = 2
        /// Forgotten after graduating: walks through the relearning steps, then returns to review.
        case relearning = 3
    }

    /// Where the card is in the learning cycle.
    public var state: State
    /// The index of the current learning or relearning step; `nil` in review.
    public var step: Int?
    /// What FSRS believes about the memory of the card; `nil` until its first review.
    public var memory: MemoryState?
    /// When the card should next be shown.
    public var due: Instant
    /// When the card was last reviewed; `nil` until its first review.
    public var lastReview: Instant?
    /// How many times the card has been reviewed, whatever the rating.
    public var reviewCount: Int
    /// How many times the card was forgotten after graduating (Again on a review card). Anki calls
    /// a card with 8 lapses a leech; py-fsrs does not count lapses, so this is our own addition.
    public var lapseCount: Int

    /// A new card that has never been reviewed, due at `due` (usually the moment it was added).
    public init(due: Instant) {
        self.init(
            state: .learning, step: 0, memory: nil, due: due, lastReview: nil, reviewCount: 0,
            lapseCount: 0)
    }

    /// A card as stored earlier, for instance read back from the progress database.
    public init(
        state: State, step: Int?, memory: MemoryState?, due: Instant, lastReview: Instant?,
        reviewCount: Int, lapseCount: Int
    ) {
        self.state = state
        self.step = step
        self.memory = memory
        self.due = due
        self.lastReview = lastReview
        self.reviewCount = reviewCount
        self.lapseCount = lapseCount
    }

    /// Whether the card has never been reviewed.
    public var isNew: Bool { memory == nil }
}

/// What FSRS believes about the memory of one card (fsrs-rs and Anki call it the memory state).
public struct MemoryState: Hashable, Sendable, Codable {
    /// Days after the last review until the probability of recall falls to 90%. Never below 0.001.
    public var stability: Double
    /// How hard the card is to remember, from 1 (easiest) to 10; the higher it is, the less each
    /// successful review raises the stability.
    public var difficulty: Double

    /// A memory state with the given stability (days) and difficulty (1 to 10).
    public init(stability: Double, difficulty: Double) {
        self.stability = stability
        self.difficulty = difficulty
    }
}

/// One answer to one card, as kept for statistics, export and replaying under new settings.
public struct ReviewLog: Hashable, Sendable, Codable {
    /// The answer given.
    public var rating: Rating
    /// When the answer was given.
    public var reviewedAt: Instant
    /// The state the card was in when answered (Anki's review log "type": learn, review, relearn).
    public var state: Card.State
    /// The probability of recall FSRS predicted at the moment of the answer; 0 for a new card.
    /// Comparing it with the ratings given measures how well the model fits the user.
    public var retrievability: Double
    /// When the card became due after this answer.
    public var due: Instant

    /// A review log entry with the given fields.
    public init(
        rating: Rating, reviewedAt: Instant, state: Card.State, retrievability: Double, due: Instant
    ) {
        self.rating = rating
        self.reviewedAt = reviewedAt
        self.state = state
        self.retrievability = retrievability
        self.due = due
    }
}
