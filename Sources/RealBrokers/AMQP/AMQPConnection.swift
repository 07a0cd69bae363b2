// An AMQP 0-9-1 client connection with one channel, written for mqproof's real-broker runs:
// the handshake (PLAIN login), synchronous methods (declare, bind, qos, consume, confirm.select)
// and the asynchronous traffic a scenario watches: deliveries, confirms (basic.ack/nack),
// returns. It never blocks longer than asked: `poll` reads what has arrived and returns.
//
// Why not rabbitmq-c: a C client would make every build of mqproof need librabbitmq-dev, for a
// feature most users run once. The subset below is small and is checked against the real broker
// by the tests that run it.
//
// Grammar: amqp0-9-1.pdf and RabbitMQ's amqp0-9-1 reference (https://www.rabbitmq.com/amqp-0-9-1-reference).

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Something a connection received that the run cares about.
enum AMQPEvent: Equatable {
    case deliver(tag: UInt64, redelivered: Bool, body: [UInt8])
    case ack(tag: UInt64, multiple: Bool)
    case nack(tag: UInt64, multiple: Bool)
    case returned(code: UInt16, text: String, body: [UInt8])
}

struct AMQPError: Error, CustomStringConvertible {
    var description: String
    /// The broker closed the channel or the connection with this reply code (404, 406, 320, ...).
    var replyCode: UInt16?

    init(_ description: String, replyCode: UInt16? = nil) {
        self.description = description
        self.replyCode = replyCode
    }
}

/// What `amqp://user:pass@host:port/vhost` names.
struct AMQPAddress: Equatable, Sendable {
    var host = "127.0.0.1"
    var port = 5672
    var user = "guest"
    var password = "guest"
    var virtualHost = "/"

    /// nil when `text` is not an amqp:// URL; the reason says what is wrong.
    static func parse(_ text: String) -> Result<AMQPAddress, AMQPError> {
        guard text.hasPrefix("amqp://") else {
            return .failure(AMQPError("expected amqp://user:pass@host:port/vhost, got '\(text)'"))
        }
        var rest = Substring(text.dropFirst("amqp://".count))
        var address = AMQPAddress()
        if let at = rest.lastIndex(of: "@") {
            let credentials = rest[..<at].split(
                separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
            address.user = String(credentials[0]).removingPercentEncodingOrSelf
            if credentials.count > 1 {
                address.password = String(credentials[1]).removingPercentEncodingOrSelf
            }
            rest = rest[rest.index(after: at)...]
        }
        if let slash = rest.firstIndex(of: "/") {
            let vhost = String(rest[rest.index(after: slash)...]).removingPercentEncodingOrSelf
            address.virtualHost = vhost.isEmpty ? "/" : vhost
            rest = rest[..<slash]
        }
        if let colon = rest.lastIndex(of: ":") {
            guard let port = Int(rest[rest.index(after: colon)...]), (1...65_535).contains(port) else {
                return .failure(AMQPError("the port in '\(text)' is not a number from 1 to 65535"))
            }
            address.port = port
            rest = rest[..<colon]
        }
        if !rest.isEmpty { address.host = String(rest) }
        return .success(address)
    }
}

extension String {
    /// `%2F` and the like, as URLs write a vhost or a password.
    fileprivate var removingPercentEncodingOrSelf: String {
        var bytes: [UInt8] = []
        var iterator = Array(utf8)[...]
        while let byte = iterator.popFirst() {
            if byte == UInt8(ascii: "%"), iterator.count >= 2,
                let value = UInt8(String(decoding: iterator.prefix(2), as: UTF8.self), radix: 16)
            {
                bytes.append(value)
                iterator = iterator.dropFirst(2)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

final class AMQPConnection {
    private var socket: Int32
    private var input: [UInt8] = []
    private var events: [AMQPEvent] = []
    /// A content-bearing method waiting for its header and body frames.
    private var content: (method: (UInt16, UInt16), arguments: [UInt8], size: Int, body: [UInt8])?
    private var headerSeen = false
    private(set) var isOpen = true
    /// What the broker said of itself in connection.start (product, version, ...).
    private(set) var serverProperties: [(String, AMQPValue)] = []
    private var frameMax = 131_072

    var serverVersion: String? {
        serverProperties.first { $0.0 == "version" }.flatMap {
            if case .string(let v) = $0.1 { v } else { nil }
        }
    }
    var serverProduct: String? {
        serverProperties.first { $0.0 == "product" }.flatMap {
            if case .string(let v) = $0.1 { v } else { nil }
        }
    }

    private init(socket: Int32) { self.socket = socket }

    deinit { if socket >= 0 { close(socket) } }

    /// Connects, logs in and opens channel 1.
    static func open(_ address: AMQPAddress, name: String) throws(AMQPError) -> AMQPConnection {
        let connection = AMQPConnection(socket: try Self.connectSocket(address))
        try connection.handshake(address, name: name)
        return connection
    }

    private static func connectSocket(_ address: AMQPAddress) throws(AMQPError) -> Int32 {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        #if canImport(Glibc)
            hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        #else
            hints.ai_socktype = SOCK_STREAM
        #endif
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(address.host, String(address.port), &hints, &list) == 0, let first = list else {
            throw AMQPError("cannot resolve host '\(address.host)'")
        }
        defer { freeaddrinfo(list) }
        var lastError: Int32 = 0
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let info = entry {
            let fd = Glibc.socket(info.pointee.ai_family, info.pointee.ai_socktype, info.pointee.ai_protocol)
            if fd >= 0 {
                if connect(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 {
                    var on: Int32 = 1
                    setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &on, socklen_t(MemoryLayout<Int32>.size))
                    return fd
                }
                lastError = errno
                close(fd)
            }
            entry = info.pointee.ai_next
        }
        throw AMQPError(
            "cannot connect to \(address.host):\(address.port): \(String(cString: strerror(lastError)))")
    }

    // MARK: - Handshake

    private func handshake(_ address: AMQPAddress, name: String) throws(AMQPError) {
        try write(Array("AMQP".utf8) + [0, 0, 9, 1])
        var start = try expect(10, 10, timeoutMs: 10_000)
        do {
            _ = try start.octet()
            _ = try start.octet()
            serverProperties = try start.table()
        } catch { throw AMQPError("malformed connection.start") }

        var startOk = AMQPWriter()
        startOk.table([
            ("product", .string("mqproof")),
            ("connection_name", .string(name)),
            (
                "capabilities",
                .table([
                    ("publisher_confirms", .bool(true)), ("basic.nack", .bool(true)),
                    ("consumer_cancel_notify", .bool(true)),
                ])
            ),
        ])
        startOk.shortString("PLAIN")
        startOk.longString([0] + Array(address.user.utf8) + [0] + Array(address.password.utf8))
        startOk.shortString("en_US")
        try send(10, 11, startOk, channel: 0)

        var tune = try expect(10, 30, timeoutMs: 10_000)
        let channelMax: UInt16
        do {
            channelMax = try tune.short()
            let serverFrameMax = Int(try tune.long())
            if serverFrameMax > 0 { frameMax = min(frameMax, serverFrameMax) }
        } catch { throw AMQPError("malformed connection.tune") }
        var tuneOk = AMQPWriter()
        tuneOk.short(channelMax == 0 ? 1 : min(channelMax, 1))
        tuneOk.long(UInt32(frameMax))
        // No heartbeats: a run lasts seconds, and a paused node must not be told apart by them.
        tuneOk.short(0)
        try send(10, 31, tuneOk, channel: 0)

        var open = AMQPWriter()
        open.shortString(address.virtualHost)
        open.shortString("")
        open.bits(false)
        try send(10, 40, open, channel: 0)
        _ = try expect(10, 41, timeoutMs: 10_000)

        var channelOpen = AMQPWriter()
        channelOpen.shortString("")
        try send(20, 10, channelOpen)
        _ = try expect(20, 11, timeoutMs: 10_000)
    }

    // MARK: - Methods

    func declareExchange(_ name: String, type: String, durable: Bool) throws(AMQPError) {
        var arguments = AMQPWriter()
        arguments.short(0)
        arguments.shortString(name)
        arguments.shortString(type)
        arguments.bits(false, durable, false, false, false)
        arguments.table([])
        try send(40, 10, arguments)
        _ = try expect(40, 11)
    }

    func deleteExchange(_ name: String) throws(AMQPError) {
        var arguments = AMQPWriter()
        arguments.short(0)
        arguments.shortString(name)
        arguments.bits(false, false)
        try send(40, 20, arguments)
        _ = try expect(40, 21)
    }

    /// Returns the number of ready messages (a passive declare reads it without changing anything).
    @discardableResult
    func declareQueue(
        _ name: String, durable: Bool, passive: Bool = false, arguments table: [(String, AMQPValue)] = []
    ) throws(AMQPError) -> Int {
        var arguments = AMQPWriter()
        arguments.short(0)
        arguments.shortString(name)
        arguments.bits(passive, durable, false, false, false)
        arguments.table(table)
        try send(50, 10, arguments)
        var reply = try expect(50, 11)
        do {
            _ = try reply.shortString()
            return Int(try reply.long())
        } catch { throw AMQPError("malformed queue.declare-ok") }
    }

    func deleteQueue(_ name: String) throws(AMQPError) {
        var arguments = AMQPWriter()
        arguments.short(0)
        arguments.shortString(name)
        arguments.bits(false, false, false)
        try send(50, 40, arguments)
        _ = try expect(50, 41)
    }

    func bind(queue: String, exchange: String, key: String) throws(AMQPError) {
        var arguments = AMQPWriter()
        arguments.short(0)
        arguments.shortString(queue)
        arguments.shortString(exchange)
        arguments.shortString(key)
        arguments.bits(false)
        arguments.table([])
        try send(50, 20, arguments)
        _ = try expect(50, 21)
    }

    func confirmSelect() throws(AMQPError) {
        var arguments = AMQPWriter()
        arguments.bits(false)
        try send(85, 10, arguments)
        _ = try expect(85, 11)
    }

    func qos(prefetchCount: Int) throws(AMQPError) {
        var arguments = AMQPWriter()
        arguments.long(0)
        arguments.short(UInt16(min(prefetchCount, 65_535)))
        arguments.bits(false)
        try send(60, 10, arguments)
        _ = try expect(60, 11)
    }

    func consume(queue: String, noAck: Bool) throws(AMQPError) {
        var arguments = AMQPWriter()
        arguments.short(0)
        arguments.shortString(queue)
        arguments.shortString("")
        arguments.bits(false, noAck, false, false)
        arguments.table([])
        try send(60, 20, arguments)
        _ = try expect(60, 21)
    }

    func publish(
        exchange: String, routingKey: String, mandatory: Bool, persistent: Bool, expirationMs: Int? = nil,
        priority: Int? = nil, body: [UInt8]
    )
        throws(AMQPError)
    {
        var method = AMQPWriter()
        method.short(0)
        method.shortString(exchange)
        method.shortString(routingKey)
        method.bits(mandatory, false)
        var header = AMQPWriter()
        header.short(60)
        header.short(0)
        header.longlong(UInt64(body.count))
        // Property flags, highest bit first: delivery-mode (bit 12), priority (11), expiration
        // (8); the properties follow in that order, expiration as a string of milliseconds.
        header.short(1 << 12 | (priority == nil ? 0 : 1 << 11) | (expirationMs == nil ? 0 : 1 << 8))
        header.octet(persistent ? 2 : 1)
        if let priority { header.octet(UInt8(min(255, max(0, priority)))) }
        if let expirationMs { header.shortString(String(expirationMs)) }
        var frames = frame(type: 1, channel: 1, payload: methodPayload(60, 40, method))
        frames += frame(type: 2, channel: 1, payload: header.bytes)
        var offset = 0
        repeat {
            let end = min(body.count, offset + frameMax - 8)
            frames += frame(type: 3, channel: 1, payload: Array(body[offset..<end]))
            offset = end
        } while offset < body.count
        try write(frames)
    }

    func ack(_ tag: UInt64) throws(AMQPError) {
        var arguments = AMQPWriter()
        arguments.longlong(tag)
        arguments.bits(false)
        try send(60, 80, arguments)
    }

    func reject(_ tag: UInt64, requeue: Bool) throws(AMQPError) {
        var arguments = AMQPWriter()
        arguments.longlong(tag)
        arguments.bits(requeue)
        try send(60, 90, arguments)
    }

    func nack(_ tag: UInt64, requeue: Bool) throws(AMQPError) {
        var arguments = AMQPWriter()
        arguments.longlong(tag)
        arguments.bits(false, requeue)
        try send(60, 120, arguments)
    }

    /// basic.get with no-ack: the next ready message's body, or nil when the queue is empty.
    func get(queue: String) throws(AMQPError) -> [UInt8]? {
        var arguments = AMQPWriter()
        arguments.short(0)
        arguments.shortString(queue)
        arguments.bits(true)
        try send(60, 70, arguments)
        let deadline = Clock.milliseconds() + 10_000
        while true {
            if let reply = try readMethod(until: deadline, wanting: [(60, 71), (60, 72)]) {
                if reply.method == (60, 72) { return nil }
                return reply.body
            }
        }
    }

    /// Closes cleanly: the broker requeues what this connection had unacked before it answers.
    func closeCleanly() {
        guard isOpen else { return }
        var arguments = AMQPWriter()
        arguments.short(200)
        arguments.shortString("mqproof: done")
        arguments.short(0)
        arguments.short(0)
        do {
            try send(10, 50, arguments, channel: 0)
            _ = try readMethod(until: Clock.milliseconds() + 2_000, wanting: [(10, 51)])
        } catch {}
        abort()
    }

    /// Closes the socket without a word, as the operating system does for a process that died.
    func abort() {
        isOpen = false
        if socket >= 0 {
            close(socket)
            socket = -1
        }
    }

    /// What arrived within `timeoutMs` (0: only what is already there).
    func poll(timeoutMs: Int) throws(AMQPError) -> [AMQPEvent] {
        if events.isEmpty { try receive(timeoutMs: timeoutMs) }
        while try decodeFrame(wanting: []) != nil {}
        defer { events = [] }
        return events
    }

    // MARK: - Frames

    private func methodPayload(_ classID: UInt16, _ methodID: UInt16, _ arguments: AMQPWriter) -> [UInt8] {
        var payload = AMQPWriter()
        payload.short(classID)
        payload.short(methodID)
        return payload.bytes + arguments.bytes
    }

    private func frame(type: UInt8, channel: UInt16, payload: [UInt8]) -> [UInt8] {
        var frame = AMQPWriter()
        frame.octet(type)
        frame.short(channel)
        frame.long(UInt32(payload.count))
        return frame.bytes + payload + [0xCE]
    }

    private func send(_ classID: UInt16, _ methodID: UInt16, _ arguments: AMQPWriter, channel: UInt16 = 1)
        throws(AMQPError)
    {
        try write(frame(type: 1, channel: channel, payload: methodPayload(classID, methodID, arguments)))
    }

    private func write(_ bytes: [UInt8]) throws(AMQPError) {
        guard isOpen else { throw AMQPError("connection closed") }
        var sent = 0
        while sent < bytes.count {
            let count = bytes[sent...].withUnsafeBytes { buffer in
                #if canImport(Glibc)
                    Glibc.send(socket, buffer.baseAddress, buffer.count, Int32(MSG_NOSIGNAL))
                #else
                    Darwin.send(socket, buffer.baseAddress, buffer.count, 0)
                #endif
            }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else {
                abort()
                throw AMQPError("connection lost")
            }
            sent += count
        }
    }

    /// Waits for a synchronous reply on the channel, keeping whatever else arrives.
    private func expect(_ classID: UInt16, _ methodID: UInt16, timeoutMs: Int = 10_000) throws(AMQPError)
        -> AMQPReader
    {
        let deadline = Clock.milliseconds() + timeoutMs
        while true {
            if let reply = try readMethod(until: deadline, wanting: [(classID, methodID)]) {
                return AMQPReader(reply.arguments)
            }
        }
    }

    private func readMethod(until deadline: Int, wanting: [(UInt16, UInt16)]) throws(AMQPError) -> (
        method: (UInt16, UInt16), arguments: [UInt8], body: [UInt8]
    )? {
        while true {
            if let found = try decodeFrame(wanting: wanting) { return found }
            let left = deadline - Clock.milliseconds()
            guard left > 0 else { throw AMQPError("no answer from the broker within the time allowed") }
            try receive(timeoutMs: left)
        }
    }

    private func receive(timeoutMs: Int) throws(AMQPError) {
        guard isOpen else { throw AMQPError("connection lost") }
        var descriptor = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
        let ready = Glibc.poll(&descriptor, 1, Int32(max(0, timeoutMs)))
        guard ready > 0 else { return }
        var buffer = [UInt8](repeating: 0, count: 65_536)
        let count = buffer.withUnsafeMutableBytes { recv(socket, $0.baseAddress, $0.count, 0) }
        if count < 0 && (errno == EINTR || errno == EAGAIN) { return }
        guard count > 0 else {
            abort()
            throw AMQPError("connection lost")
        }
        input += buffer[0..<count]
    }

    /// Decodes one whole frame from the input, if there is one. Returns a wanted method's reply;
    /// keeps events; answers the broker's close.
    private func decodeFrame(wanting: [(UInt16, UInt16)]) throws(AMQPError) -> (
        method: (UInt16, UInt16), arguments: [UInt8], body: [UInt8]
    )? {
        while input.count >= 8 {
            let size = Int(input[3]) << 24 | Int(input[4]) << 16 | Int(input[5]) << 8 | Int(input[6])
            guard input.count >= 8 + size else { return nil }
            let type = input[0]
            let payload = Array(input[7..<7 + size])
            guard input[7 + size] == 0xCE else {
                abort()
                throw AMQPError("malformed frame from the broker")
            }
            input.removeFirst(8 + size)
            switch type {
            case 1:
                var reader = AMQPReader(payload)
                let classID: UInt16
                let methodID: UInt16
                do {
                    classID = try reader.short()
                    methodID = try reader.short()
                } catch { throw AMQPError("malformed method frame") }
                let arguments = Array(payload[4...])
                if (classID, methodID) == (10, 50) || (classID, methodID) == (20, 40) {
                    var close = AMQPReader(arguments)
                    let code = (try? close.short()) ?? 0
                    let text = (try? close.shortString()) ?? ""
                    if classID == 10 { try? send(10, 51, AMQPWriter(), channel: 0) }
                    abort()
                    throw AMQPError(
                        "the broker closed the \(classID == 10 ? "connection" : "channel"): \(code) \(text)",
                        replyCode: code)
                }
                if [(60, 60), (60, 50), (60, 71)].contains(where: { $0 == (classID, methodID) }) {
                    content = ((classID, methodID), arguments, 0, [])
                    headerSeen = false
                    continue
                }
                if wanting.contains(where: { $0 == (classID, methodID) }) {
                    return ((classID, methodID), arguments, [])
                }
                event(classID, methodID, arguments, body: [])
            case 2:
                guard content != nil else { continue }
                var reader = AMQPReader(payload)
                do {
                    _ = try reader.short()
                    _ = try reader.short()
                    content!.size = Int(try reader.longlong())
                } catch { throw AMQPError("malformed content header") }
                headerSeen = true
                if content!.size == 0, let done = finishContent(wanting: wanting) { return done }
            case 3:
                guard content != nil, headerSeen else { continue }
                content!.body += payload
                if content!.body.count >= content!.size, let done = finishContent(wanting: wanting) {
                    return done
                }
            default:
                continue  // heartbeats: none are negotiated
            }
        }
        return nil
    }

    private func finishContent(wanting: [(UInt16, UInt16)]) -> (
        method: (UInt16, UInt16), arguments: [UInt8], body: [UInt8]
    )? {
        guard let done = content else { return nil }
        content = nil
        if wanting.contains(where: { $0 == done.method }) { return (done.method, done.arguments, done.body) }
        event(done.method.0, done.method.1, done.arguments, body: done.body)
        return nil
    }

    private func event(_ classID: UInt16, _ methodID: UInt16, _ arguments: [UInt8], body: [UInt8]) {
        var reader = AMQPReader(arguments)
        do {
            switch (classID, methodID) {
            case (60, 60):
                _ = try reader.shortString()
                let tag = try reader.longlong()
                let redelivered = try reader.octet() & 1 != 0
                events.append(.deliver(tag: tag, redelivered: redelivered, body: body))
            case (60, 80):
                events.append(.ack(tag: try reader.longlong(), multiple: try reader.octet() & 1 != 0))
            case (60, 120):
                events.append(.nack(tag: try reader.longlong(), multiple: try reader.octet() & 1 != 0))
            case (60, 50):
                let code = try reader.short()
                events.append(.returned(code: code, text: try reader.shortString(), body: body))
            default:
                break  // connection.blocked and the like: not part of any scenario yet
            }
        } catch {}
    }
}

/// Milliseconds on a monotonic clock: real runs measure time; the simulator never does.
enum Clock {
    static func milliseconds() -> Int {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return now.tv_sec * 1_000 + now.tv_nsec / 1_000_000
    }
}
