// AMQP 0-9-1's wire types, as the specification's grammar names them (amqp0-9-1.pdf §4.2):
// octets, shorts, longs and long-longs in network byte order, short strings (one length
// octet), long strings (four) and field tables. Only what mqproof's clients send and read.

/// A field table value, as RabbitMQ's queue arguments and server properties use them.
enum AMQPValue: Equatable {
    case string(String)
    case int(Int64)
    case bool(Bool)
    case table([(String, AMQPValue)])
    /// A type mqproof does not read (decimal, array, ...), kept as skipped.
    case other

    static func == (a: AMQPValue, b: AMQPValue) -> Bool {
        switch (a, b) {
        case (.string(let x), .string(let y)): x == y
        case (.int(let x), .int(let y)): x == y
        case (.bool(let x), .bool(let y)): x == y
        case (.other, .other): true
        case (.table(let x), .table(let y)): x.map(\.0) == y.map(\.0) && x.map(\.1) == y.map(\.1)
        default: false
        }
    }
}

struct AMQPWriter {
    var bytes: [UInt8] = []

    mutating func octet(_ value: UInt8) { bytes.append(value) }
    mutating func short(_ value: UInt16) { bytes += [UInt8(value >> 8), UInt8(value & 0xFF)] }
    mutating func long(_ value: UInt32) {
        for shift in stride(from: 24, through: 0, by: -8) {
            bytes.append(UInt8((value >> UInt32(shift)) & 0xFF))
        }
    }
    mutating func longlong(_ value: UInt64) {
        for shift in stride(from: 56, through: 0, by: -8) {
            bytes.append(UInt8((value >> UInt64(shift)) & 0xFF))
        }
    }
    mutating func shortString(_ value: String) {
        let utf8 = Array(value.utf8.prefix(255))
        octet(UInt8(utf8.count))
        bytes += utf8
    }
    mutating func longString(_ value: [UInt8]) {
        long(UInt32(value.count))
        bytes += value
    }
    /// Consecutive bit fields share octets, lowest bit first (§4.2.5.2).
    mutating func bits(_ values: Bool...) {
        var octet: UInt8 = 0
        for (index, value) in values.enumerated() where value { octet |= 1 << UInt8(index) }
        self.octet(octet)
    }
    mutating func table(_ entries: [(String, AMQPValue)]) {
        var body = AMQPWriter()
        for (name, value) in entries {
            body.shortString(name)
            body.value(value)
        }
        long(UInt32(body.bytes.count))
        bytes += body.bytes
    }
    private mutating func value(_ value: AMQPValue) {
        switch value {
        case .string(let text):
            octet(UInt8(ascii: "S"))
            longString(Array(text.utf8))
        case .int(let number):
            octet(UInt8(ascii: "l"))
            longlong(UInt64(bitPattern: number))
        case .bool(let flag):
            octet(UInt8(ascii: "t"))
            octet(flag ? 1 : 0)
        case .table(let entries):
            octet(UInt8(ascii: "F"))
            table(entries)
        case .other:
            octet(UInt8(ascii: "V"))
        }
    }
}

struct AMQPReader {
    struct Truncated: Error {}

    let bytes: [UInt8]
    var position = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    mutating func take(_ count: Int) throws(Truncated) -> ArraySlice<UInt8> {
        guard count >= 0, position + count <= bytes.count else { throw Truncated() }
        defer { position += count }
        return bytes[position..<position + count]
    }
    mutating func octet() throws(Truncated) -> UInt8 { try take(1).first! }
    mutating func short() throws(Truncated) -> UInt16 {
        try take(2).reduce(0) { $0 << 8 | UInt16($1) }
    }
    mutating func long() throws(Truncated) -> UInt32 {
        try take(4).reduce(0) { $0 << 8 | UInt32($1) }
    }
    mutating func longlong() throws(Truncated) -> UInt64 {
        try take(8).reduce(0) { $0 << 8 | UInt64($1) }
    }
    mutating func shortString() throws(Truncated) -> String {
        let length = Int(try octet())
        return String(decoding: try take(length), as: UTF8.self)
    }
    mutating func longString() throws(Truncated) -> [UInt8] {
        let length = Int(try long())
        return Array(try take(length))
    }
    mutating func table() throws(Truncated) -> [(String, AMQPValue)] {
        let length = Int(try long())
        var inner = AMQPReader(Array(try take(length)))
        var entries: [(String, AMQPValue)] = []
        while inner.position < inner.bytes.count {
            let name = try inner.shortString()
            entries.append((name, try inner.value()))
        }
        return entries
    }
    /// RabbitMQ's field types (its errata to the 0-9-1 table), so that any table can be walked.
    private mutating func value() throws(Truncated) -> AMQPValue {
        switch try octet() {
        case UInt8(ascii: "S"): return .string(String(decoding: try longString(), as: UTF8.self))
        case UInt8(ascii: "t"): return .bool(try octet() != 0)
        case UInt8(ascii: "F"): return .table(try table())
        case UInt8(ascii: "b"), UInt8(ascii: "B"): return .int(Int64(try octet()))
        case UInt8(ascii: "s"), UInt8(ascii: "u"): return .int(Int64(try short()))
        case UInt8(ascii: "I"): return .int(Int64(Int32(bitPattern: try long())))
        case UInt8(ascii: "i"): return .int(Int64(try long()))
        case UInt8(ascii: "l"), UInt8(ascii: "L"): return .int(Int64(bitPattern: try longlong()))
        case UInt8(ascii: "T"): return .int(Int64(bitPattern: try longlong()))
        case UInt8(ascii: "f"): _ = try take(4)
        case UInt8(ascii: "d"): _ = try take(8)
        case UInt8(ascii: "D"): _ = try take(5)
        case UInt8(ascii: "x"): _ = try longString()
        case UInt8(ascii: "A"):
            let length = Int(try long())
            _ = try take(length)
        case UInt8(ascii: "V"): break
        default: throw Truncated()
        }
        return .other
    }
}
