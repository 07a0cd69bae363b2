// Theory of operation
//
// The engine under every broker's world (Kafka, RabbitMQ, RocketMQ, ActiveMQ): virtual time, one
// event queue ordered by (time, sequence), the network with its faults, paced sends and the
// recorder. A world keeps its nodes and decides what a delivery, a timer or an action does; the
// engine and its loop (EngineHosted) decide whether and when it happens at all: a partition drops
// a delivery, a dead receiver refuses it, a paused node gets it when the pause ends, and a timer
// set by an earlier incarnation of a node never fires.

/// A network message of one world, which fault rules match by kind.
protocol WirePayload: Sendable {
    var kind: MessageKind { get }
}

struct WorldEngine<Payload: WirePayload, Timer: Sendable>: Sendable {
    enum Event: Sendable {
        /// The payload first and the nodes packed: events are copied in and out of the queue, and
        /// this keeps a Kafka delivery at 60 bytes instead of 89.
        case deliver(Payload, from: PackedNode, to: PackedNode)
        case timer(node: NodeID, incarnation: Int, timer: Timer)
        case action(WorldAction)
        case pacedTick(Int)
    }

    /// Time, event count and the recorder: what every world shows of its run (ScenarioWorld).
    var record: RunRecord
    /// Whether each node's process runs, and which incarnation it is.
    private(set) var processes = Processes()
    private var events = EventQueue<Event>()
    private var network: Network
    private var networkRandom: SeededRandom
    private var pacedSends: [PacedSend] = []

    init(seed: UInt64, networkDelay: ClosedRange<Millis>, recordsTrace: Bool) {
        record = RunRecord(recorder: WorldRecorder(recordsTrace: recordsTrace))
        network = Network(delay: networkDelay)
        networkRandom = SeededRandom(seed: seed).child("network")
    }

    var now: Millis { record.now }
    var eventCount: Int { record.eventCount }
    /// Messages put on the network, for `mqproof compare`.
    var networkMessages: Int { record.networkMessages }
    var recorder: WorldRecorder {
        get { record.recorder }
        _modify { yield &record.recorder }
    }

    // MARK: - Time and events

    /// The next event due at or before `limit`, with the clock moved to it; nil when none is.
    // Inlined into each world's loop, as it was when every world had its own: popping an event
    // is most of what a step costs.
    @inline(__always)
    mutating func next(until limit: Millis) -> Event? {
        guard let (time, event) = events.pop(dueBy: limit) else { return nil }
        record.now = time
        record.eventCount += 1
        return event
    }

    /// After a run to `time` with nothing left to happen before it.
    mutating func advance(to time: Millis) {
        record.now = max(record.now, time)
    }

    mutating func schedule(_ action: WorldAction, at time: Millis) {
        events.schedule(.action(action), at: max(now, time))
    }

    /// A timer of the node's current incarnation: it dies with the process.
    mutating func setTimer(_ timer: Timer, for node: NodeID, after delay: Millis) {
        events.schedule(
            .timer(node: node, incarnation: processes[node].incarnation, timer: timer),
            at: now + max(0, delay))
    }

    mutating func note(_ note: Note, at node: NodeID) {
        recorder.note(note, at: node, time: now)
    }

    // MARK: - Paced sends

    mutating func producePaced(_ messages: [MessageID], producer: Int, every: Millis) {
        guard !messages.isEmpty else { return }
        pacedSends.append(PacedSend(producer: producer, messages: messages, next: 0, every: max(0, every)))
        events.schedule(.pacedTick(pacedSends.count - 1), at: now)
    }

    /// What paced send `index` sends now. Call `advancePaced` once the world has sent it, so the
    /// next tick is queued after whatever the send scheduled.
    func pacedMessage(_ index: Int) -> (producer: Int, message: MessageID) {
        (pacedSends[index].producer, pacedSends[index].messages[pacedSends[index].next])
    }

    mutating func advancePaced(_ index: Int) {
        pacedSends[index].next += 1
        if pacedSends[index].next < pacedSends[index].messages.count {
            events.schedule(.pacedTick(index), at: now + pacedSends[index].every)
        }
    }

    // MARK: - The network

    @inline(__always)
    mutating func transmit(_ payload: Payload, from: NodeID, to: NodeID) {
        record.networkMessages += 1
        switch network.route(payload.kind, from: from, to: to, now: now, random: &networkRandom) {
        case .arrives(let arrival, let twice):
            events.schedule(.deliver(payload, from: PackedNode(from), to: PackedNode(to)), at: arrival)
            if twice {
                events.schedule(
                    .deliver(payload, from: PackedNode(from), to: PackedNode(to)), at: arrival + 1)
            }
        case .dropped(let reason):
            note(.dropped(kind: payload.kind, from: from, to: to, reason: reason), at: from)
        }
    }

    enum Admission {
        case admitted
        /// A partition that began while the message was in flight cut it (noted at the sender).
        case cut
        /// The receiver's process is down; what that means is the world's (EngineHosted).
        case receiverDown
        /// The receiver is paused: the message waits in its socket until the pause ends.
        case deferred
    }

    /// Whether a delivery arriving now reaches its receiver.
    @inline(__always)
    mutating func admission(_ payload: Payload, from: NodeID, to: NodeID) -> Admission {
        if network.isBlocked(from, to) {
            note(.dropped(kind: payload.kind, from: from, to: to, reason: .partition), at: from)
            return .cut
        }
        let receiver = processes[to]
        guard receiver.isUp else { return .receiverDown }
        if let pausedUntil = receiver.pausedUntil, pausedUntil > now {
            events.schedule(.deliver(payload, from: PackedNode(from), to: PackedNode(to)), at: pausedUntil)
            return .deferred
        }
        return .admitted
    }

    /// Whether a timer fires now: never for a node that is down or has restarted since it was
    /// set; a paused node's timer waits for the pause to end.
    @inline(__always)
    mutating func admits(_ timer: Timer, at node: NodeID, setIn incarnation: Int) -> Bool {
        let process = processes[node]
        guard incarnation == process.incarnation, process.isUp else { return false }
        if let pausedUntil = process.pausedUntil, pausedUntil > now {
            events.schedule(.timer(node: node, incarnation: incarnation, timer: timer), at: pausedUntil)
            return false
        }
        return true
    }

    /// The engine's share of a world action: partitions, heal, drop and delay rules, and pauses.
    /// Returns false for an action the world handles itself.
    mutating func applyEngineFault(_ action: WorldAction, allNodes: [NodeID]) -> Bool {
        switch action {
        case .partition(let sideA, let sideB, let oneWay):
            for a in sideA {
                for b in sideB where a != b {
                    network.block(a, b)
                    if !oneWay { network.block(b, a) }
                }
            }
            note(
                .partitioned(
                    description: sideA.map(\.description).joined(separator: " ") + (oneWay ? " -> " : " | ")
                        + sideB.map(\.description).joined(separator: " ")), at: .controller)
        case .isolate(let node):
            return applyEngineFault(
                .partition([node], allNodes.filter { $0 != node }, oneWay: false), allNodes: allNodes)
        case .heal:
            network.heal()
            note(.healed, at: .controller)
        case .pause(let node, let milliseconds): pause(node, for: milliseconds)
        case .drop(let rule): network.addDropRule(rule)
        case .delay(let rule): network.addDelayRule(rule)
        default: return false
        }
        return true
    }

    // MARK: - Processes

    @inline(__always)
    func isUp(_ node: NodeID) -> Bool { processes[node].isUp }

    /// See `Processes`: each returns false when the process was already in that state.
    mutating func crashProcess(_ node: NodeID) -> Bool { processes.crash(node) }
    mutating func startProcess(_ node: NodeID) -> Bool { processes.start(node) }

    /// The process dies, noted in the trace; false (and no note) if it was not running.
    mutating func crash(_ node: NodeID, _ fault: Fault) -> Bool {
        guard processes.crash(node) else { return false }
        note(.crashed(node: node, fault: fault), at: node)
        return true
    }

    /// A new process starts, noted in the trace; false (and no note) if one was running.
    @discardableResult
    mutating func restart(_ node: NodeID) -> Bool {
        guard processes.start(node) else { return false }
        note(.restarted(node: node), at: node)
        return true
    }
    mutating func replaceProcess(_ node: NodeID) { processes.replace(node) }

    /// An application crashes and its supervisor starts it again at once: noted, and its timers
    /// die with the old process.
    mutating func restartApplication(_ node: NodeID) {
        note(.crashed(node: node, fault: .applicationCrash), at: node)
        processes.replace(node)
    }
    /// Every timer the node has set never fires: a client that closed its session forgets them.
    mutating func cancelTimers(of node: NodeID) { processes.replace(node) }
    mutating func notStarted(_ node: NodeID) { processes.notStarted(node) }

    /// SIGSTOP for `milliseconds`: the node's deliveries and timers wait until it resumes.
    mutating func pause(_ node: NodeID, for milliseconds: Millis) {
        note(.paused(node: node, milliseconds: milliseconds), at: node)
        processes.pause(node, until: now + milliseconds)
    }

    /// A node that crashed opens new connections when it restarts: what travelled on the old ones
    /// no longer holds up new messages on the same links.
    mutating func resetConnections(of node: NodeID) {
        network.resetConnections(of: node)
    }
}

/// The part of a run every world shows the same way (ScenarioWorld): virtual time, how many events
/// and network messages there were, and the recorder with the trace and the history.
public struct RunRecord: Sendable {
    var now: Millis = 0
    var eventCount = 0
    var networkMessages = 0
    var recorder: WorldRecorder
}
