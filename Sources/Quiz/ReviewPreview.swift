/// What one answer would do to a card, for the label on its button before the user presses it.
public struct ReviewPreview: Hashable, Sendable {
    /// The answer this preview is for.
    public let rating: Rating
    /// The card as it would be after that answer.
    public let card: Card
    /// The time from the answer until the card would be due again.
    public let interval: Duration

    /// A preview of `rating`, which would leave `card` due after `interval`.
    public init(rating: Rating, card: Card, interval: Duration) {
        self.rating = rating
        self.card = card
        self.interval = interval
    }

    /// The interval as a button shows it: "45s", "6m", "3h", "4d", "1.5mo", "2.3y".
    ///
    /// Each unit is used while the rounded count stays below the next unit, so 59.6 seconds read
    /// "1m", not "60s". Months are 30 days and years 365, as in Anki; they get one decimal because
    /// "1mo" would hide the difference between 30 and 44 days.
    public var intervalLabel: String {
        let seconds = interval.totalSeconds
        let wholeSeconds = seconds.rounded(.toNearestOrAwayFromZero)
        if wholeSeconds < 60 {
            return "\(Int(wholeSeconds))s"
        }
        let minutes = (seconds / 60).rounded(.toNearestOrAwayFromZero)
        if minutes < 60 {
            return "\(Int(minutes))m"
        }
        let hours = (seconds / 3_600).rounded(.toNearestOrAwayFromZero)
        if hours < 24 {
            return "\(Int(hours))h"
        }
        let days = (seconds / 86_400).rounded(.toNearestOrAwayFromZero)
        if days < 30 {
            return "\(Int(days))d"
        }
        if days < 365 {
            return Self.oneDecimal(days / 30) + "mo"
        }
        return Self.oneDecimal(days / 365) + "y"
    }

    /// `value` with one decimal, dropped when it is zero: 1.5 is "1.5", 2.0 is "2".
    private static func oneDecimal(_ value: Double) -> String {
        let tenths = Int((value * 10).rounded(.toNearestOrAwayFromZero))
        return tenths % 10 == 0 ? "\(tenths / 10)" : "\(tenths / 10).\(tenths % 10)"
    }
}
