import Simulation
import Testing

@Suite("Peak shaving, simulated")
struct PeakShavingModelTests {
    @Test("A burst above capacity runs the direct side out of connections; the queue writes every row")
    func burstAboveCapacity() {
        // 2,000 requests in one second against 500 queries/s: the 151 connections fill within
        // the first 300 ms, and every later arrival is refused until one frees up.
        let outcome = PeakShavingModel.run(PeakShavingSetup(), seed: 1)
        #expect(outcome.direct.tooManyConnections > 1_000)
        #expect(outcome.direct.peakConnections == 151)
        #expect(outcome.direct.written + outcome.direct.tooManyConnections + outcome.direct.timedOut == 2_000)
        #expect(outcome.queued.written == 2_000)
        #expect(outcome.queued.tooManyConnections == 0 && outcome.queued.timedOut == 0)
        #expect(outcome.queued.peakConnections == 4)
        // The database never runs faster than its capacity: 2,000 rows at 2 ms each.
        #expect(outcome.queued.drainMilliseconds >= 4_000)
        #expect(outcome.queued.writeP99Milliseconds > outcome.direct.writeP99Milliseconds)
    }

    @Test("With more connections allowed, the clients' timeout is what refuses them instead")
    func timeoutsWhenConnectionsSuffice() {
        let outcome = PeakShavingModel.run(PeakShavingSetup(maxConnections: 2_000), seed: 1)
        #expect(outcome.direct.tooManyConnections == 0)
        #expect(outcome.direct.timedOut > 0)
        // A request only waits out its timeout, so none waits much longer.
        #expect(outcome.direct.responseP99Milliseconds <= 1_003)
    }

    @Test("A burst within capacity needs no queue: no errors either way")
    func burstWithinCapacity() {
        let outcome = PeakShavingModel.run(PeakShavingSetup(capacity: 10_000), seed: 1)
        #expect(outcome.direct.written == 2_000)
        #expect(outcome.direct.tooManyConnections == 0 && outcome.direct.timedOut == 0)
    }

    @Test("The same seed gives the same figures; another seed draws other arrivals")
    func deterministic() {
        let setup = PeakShavingSetup(
            requests: 500, burstMilliseconds: 200, maxConnections: 20, capacity: 1_000)
        #expect(PeakShavingModel.run(setup, seed: 7) == PeakShavingModel.run(setup, seed: 7))
        let others = (8...12).map { PeakShavingModel.run(setup, seed: $0) }
        #expect(others.contains { $0 != PeakShavingModel.run(setup, seed: 7) })
    }

    @Test("Invalid setups are named, not run")
    func problems() {
        #expect(PeakShavingSetup(consumers: 200).problem?.contains("consumers") == true)
        #expect(PeakShavingSetup(capacity: 0).problem != nil)
        #expect(PeakShavingSetup().problem == nil)
    }
}
