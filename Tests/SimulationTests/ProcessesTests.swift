import Testing

@testable import Simulation

/// Crash, restart and pause mean the same for every node of every broker: the engine keeps them.
@Suite("Processes")
struct ProcessesTests {
    let broker = NodeID.broker(BrokerID(1))

    @Test("A crash and a restart each begin a new incarnation; repeating either changes nothing")
    func incarnations() {
        var processes = Processes()
        let crashed = processes.crash(broker)
        let crashedAgain = processes.crash(broker)
        #expect(crashed && !crashedAgain)
        #expect(processes[broker].incarnation == 1)
        let started = processes.start(broker)
        let startedAgain = processes.start(broker)
        #expect(started && !startedAgain)
        #expect(processes[broker].incarnation == 2)
        #expect(processes[broker].isUp)
    }

    @Test("A crash ends a pause: the restarted process is not still stopped")
    func crashEndsPause() {
        var processes = Processes()
        processes.pause(broker, until: 5_000)
        _ = processes.crash(broker)
        _ = processes.start(broker)
        #expect(processes[broker].pausedUntil == nil)
    }

    @Test("A consumer that has not started yet is down until it starts")
    func notStarted() {
        var processes = Processes()
        processes.notStarted(.consumer(1))
        #expect(!processes[.consumer(1)].isUp)
        let started = processes.start(.consumer(1))
        #expect(started)
    }
}
