// FSRS-6, the spaced-repetition scheduler that decides when each quiz card comes back.
//
// Theory of operation
//
// FSRS describes the memory of one card with two numbers (`MemoryState`). Stability S is the
// number of days after which the probability of recalling the card has fallen to 90%; difficulty
// D, from 1 to 10, says how hard the card is, and so how little each successful review raises S.
// The probability of recall t whole days after the last review, the retrievability, follows a
// power-law forgetting curve:
//
//     R(t, S) = (1 + factor * t / S) ^ -decay        factor = 0.9 ^ (1 / -decay) - 1
//
// where decay is parameter w20 and factor is chosen so that R(S, S) = 0.9. A review card is due
// when R will have fallen to the desired retention r, after S / factor * (r ^ (1 / -decay) - 1)
// days, rounded to whole days; with r = 0.9 that is S itself. A higher r means shorter intervals.
//
// An answer first updates the memory state, then moves the card through its states:
//
// * The first answer sets S to w0..w3 by rating and D from w4 and w5.
// * An answer less than 24 hours after the previous one uses the short-term formula (w17..w19):
//   S grows a little with Good and Easy, stays with Hard, and shrinks with Again.
// * A later answer uses the long-term formulas. Hard, Good or Easy multiply S by a factor that is
//   larger the lower D and S are and the more was forgotten (low R): reviewing just before
//   forgetting helps most. Again replaces S with a post-lapse stability, never more than before.
// * D rises with Again and Hard and falls with Easy, damped near 10, and is pulled slightly back
//   toward the difficulty of a first Easy so that it cannot drift for ever.
//
// A new card is in learning and walks through short learning steps (1 minute, 10 minutes by
// default) before it graduates to review, where intervals are whole days. Again on a review card
// is a lapse: it goes to relearning, walks through the relearning steps (10 minutes), and returns
// to review. Hard repeats a step (half-way between the first two when on the first), Good moves
// to the next one or graduates from the last, Easy graduates at once.
//
// Everything is a pure function of the card, the rating, the instant of the answer and, when the
// caller wants fuzz (a random spread of review intervals so that cards learned together do not
// stay together), a number in [0, 1) that the caller draws. The scheduler reads no clock and owns
// no random source, so the same inputs always give the same card.
//
// This is a port of py-fsrs 6.3.2 (PyPI `fsrs`), whose formulas Anki and fsrs-rs share. Each
// formula evaluates its floating-point operations in the reference's order, and `x ^ y` is
// `pow`, as Python's `**` is, so the vectors generated from py-fsrs in
// Tests/QuizTests/Fixtures match to within rounding of the last bit. Three behaviours that look
// like choices are the reference's, kept so that the vectors hold:
//
// * Elapsed time counts whole days rounded down: R stays 1 for the first 24 hours, and an answer
//   23 hours after the previous one is "the same day". There is no calendar day or 4 am rollover
//   as in Anki itself.
// * Intervals are rounded half to even, as Python's `round` does.
// * Fuzz picks round(u * (max - min + 1) + min), which can land one day above max.

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#elseif canImport(ucrt)
    import ucrt
#endif

/// The FSRS-6 scheduler: given a card, an answer and the instant it was given, the next card.
///
/// A scheduler is an immutable configuration; make a new one when a setting changes.
public struct Scheduler: Hashable, Sendable {
    /// The 21 FSRS-6 parameters w0...w20 that py-fsrs 6.3.2, fsrs-rs and Anki ship, fitted on a
    /// large collection of Anki reviews.
    public static let defaultParameters: [Double] = [
        0.212, 1.2931, 2.3065, 8.2956, 6.4133, 0.8334, 3.0194, 0.001, 1.8722, 0.1666, 0.796, 1.4835,
        0.0614, 0.2629, 1.6483, 0.6014, 1.8729, 0.5425, 0.0912, 0.0658, 0.1542,
    ]

    /// The range each parameter must lie in, as py-fsrs 6.3.2 checks it.
    public static let parameterBounds: [ClosedRange<Double>] = [
        0.001...100, 0.001...100, 0.001...100, 0.001...100, 1...10, 0.001...4, 0.001...4, 0.001...0.75,
        0...4.5, 0...0.8, 0.001...3.5, 0.001...5, 0.001...0.25, 0.001...0.9, 0...4, 0...1, 1...6, 0...2,
        0...2, 0...0.8, 0.1...0.8,
    ]

    /// The model's parameters w0...w20 (see `defaultParameters`).
    public let parameters: [Double]
    /// The probability of recall at which a review card falls due; 0.9 unless the user chose.
    public let desiredRetention: Double
    /// The waits between the answers to a new card before it graduates to review.
    public let learningSteps: [Duration]
    /// The waits between the answers to a forgotten card before it returns to review.
    public let relearningSteps: [Duration]
    /// The longest interval, in days, a review card can be scheduled for.
    public let maximumInterval: Int

    /// The exponent of the forgetting curve, -w20.
    let decay: Double
    /// The curve's scale, chosen so that the retrievability after `stability` days is 0.9.
    let factor: Double

    /// A scheduler with the given settings; py-fsrs 6.3.2's defaults for every one left out.
    ///
    /// - Throws: `ConfigurationError` if a setting is out of range, so that a bad user setting is
    ///   reported where it is read rather than found in a review.
    public init(
        parameters: [Double] = Scheduler.defaultParameters,
        desiredRetention: Double = 0.9,
        learningSteps: [Duration] = [.seconds(60), .seconds(600)],
        relearningSteps: [Duration] = [.seconds(600)],
        maximumInterval: Int = 36_500
    ) throws(ConfigurationError) {
        guard parameters.count == Scheduler.parameterBounds.count else {
            throw .wrongParameterCount(parameters.count)
        }
        for (index, (value, bounds)) in zip(parameters, Scheduler.parameterBounds).enumerated()
        where !bounds.contains(value) {
            throw .parameterOutOfBounds(index: index, value: value, bounds: bounds)
        }
        guard desiredRetention > 0, desiredRetention <= 1 else {
            throw .desiredRetentionOutOfRange(desiredRetention)
        }
        if let step = (learningSteps + relearningSteps).first(where: { $0 <= .zero }) {
            throw .stepNotPositive(step)
        }
        guard maximumInterval >= 1 else {
            throw .maximumIntervalNotPositive(maximumInterval)
        }
        self.parameters = parameters
        self.desiredRetention = desiredRetention
        self.learningSteps = learningSteps
        self.relearningSteps = relearningSteps
        self.maximumInterval = maximumInterval
        self.decay = -parameters[20]
        self.factor = pow(0.9, 1 / decay) - 1
    }

    /// A setting that `Scheduler.init` refused.
    public enum ConfigurationError: Error, Hashable, Sendable, CustomStringConvertible {
        /// FSRS-6 needs exactly 21 parameters.
        case wrongParameterCount(Int)
        /// A parameter lies outside the range in `Scheduler.parameterBounds`.
        case parameterOutOfBounds(index: Int, value: Double, bounds: ClosedRange<Double>)
        /// The desired retention must be a probability above 0 and at most 1.
        case desiredRetentionOutOfRange(Double)
        /// Learning and relearning steps must be longer than zero.
        case stepNotPositive(Duration)
        /// The maximum interval must be at least one day.
        case maximumIntervalNotPositive(Int)

        public var description: String {
            switch self {
            case .wrongParameterCount(let count):
                "FSRS-6 needs 21 parameters, got \(count)"
            case .parameterOutOfBounds(let index, let value, let bounds):
                "parameter w\(index) = \(value) is outside \(bounds.lowerBound)...\(bounds.upperBound)"
            case .desiredRetentionOutOfRange(let retention):
                "desired retention \(retention) is not above 0 and at most 1"
            case .stepNotPositive(let step):
                "learning and relearning steps must be longer than zero, got \(step)"
            case .maximumIntervalNotPositive(let days):
                "maximum interval \(days) days is less than one day"
            }
        }
    }

    // MARK: - Reviews

    /// The card after `rating` was given at `instant`, and the log entry of that answer.
    ///
    /// - Parameter fuzzFactor: `nil` for no fuzz, or a number in [0, 1) drawn by the caller to
    ///   spread a review interval over the range `possibleFuzzedIntervals(days:)`; the same number
    ///   gives the same day. Learning and relearning steps are never fuzzed.
    public func review(
        _ card: Card, rating: Rating, at instant: Instant, fuzzFactor: Double? = nil
    ) -> (card: Card, log: ReviewLog) {
        if let fuzzFactor {
            precondition(fuzzFactor >= 0 && fuzzFactor < 1, "fuzz factor \(fuzzFactor) is not in [0, 1)")
        }
        let retrievabilityBefore = retrievability(of: card, at: instant)
        let memory = nextMemory(of: card, rating: rating, at: instant)
        var next = card
        next.memory = memory
        next.lastReview = instant
        next.reviewCount += 1
        let wait: Wait
        switch card.state {
        case .learning, .relearning:
            let steps = card.state == .learning ? learningSteps : relearningSteps
            (next.state, next.step, wait) = walk(
                steps, in: card.state, from: step(of: card), rating: rating, stability: memory.stability)
        case .review:
            if rating == .again {
                next.lapseCount += 1
            }
            if rating == .again, let firstStep = relearningSteps.first {
                (next.state, next.step, wait) = (.relearning, 0, .step(firstStep))
            } else {
                // Without relearning steps a forgotten card stays in review, as in py-fsrs.
                let days = nextInterval(stability: memory.stability)
                (next.state, next.step, wait) = (.review, nil, .days(days))
            }
        }
        switch wait {
        case .step(let duration):
            next.due = instant + duration
        case .days(let days):
            let fuzzedDays = fuzzFactor.map { fuzzedInterval(days: days, fuzzFactor: $0) } ?? days
            next.due = instant + .days(fuzzedDays)
        }
        let log = ReviewLog(
            rating: rating, reviewedAt: instant, state: card.state, retrievability: retrievabilityBefore,
            due: next.due)
        return (next, log)
    }

    /// What each of the four answers would do to `card` at `instant`, Again first, for showing the
    /// next interval on each answer button ("Again 1m · Hard 6m · Good 10m · Easy 8d").
    ///
    /// Pass the same `fuzzFactor` that `review` will get, so that the buttons tell the truth.
    public func previewReviews(
        of card: Card, at instant: Instant, fuzzFactor: Double? = nil
    ) -> [ReviewPreview] {
        Rating.allCases.map { rating in
            let next = review(card, rating: rating, at: instant, fuzzFactor: fuzzFactor).card
            return ReviewPreview(rating: rating, card: next, interval: next.due - instant)
        }
    }

    /// The probability that the user recalls `card` at `instant`, as FSRS predicts it: 0 for a new
    /// card, 1 within a day of a review, then falling along the forgetting curve.
    public func retrievability(of card: Card, at instant: Instant) -> Double {
        guard let memory = card.memory, let lastReview = card.lastReview else { return 0 }
        let elapsedDays = max(0, instant.wholeDays(since: lastReview))
        return retrievability(stability: memory.stability, elapsedDays: elapsedDays)
    }

    /// How long a card waits after an answer: a learning or relearning step, or whole days.
    private enum Wait {
        case step(Duration)
        case days(Int)
    }

    /// The step a learning or relearning card is on; a card without one is corrupt.
    private func step(of card: Card) -> Int {
        guard let step = card.step else {
            preconditionFailure("a \(card.state) card must have a step")
        }
        return step
    }

    /// Moves a card in `state` (learning or relearning) along `steps`: the same rules serve both.
    private func walk(
        _ steps: [Duration], in state: Card.State, from step: Int, rating: Rating, stability: Double
    ) -> (Card.State, Int?, Wait) {
        let graduation: (Card.State, Int?, Wait) = (.review, nil, .days(nextInterval(stability: stability)))
        // A card can be past the last step if the steps were shortened after it was scheduled.
        if steps.isEmpty || (step >= steps.count && rating != .again) {
            return graduation
        }
        switch rating {
        case .again:
            return (state, 0, .step(steps[0]))
        case .hard:
            // Hard on the first step waits longer than Again would, and less than Good.
            if step == 0 && steps.count == 1 {
                return (state, step, .step(steps[0] * 3 / 2))
            } else if step == 0 {
                return (state, step, .step((steps[0] + steps[1]) / 2))
            } else {
                return (state, step, .step(steps[step]))
            }
        case .good:
            if step + 1 == steps.count {
                return graduation
            }
            return (state, step + 1, .step(steps[step + 1]))
        case .easy:
            return graduation
        }
    }
}

// MARK: - Intervals and fuzz

extension Scheduler {
    /// The whole days until a card of `stability` falls to the desired retention, at least 1 and at
    /// most `maximumInterval`.
    func nextInterval(stability: Double) -> Int {
        let days = (stability / factor) * (pow(desiredRetention, 1 / decay) - 1)
        let wholeDays = max(days.rounded(.toNearestOrEven), 1)
        return Int(min(wholeDays, Double(maximumInterval)))
    }

    /// `days` moved to a day in `possibleFuzzedIntervals(days:)` chosen by `fuzzFactor`, a number
    /// in [0, 1): 0 gives the earliest day, numbers close to 1 the latest.
    ///
    /// Intervals shorter than 2.5 days are returned unchanged, because a day either way would be a
    /// large change for them.
    public func fuzzedInterval(days: Int, fuzzFactor: Double) -> Int {
        precondition(fuzzFactor >= 0 && fuzzFactor < 1, "fuzz factor \(fuzzFactor) is not in [0, 1)")
        guard Double(days) >= 2.5 else { return days }
        let (earliest, latest) = fuzzBounds(days: days)
        let fuzzed = (fuzzFactor * Double(latest - earliest + 1) + Double(earliest)).rounded(.toNearestOrEven)
        return min(Int(fuzzed), maximumInterval)
    }

    /// Every day count `fuzzedInterval(days:fuzzFactor:)` can return for `days`.
    ///
    /// The spread is 1 day plus 15% of the part of the interval between 2.5 and 7 days, 10% of the
    /// part between 7 and 20 and 5% of the part above 20, either way; 100 days give 93...108. The
    /// upper end is one day more than that spread because py-fsrs rounds the draw instead of
    /// truncating it; it never passes `maximumInterval`, and the lower end is never under 2 days.
    public func possibleFuzzedIntervals(days: Int) -> ClosedRange<Int> {
        guard Double(days) >= 2.5 else { return days...days }
        let (earliest, latest) = fuzzBounds(days: days)
        return earliest...min(latest + 1, maximumInterval)
    }

    /// py-fsrs' `min_ivl` and `max_ivl`, before the rounding of the draw widens the upper end.
    private func fuzzBounds(days: Int) -> (earliest: Int, latest: Int) {
        let ranges: [(start: Double, end: Double, factor: Double)] = [
            (2.5, 7, 0.15), (7, 20, 0.1), (20, .infinity, 0.05),
        ]
        var spread = 1.0
        for range in ranges {
            spread += range.factor * max(min(Double(days), range.end) - range.start, 0)
        }
        let latest = min(Int((Double(days) + spread).rounded(.toNearestOrEven)), maximumInterval)
        let earliest = min(max(2, Int((Double(days) - spread).rounded(.toNearestOrEven))), latest)
        return (earliest, latest)
    }
}

// MARK: - Memory model

/// Euler's number as Python's `math.e` spells it. py-fsrs writes `math.e ** x`, which is
/// `pow(e, x)` and can differ from `exp(x)` in the last bit, so the port does the same.
private let eulersNumber = 2.718281828459045

/// The least stability FSRS allows, so that a string of Again answers cannot reach zero.
private let minimumStability = 0.001

extension Scheduler {
    /// The memory state after `rating` at `instant`: the stability first, from the state before
    /// the answer, then the difficulty.
    func nextMemory(of card: Card, rating: Rating, at instant: Instant) -> MemoryState {
        guard let memory = card.memory else {
            precondition(card.state == .learning, "a \(card.state) card must have a memory state")
            return MemoryState(
                stability: initialStability(for: rating), difficulty: initialDifficulty(for: rating))
        }
        guard let lastReview = card.lastReview else {
            preconditionFailure("a card with a memory state must have a last review")
        }
        let stability: Double
        if instant.wholeDays(since: lastReview) < 1 {
            stability = shortTermStability(memory.stability, rating: rating)
        } else {
            let retrievability = retrievability(of: card, at: instant)
            let longTermStability =
                rating == .again
                ? forgetStability(
                    difficulty: memory.difficulty, stability: memory.stability,
                    retrievability: retrievability)
                : recallStability(
                    difficulty: memory.difficulty, stability: memory.stability,
                    retrievability: retrievability, rating: rating)
            stability = max(longTermStability, minimumStability)
        }
        return MemoryState(
            stability: stability, difficulty: nextDifficulty(memory.difficulty, rating: rating))
    }

    /// R(t, S): the probability of recall `elapsedDays` whole days after a review.
    func retrievability(stability: Double, elapsedDays: Int) -> Double {
        pow(1 + factor * Double(elapsedDays) / stability, decay)
    }

    /// S0: the stability after the first answer, w0 to w3 by rating.
    func initialStability(for rating: Rating) -> Double {
        max(parameters[rating.rawValue - 1], minimumStability)
    }

    /// D0: the difficulty after the first answer, w4 - e^(w5 * (rating - 1)) + 1.
    ///
    /// - Parameter clamped: whether to clamp to 1...10. Mean reversion pulls toward the
    ///   unclamped D0(Easy), which lies below 1 with the default parameters.
    func initialDifficulty(for rating: Rating, clamped: Bool = true) -> Double {
        let difficulty =
            parameters[4] - pow(eulersNumber, parameters[5] * Double(rating.rawValue - 1)) + 1
        return clamped ? clampDifficulty(difficulty) : difficulty
    }

    /// D after an answer: a step of -w6 * (rating - 3), damped by (10 - D) / 9 so that D only
    /// approaches 10, then a small pull (weight w7) toward the unclamped D0(Easy).
    func nextDifficulty(_ difficulty: Double, rating: Rating) -> Double {
        let target = initialDifficulty(for: .easy, clamped: false)
        let change = -(parameters[6] * Double(rating.rawValue - 3))
        let damped = difficulty + (10 - difficulty) * change / 9
        return clampDifficulty(parameters[7] * target + (1 - parameters[7]) * damped)
    }

    /// S after an answer less than a day after the previous one:
    /// S * e^(w17 * (rating - 3 + w18)) * S^-w19, never lower than S after Hard, Good or Easy.
    func shortTermStability(_ stability: Double, rating: Rating) -> Double {
        var increase =
            pow(eulersNumber, parameters[17] * (Double(rating.rawValue - 3) + parameters[18]))
            * pow(stability, -parameters[19])
        if rating != .again {
            // Since py-fsrs 6.3.2 this floor holds for Hard too; 6.3.1 let Hard lower S.
            increase = max(increase, 1)
        }
        return max(stability * increase, minimumStability)
    }

    /// S after a successful answer (Hard, Good, Easy) a day or more after the previous one, before
    /// the stability floor: S * (1 + e^w8 * (11 - D) * S^-w9 * (e^(w10 * (1 - R)) - 1)), with
    /// the growth scaled by w15 for Hard and w16 for Easy.
    func recallStability(
        difficulty: Double, stability: Double, retrievability: Double, rating: Rating
    ) -> Double {
        let hardPenalty = rating == .hard ? parameters[15] : 1
        let easyBonus = rating == .easy ? parameters[16] : 1
        let growth =
            pow(eulersNumber, parameters[8]) * (11 - difficulty) * pow(stability, -parameters[9])
            * (pow(eulersNumber, (1 - retrievability) * parameters[10]) - 1) * hardPenalty * easyBonus
        return stability * (1 + growth)
    }

    /// S after Again a day or more after the previous answer, before the stability floor:
    /// w11 * D^-w12 * ((S + 1)^w13 - 1) * e^(w14 * (1 - R)), but never more than
    /// S / e^(w17 * w18), so that forgetting never raises the stability.
    func forgetStability(difficulty: Double, stability: Double, retrievability: Double) -> Double {
        let longTerm =
            parameters[11] * pow(difficulty, -parameters[12]) * (pow(stability + 1, parameters[13]) - 1)
            * pow(eulersNumber, (1 - retrievability) * parameters[14])
        let shortTerm = stability / pow(eulersNumber, parameters[17] * parameters[18])
        return min(longTerm, shortTerm)
    }

    private func clampDifficulty(_ difficulty: Double) -> Double {
        min(max(difficulty, 1), 10)
    }
}
