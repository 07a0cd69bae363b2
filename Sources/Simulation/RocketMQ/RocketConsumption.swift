// Consumption on the broker side: pulls, consume offsets, the retry topic and the DLQ.

extension RocketWorld {
    // MARK: - Broker: consumption, retries and the DLQ

    func queueEntries(_ index: Int, _ queue: RocketQueue) -> [Int] {
        queue.retry ? nodes[index].memory.retryQueue : nodes[index].memory.topicQueue
    }

    mutating func answerPull(_ index: Int, consumer: Int, queue: RocketQueue, offset: Int) {
        let positions = queueEntries(index, queue)
        guard offset < positions.count else {
            // Long polling: the pull is held until a message arrives.
            nodes[index].memory.parkedPulls.append((consumer, queue, offset))
            return
        }
        let entries = positions[offset..<min(positions.count, offset + 32)].map { nodes[index].log[$0] }
        engine.transmit(
            .pullResult(queue: queue, from: offset, entries: entries), from: .broker(nodes[index].id),
            to: .consumer(consumer))
    }

    mutating func wakeParkedPulls(_ index: Int) {
        let parked = nodes[index].memory.parkedPulls
        nodes[index].memory.parkedPulls = []
        for pull in parked {
            answerPull(index, consumer: pull.consumer, queue: pull.queue, offset: pull.offset)
        }
    }

    mutating func sendBack(_ index: Int, _ entry: CommitLogEntry) {
        let id = nodes[index].id
        if entry.reconsumeTimes >= config.effectiveMaxReconsumeTimes {
            var dead = entry
            dead.topic = .dlq
            append(index, dead)
            fact(
                "\(id) moves \(name(of: entry.message)) to %DLQ% after \(entry.reconsumeTimes) retries",
                message: entry.message, at: .broker(id))
            return
        }
        let level = 3 + entry.reconsumeTimes
        let delay = RocketConfig.delayLevels[min(level, RocketConfig.delayLevels.count) - 1]
        var scheduled = entry
        scheduled.topic = .schedule
        scheduled.reconsumeTimes += 1
        scheduled.dueAt = now + delay
        append(index, scheduled)
        fact(
            "\(id) schedules retry \(scheduled.reconsumeTimes) of \(name(of: entry.message)) at delay level \(level) (\(describe(delay)))",
            message: entry.message, at: .broker(id))
        setTimer(
            .scheduleDue(copy: entry.copy, reconsumeTimes: scheduled.reconsumeTimes), for: .broker(id),
            after: delay)
    }

    func describe(_ delay: Millis) -> String {
        delay >= 3_600_000
            ? "\(delay / 3_600_000)h" : delay >= 60_000 ? "\(delay / 60_000)m" : "\(delay / 1_000)s"
    }

    mutating func scheduleDue(_ index: Int, _ copy: Int, _ reconsumeTimes: Int) {
        guard
            let scheduled = nodes[index].log.last(where: {
                $0.topic == .schedule && $0.copy == copy && $0.reconsumeTimes == reconsumeTimes
            }),
            !nodes[index].log.contains(where: {
                $0.topic == .retry && $0.copy == copy && $0.reconsumeTimes == reconsumeTimes
            })
        else { return }
        var retry = scheduled
        retry.topic = .retry
        append(index, retry)
    }
}
