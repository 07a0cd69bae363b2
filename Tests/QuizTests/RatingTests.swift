import Quiz
import Testing

@Suite("Auto-graded answers")
struct RatingTests {
    @Test("A wrong answer is Again, a right one Good, never Easy")
    func grades() {
        #expect(rating(forCorrectAnswer: false) == .again)
        #expect(rating(forCorrectAnswer: true) == .good)
        #expect(Rating.allCases.map(\.rawValue) == [1, 2, 3, 4])
    }
}
