// Theory of operation
//
// Every source of nondeterminism in a simulated world is drawn from one seed. Components (the
// network, the fault schedule, the workload) each get a child generator derived from the parent
// seed and a fixed label, so adding draws to one component never shifts the draws of another,
// and the same seed gives the same trace in any process. Decisions use integer ratios only:
// floating point never decides an outcome.

/// SplitMix64: small, fast, and statistically good enough for fault schedules; its whole state is
/// one integer, so a run is reproduced from its seed alone.
public struct SeededRandom: Sendable, Equatable {
    private var state: UInt64

    public init(seed: UInt64) {
        state = seed
    }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform integer in `range`, without modulo bias.
    public mutating func next(in range: ClosedRange<Int>) -> Int {
        next(in: UniformRange(range))
    }

    /// A uniform integer in a range prepared once: the same draws as `next(in:)` with its
    /// closed range, without the division that prepares it (the network draws on every send).
    mutating func next(in range: UniformRange) -> Int {
        if range.span == 0 { return Int(truncatingIfNeeded: next()) }  // the full 64-bit range
        var draw = next()
        while draw >= range.limit { draw = next() }
        return range.lowerBound + Int(draw % range.span)
    }

    /// True with probability `numerator / denominator`, decided on integers.
    public mutating func chance(_ numerator: Int, in denominator: Int) -> Bool {
        precondition(denominator > 0 && numerator >= 0, "a chance needs 0 <= numerator and 0 < denominator")
        return next(in: 0...(denominator - 1)) < numerator
    }

    /// An independent generator for one component, derived from this one's seed and `label`.
    /// Deriving does not advance this generator.
    public func child(_ label: String) -> SeededRandom {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in label.utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
        }
        var mixer = SeededRandom(seed: state ^ hash)
        return SeededRandom(seed: mixer.next())
    }
}

/// A closed range of integers prepared for unbiased draws: draws at or above `limit` are
/// rejected, so that every value of the range is equally likely.
struct UniformRange: Sendable {
    let lowerBound: Int
    /// How many values the range holds; 0 stands for all 2^64.
    let span: UInt64
    let limit: UInt64

    init(_ range: ClosedRange<Int>) {
        lowerBound = range.lowerBound
        span = UInt64(range.upperBound - range.lowerBound) &+ 1
        limit = span == 0 ? .max : UInt64.max - UInt64.max % span
    }
}
