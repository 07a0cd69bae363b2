/// What the engine knows of one node's process, whichever broker it models.
struct Process: Sendable {
    fileprivate(set) var isUp: Bool
    /// Bumped when the process dies and when it starts again: a timer set by an earlier
    /// incarnation never fires.
    fileprivate(set) var incarnation = 0
    /// Until when the process is stopped (SIGSTOP): its deliveries and timers wait until then.
    fileprivate(set) var pausedUntil: Millis?
}

/// Every node's process, kept by the engine so that crash, restart and pause mean the same for
/// every broker and client: a world changes its nodes' state, never whether they run.
struct Processes: Sendable {
    private var table = [Process](repeating: Process(isUp: true), count: NodeID.denseCount)

    @inline(__always)
    subscript(node: NodeID) -> Process { table[node.dense] }

    /// A node that exists but has not started yet (a Kafka consumer before `start consumer`).
    mutating func notStarted(_ node: NodeID) {
        table[node.dense] = Process(isUp: false)
    }

    /// The process dies; false if it was not running.
    mutating func crash(_ node: NodeID) -> Bool {
        guard table[node.dense].isUp else { return false }
        table[node.dense].isUp = false
        table[node.dense].incarnation += 1
        table[node.dense].pausedUntil = nil
        return true
    }

    /// A new process starts; false if one was running.
    mutating func start(_ node: NodeID) -> Bool {
        guard !table[node.dense].isUp else { return false }
        table[node.dense].isUp = true
        table[node.dense].incarnation += 1
        return true
    }

    /// The process dies and another takes its place at once: an application restarted by its
    /// supervisor. Its timers die with it.
    mutating func replace(_ node: NodeID) {
        table[node.dense].incarnation += 1
    }

    mutating func pause(_ node: NodeID, until time: Millis) {
        table[node.dense].pausedUntil = time
    }
}

/// A node's state split by what survives what. `memory` is everything the process holds; its
/// disk is the node's durable logs (DurableLog: synced and unsynced writes). A process crash
/// drops the memory; a power loss also drops the unsynced writes; a disk loss drops the disk too.
/// Each broker says where its disk is; the rule is written here and in DurableLog, once.
protocol CrashableNode: Sendable {
    associatedtype Memory: Sendable
    var memory: Memory { get set }
    /// A fresh process's memory, before it has learned anything.
    static var freshMemory: Memory { get }
    /// The node's durable logs keep what `fault` leaves of them (DurableLog.survive).
    mutating func diskSurvives(_ fault: Fault)
}

extension CrashableNode {
    /// The process dies with `fault`: its memory is gone, its disk keeps what the fault leaves.
    mutating func lose(_ fault: Fault) {
        memory = Self.freshMemory
        diskSurvives(fault)
    }
}
