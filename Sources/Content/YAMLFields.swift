import Yams

/// Reads the fields of one YAML mapping, reporting every missing, mistyped or unknown field with
/// its line instead of stopping at the first.
struct Fields {
    let file: String
    let line: Int
    private let pairs: [(key: String, node: Node, keyLine: Int)]
    private var used: Set<String> = []
    /// False when the node was not a mapping at all; that is reported once, not once per field.
    private let isMapping: Bool

    init(_ node: Node, file: String, what: String, log: inout ProblemLog) {
        self.file = file
        self.line = node.line
        if let mapping = node.mapping {
            pairs = mapping.map { (key: $0.key.string ?? "", node: $0.value, keyLine: $0.key.line) }
            isMapping = true
        } else {
            log.report(file, node.line, "expected \(what) with named fields here")
            pairs = []
            isMapping = false
        }
    }

    func node(_ key: String) -> Node? {
        pairs.first { $0.key == key }?.node
    }

    /// A field the caller reads by hand: known from now on, nil when absent.
    mutating func optionalNode(_ key: String) -> Node? {
        used.insert(key)
        return node(key)
    }

    /// Reports every field no accessor asked for: a typo such as `key_point` must not pass silently.
    func rejectUnknown(log: inout ProblemLog) {
        for pair in pairs where !used.contains(pair.key) {
            log.report(file, pair.keyLine, "unknown field '\(pair.key)'")
        }
    }

    private mutating func take(_ key: String, required: Bool, log: inout ProblemLog) -> Node? {
        used.insert(key)
        if let node = node(key) { return node }
        if required && isMapping { log.report(file, line, "missing field '\(key)'") }
        return nil
    }

    mutating func text(_ key: String, required: Bool = true, log: inout ProblemLog) -> String? {
        guard let node = take(key, required: required, log: &log) else { return nil }
        return Self.text(node, named: key, file: file, log: &log)
    }

    mutating func optionalText(_ key: String, log: inout ProblemLog) -> String? {
        text(key, required: false, log: &log)
    }

    /// A kebab-case identifier: lower-case letters and digits in groups joined by single dashes.
    mutating func identifier(_ key: String, log: inout ProblemLog) -> String? {
        guard let value = text(key, log: &log) else { return nil }
        let groups = value.split(separator: "-", omittingEmptySubsequences: false)
        let isKebab = groups.allSatisfy { group in
            !group.isEmpty
                && group.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) }
        }
        if !isKebab {
            log.report(
                file, node(key)?.line ?? line, "'\(key)' must be kebab-case (like kafka-acks), not '\(value)'"
            )
            return nil
        }
        return value
    }

    mutating func integer(_ key: String, log: inout ProblemLog) -> Int? {
        guard let node = take(key, required: true, log: &log) else { return nil }
        guard let value = node.scalar.flatMap({ Int($0.string) }) else {
            log.report(file, node.line, "'\(key)' must be a whole number")
            return nil
        }
        return value
    }

    mutating func bool(_ key: String, required: Bool = true, log: inout ProblemLog) -> Bool? {
        guard let node = take(key, required: required, log: &log) else { return nil }
        switch node.scalar?.string {
        case "true": return true
        case "false": return false
        default:
            log.report(file, node.line, "'\(key)' must be true or false")
            return nil
        }
    }

    mutating func optionalBool(_ key: String, log: inout ProblemLog) -> Bool? {
        bool(key, required: false, log: &log)
    }

    /// A field holding `zh` and `en` texts.
    mutating func localized(_ key: String, required: Bool = true, log: inout ProblemLog) -> Localized? {
        guard let node = take(key, required: required, log: &log) else { return nil }
        var inner = Fields(node, file: file, what: "'\(key)' with zh and en", log: &log)
        let value = inner.localizedFields(prefix: key, log: &log)
        inner.rejectUnknown(log: &log)
        return value
    }

    /// This mapping's own `zh` and `en` fields.
    mutating func localizedFields(prefix: String? = nil, log: inout ProblemLog) -> Localized? {
        let zh = localizedPart("zh", prefix: prefix, log: &log)
        let en = localizedPart("en", prefix: prefix, log: &log)
        guard let zh, let en else { return nil }
        return Localized(zh: zh, en: en)
    }

    private mutating func localizedPart(_ key: String, prefix: String?, log: inout ProblemLog) -> String? {
        guard let node = take(key, required: true, log: &log) else { return nil }
        return Self.text(node, named: prefix.map { "\($0).\(key)" } ?? key, file: file, log: &log)
    }

    /// A field holding `zh` and `en` lists of texts, each with a number of items in `count`.
    mutating func localizedList(_ key: String, count: ClosedRange<Int>, log: inout ProblemLog)
        -> LocalizedList?
    {
        guard let node = take(key, required: true, log: &log) else { return nil }
        var inner = Fields(node, file: file, what: "'\(key)' with zh and en lists", log: &log)
        let zh = inner.textList("zh", log: &log)
        let en = inner.textList("en", log: &log)
        inner.rejectUnknown(log: &log)
        for (language, list) in [("zh", zh), ("en", en)] {
            if let list, !count.contains(list.count) {
                log.report(
                    file, inner.node(language)?.line ?? node.line,
                    "'\(key).\(language)' needs \(count.lowerBound) to \(count.upperBound) items, not \(list.count)"
                )
            }
        }
        guard let zh, let en else { return nil }
        return LocalizedList(zh: zh, en: en)
    }

    mutating func textList(_ key: String, log: inout ProblemLog) -> [String]? {
        list(key, log: &log) { [file] node, log in
            Self.text(node, named: "an item of '\(key)'", file: file, log: &log)
        }
    }

    mutating func integerList(_ key: String, log: inout ProblemLog) -> [Int]? {
        list(key, log: &log) { [file] node, log in
            guard let value = node.scalar.flatMap({ Int($0.string) }) else {
                log.report(file, node.line, "'\(key)' must list whole numbers")
                return nil
            }
            return value
        }
    }

    /// A list field. Items that `parse` rejects are dropped; `parse` has reported why.
    mutating func list<Item>(
        _ key: String, required: Bool = true, log: inout ProblemLog,
        parse: (Node, inout ProblemLog) -> Item?
    ) -> [Item]? {
        guard let node = take(key, required: required, log: &log) else { return nil }
        guard let items = node.sequence else {
            log.report(file, node.line, "'\(key)' must be a list")
            return nil
        }
        return items.compactMap { parse($0, &log) }
    }

    private static func text(_ node: Node, named name: String, file: String, log: inout ProblemLog) -> String?
    {
        guard let scalar = node.scalar else {
            log.report(file, node.line, "'\(name)' must be text")
            return nil
        }
        let value = scalar.string.trimmingCharacters(in: .whitespacesAndNewlines)
        if value.isEmpty {
            log.report(file, node.line, "'\(name)' is empty")
            return nil
        }
        return value
    }
}
