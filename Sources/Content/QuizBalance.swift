/// How a deck of quiz items can be passed without knowing anything, measured so that
/// `content check` warns when the content drifts that way: true-false items that are mostly one
/// answer, or choice items whose correct option is the longest one.
public struct QuizBalance: Equatable, Sendable {
    public var trueFalseItems = 0
    public var trueAnswers = 0
    public var choiceItems = 0
    /// Per language, choice items whose correct option is strictly longer than every other.
    public var correctIsLongest: [Language: Int] = [.zh: 0, .en: 0]

    /// The share of true answers must stay in 35-65%, and the correct option may be strictly the
    /// longest in at most 40% of choice items: beyond that, a guess beats chance by 10 points.
    public static let trueShare: ClosedRange<Double> = 0.35...0.65
    public static let longestShare = 0.40

    public init(_ entries: [Entry]) {
        for item in entries.flatMap(\.quiz) {
            switch item.kind {
            case .trueFalse(let answer):
                trueFalseItems += 1
                if answer { trueAnswers += 1 }
            case .choice(let options, let correct):
                choiceItems += 1
                for language in [Language.zh, .en] {
                    let lengths = options.map { $0[language].count }
                    let isLongest = lengths.indices.allSatisfy {
                        $0 == correct || lengths[$0] < lengths[correct]
                    }
                    if isLongest { correctIsLongest[language, default: 0] += 1 }
                }
            }
        }
    }

    /// What a reviewer should know, one line each; empty when the deck is balanced.
    public var warnings: [String] {
        var found: [String] = []
        if trueFalseItems > 0 {
            let share = Double(trueAnswers) / Double(trueFalseItems)
            if !Self.trueShare.contains(share) {
                found.append(
                    "\(trueAnswers) of \(trueFalseItems) true-false items are true (\(Int(share * 100))%): keep it within 35-65%, or always answering one way passes"
                )
            }
        }
        for language in [Language.zh, .en] where choiceItems > 0 {
            let longest = correctIsLongest[language] ?? 0
            let share = Double(longest) / Double(choiceItems)
            if share > Self.longestShare {
                found.append(
                    "the correct option is the longest in \(longest) of \(choiceItems) choice items (\(language.rawValue), \(Int(share * 100))%): at most 40%, or picking the longest passes"
                )
            }
        }
        return found
    }
}
