// Theory of operation
//
// Kafka's clients and brokers talk over TCP, so messages on one link arrive in the order they
// were sent: the network keeps a per-link "not before" time and never delivers a message earlier
// than the one sent before it on the same link. Faults are rules the scenario sets: partitions
// (one-way or two-way) drop whatever would cross them, `drop next` rules drop the next message of
// a kind, and delays add to a link's latency. A message is checked against partitions when it is
// sent and again when it would arrive, so a partition that starts while it is in flight cuts it.

/// One direction of a connection between two nodes.
struct Link: Hashable, Sendable {
    var from: NodeID
    var to: NodeID
}

/// A fault rule that drops the next message matching it, once.
public struct DropRule: Equatable, Sendable {
    public var kind: MessageKind?
    public var from: NodeID?
    public var to: NodeID?

    public init(kind: MessageKind?, from: NodeID?, to: NodeID?) {
        self.kind = kind
        self.from = from
        self.to = to
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
    public var milliseconds: Millis

    public init(kind: MessageKind?, from: NodeID?, to: NodeID?, milliseconds: Millis) {
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

struct Network: Sendable {
    var delay: ClosedRange<Millis>
    private(set) var blocked: Set<Link> = []
    private(set) var dropRules: [DropRule] = []
    private(set) var delayRules: [DelayRule] = []
    private var notBefore: [Link: Millis] = [:]

    init(delay: ClosedRange<Millis>) {
        self.delay = delay
    }

    var isPartitioned: Bool { !blocked.isEmpty }

    func isBlocked(_ from: NodeID, _ to: NodeID) -> Bool {
        !blocked.isEmpty && blocked.contains(Link(from: from, to: to))
    }

    mutating func block(_ from: NodeID, _ to: NodeID) { blocked.insert(Link(from: from, to: to)) }

    mutating func addDropRule(_ rule: DropRule) { dropRules.append(rule) }
    mutating func addDelayRule(_ rule: DelayRule) { delayRules.append(rule) }

    /// Removes every partition and delay; `drop next` rules not yet used stay armed.
    mutating func heal() {
        blocked.removeAll()
        delayRules.removeAll()
    }

    /// When a message sent now would arrive, or why it will not.
    mutating func route(
        _ kind: MessageKind, from: NodeID, to: NodeID, now: Millis, random: inout SeededRandom
    ) -> Result<Millis, DropReason> {
        if isBlocked(from, to) { return .failure(.partition) }
        if let index = dropRules.firstIndex(where: { $0.matches(kind, from, to) }) {
            dropRules.remove(at: index)
            return .failure(.rule)
        }
        var latency = delay.lowerBound == delay.upperBound ? delay.lowerBound : random.next(in: delay)
        for rule in delayRules
        where DropRule(kind: rule.kind, from: rule.from, to: rule.to).matches(kind, from, to) {
            latency += rule.milliseconds
        }
        let link = Link(from: from, to: to)
        let arrival = max(now + latency, notBefore[link] ?? 0)
        notBefore[link] = arrival
        return .success(arrival)
    }
}
