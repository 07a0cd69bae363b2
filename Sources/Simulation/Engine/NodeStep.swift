/// What a node asks of the engine, in order: the one way a node acts on the world.
enum Effect<Payload: WirePayload, Timer: Sendable>: Sendable {
    case send(Payload, to: NodeID)
    case setTimer(Timer, after: Millis)
    /// Every timer the node has set so far never fires: a client that closed its session.
    case cancelTimers
    case note(Note)
    /// A payload another node of the same world takes in the same instant, off the network:
    /// where a model treats two nodes' work as one step. The world applies it (`EngineHosted`).
    case handOver(Payload, to: NodeID)
}

/// One step of one node: a delivery, a timer or an action reaching it. The node reads who it is,
/// the time and which processes run, and writes effects; it never calls the engine, which
/// applies the effects once the step is over (`WorldEngine.apply`), in the order written.
struct NodeStep<Payload: WirePayload, Timer: Sendable>: Sendable {
    let node: NodeID
    let now: Millis
    private let processes: Processes
    private let names: MessageNames
    private(set) var effects: [Effect<Payload, Timer>] = []

    init(node: NodeID, now: Millis, processes: Processes, names: MessageNames) {
        self.node = node
        self.now = now
        self.processes = processes
        self.names = names
    }

    /// A message's name as the scenario gave it, for free-text notes.
    func name(of message: MessageID) -> String { names[message] }

    /// Whether `node`'s process runs: a client sees a refused connection at once.
    func isUp(_ node: NodeID) -> Bool { processes[node].isUp }

    mutating func send(_ payload: Payload, to receiver: NodeID) {
        effects.append(.send(payload, to: receiver))
    }
    mutating func setTimer(_ timer: Timer, after delay: Millis) {
        effects.append(.setTimer(timer, after: delay))
    }
    mutating func cancelTimers() { effects.append(.cancelTimers) }
    mutating func note(_ note: Note) { effects.append(.note(note)) }
    mutating func handOver(_ payload: Payload, to receiver: NodeID) {
        effects.append(.handOver(payload, to: receiver))
    }

    /// A free-text note; prefer a typed one where the trace reader needs its fields.
    mutating func fact(_ text: String, message: MessageID? = nil) {
        note(.queue(.fact(message: message, text: text)))
    }
}

extension WorldEngine {
    /// A step for `node` as things stand now.
    func step(for node: NodeID) -> NodeStep<Payload, Timer> {
        NodeStep(node: node, now: now, processes: processes, names: recorder.messageNames)
    }

    /// Applies one effect of `node`'s step; a note goes to the trace at that node.
    mutating func apply(_ effect: Effect<Payload, Timer>, of node: NodeID) {
        switch effect {
        case .send(let payload, let receiver): transmit(payload, from: node, to: receiver)
        case .setTimer(let timer, let delay): setTimer(timer, for: node, after: delay)
        case .cancelTimers: cancelTimers(of: node)
        case .note(let note): self.note(note, at: node)
        case .handOver: preconditionFailure("a hand-over is the world's to apply")
        }
    }
}

extension EngineHosted {
    /// Applies what a node's step wrote, in order: a hand-over reaches its receiver at once, the
    /// rest goes to the engine.
    mutating func apply(_ step: NodeStep<Payload, Timer>) {
        for effect in step.effects {
            if case .handOver(let payload, let receiver) = effect {
                switch receiver {
                case .broker(let id): brokerReceive(id.value - 1, payload, from: step.node)
                case .producer(let index): producerReceive(index - 1, payload, from: step.node)
                case .consumer(let index): consumerReceive(index - 1, payload, from: step.node)
                case .controller: controllerReceive(payload, from: step.node)
                }
            } else {
                engine.apply(effect, of: step.node)
            }
        }
    }
}
