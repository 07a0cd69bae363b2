/// A moment on the caller's clock, in whole milliseconds since an epoch the caller chooses.
///
/// The scheduler only subtracts one instant from another and adds durations to instants, so any
/// epoch works as long as all the instants of one card share it; mqproof uses the Unix epoch
/// (1970-01-01 00:00 UTC), which makes `millisecondsSinceEpoch` the value a clock reports. There is
/// no calendar, time zone or daylight saving here: a day is always 86 400 seconds, which is what
/// py-fsrs does with its UTC datetimes. Milliseconds are exact for every step and interval FSRS
/// produces from whole-second steps (a Hard answer waits half-way between two steps).
public struct Instant: Hashable, Comparable, Sendable, Codable {
    /// Milliseconds since the epoch; negative before it.
    public var millisecondsSinceEpoch: Int64

    /// The instant `millisecondsSinceEpoch` milliseconds after the epoch.
    public init(millisecondsSinceEpoch: Int64) {
        self.millisecondsSinceEpoch = millisecondsSinceEpoch
    }

    /// The instant `secondsSinceEpoch` whole seconds after the epoch.
    public init(secondsSinceEpoch: Int64) {
        self.millisecondsSinceEpoch = secondsSinceEpoch * 1_000
    }

    public static func < (earlier: Instant, later: Instant) -> Bool {
        earlier.millisecondsSinceEpoch < later.millisecondsSinceEpoch
    }

    /// The instant `duration` later, rounded to the nearest millisecond.
    public static func + (instant: Instant, duration: Duration) -> Instant {
        Instant(millisecondsSinceEpoch: instant.millisecondsSinceEpoch + duration.wholeMilliseconds)
    }

    /// The time from `earlier` to `later`; negative if `later` is in fact earlier.
    public static func - (later: Instant, earlier: Instant) -> Duration {
        .milliseconds(later.millisecondsSinceEpoch - earlier.millisecondsSinceEpoch)
    }

    /// Whole days from `earlier` to this instant, rounded down, as Python's `timedelta.days` does.
    ///
    /// Rounding down (not toward zero) matters only for a review dated before the previous one;
    /// both count as "the same day" for FSRS either way.
    func wholeDays(since earlier: Instant) -> Int {
        let elapsed = millisecondsSinceEpoch - earlier.millisecondsSinceEpoch
        let (days, remainder) = elapsed.quotientAndRemainder(dividingBy: Instant.millisecondsPerDay)
        return Int(remainder < 0 ? days - 1 : days)
    }

    static let millisecondsPerDay: Int64 = 86_400_000
}

extension Duration {
    /// A whole number of days of exactly 86 400 seconds each.
    static func days(_ days: Int) -> Duration {
        .seconds(Int64(days) * 86_400)
    }

    /// This duration in milliseconds, rounded to the nearest one.
    var wholeMilliseconds: Int64 {
        let (seconds, attoseconds) = components
        let milliseconds = (Double(attoseconds) / 1e15).rounded(.toNearestOrEven)
        return seconds * 1_000 + Int64(milliseconds)
    }

    /// This duration in seconds, as a floating-point number, for display.
    var totalSeconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
