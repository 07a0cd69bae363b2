/// A world's message names, by id. A scenario names a few messages (`m`, `n`) and numbers the
/// rest (`produce 1000` gives #1 ... #1000). Numbered names are kept as numbers and spelled out
/// only when asked for: a sweep creates a thousand per run and reads almost none.
struct MessageNames: Sendable {
    private enum Name: Sendable {
        case given(String)
        case numbered(Int)
    }

    private var names: [Name] = []
    /// Given names only; a numbered name is found by its number.
    private var given: [String: MessageID] = [:]

    var count: Int { names.count }

    subscript(message: MessageID) -> String {
        switch names[message.value] {
        case .given(let name): name
        case .numbered(let number): "#\(number)"
        }
    }

    /// The id of a name, if some message has it.
    func id(of name: String) -> MessageID? {
        if let id = given[name] { return id }
        guard name.hasPrefix("#"), let number = Int(name.dropFirst()) else { return nil }
        return names.firstIndex {
            if case .numbered(number) = $0 { true } else { false }
        }.map(MessageID.init)
    }

    /// The id for a name, creating it on first use.
    mutating func id(forName name: String) -> MessageID {
        if let existing = id(of: name) { return existing }
        let id = MessageID(names.count)
        names.append(.given(name))
        given[name] = id
        return id
    }

    /// Ids for `count` new messages numbered `#first`, `#first+1`, ... (the runner numbers
    /// them past every number it used before, so they are new).
    mutating func numbered(count: Int, first: Int) -> [MessageID] {
        let start = names.count
        names.reserveCapacity(start + count)
        for number in first..<(first + count) { names.append(.numbered(number)) }
        return (start..<(start + count)).map(MessageID.init)
    }
}
