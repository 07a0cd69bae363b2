import Simulation

/// Parses one scenario step, a short sentence, into a `Step`. The grammar is in
/// scenarios/README.md; every sentence starts with its verb.
enum StepParser {
    struct Failure: Error {
        var reason: String
    }

    static let defaultWaitTimeout: Millis = 120_000

    static func parse(_ sentence: String) -> Result<Step, Failure> {
        do {
            return .success(try parseOrThrow(sentence))
        } catch {
            return .failure(error)
        }
    }

    private static func parseOrThrow(_ sentence: String) throws(Failure) -> Step {
        // Commas and braces only separate list items: "isr is {1, 2}" reads as "isr is 1 2".
        let words = sentence.split { $0 == " " || $0 == "," || $0 == "{" || $0 == "}" }.map(String.init)
        guard let verb = words.first else { throw Failure(reason: "empty step") }
        var rest = Array(words.dropFirst())
        switch verb {
        case "produce", "publish", "send":
            var producer = 1
            var every: Millis?
            if let by = rest.firstIndex(of: "by"), by + 1 < rest.count {
                guard case .producer(let index) = try node(rest[by + 1]) else {
                    throw Failure(reason: "'by' names a producer: p1, p2, ...")
                }
                producer = index
                rest.removeSubrange(by...(by + 1))
            }
            if let index = rest.firstIndex(of: "every"), index + 1 < rest.count {
                every = try duration(rest[index + 1])
                rest.removeSubrange(index...(index + 1))
            }
            var properties = MessageProperties()
            if let index = rest.firstIndex(of: "expiration") {
                guard index + 1 < rest.count else {
                    throw Failure(reason: "expiration how long? e.g. 'publish m expiration 10s'")
                }
                properties.expirationMs = try duration(rest[index + 1])
                rest.removeSubrange(index...(index + 1))
            }
            if let index = rest.firstIndex(of: "priority") {
                guard index + 1 < rest.count, let priority = Int(rest[index + 1]),
                    (0...255).contains(priority)
                else {
                    throw Failure(reason: "priority is a number from 0 to 255, e.g. 'publish m priority 5'")
                }
                properties.priority = priority
                rest.removeSubrange(index...(index + 1))
            }
            if let index = rest.firstIndex(of: "delay-level") {
                guard index + 1 < rest.count, let level = Int(rest[index + 1]), (0...1_000).contains(level)
                else {
                    throw Failure(
                        reason: "delay-level is a number from 0 to 18, e.g. 'send m delay-level 3' (10 s)")
                }
                properties.delayLevel = level
                rest.removeSubrange(index...(index + 1))
            }
            if let index = rest.firstIndex(of: "key") {
                guard index + 1 < rest.count else {
                    throw Failure(reason: "key what? e.g. 'produce m1..m3 key user-1'")
                }
                properties.key = rest[index + 1]
                rest.removeSubrange(index...(index + 1))
            }
            if let index = rest.firstIndex(of: "tombstone") {
                properties.tombstone = true
                rest.remove(at: index)
            }
            if let index = rest.firstIndex(of: "keys") {
                guard index + 1 < rest.count, let count = Int(rest[index + 1]), (1...10_000).contains(count)
                else {
                    throw Failure(reason: "keys how many? e.g. 'produce 100 keys 8' (keys k0..k7 in turn)")
                }
                properties.keyCycle = count
                rest.removeSubrange(index...(index + 1))
            }
            guard !rest.isEmpty else {
                throw Failure(reason: "produce what? e.g. 'produce m', 'produce m1..m5' or 'produce 100'")
            }
            for name in rest {
                let count = messageCount(name)
                guard (1...ScenarioFile.Limits.messagesPerStep).contains(count) else {
                    throw Failure(
                        reason:
                            "'\(name)' asks for \(count < 1 ? "no" : "too many") messages: a step sends 1 to \(ScenarioFile.Limits.messagesPerStep)"
                    )
                }
            }
            return .produce(names: rest, producer: producer, everyMs: every, properties: properties)
        case "wait":
            guard let first = rest.first else {
                throw Failure(reason: "wait how long, or until what? e.g. 'wait 500ms'")
            }
            if first != "until" {
                guard rest.count == 1 else {
                    throw Failure(reason: "'wait' takes one duration, e.g. 'wait 2s'")
                }
                return .wait(try duration(first))
            }
            var timeout = defaultWaitTimeout
            if let within = rest.firstIndex(of: "within"), within + 1 < rest.count {
                timeout = try duration(rest[within + 1])
                rest.removeSubrange(within...(within + 1))
            }
            return .waitUntil(try condition(Array(rest.dropFirst())), timeoutMs: timeout)
        case "crash", "power-loss", "disk-loss":
            let fault: Fault = verb == "crash" ? .crash : verb == "power-loss" ? .powerLoss : .diskLoss
            let target = try single(rest, verb)
            if verb != "crash", case .producer = target {
                throw Failure(reason: "\(verb) applies to brokers")
            }
            if verb != "crash", case .consumer = target {
                throw Failure(reason: "\(verb) applies to brokers")
            }
            return .fault(target, fault)
        case "restart":
            return .restart(try single(rest, verb))
        case "pause":
            guard rest.count == 3, rest[1] == "for" else { throw Failure(reason: "write: pause B2 for 5s") }
            return .pause(try node(rest[0]), try duration(rest[2]))
        case "partition":
            let arrow = rest.firstIndex(of: "->")
            guard let split = arrow ?? rest.firstIndex(of: "|") else {
                throw Failure(
                    reason: "write: partition B1 | B2 B3 (both ways) or partition B1 -> B2 (one way)")
            }
            let sideA = try rest[..<split].map(node)
            let sideB = try rest[(split + 1)...].map(node)
            guard !sideA.isEmpty, !sideB.isEmpty else {
                throw Failure(reason: "a partition needs nodes on both sides")
            }
            return .partition(sideA, sideB, oneWay: arrow != nil)
        case "isolate":
            return .isolate(try single(rest, verb))
        case "heal":
            guard rest.isEmpty else {
                throw Failure(reason: "'heal' takes nothing: it ends every partition and delay")
            }
            return .heal
        case "drop":
            // drop next <kind> ... | drop 10% of <kind> ...
            if rest.first == "next", rest.count >= 2 {
                let (from, to) = try endpoints(Array(rest.dropFirst(2)))
                return .drop(try messageKind(rest[1]), from: from, to: to, effect: .dropNext)
            }
            if rest.count >= 3, rest[0].hasSuffix("%"), let percent = Int(rest[0].dropLast()),
                (0...100).contains(percent),
                rest[1] == "of"
            {
                let (from, to) = try endpoints(Array(rest.dropFirst(3)))
                return .drop(
                    try messageKind(rest[2]), from: from, to: to,
                    effect: .dropSome(numerator: percent, denominator: 100))
            }
            throw Failure(
                reason:
                    "write: drop next produce-response to p1, or drop 10% of fetch from B2 (kinds: \(kinds))")
        case "duplicate", "reorder":
            guard rest.first == "next", rest.count >= 2 else {
                throw Failure(reason: "write: \(verb) next produce to B1 (kinds: \(kinds))")
            }
            let (from, to) = try endpoints(Array(rest.dropFirst(2)))
            return .drop(
                try messageKind(rest[1]), from: from, to: to,
                effect: verb == "duplicate" ? .duplicateNext : .reorderNext(50))
        case "delay":
            guard let by = rest.firstIndex(of: "by"), by + 1 < rest.count, by >= 1 else {
                throw Failure(
                    reason:
                        "write: delay fetch-response from B1 by 5s, or by 10-50ms (kinds: \(kinds), or all)")
            }
            let kind = try messageKind(rest[0])
            let (from, to) = try endpoints(Array(rest[1..<by]))
            let amount = rest[by + 1]
            if amount.contains("-"), !amount.hasPrefix("-") {
                guard let range = ScenarioFile.range(amount) else {
                    throw Failure(
                        reason: "'\(amount)' is not a range of durations from 0 to 24h, such as 10-50ms")
                }
                return .delay(kind, from: from, to: to, milliseconds: range)
            }
            let milliseconds = try duration(amount)
            return .delay(kind, from: from, to: to, milliseconds: milliseconds...milliseconds)
        case "resend":
            guard rest.first == "unacknowledged" else {
                throw Failure(reason: "write: resend unacknowledged [p1]")
            }
            if rest.count > 1, case .producer(let index) = try node(rest[1]) {
                return .resendUnacknowledged(producer: index)
            }
            return .resendUnacknowledged(producer: 1)
        case "seek":
            // seek c1 to 0
            guard rest.count == 3, rest[1] == "to", let offset = Int(rest[2]), offset >= 0,
                case .consumer(let index) = try node(rest[0])
            else { throw Failure(reason: "write: seek c1 to 0 (a consumer and an offset)") }
            return .seek(consumer: index, offset: offset)
        case "add":
            // add partitions 4
            guard rest.count == 2, rest[0] == "partitions", let count = Int(rest[1]), (2...64).contains(count)
            else { throw Failure(reason: "write: add partitions 4 (the new partition count, 2 to 64)") }
            return .addPartitions(count)
        case "begin", "commit", "abort":
            // begin p1 | commit p1 | abort p1
            let target = rest.isEmpty ? NodeReference.producer(1) : try single(rest, verb)
            guard case .producer(let index) = target, let action = TransactionAction(rawValue: verb) else {
                throw Failure(reason: "write: \(verb) p1 (a transactional producer)")
            }
            return .transaction(producer: index, action)
        case "alarm", "clear":
            // alarm B1 memory | clear alarm B1 memory
            let words = verb == "clear" && rest.first == "alarm" ? Array(rest.dropFirst()) : rest
            guard verb == "alarm" || rest.first == "alarm", words.count == 2,
                let alarm = ResourceAlarm(rawValue: words[1])
            else {
                throw Failure(reason: "write: alarm B1 memory (or disk), and clear alarm B1 memory")
            }
            guard case .broker = try node(words[0]) else {
                throw Failure(reason: "an alarm is a node's: B1, B2, ...")
            }
            return .alarm(try node(words[0]), alarm, raised: verb == "alarm")
        case "start", "stop":
            guard case .consumer(let index) = try single(rest, verb) else {
                throw Failure(reason: "\(verb) applies to consumers: c1, c2, ...")
            }
            return verb == "start" ? .startConsumer(index) : .stopConsumer(index)
        default:
            throw Failure(
                reason:
                    "unknown step '\(verb)' (steps: produce, wait, wait until, crash, power-loss, disk-loss, restart, pause, partition, isolate, heal, drop, duplicate next, reorder next, delay, resend unacknowledged, start, stop, seek, alarm, clear alarm, add partitions, begin, commit, abort)"
            )
        }
    }

    private static var kinds: String { MessageKind.allCases.map(\.rawValue).joined(separator: ", ") }

    private static func messageKind(_ word: String) throws(Failure) -> MessageKind? {
        if word == "all" || word == "any" { return nil }
        guard let kind = MessageKind(rawValue: word) else {
            throw Failure(reason: "unknown message kind '\(word)' (kinds: \(kinds))")
        }
        return kind
    }

    private static func endpoints(_ words: [String]) throws(Failure) -> (NodeReference?, NodeReference?) {
        var from: NodeReference?
        var to: NodeReference?
        var index = 0
        while index < words.count {
            guard index + 1 < words.count else {
                throw Failure(reason: "'\(words[index])' needs a node after it")
            }
            switch words[index] {
            case "from": from = try node(words[index + 1])
            case "to": to = try node(words[index + 1])
            default: throw Failure(reason: "expected 'from' or 'to', not '\(words[index])'")
            }
            index += 2
        }
        return (from, to)
    }

    private static func single(_ words: [String], _ verb: String) throws(Failure) -> NodeReference {
        guard words.count == 1 else {
            throw Failure(reason: "'\(verb)' takes one node, e.g. '\(verb) B1' or '\(verb) leader'")
        }
        return try node(words[0])
    }

    static func node(_ word: String) throws(Failure) -> NodeReference {
        switch word {
        case "leader": return .leader
        case "follower": return .follower
        case "controller": return .controller
        default:
            if let number = Int(word.dropFirst()), number >= 1 {
                switch word.first {
                case "B", "b": return .broker(BrokerID(number))
                case "p": return .producer(number)
                case "c": return .consumer(number)
                default: break
                }
            }
            throw Failure(
                reason: "unknown node '\(word)' (nodes: B1, B2, ..., leader, follower, controller, p1, c1)")
        }
    }

    private static func broker(_ word: String) throws(Failure) -> BrokerID {
        if let number = Int(word), number >= 1 { return BrokerID(number) }
        guard case .broker(let id) = try node(word) else {
            throw Failure(reason: "'\(word)' is not a broker")
        }
        return id
    }

    private static func duration(_ word: String) throws(Failure) -> Millis {
        guard let milliseconds = ScenarioFile.duration(word) else {
            throw Failure(
                reason: "'\(word)' is not a duration from 0 to 24h (write 500, 500ms, 5s, 2m or 1h)")
        }
        return milliseconds
    }

    /// How many messages a `produce` name stands for, read as the runner expands it: a count
    /// (100), a range (m1..m5, five), or one name. A count that is negative or does not fit a
    /// number counts as 0 or as too many, so that the step is refused.
    static func messageCount(_ name: String) -> Int {
        if name.first == "-" || name.first == "+" { return 0 }
        if !name.isEmpty, name.allSatisfy({ $0.isASCII && $0.isNumber }) { return Int(name) ?? Int.max }
        let parts = name.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[1].isEmpty else { return 1 }
        let prefix = parts[0].prefix { !$0.isNumber }
        guard let low = Int(parts[0].dropFirst(prefix.count)), let high = Int(parts[2].drop { !$0.isNumber }),
            low <= high
        else { return 1 }
        let (span, overflow) = high.subtractingReportingOverflow(low)
        return overflow || span == Int.max ? Int.max : span + 1
    }

    /// The condition words after `wait until`.
    private static func condition(_ words: [String]) throws(Failure) -> Condition {
        let text = words.joined(separator: " ")
        switch words.first {
        case "acknowledged":
            guard words.count > 1 else {
                throw Failure(reason: "acknowledged what? e.g. 'wait until acknowledged m'")
            }
            return .acknowledged(Array(words.dropFirst()))
        case "all":
            guard text == "all completed" || text == "all acknowledged" || text == "all sends completed"
            else { break }
            return .allCompleted
        case "isr":
            let members = words.dropFirst().filter { $0 != "is" && $0 != "=" }
            guard !members.isEmpty else { throw Failure(reason: "write: wait until isr is {1, 2}") }
            return .isr(try members.map(broker))
        case "leader":
            let rest = words.dropFirst().filter { $0 != "is" && $0 != "=" }
            guard rest.count == 1 else {
                throw Failure(reason: "write: wait until leader is B2 (or: leader is none)")
            }
            return rest[0] == "none" ? .offline : .leaderIs(try broker(rest[0]))
        case "offline":
            return .offline
        case "committed":
            guard words.count == 2, let offset = Int(words[1]) else {
                throw Failure(reason: "write: wait until committed 10")
            }
            return .committed(offset)
        default:
            if words.count == 3, words[1] == "has" {
                return .replicated(message: words[2], on: try broker(words[0]))
            }
            if words.count == 3, words[1] == "processed" || words[1] == "polled", let count = Int(words[2]),
                case .consumer(let index) = try node(words[0])
            {
                return words[1] == "processed"
                    ? .processed(consumer: index, count: count) : .polled(consumer: index, count: count)
            }
            if words.count == 2, words[1] == "acknowledged" { return .acknowledged([words[0]]) }
        }
        throw Failure(
            reason:
                "unknown condition '\(text)' (conditions: acknowledged m, all completed, isr is {1,2}, leader is B2, leader is none, B2 has m, c1 processed 10, c1 polled 10, committed 10)"
        )
    }
}
