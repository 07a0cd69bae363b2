import Content
import TestSupport
import Testing

@testable import Quiz
@testable import mqproof

/// Two quiz sessions on one database each read card states at their start. Before, the later
/// answer overwrote the earlier one's state (a lost update): 396 cards disagreed with their log.
@Suite("Concurrent quiz sessions")
struct ConcurrentSessionTests {
    @Test("Two sessions answering the same card both count, and the state agrees with the log")
    func noLostUpdate() throws {
        let directory = TemporaryDirectory()
        let store = try ContentStore(path: directory.file("two.sqlite"))
        let scheduler = try Scheduler()
        let id = "kafka-acks-message-loss/1"
        let start = Instant(millisecondsSinceEpoch: 1_796_000_000_000)
        // Both sessions saw the card as new; each answers Good, a minute apart.
        func answer(at instant: Instant) -> QuizSession.Answer {
            let (after, log) = scheduler.review(Card(due: start), rating: .good, at: instant, fuzzFactor: 0.5)
            return QuizSession.Answer(cardID: id, before: nil, after: after, log: log, becameLeech: false)
        }
        for (offset, answer) in [answer(at: start), answer(at: start + .seconds(60))].enumerated() {
            let result = try store.recordAnswer(cardID: id) { current in
                let reconciled = QuizCards.reconcile(
                    answer, seen: nil, current: current, scheduler: scheduler)
                return (reconciled.state, reconciled.review)
            }
            #expect(result.state.reviews == offset + 1)
        }
        let state = try #require(try store.cardStates()[id])
        #expect(state.reviews == 2)
        #expect(try store.reviews().filter { $0.cardID == id }.count == 2)
        // The second answer was applied to the first one's state: its log says learning, and
        // the card moved on a step rather than starting over.
        #expect(state.step == 1 || state.state == Card.State.review.rawValue)
    }

    @Test("When nobody else answered, the session's own answer is stored unchanged")
    func sessionAnswerStands() throws {
        let scheduler = try Scheduler()
        let start = Instant(millisecondsSinceEpoch: 1_796_000_000_000)
        let (after, log) = scheduler.review(Card(due: start), rating: .easy, at: start, fuzzFactor: 0.5)
        let answer = QuizSession.Answer(
            cardID: "x/1", before: nil, after: after, log: log, becameLeech: false)
        let reconciled = QuizCards.reconcile(answer, seen: nil, current: nil, scheduler: scheduler)
        #expect(reconciled.after == after)
    }
}
