import Testing

@testable import Simulation

/// The trace hash reads every field of a note: two traces hash equal only when they are equal.
@Suite("Trace encoding")
struct TraceEncodingTests {
    func hash(_ note: Note) -> UInt64 {
        var hash = NoteHash()
        note.encode(into: &hash)
        return hash.value
    }

    /// Pairs of notes that differ in one field, each a field the old hash left out.
    static let pairs: [(Note, Note)] = [
        (
            .truncated(broker: BrokerID(1), to: Offset(0), removed: [], reason: .divergingEpoch),
            .truncated(broker: BrokerID(1), to: Offset(0), removed: [], reason: .powerLoss)
        ),
        (
            .elected(leader: BrokerID(2), epoch: Epoch(1), clean: true, isr: [BrokerID(2)]),
            .elected(leader: BrokerID(2), epoch: Epoch(1), clean: true, isr: [BrokerID(2), BrokerID(3)])
        ),
        (.offline(epoch: Epoch(1), isr: [BrokerID(1)]), .offline(epoch: Epoch(1), isr: [BrokerID(2)])),
        (
            .crashed(node: .broker(BrokerID(1)), fault: .crash),
            .crashed(node: .broker(BrokerID(1)), fault: .powerLoss)
        ),
        (.partitioned(description: "B1 | B2"), .partitioned(description: "B2 | B1")),
        (
            .dropped(kind: .fetch, from: .broker(BrokerID(1)), to: .broker(BrokerID(2)), reason: .partition),
            .dropped(kind: .fetch, from: .broker(BrokerID(1)), to: .broker(BrokerID(2)), reason: .deadNode)
        ),
        (
            .failed(producer: 1, messages: [], error: "TIMEOUT", retrying: false),
            .failed(producer: 1, messages: [], error: "REFUSED", retrying: false)
        ),
        (.leftGroup(consumer: 1, reason: "crash"), .leftGroup(consumer: 1, reason: "stop")),
        (
            .queue(.enqueued(node: BrokerID(1), queue: "q", message: MessageID(0), persistent: true)),
            .queue(.enqueued(node: BrokerID(1), queue: "dlq", message: MessageID(0), persistent: true))
        ),
        (
            .queue(
                .deadLettered(node: BrokerID(1), message: MessageID(0), exchange: "dlx", reason: "rejected")),
            .queue(
                .deadLettered(node: BrokerID(1), message: MessageID(0), exchange: "dlx", reason: "expired"))
        ),
        (
            .queue(.recovered(node: BrokerID(1), queue: "q", kept: [], lost: [], durable: true)),
            .queue(.recovered(node: BrokerID(1), queue: "q", kept: [], lost: [], durable: false))
        ),
        (
            .becameFollower(broker: BrokerID(1), leader: nil, epoch: Epoch(0)),
            .becameFollower(broker: BrokerID(1), leader: BrokerID(0), epoch: Epoch(0))
        ),
    ]

    @Test("Notes that differ in any one field hash differently", arguments: 0..<pairs.count)
    func everyFieldCounts(_ index: Int) {
        let (a, b) = Self.pairs[index]
        #expect(a != b)
        #expect(hash(a) != hash(b), "\(a) and \(b)")
    }

    @Test("The fields a JSON trace shows are the encoded ones, messages by name")
    func fields() {
        let note = Note.appended(
            broker: BrokerID(1), from: Offset(4), messages: [MessageID(0), MessageID(1)], epoch: Epoch(2))
        #expect(note.kind == "appended")
        #expect(
            note.fields { ["m", "n"][$0.value] } == [
                "broker": "1", "from": "4", "messages": "m n", "epoch": "2",
            ])
        #expect(Note.queue(.activeMQ(.storeCancelled(broker: BrokerID(1)))).kind == "store-cancelled")
    }

    @Test("A RocketMQ or ActiveMQ fact is typed: its fields reach the JSON trace, its text names them")
    func brokerSpecificNotes() {
        let name = { (message: MessageID) in ["m1", "m1-out"][message.value] }
        let retry = Note.queue(
            .rocket(
                .retryScheduled(broker: BrokerID(1), message: MessageID(0), retry: 2, level: 4, delay: 30_000)
            ))
        #expect(retry.kind == "retry-scheduled")
        #expect(
            retry.fields(name) == [
                "broker": "1", "message": "m1", "retry": "2", "level": "4", "delay-ms": "30000",
            ])
        #expect(retry.text(name) == "B1 schedules retry 2 of m1 at delay level 4 (30s)")
        let rollback = Note.queue(
            .activeMQ(.rolledBack(consumer: 1, message: MessageID(0), discarded: [MessageID(1)])))
        #expect(rollback.fields(name)["discarded"] == "m1-out")
        #expect(rollback.text(name) == "c1: session.rollback(): m1-out discarded, m1 to be redelivered")
    }

    @Test("A follower's copy hashes the same whether or not the trace is kept")
    func replicatedWithoutTrace() {
        var built = NoteHash()
        Note.replicated(broker: BrokerID(2), from: Offset(3), messages: [MessageID(5), MessageID(6)]).encode(
            into: &built)
        var lazy = NoteHash()
        Note.encodeReplicated(
            broker: BrokerID(2), from: Offset(3), messages: [MessageID(5), MessageID(6)].lazy.map { $0 },
            into: &lazy)
        #expect(built.value == lazy.value)
    }
}
