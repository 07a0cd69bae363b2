/// The four grades of a review, as FSRS and Anki name them.
public enum Rating: Int, CaseIterable, Codable, Sendable {
    case again = 1
    case hard = 2
    case good = 3
    case easy = 4
}

/// Grades an auto-gradable answer. A wrong answer is `again`: the card was forgotten. A right
/// one is `good`; an auto-graded card cannot tell "easy" from "good", so it never claims it.
public func rating(forCorrectAnswer isCorrect: Bool) -> Rating {
    isCorrect ? .good : .again
}
