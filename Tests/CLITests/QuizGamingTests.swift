import Content
import Testing

@testable import mqproof

/// The quiz must not be passable without knowing anything. Over the whole shipped deck, the
/// strategies a guesser would try score within ten points of chance.
@Suite("Quiz: no strategy beats chance")
struct QuizGamingTests {
    static let entries = try! ContentParser(knownExperiments: nil).parse(ContentFiles.embedded).get().entries

    @Test("Always the first shown option, always the longest, always false: each within chance + 10 points")
    func strategies() throws {
        var firstRight = 0.0
        var chance = 0.0
        var choices = 0
        var longestRight: [Language: Int] = [.zh: 0, .en: 0]
        var trueFalse = 0
        var falseRight = 0
        for entry in Self.entries {
            for (index, item) in entry.quiz.enumerated() {
                switch item.kind {
                case .choice(let options, let correct):
                    choices += 1
                    chance += 1 / Double(options.count)
                    // The order of the first presentation; later ones are shuffled anew.
                    let order = QuizCards.optionOrder(
                        for: "\(entry.id)/\(index + 1)", reviews: 0, count: options.count)
                    if order[0] == correct { firstRight += 1 }
                    for language in [Language.zh, .en] {
                        let lengths = options.map { $0[language].count }
                        if lengths.enumerated().allSatisfy({
                            $0.offset == correct || $0.element < lengths[correct]
                        }) {
                            longestRight[language, default: 0] += 1
                        }
                    }
                case .trueFalse(let answer):
                    trueFalse += 1
                    if !answer { falseRight += 1 }
                }
            }
        }
        let chancePoints = chance / Double(choices) * 100
        let first = firstRight / Double(choices) * 100
        let alwaysFalse = Double(falseRight) / Double(trueFalse) * 100
        print(
            "quiz strategies over \(choices) choice and \(trueFalse) true-false items: chance \(Int(chancePoints))%, "
                + "always first \(Int(first))%, always longest zh \(longestRight[.zh]! * 100 / choices)% "
                + "en \(longestRight[.en]! * 100 / choices)%, always false \(Int(alwaysFalse))%")
        #expect(first <= chancePoints + 10)
        for language in [Language.zh, .en] {
            #expect(
                Double(longestRight[language]!) / Double(choices) * 100 <= chancePoints + 10, "\(language)")
        }
        #expect(alwaysFalse <= 50 + 10)
    }

    @Test("The shown order is fixed by the card and its review count, and changes between reviews")
    func deterministicOrder() {
        let first = QuizCards.optionOrder(for: "kafka-acks-message-loss/1", reviews: 0, count: 4)
        #expect(first == QuizCards.optionOrder(for: "kafka-acks-message-loss/1", reviews: 0, count: 4))
        #expect(Set(first) == [0, 1, 2, 3])
        let later = (1...8).map {
            QuizCards.optionOrder(for: "kafka-acks-message-loss/1", reviews: $0, count: 4)
        }
        #expect(later.contains { $0 != first })
    }
}
