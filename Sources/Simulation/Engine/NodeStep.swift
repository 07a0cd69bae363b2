/// One step of one node: a delivery, a timer or an action reaching it. The node reaches the
/// engine only through the effects written here: send, set a timer, cancel its timers, note. Each
/// is applied as it is written, in order; the node never sees the event queue, the network or
/// another node. A world runs a step with `step(_:engine:state:shared:_:)` (StepHosted).
///
/// Why not a list of effects returned and applied after the step: the same order gives the same
/// trace, and it measured 1.3-1.6 times slower on the queue brokers' sweeps (every effect copied
/// into the list and out again). The step writes through a pointer to the world's engine that
/// lives only for the step: moving the engine struct in and out cost 2 KB of copying a step, and
/// a shared box cost a reference count and a uniqueness check on every access.
struct NodeStep<Payload: WirePayload, Timer: Sendable> {
    let node: NodeID
    private let pointer: UnsafeMutablePointer<WorldEngine<Payload, Timer>>
    private var engine: WorldEngine<Payload, Timer> {
        _read { yield pointer.pointee }
        nonmutating _modify { yield &pointer.pointee }
    }
    /// Payloads another node of the same world takes in the same instant, off the network, once
    /// this step ends: where a model treats two nodes' work as one step.
    fileprivate(set) var handOvers: [(payload: Payload, receiver: NodeID)] = []

    fileprivate init(node: NodeID, pointer: UnsafeMutablePointer<WorldEngine<Payload, Timer>>) {
        self.node = node
        self.pointer = pointer
    }

    var now: Millis { engine.now }

    /// Whether `node`'s process runs: a client sees a refused connection at once.
    func isUp(_ node: NodeID) -> Bool { engine.isUp(node) }

    /// A message's name as the scenario gave it: a copy a client makes up is named after it.
    func name(of message: MessageID) -> String { engine.record.recorder.name(of: message) }

    /// A message a client makes up (a transacted consumer's forwarded copy), by name.
    mutating func message(named name: String) -> MessageID { engine.record.recorder.message(named: name) }

    /// What the clients' applications saw: the checker's record, not the broker's state.
    var history: History {
        _read { yield engine.record.recorder.history }
        _modify { yield &engine.record.recorder.history }
    }

    mutating func send(_ payload: Payload, to receiver: NodeID) {
        engine.transmit(payload, from: node, to: receiver)
    }

    mutating func setTimer(_ timer: Timer, after delay: Millis) {
        engine.setTimer(timer, for: node, after: delay)
    }

    /// Every timer the node has set so far never fires: a client that closed its session.
    mutating func cancelTimers() { engine.cancelTimers(of: node) }

    mutating func note(_ note: Note) { engine.note(note, at: node) }

    /// Whether the trace is kept, or only its hash: a note that is costly to build can then be
    /// hashed in place instead (`hashNote`).
    var recordsTrace: Bool { engine.recorder.recordsTrace }

    /// Mixes a note into the trace hash without building it; the encoding must be the note's own.
    mutating func hashNote(_ encode: (inout NoteHash) -> Void) {
        let now = engine.now
        engine.recorder.hash(at: node, time: now, encode: encode)
    }

    mutating func handOver(_ payload: Payload, to receiver: NodeID) { handOvers.append((payload, receiver)) }
}

/// A world whose nodes act in steps (NodeStep).
protocol StepHosted: EngineHosted {}

extension StepHosted {
    /// Runs `act` as one step of `node`, whose state is `state`; what it hands over to another
    /// node comes back for the world to deliver. Static, with the engine, the node's state and the
    /// shared numbering as separate arguments: they are separate parts of the world.
    @inline(__always)
    static func step<Node, Shared>(
        _ node: NodeID, engine: inout WorldEngine<Payload, Timer>, state: inout Node, shared: inout Shared,
        _ act: (inout Node, inout NodeStep<Payload, Timer>, inout Shared) -> Void
    ) -> [(payload: Payload, receiver: NodeID)] {
        withUnsafeMutablePointer(to: &engine) { pointer in
            var step = NodeStep(node: node, pointer: pointer)
            act(&state, &step, &shared)
            return step.handOvers
        }
    }

    /// A step of a node that shares nothing with the others (a client).
    @inline(__always)
    static func step<Node>(
        _ node: NodeID, engine: inout WorldEngine<Payload, Timer>, state: inout Node,
        _ act: (inout Node, inout NodeStep<Payload, Timer>) -> Void
    ) {
        withUnsafeMutablePointer(to: &engine) { pointer in
            var step = NodeStep(node: node, pointer: pointer)
            act(&state, &step)
        }
    }

    /// A hand-over reaches its receiver once the step that made it has ended.
    mutating func deliver(_ handOvers: [(payload: Payload, receiver: NodeID)], from node: NodeID) {
        for (payload, receiver) in handOvers {
            switch receiver {
            case .broker(let id): brokerReceive(id.value - 1, payload, from: node)
            case .producer(let index): producerReceive(index - 1, payload, from: node)
            case .consumer(let index): consumerReceive(index - 1, payload, from: node)
            case .controller: controllerReceive(payload, from: node)
            }
        }
    }
}
