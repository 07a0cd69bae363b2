import Content
import Testing

@testable import mqproof

@Suite("Quiz cards from content")
struct QuizCardTests {
    @Test("Each answer gives a recall card, its quiz items, and a predict card per linked experiment")
    func cardsFromContent() throws {
        let entries = try ContentParser(knownExperiments: nil).parse(ContentFiles.embedded).get().entries
        let entry = try #require(entries.first { $0.id == "kafka-acks-message-loss" })
        let cards = QuizCards.make(from: [entry])
        #expect(cards.map(\.card.id).first == "kafka-acks-message-loss")
        #expect(cards.filter { $0.item != nil }.count == entry.quiz.count)
        let predictions = cards.filter { $0.experiment != nil }
        #expect(predictions.map(\.card.id).contains("kafka-acks-message-loss/predict/K01"))
        // K01 is a hazard: "will an anomaly show?" is true; K02 is the fix: false.
        #expect(predictions.first { $0.experiment == "K01" }?.card.kind == .trueFalse(answer: true))
        #expect(predictions.first { $0.experiment == "K02" }?.card.kind == .trueFalse(answer: false))
    }

    @Test("The fuzz factor depends only on the card and its review count, and stays in [0, 1)")
    func fuzz() {
        let values = (0..<50).map { QuizCards.fuzz(for: "card-\($0)", reviews: $0 % 3) }
        #expect(values.allSatisfy { (0..<1).contains($0) })
        #expect(QuizCards.fuzz(for: "x", reviews: 2) == QuizCards.fuzz(for: "x", reviews: 2))
        #expect(QuizCards.fuzz(for: "x", reviews: 2) != QuizCards.fuzz(for: "x", reviews: 3))
    }
}
