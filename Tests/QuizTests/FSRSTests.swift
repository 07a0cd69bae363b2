import Foundation
import Testing

@testable import Quiz

// The vectors in Fixtures/fsrs-vectors.json come from the reference implementation, py-fsrs 6.3.2
// (Fixtures/README.md says how to regenerate them). Floating-point values are compared with a
// relative tolerance of 1e-9, as the reference notes advise, because `pow` may differ in the last
// bit between platforms; states, steps, due instants and day counts must match exactly.

@Suite("FSRS-6 against py-fsrs 6.3.2")
struct FSRSVectorTests {
    @Test("The fixture is whole: 15 scenarios of 87 reviews, 231 formula cases, 105 fuzz draws")
    func fixtureIsWhole() throws {
        let vectors = try FSRSVectors.load()
        #expect(vectors.generator.version == "6.3.2")
        #expect(vectors.scenarios.count == 15)
        #expect(vectors.scenarios.map(\.steps.count).reduce(0, +) == 87)
        #expect(vectors.functions.caseCount == 231)
        #expect(vectors.fuzz.map(\.fuzzed.count).reduce(0, +) == 105)
    }

    @Test("Default parameters and their bounds are the reference's")
    func parameters() throws {
        let vectors = try FSRSVectors.load()
        #expect(Scheduler.defaultParameters == vectors.defaultParameters)
        #expect(Scheduler.parameterBounds.map(\.lowerBound) == vectors.lowerBounds)
        #expect(Scheduler.parameterBounds.map(\.upperBound) == vectors.upperBounds)
    }

    @Test("Each review of each scenario gives the reference's card", arguments: try FSRSVectors.scenarios())
    func scenario(_ scenario: FSRSScenario) throws {
        let scheduler = try scenario.scheduler.makeScheduler()
        var card = Card(due: try #require(instant(iso: scenario.start.due)))
        for (index, step) in scenario.steps.enumerated() {
            let context = "\(scenario.name), review \(index + 1) (\(step.rating))"
            let now = try #require(instant(iso: step.reviewDatetime))
            #expect(now == Instant(millisecondsSinceEpoch: Int64(step.reviewEpochSeconds * 1_000)))
            try expect(card, matches: step.before, "\(context), before")
            #expect(
                isClose(scheduler.retrievability(of: card, at: now), step.retrievabilityBefore),
                "\(context): retrievability")

            let rating = try #require(Rating(rawValue: step.ratingRaw))
            let (next, log) = scheduler.review(card, rating: rating, at: now)
            try expect(next, matches: step.after, "\(context), after")
            #expect(
                (next.due - now).wholeMilliseconds == Int64(step.intervalSeconds * 1_000),
                "\(context): interval")
            #expect(next.due.wholeDays(since: now) == step.intervalDaysFloor, "\(context): days")
            let expectedLog = ReviewLog(
                rating: rating, reviewedAt: now, state: card.state,
                retrievability: scheduler.retrievability(of: card, at: now), due: next.due)
            #expect(log == expectedLog, "\(context): log")
            #expect(next.reviewCount == card.reviewCount + 1, "\(context): review count")
            card = next
        }
    }

    @Test("Cross-implementation oracle: Good x6, Again x2, Good x5 at each due date")
    func intervalHistory() throws {
        // py-fsrs, fsrs-rs and ts-fsrs all give these interval days for this sequence.
        let scheduler = try Scheduler()
        var card = Card(due: referenceStart)
        var days: [Int] = []
        let ratings: [Rating] =
            Array(repeating: .good, count: 6) + [.again, .again] + Array(repeating: .good, count: 5)
        for rating in ratings {
            let now = card.due
            card = scheduler.review(card, rating: rating, at: now).card
            days.append(card.due.wholeDays(since: now))
        }
        #expect(days == [0, 2, 11, 46, 163, 498, 0, 0, 2, 4, 7, 12, 21])
    }

    @Test("Cross-implementation oracle: Again then Good x5 at day offsets 0, 0, 1, 3, 8, 21")
    func memoryState() throws {
        // fsrs-rs test_memory_state and py-fsrs test_memo_state: S = 53.62691, D = 6.3574867.
        let scheduler = try Scheduler()
        var card = Card(due: referenceStart)
        var now = referenceStart
        for (rating, offset) in zip([Rating.again, .good, .good, .good, .good, .good], [0, 0, 1, 3, 8, 21]) {
            now = now + .days(offset)
            card = scheduler.review(card, rating: rating, at: now).card
        }
        let memory = try #require(card.memory)
        #expect(abs(memory.stability - 53.62691) < 1e-4)
        #expect(abs(memory.difficulty - 6.3574867) < 1e-4)
    }

    @Test("Forgetting curve constants, first-answer stability and difficulty")
    func initialState() throws {
        let functions = try FSRSVectors.load().functions
        let scheduler = try Scheduler()
        #expect(scheduler.decay == functions.decay)
        #expect(isClose(scheduler.factor, functions.factor))
        for rating in Rating.allCases {
            let name = ratingNames[rating.rawValue - 1]
            #expect(scheduler.initialStability(for: rating) == functions.initialStability[name])
            let clamped = try #require(functions.initialDifficultyClamped[name])
            let unclamped = try #require(functions.initialDifficultyUnclamped[name])
            #expect(isClose(scheduler.initialDifficulty(for: rating), clamped), "\(name)")
            #expect(isClose(scheduler.initialDifficulty(for: rating, clamped: false), unclamped), "\(name)")
        }
    }

    @Test("Difficulty and short-term stability updates")
    func shortTermFormulas() throws {
        let functions = try FSRSVectors.load().functions
        let scheduler = try Scheduler()
        for item in functions.nextDifficulty {
            let (difficulty, rating) = (try #require(item.difficulty), try item.parsedRating())
            let output = scheduler.nextDifficulty(difficulty, rating: rating)
            #expect(isClose(output, try #require(item.output)), "D \(difficulty), \(rating)")
        }
        for item in functions.shortTermStability {
            let (stability, rating) = (try #require(item.stability), try item.parsedRating())
            let output = scheduler.shortTermStability(stability, rating: rating)
            #expect(isClose(output, try #require(item.output)), "S \(stability), \(rating)")
        }
    }

    @Test("Long-term stability after recall and after forgetting")
    func longTermFormulas() throws {
        let functions = try FSRSVectors.load().functions
        let scheduler = try Scheduler()
        for item in functions.nextRecallStability {
            let output = scheduler.recallStability(
                difficulty: try #require(item.difficulty), stability: try #require(item.stability),
                retrievability: try #require(item.retrievability), rating: try item.parsedRating())
            #expect(isClose(output, try #require(item.output)), "\(item)")
        }
        for item in functions.nextForgetStability {
            let output = scheduler.forgetStability(
                difficulty: try #require(item.difficulty), stability: try #require(item.stability),
                retrievability: try #require(item.retrievability))
            #expect(isClose(output, try #require(item.output)), "\(item)")
        }
    }

    @Test("Retrievability and intervals over a grid of stability and desired retention")
    func curveAndIntervals() throws {
        let functions = try FSRSVectors.load().functions
        let scheduler = try Scheduler()
        for item in functions.retrievability {
            let output = scheduler.retrievability(
                stability: try #require(item.stability), elapsedDays: try #require(item.elapsedDays))
            #expect(isClose(output, try #require(item.output)), "\(item)")
        }
        for item in functions.nextIntervalS1 + functions.nextIntervalGrid {
            let retention = try #require(item.desiredRetention)
            let days = try Scheduler(desiredRetention: retention).nextInterval(stability: item.stability ?? 1)
            #expect(days == item.days, "\(item)")
        }
    }

    @Test("Fuzzed intervals for fixed draws, and each within the documented range")
    func fuzz() throws {
        let scheduler = try Scheduler()
        for row in try FSRSVectors.load().fuzz {
            for (draw, expected) in row.fuzzed.sorted(by: { $0.key < $1.key }) {
                let fuzzFactor = try #require(Double(draw))
                let days = scheduler.fuzzedInterval(days: row.intervalDays, fuzzFactor: fuzzFactor)
                #expect(days == expected, "\(row.intervalDays) days, u = \(draw)")
                #expect(scheduler.possibleFuzzedIntervals(days: row.intervalDays).contains(days))
            }
        }
    }
}

@Suite("FSRS-6 behaviour a learner notices")
struct FSRSBehaviourTests {
    @Test("A new card's buttons read Again 1m · Hard 6m · Good 10m · Easy 8d")
    func newCardButtons() throws {
        // Again and Good walk the default learning steps (1 and 10 minutes); Hard waits half-way,
        // 5.5 minutes; Easy graduates at once with the initial stability of Easy, 8.3 days.
        let scheduler = try Scheduler()
        let previews = scheduler.previewReviews(of: Card(due: referenceStart), at: referenceStart)
        #expect(previews.map(\.rating) == Rating.allCases)
        #expect(previews.map(\.intervalLabel) == ["1m", "6m", "10m", "8d"])
        #expect(previews.map(\.interval) == [.seconds(60), .seconds(330), .seconds(600), .days(8)])
    }

    @Test("Each button's preview is exactly what that answer then does, fuzz included")
    func previewTellsTheTruth() throws {
        let scheduler = try Scheduler()
        let card = try graduatedCard(scheduler)
        let now = card.due + .days(3)
        for preview in scheduler.previewReviews(of: card, at: now, fuzzFactor: 0.37) {
            let answered = scheduler.review(card, rating: preview.rating, at: now, fuzzFactor: 0.37)
            #expect(preview.card == answered.card)
        }
    }

    @Test("Again on a review card is a lapse: it relearns for 10 minutes, and the lapse is counted")
    func lapse() throws {
        let scheduler = try Scheduler()
        let card = try graduatedCard(scheduler)
        let (lapsed, log) = scheduler.review(card, rating: .again, at: card.due)
        #expect(lapsed.state == .relearning && lapsed.step == 0)
        #expect(lapsed.due - card.due == .seconds(600))
        #expect(lapsed.lapseCount == card.lapseCount + 1)
        #expect(log.state == .review)
        // Stability falls: the model now expects the card to be forgotten sooner.
        #expect(try #require(lapsed.memory).stability < (try #require(card.memory)).stability)
        // Again while relearning is not a second lapse: the card was already forgotten.
        let again = scheduler.review(lapsed, rating: .again, at: lapsed.due).card
        #expect(again.lapseCount == lapsed.lapseCount)
    }

    @Test("Good at each due date makes every interval longer than the one before")
    func intervalsGrow() throws {
        let scheduler = try Scheduler()
        var card = try graduatedCard(scheduler)
        var intervals: [Int] = []
        for _ in 0..<8 {
            let now = card.due
            card = scheduler.review(card, rating: .good, at: now).card
            intervals.append(card.due.wholeDays(since: now))
        }
        #expect(zip(intervals, intervals.dropFirst()).allSatisfy { $0 < $1 }, "\(intervals)")
    }

    @Test("A desired retention of 0.8 waits longer than 0.9, and 0.9 longer than 0.95")
    func desiredRetention() throws {
        // Accepting more forgetting lets the card wait longer before it is due.
        var days: [Int] = []
        for retention in [0.8, 0.9, 0.95] {
            let scheduler = try Scheduler(desiredRetention: retention)
            let card = try graduatedCard(scheduler)
            let next = scheduler.review(card, rating: .good, at: card.due).card
            days.append(next.due.wholeDays(since: card.due))
        }
        #expect(days[0] > days[1] && days[1] > days[2], "\(days)")
    }

    @Test("Fuzz: the same draw gives the same day, and every draw stays in the documented range")
    func fuzzIsAnInput() throws {
        let scheduler = try Scheduler()
        let card = try graduatedCard(scheduler)
        let now = card.due + .days(30)
        let unfuzzed = scheduler.review(card, rating: .good, at: now).card.due.wholeDays(since: now)
        let range = scheduler.possibleFuzzedIntervals(days: unfuzzed)
        #expect(range.count > 1, "an interval of \(unfuzzed) days should be fuzzed")
        for draw in stride(from: 0.0, to: 1.0, by: 0.01) {
            let first = scheduler.review(card, rating: .good, at: now, fuzzFactor: draw).card
            #expect(first == scheduler.review(card, rating: .good, at: now, fuzzFactor: draw).card)
            #expect(range.contains(first.due.wholeDays(since: now)), "u = \(draw)")
        }
        // 100 days spread by 1 + 0.15 * 4.5 + 0.1 * 13 + 0.05 * 80 = 6.975 days either way, and
        // rounding the draw can add one more day at the top.
        #expect(scheduler.possibleFuzzedIntervals(days: 100) == 93...108)
        // Learning steps are never fuzzed.
        let learning = scheduler.review(Card(due: now), rating: .again, at: now, fuzzFactor: 0.99).card
        #expect(learning.due - now == .seconds(60))
    }

    @Test("Retrievability: 0 for a new card, 1 within a day of a review, 90% after stability days")
    func retrievability() throws {
        let scheduler = try Scheduler()
        #expect(scheduler.retrievability(of: Card(due: referenceStart), at: referenceStart) == 0)
        let card = scheduler.review(Card(due: referenceStart), rating: .easy, at: referenceStart).card
        let stabilityDays = 8  // the Easy initial stability, 8.2956 days, rounded down
        #expect(scheduler.retrievability(of: card, at: referenceStart + .seconds(86_399)) == 1)
        let later = scheduler.retrievability(of: card, at: referenceStart + .days(stabilityDays))
        #expect(later > 0.9 && later < 0.91)
    }

    @Test("A setting out of range is refused with a message that names it")
    func configurationErrors() throws {
        #expect(throws: Scheduler.ConfigurationError.desiredRetentionOutOfRange(1.5)) {
            try Scheduler(desiredRetention: 1.5)
        }
        #expect(throws: Scheduler.ConfigurationError.wrongParameterCount(19)) {
            try Scheduler(parameters: Array(Scheduler.defaultParameters.prefix(19)))
        }
        var parameters = Scheduler.defaultParameters
        parameters[20] = 0.9
        let outOfBounds = Scheduler.ConfigurationError.parameterOutOfBounds(
            index: 20, value: 0.9, bounds: 0.1...0.8)
        #expect(throws: outOfBounds) {
            try Scheduler(parameters: parameters)
        }
        #expect(throws: Scheduler.ConfigurationError.stepNotPositive(.zero)) {
            try Scheduler(learningSteps: [.zero])
        }
        #expect(Scheduler.ConfigurationError.desiredRetentionOutOfRange(1.5).description.contains("1.5"))
    }

    @Test("A card on a step that no longer exists graduates, unless the answer is Again")
    func stepsShortened() throws {
        // The user had three learning steps and went back to the default two; py-fsrs 6.3.2 gives
        // these intervals for a card left on the third step.
        let threeSteps = try Scheduler(learningSteps: [.seconds(60), .seconds(600), .seconds(3_600)])
        var card = threeSteps.review(Card(due: referenceStart), rating: .good, at: referenceStart).card
        card = threeSteps.review(card, rating: .good, at: card.due).card
        #expect(card.state == .learning && card.step == 2)
        let previews = try Scheduler().previewReviews(of: card, at: card.due)
        #expect(previews.map(\.card.state) == [.learning, .review, .review, .review])
        #expect(previews.map(\.interval) == [.seconds(60), .days(2), .days(2), .days(4)])
    }

    @Test("An answer dated before the previous one, as after a clock is set back, is the same day")
    func clockSetBack() throws {
        let scheduler = try Scheduler()
        let card = try graduatedCard(scheduler)
        let earlier = try #require(card.lastReview) + .seconds(-3_600)
        #expect(scheduler.retrievability(of: card, at: earlier) == 1)
        let next = scheduler.review(card, rating: .good, at: earlier).card
        // The short-term formula never lowers stability on Good; py-fsrs 6.3.2 agrees on 2 days.
        #expect(next.memory?.stability == card.memory?.stability)
        #expect(next.due - earlier == .days(2))
    }

    @Test("Button labels round to the unit a learner reads")
    func intervalLabels() throws {
        let card = Card(due: referenceStart)
        let intervals: [Duration] = [
            .seconds(45), .seconds(59.6), .seconds(330), .seconds(3 * 3_600), .days(4), .days(45), .days(800),
        ]
        let labels = intervals.map { ReviewPreview(rating: .good, card: card, interval: $0).intervalLabel }
        #expect(labels == ["45s", "1m", "6m", "3h", "4d", "1.5mo", "2.2y"])
    }

    /// A card that has graduated to review with two Good answers ten minutes apart.
    private func graduatedCard(_ scheduler: Scheduler) throws -> Card {
        let first = scheduler.review(Card(due: referenceStart), rating: .good, at: referenceStart).card
        let graduated = scheduler.review(first, rating: .good, at: first.due).card
        try #require(graduated.state == .review)
        return graduated
    }
}

// MARK: - The fixture

/// The start instant of the reference's own tests, 2022-11-29 12:30 UTC.
private let referenceStart = Instant(secondsSinceEpoch: 1_669_725_000)

/// The reference's rating names, in raw-value order.
private let ratingNames = ["Again", "Hard", "Good", "Easy"]

private enum FSRSVectors {
    /// Decodes with JSONDecoder, which reads every double exactly. JSONSerialization would not do:
    /// on Linux it reads some 17-digit numbers one unit in the last place off.
    static func load() throws -> VectorFile {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appending(path: "Fixtures/fsrs-vectors.json")
        return try JSONDecoder().decode(VectorFile.self, from: Data(contentsOf: url))
    }

    static func scenarios() throws -> [FSRSScenario] {
        try load().scenarios
    }
}

private struct VectorFile: Decodable, Sendable {
    struct Generator: Decodable, Sendable {
        var version: String
    }

    var generator: Generator
    var defaultParameters: [Double]
    var lowerBounds: [Double]
    var upperBounds: [Double]
    var scenarios: [FSRSScenario]
    var functions: Functions
    var fuzz: [FuzzRow]

    enum CodingKeys: String, CodingKey {
        case generator, scenarios, functions, fuzz
        case defaultParameters = "default_parameters"
        case lowerBounds = "lower_bounds"
        case upperBounds = "upper_bounds"
    }
}

/// One scenario of reviews in the fixture, replayed by the parameterized test.
struct FSRSScenario: Decodable, Sendable, CustomTestStringConvertible {
    var name: String
    var scheduler: Settings
    var start: CardSnapshot
    var steps: [Step]

    var testDescription: String { name }

    struct Settings: Decodable, Sendable {
        var parameters: [Double]
        var desiredRetention: Double
        var learningSteps: [Int]
        var relearningSteps: [Int]
        var maximumInterval: Int
        var enableFuzzing: Bool

        enum CodingKeys: String, CodingKey {
            case parameters
            case desiredRetention = "desired_retention"
            case learningSteps = "learning_steps"
            case relearningSteps = "relearning_steps"
            case maximumInterval = "maximum_interval"
            case enableFuzzing = "enable_fuzzing"
        }

        func makeScheduler() throws -> Scheduler {
            // The scenarios run without fuzz, which here means passing no fuzz factor.
            try #require(!enableFuzzing)
            return try Scheduler(
                parameters: parameters, desiredRetention: desiredRetention,
                learningSteps: learningSteps.map { .seconds($0) },
                relearningSteps: relearningSteps.map { .seconds($0) }, maximumInterval: maximumInterval)
        }
    }

    struct CardSnapshot: Decodable, Sendable {
        var stateRaw: Int
        var step: Int?
        var stability: Double?
        var difficulty: Double?
        var due: String
        var dueEpochSeconds: Double
        var lastReview: String?

        enum CodingKeys: String, CodingKey {
            case step, stability, difficulty, due
            case stateRaw = "state_raw"
            case dueEpochSeconds = "due_epoch_s"
            case lastReview = "last_review"
        }
    }

    struct Step: Decodable, Sendable {
        var rating: String
        var ratingRaw: Int
        var reviewDatetime: String
        var reviewEpochSeconds: Double
        var retrievabilityBefore: Double
        var before: CardSnapshot
        var after: CardSnapshot
        var intervalSeconds: Double
        var intervalDaysFloor: Int

        enum CodingKeys: String, CodingKey {
            case rating, before, after
            case ratingRaw = "rating_raw"
            case reviewDatetime = "review_datetime"
            case reviewEpochSeconds = "review_epoch_s"
            case retrievabilityBefore = "retrievability_before"
            case intervalSeconds = "interval_seconds"
            case intervalDaysFloor = "interval_days_floor"
        }
    }
}

private struct Functions: Decodable, Sendable {
    var decay: Double
    var factor: Double
    var initialStability: [String: Double]
    var initialDifficultyClamped: [String: Double]
    var initialDifficultyUnclamped: [String: Double]
    var nextDifficulty: [FunctionCase]
    var shortTermStability: [FunctionCase]
    var nextRecallStability: [FunctionCase]
    var nextForgetStability: [FunctionCase]
    var retrievability: [FunctionCase]
    var nextIntervalS1: [FunctionCase]
    var nextIntervalGrid: [FunctionCase]

    enum CodingKeys: String, CodingKey {
        case decay, factor, retrievability
        case initialStability = "initial_stability"
        case initialDifficultyClamped = "initial_difficulty_clamped"
        case initialDifficultyUnclamped = "initial_difficulty_unclamped"
        case nextDifficulty = "next_difficulty"
        case shortTermStability = "short_term_stability"
        case nextRecallStability = "next_recall_stability"
        case nextForgetStability = "next_forget_stability"
        case nextIntervalS1 = "next_interval_S1"
        case nextIntervalGrid = "next_interval_grid"
    }

    /// Every case, counting decay and factor as one each.
    var caseCount: Int {
        let tables = [initialStability, initialDifficultyClamped, initialDifficultyUnclamped]
        let grids = [
            nextDifficulty, shortTermStability, nextRecallStability, nextForgetStability, retrievability,
            nextIntervalS1, nextIntervalGrid,
        ]
        return 2 + tables.map(\.count).reduce(0, +) + grids.map(\.count).reduce(0, +)
    }
}

/// One row of a formula grid; each grid fills in the inputs its formula takes.
private struct FunctionCase: Decodable, Sendable, CustomStringConvertible {
    var difficulty: Double?
    var stability: Double?
    var retrievability: Double?
    var rating: String?
    var elapsedDays: Int?
    var desiredRetention: Double?
    var output: Double?
    var days: Int?

    enum CodingKeys: String, CodingKey {
        case rating, days
        case difficulty = "D"
        case stability = "S"
        case retrievability = "R"
        case elapsedDays = "elapsed_days"
        case desiredRetention = "desired_retention"
        case output = "out"
    }

    var description: String {
        let inputs: [(String, Double?)] = [
            ("D", difficulty), ("S", stability), ("R", retrievability), ("r", desiredRetention),
        ]
        let parts = inputs.compactMap { name, value in value.map { "\(name) = \($0)" } }
        return (parts + [rating, elapsedDays.map { "t = \($0)" }].compactMap { $0 }).joined(separator: ", ")
    }

    func parsedRating() throws -> Rating {
        let name = try #require(rating)
        let index = try #require(ratingNames.firstIndex(of: name))
        return try #require(Rating(rawValue: index + 1))
    }
}

private struct FuzzRow: Decodable, Sendable {
    var intervalDays: Int
    var fuzzed: [String: Int]

    enum CodingKeys: String, CodingKey {
        case fuzzed
        case intervalDays = "interval_days"
    }
}

// MARK: - Helpers

/// Whether two doubles agree to a relative 1e-9 (exactly, when either is zero).
private func isClose(_ actual: Double, _ expected: Double) -> Bool {
    abs(actual - expected) <= 1e-9 * max(abs(actual), abs(expected))
}

private func expect(
    _ card: Card, matches snapshot: FSRSScenario.CardSnapshot, _ context: String,
    sourceLocation: SourceLocation = #_sourceLocation
) throws {
    let comment = Comment(rawValue: context)
    #expect(card.state.rawValue == snapshot.stateRaw, comment, sourceLocation: sourceLocation)
    #expect(card.step == snapshot.step, comment, sourceLocation: sourceLocation)
    #expect((card.memory == nil) == (snapshot.stability == nil), comment, sourceLocation: sourceLocation)
    if let memory = card.memory, let stability = snapshot.stability, let difficulty = snapshot.difficulty {
        #expect(isClose(memory.stability, stability), "\(context): S", sourceLocation: sourceLocation)
        #expect(isClose(memory.difficulty, difficulty), "\(context): D", sourceLocation: sourceLocation)
    }
    let due = try #require(instant(iso: snapshot.due), sourceLocation: sourceLocation)
    #expect(card.due == due, comment, sourceLocation: sourceLocation)
    #expect(due == Instant(millisecondsSinceEpoch: Int64(snapshot.dueEpochSeconds * 1_000)))
    let lastReview = snapshot.lastReview.flatMap(instant(iso:))
    #expect(card.lastReview == lastReview, comment, sourceLocation: sourceLocation)
}

/// Parses the UTC timestamps of the vectors ("2022-11-29T12:30:00+00:00") with civil-date
/// arithmetic of our own, so that the test does not lean on a calendar library to agree with the
/// epoch seconds in the same file.
private func instant(iso text: String) -> Instant? {
    guard text.hasSuffix("+00:00"), text.count == 25 else { return nil }
    let fields = text.dropLast(6).split(whereSeparator: { "-T:".contains($0) }).compactMap { Int64($0) }
    guard fields.count == 6 else { return nil }
    let (year, month, day) = (fields[0], fields[1], fields[2])
    // Days from 1970-01-01 to year-month-day in the proleptic Gregorian calendar (Howard Hinnant's
    // days_from_civil): shift the year to start in March so that the leap day comes last.
    let marchYear = month <= 2 ? year - 1 : year
    let era = (marchYear >= 0 ? marchYear : marchYear - 399) / 400
    let yearOfEra = marchYear - era * 400
    let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
    let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
    let days = era * 146_097 + dayOfEra - 719_468
    return Instant(secondsSinceEpoch: days * 86_400 + fields[3] * 3_600 + fields[4] * 60 + fields[5])
}
