// Theory of operation
//
// Kafka's clients and brokers talk over TCP, so messages on one link arrive in the order they
// were sent: the network keeps a per-link "not before" time and never delivers a message earlier
// than the one sent before it on the same link. Faults are rules the scenario sets: partitions
// (one-way or two-way) drop whatever would cross them, `drop next` rules drop the next message of
// a kind, and delays add to a link's latency. A message is checked against partitions when it is
// sent and again when it would arrive, so a partition that starts while it is in flight cuts it.

/// A fault rule on matching messages: `drop next` (once), `drop 10% of` (until the network
/// heals), `duplicate next` and `reorder next` (once).
public struct DropRule: Equatable, Sendable {
    public enum Effect: Equatable, Sendable {
        case dropNext
        /// Drops each matching message with probability numerator / denominator, until heal.
        case dropSome(numerator: Int, denominator: Int)
        /// Delivers the next matching message twice.
        case duplicateNext
        /// Holds the next matching message back by this much, letting later ones overtake it.
        case reorderNext(Millis)
    }

    public var kind: MessageKind?
    public var from: NodeID?
    public var to: NodeID?
    public var effect: Effect

    public init(kind: MessageKind?, from: NodeID?, to: NodeID?, effect: Effect = .dropNext) {
        self.kind = kind
        self.from = from
        self.to = to
        self.effect = effect
    }

    func matches(_ kind: MessageKind, _ from: NodeID, _ to: NodeID) -> Bool {
        (self.kind == nil || self.kind == kind) && (self.from == nil || self.from == from)
            && (self.to == nil || self.to == to)
    }
}

/// An extra latency on matching messages until the network heals.
public struct DelayRule: Equatable, Sendable {
    public var kind: MessageKind?
    public var from: NodeID?
    public var to: NodeID?
    /// Extra latency, drawn uniformly from this range for each message.
    public var milliseconds: ClosedRange<Millis>

    public init(kind: MessageKind?, from: NodeID?, to: NodeID?, milliseconds: ClosedRange<Millis>) {
        self.kind = kind
        self.from = from
        self.to = to
        self.milliseconds = milliseconds
    }
}

/// Why a message did not arrive.
public enum DropReason: String, Error, Sendable {
    case partition = "partitioned"
    case rule = "dropped by rule"
    case deadNode = "receiver down"
}

/// Where the network sends a message: when it arrives (and, duplicated, once more a millisecond
/// later), or why it does not. A value, not an array: every send asks, and must not allocate.
enum Route {
    case arrives(at: Millis, twice: Bool)
    case dropped(DropReason)
}

struct Network: Sendable {
    let delay: ClosedRange<Millis>
    private let delayDraw: UniformRange
    /// Cut links as a flat table by dense node numbers, and how many are cut.
    private var blocked = [Bool](repeating: false, count: NodeID.denseCount * NodeID.denseCount)
    private var blockedCount = 0
    private(set) var dropRules: [DropRule] = []
    private(set) var delayRules: [DelayRule] = []
    /// Per link, the earliest time its next message may arrive: a flat table indexed by the two
    /// nodes' dense numbers (the hot path must not hash).
    private var notBefore = [Millis](repeating: 0, count: NodeID.denseCount * NodeID.denseCount)

    init(delay: ClosedRange<Millis>) {
        self.delay = delay
        delayDraw = UniformRange(delay)
    }

    var isPartitioned: Bool { blockedCount > 0 }

    func isBlocked(_ from: NodeID, _ to: NodeID) -> Bool {
        blockedCount > 0 && blocked[from.dense * NodeID.denseCount + to.dense]
    }

    mutating func block(_ from: NodeID, _ to: NodeID) {
        let link = from.dense * NodeID.denseCount + to.dense
        if !blocked[link] {
            blocked[link] = true
            blockedCount += 1
        }
    }

    mutating func addDropRule(_ rule: DropRule) { dropRules.append(rule) }
    mutating func addDelayRule(_ rule: DelayRule) { delayRules.append(rule) }

    /// A process that restarts opens new connections: what it sent or was sent on the old ones
    /// no longer holds up new messages on the same links.
    mutating func resetConnections(of node: NodeID) {
        for other in 0..<NodeID.denseCount {
            notBefore[node.dense * NodeID.denseCount + other] = 0
            notBefore[other * NodeID.denseCount + node.dense] = 0
        }
    }

    /// Removes every partition, delay and probabilistic drop; one-shot rules not yet used stay
    /// armed.
    mutating func heal() {
        blocked = [Bool](repeating: false, count: blocked.count)
        blockedCount = 0
        delayRules.removeAll()
        dropRules.removeAll { if case .dropSome = $0.effect { true } else { false } }
    }

    /// When a message sent now would arrive (twice when duplicated), or why it will not.
    mutating func route(
        _ kind: MessageKind, from: NodeID, to: NodeID, now: Millis, random: inout SeededRandom
    ) -> Route {
        if isBlocked(from, to) { return .dropped(.partition) }
        var copies = 1
        var heldBack: Millis?
        if !dropRules.isEmpty, let index = dropRules.firstIndex(where: { $0.matches(kind, from, to) }) {
            switch dropRules[index].effect {
            case .dropNext:
                dropRules.remove(at: index)
                return .dropped(.rule)
            case .dropSome(let numerator, let denominator):
                if random.chance(numerator, in: denominator) { return .dropped(.rule) }
            case .duplicateNext:
                dropRules.remove(at: index)
                copies = 2
            case .reorderNext(let milliseconds):
                dropRules.remove(at: index)
                heldBack = milliseconds
            }
        }
        var latency = delay.lowerBound == delay.upperBound ? delay.lowerBound : random.next(in: delayDraw)
        for rule in delayRules
        where DropRule(kind: rule.kind, from: rule.from, to: rule.to).matches(kind, from, to) {
            latency +=
                rule.milliseconds.lowerBound == rule.milliseconds.upperBound
                ? rule.milliseconds.lowerBound : random.next(in: rule.milliseconds)
        }
        let link = from.dense * NodeID.denseCount + to.dense
        if let heldBack {
            // Outside the link's order: messages sent after it may arrive first.
            return .arrives(at: now + latency + heldBack, twice: false)
        }
        let arrival = max(now + latency, notBefore[link])
        notBefore[link] = arrival
        return .arrives(at: arrival, twice: copies == 2)
    }
}
