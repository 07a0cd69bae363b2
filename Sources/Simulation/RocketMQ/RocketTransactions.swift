// Transactional half messages: commit, rollback and the broker's check-back.

extension RocketWorld {
    // MARK: - Broker: transactions

    func halfResolved(_ index: Int, copy: Int) -> Bool {
        nodes[index].log.contains { $0.topic == .op && $0.copy == copy }
    }

    mutating func endTransaction(_ index: Int, copy: Int, commit: Bool?, fromCheck: Bool) {
        let id = nodes[index].id
        guard let commit, let half = nodes[index].log.last(where: { $0.topic == .half && $0.copy == copy }),
            !halfResolved(index, copy: copy)
        else { return }
        if commit {
            var visible = half
            visible.topic = .topic
            append(index, visible)
            fact(
                "\(id) commits half message \(name(of: half.message)): written to the real topic, now visible",
                message: half.message, at: .broker(id))
        } else {
            fact(
                "\(id) rolls back half message \(name(of: half.message))", message: half.message,
                at: .broker(id))
        }
        var op = half
        op.topic = .op
        append(index, op)
    }

    mutating func transactionCheck(_ index: Int) {
        let id = nodes[index].id
        setTimer(.transactionCheck, for: .broker(id), after: config.transactionCheckInterval)
        var latest: [Int: CommitLogEntry] = [:]
        var order: [Int] = []
        for entry in nodes[index].log where entry.topic == .half {
            if latest[entry.copy] == nil { order.append(entry.copy) }
            latest[entry.copy] = entry
        }
        for copy in order {
            guard var half = latest[copy], !halfResolved(index, copy: copy),
                now - half.bornAt >= config.transactionTimeOut
            else { continue }
            if half.checkTimes >= config.transactionCheckMax {
                var discarded = half
                discarded.topic = .checkMax
                append(index, discarded)
                var op = half
                op.topic = .op
                append(index, op)
                fact(
                    "\(id) discards half message \(name(of: half.message)) to TRANS_CHECK_MAX_TIME_TOPIC after \(half.checkTimes) checks",
                    message: half.message, at: .broker(id))
                continue
            }
            // The half message is put back with its check count raised, then checked.
            half.checkTimes += 1
            append(index, half)
            guard let producer = producers.indices.first(where: { engine.isUp(.producer($0 + 1)) }) else {
                fact(
                    "\(id): no live producer in the group to check \(name(of: half.message))",
                    message: half.message,
                    at: .broker(id))
                continue
            }
            fact(
                "\(id) checks back half message \(name(of: half.message)) with p\(producer + 1) (check \(half.checkTimes))",
                message: half.message, at: .broker(id))
            engine.transmit(
                .checkTransaction(copy: copy, message: half.message), from: .broker(id),
                to: .producer(producer + 1))
        }
    }
}
