import Content
import Foundation
import Quiz
import Simulation
import TestSupport
import Testing

@testable import mqproof

/// Seeded fuzzing of progress files: every field of a valid export set to hostile values. Each
/// file is refused by the checks, or imported, and then every imported card goes through the
/// scheduler without a trap: no state that can crash a later quiz gets into the store.
@Suite("Fuzz: progress files")
struct ProgressFuzzTests {
    static let hostileIntegers: [Int64] = [
        0, 1, 2, 3, 4, 5, -1, 50, 51, Int64.max, Int64.min, 1_796_000_000_000, 253_402_300_800_000,
    ]
    static let hostileDoubles: [Double] = [
        0, -1, 0.001, 0.5, 1, 10, 11, 36_500, .infinity, -.infinity, .nan, 1e300,
    ]

    @Test("1,000 mutated progress files: refused with reasons, or imported and schedulable")
    func progressFiles() throws {
        let directory = TemporaryDirectory()
        let store = try ContentStore(path: directory.file("fuzz.sqlite"))
        _ = try store.ensureContent(ContentFiles.embedded, parser: ContentParser(knownExperiments: nil))
        let cards = QuizCards.make(from: try store.allEntries()).map(\.card.id)
        let known = Set(cards)
        let scheduler = try Scheduler()
        var random = SeededRandom(seed: 0x9_06E5)
        var imported = 0
        for number in 0..<1_000 {
            let id = cards[random.next(in: 0...(cards.count - 1))]
            var card = StoredCardState(
                cardID: id, state: 2, step: nil, stability: 3, difficulty: 5, dueMs: 1_796_000_000_000,
                lastReviewMs: 1_795_000_000_000, reviews: 3, lapses: 0)
            var review = StoredReview(
                cardID: id, rating: 3, reviewedMs: 1_795_000_000_000, stateBefore: 1,
                dueMs: 1_796_000_000_000,
                retrievability: 0.9)
            var settings: [String: String] = [:]
            for _ in 0..<random.next(in: 1...3) {
                let integer = Self.hostileIntegers[random.next(in: 0...(Self.hostileIntegers.count - 1))]
                let double = Self.hostileDoubles[random.next(in: 0...(Self.hostileDoubles.count - 1))]
                switch random.next(in: 0...12) {
                case 0: card.state = Int(clamping: integer)
                case 1: card.step = random.chance(1, in: 3) ? nil : Int(clamping: integer)
                case 2: card.stability = random.chance(1, in: 3) ? nil : double
                case 3: card.difficulty = random.chance(1, in: 3) ? nil : double
                case 4: card.dueMs = integer
                case 5: card.lastReviewMs = random.chance(1, in: 3) ? nil : integer
                case 6: card.reviews = Int(clamping: integer)
                case 7: card.lapses = Int(clamping: integer)
                case 8: card.buriedUntilMs = integer
                case 9: review.rating = Int(clamping: integer)
                case 10: review.retrievability = double
                case 11: card.cardID = random.chance(1, in: 2) ? "no-such-card" : id
                default: settings["desired_retention"] = String(double)
                }
            }
            let archive = ProgressArchive(cards: [card], reviews: [review], settings: settings)
            let problems = ProgressCheck.problems(in: archive, knownCards: known)
            for problem in problems { #expect(!problem.contains("\n"), "case \(number): \(problem)") }
            guard problems.isEmpty else { continue }
            imported += 1
            try store.importProgress(archive, replacing: true)
            for stored in try store.cardStates().values {
                // What a later quiz does with the card: schedule every rating from it.
                let state = QuizCards.card(stored)
                for rating in Rating.allCases {
                    let next = scheduler.review(
                        state, rating: rating, at: Instant(millisecondsSinceEpoch: 1_797_000_000_000))
                    #expect(next.card.due.millisecondsSinceEpoch > 0, "case \(number)")
                }
            }
        }
        print("fuzz: 1000 progress files, \(imported) imported and scheduled, the rest refused")
        #expect(imported > 50)
    }
}
