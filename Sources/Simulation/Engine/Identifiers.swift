/// A broker's id, as in `broker.id`: 1, 2, 3.
public struct BrokerID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let value: Int
    public init(_ value: Int) { self.value = value }
    public static func < (a: BrokerID, b: BrokerID) -> Bool { a.value < b.value }
    public var description: String { "B\(value)" }
}

/// A position in a partition's log.
public struct Offset: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let value: Int
    public init(_ value: Int) { self.value = value }
    public static func < (a: Offset, b: Offset) -> Bool { a.value < b.value }
    public static func + (a: Offset, b: Int) -> Offset { Offset(a.value + b) }
    public var description: String { "\(value)" }
}

/// A leader epoch: bumped on every leader change, stamped on every record the leader appends.
public struct Epoch: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let value: Int
    public init(_ value: Int) { self.value = value }
    public static func < (a: Epoch, b: Epoch) -> Bool { a.value < b.value }
    public var next: Epoch { Epoch(value + 1) }
    public var description: String { "\(value)" }
}

/// The id the broker side gives an idempotent producer session (InitProducerId).
public struct ProducerID: Hashable, Sendable, CustomStringConvertible {
    public let value: Int
    public init(_ value: Int) { self.value = value }
    public var description: String { "pid \(value)" }
}

/// Every participant of a simulated world: brokers, the controller, and the clients.
public enum NodeID: Hashable, Comparable, Sendable, CustomStringConvertible {
    case controller
    case broker(BrokerID)
    case producer(Int)
    case consumer(Int)

    public var description: String {
        switch self {
        case .controller: "controller"
        case .broker(let id): id.description
        case .producer(let index): "p\(index)"
        case .consumer(let index): "c\(index)"
        }
    }

    /// Lane order in traces: controller, brokers, producers, consumers.
    private var rank: (Int, Int) {
        switch self {
        case .controller: (0, 0)
        case .broker(let id): (1, id.value)
        case .producer(let index): (2, index)
        case .consumer(let index): (3, index)
        }
    }

    public static func < (a: NodeID, b: NodeID) -> Bool { a.rank < b.rank }
}

/// Simulated time in milliseconds since the world started.
public typealias Millis = Int

extension NodeID {
    /// How many dense node numbers exist: the controller, 9 brokers, 9 producers, 9 consumers.
    static let denseCount = 28

    /// A small number per node, for tables indexed by node.
    @inline(__always)
    var dense: Int {
        switch self {
        case .controller: 0
        case .broker(let id): id.value
        case .producer(let index): 9 + index
        case .consumer(let index): 18 + index
        }
    }
}

/// A node in one byte, for events in flight: a NodeID takes nine bytes and pads to sixteen, and
/// every queued delivery carries two.
struct PackedNode: Equatable, Sendable {
    private let dense: UInt8

    init(_ node: NodeID) {
        dense = UInt8(node.dense)
    }

    @inline(__always)
    var node: NodeID {
        let number = Int(dense)
        switch number {
        case 0: return .controller
        case 1...9: return .broker(BrokerID(number))
        case 10...18: return .producer(number - 9)
        default: return .consumer(number - 18)
        }
    }
}

/// An application message, named as the scenario names it (`m`, `n`, `m1`); records carry its id.
public struct MessageID: Hashable, Comparable, Sendable {
    public let value: Int
    public init(_ value: Int) { self.value = value }
    public static func < (a: MessageID, b: MessageID) -> Bool { a.value < b.value }
}
