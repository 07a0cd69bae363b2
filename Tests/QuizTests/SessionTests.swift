import Quiz
import Testing

@Suite("Quiz session")
struct SessionTests {
    let scheduler = try! Scheduler()
    let start = Instant(secondsSinceEpoch: 1_800_000_000)

    func cards(_ count: Int, topic: String = "t") -> [QuizCard] {
        (1...count).map {
            QuizCard(
                id: "c\($0)", entryID: "e\($0)", topic: topic, tags: ["kafka"], difficulty: 1, kind: .recall)
        }
    }

    /// A card in review state, last reviewed `daysAgo` days before `start`, due `dueIn` days from it.
    func reviewed(daysAgo: Int, dueIn: Int, lapses: Int = 0) -> CardStatus {
        CardStatus(
            card: Card(
                state: .review, step: nil, memory: MemoryState(stability: 5, difficulty: 5),
                due: start + .seconds(dueIn * 86_400), lastReview: start + .seconds(-daysAgo * 86_400),
                reviewCount: 3,
                lapseCount: lapses))
    }

    @Test("Due learning cards first, then due reviews oldest first, then new cards; future reviews wait")
    func order() {
        var statuses: [String: CardStatus] = [
            "c1": reviewed(daysAgo: 5, dueIn: -1), "c2": reviewed(daysAgo: 9, dueIn: -3),
        ]
        statuses["c3"] = reviewed(daysAgo: 1, dueIn: 4)
        var learningCard = Card(due: start)
        learningCard = scheduler.review(learningCard, rating: .again, at: start + .seconds(-120)).card
        statuses["c4"] = CardStatus(card: learningCard)
        var session = QuizSession(cards: cards(5), statuses: statuses, now: start, scheduler: scheduler)
        var shown: [String] = []
        while let card = session.current, shown.count < 4 {
            shown.append(card.id)
            _ = session.answer(.easy, at: start, fuzzFactor: nil)
        }
        #expect(shown == ["c4", "c2", "c1", "c5"])
    }

    @Test("New cards stop at the day's limit, counting what today already used")
    func newLimit() {
        var session = QuizSession(
            cards: cards(10), statuses: [:], limits: SessionLimits(newPerDay: 5), newToday: 3, now: start,
            scheduler: scheduler)
        var count = 0
        while session.current != nil {
            _ = session.answer(.easy, at: start, fuzzFactor: nil)
            count += 1
        }
        #expect(count == 2)
    }

    @Test("Again on a new card brings it back in the same session after its learning step")
    func learningSteps() {
        var session = QuizSession(cards: cards(1), statuses: [:], now: start, scheduler: scheduler)
        let first = session.answer(.again, at: start, fuzzFactor: nil)
        #expect(first?.after.state == .learning)
        #expect(first?.after.due == start + .seconds(60))
        // Within the learn-ahead window the card is shown again rather than ending the session.
        #expect(session.current?.id == "c1")
        let second = session.answer(.good, at: start + .seconds(60), fuzzFactor: nil)
        #expect(second?.after.due == start + .seconds(60 + 600))
    }

    @Test("Undo gives the card back with its previous state; the caller restores that")
    func undo() {
        var session = QuizSession(cards: cards(2), statuses: [:], now: start, scheduler: scheduler)
        let answered = session.answer(.easy, at: start, fuzzFactor: nil)
        #expect(session.current?.id == "c2")
        let undone = session.undo(now: start)
        #expect(undone == answered)
        #expect(undone?.before == nil)
        #expect(session.current?.id == "c1")
        #expect(session.remaining(now: start).new == 2)
    }

    @Test("The eighth lapse makes a card a leech, and it leaves the session")
    func leech() {
        var session = QuizSession(
            cards: cards(1), statuses: ["c1": reviewed(daysAgo: 10, dueIn: 0, lapses: 7)], now: start,
            scheduler: scheduler)
        let answer = session.answer(.again, at: start, fuzzFactor: nil)
        #expect(answer?.after.lapseCount == 8)
        #expect(answer?.becameLeech == true)
        #expect(session.current == nil)
        // A stored leech never shows again.
        let later = QuizSession(
            cards: cards(1), statuses: ["c1": CardStatus(card: answer!.after, isLeech: true)],
            now: start + .seconds(86_400),
            scheduler: scheduler)
        #expect(later.current == nil)
    }

    @Test("Filters by topic, tag and difficulty; bury and skip")
    func filtersBuryAndSkip() {
        let mixed =
            cards(2, topic: "a") + [
                QuizCard(id: "x", entryID: "x", topic: "b", tags: ["rabbitmq"], difficulty: 3, kind: .recall)
            ]
        #expect(
            QuizSession(
                cards: mixed, statuses: [:], filter: CardFilter(topic: "b"), now: start, scheduler: scheduler
            ).current?.id == "x")
        #expect(
            QuizSession(
                cards: mixed, statuses: [:], filter: CardFilter(tag: "rabbitmq"), now: start,
                scheduler: scheduler
            ).current?.id == "x")
        #expect(
            QuizSession(
                cards: mixed, statuses: [:], filter: CardFilter(difficulty: 3), now: start,
                scheduler: scheduler
            ).current?.id == "x")
        var session = QuizSession(cards: cards(3), statuses: [:], now: start, scheduler: scheduler)
        session.skip(now: start)
        #expect(session.current?.id == "c2")
        #expect(session.bury(now: start) == "c2")
        #expect(session.current?.id == "c3")
        _ = session.answer(.easy, at: start, fuzzFactor: nil)
        #expect(session.current?.id == "c1")
        let buried = QuizSession(
            cards: cards(1),
            statuses: ["c1": CardStatus(card: Card(due: start), buriedUntil: start + .seconds(3_600))],
            now: start, scheduler: scheduler)
        #expect(buried.current == nil)
    }

    @Test("Auto-graded cards grade themselves: wrong is Again, right is Good")
    func autoGrading() {
        let choice = QuizCard(
            id: "q", entryID: "e", topic: "t", tags: [], difficulty: 1,
            kind: .choice(options: ["a", "b"], correctIndex: 1))
        #expect(choice.grade(choice: 1)! == (true, .good))
        #expect(choice.grade(choice: 0)! == (false, .again))
        let statement = QuizCard(
            id: "s", entryID: "e", topic: "t", tags: [], difficulty: 1, kind: .trueFalse(answer: false))
        #expect(statement.grade(choice: 1)! == (true, .good))
    }
}
