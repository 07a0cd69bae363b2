/// Message names as a reader takes them in: runs of consecutive numbers as ranges (`#1-#86`,
/// `m3-m9`), the rest as they are.
public enum MessageRanges {
    /// Every name, runs of three or more consecutive numbers (same prefix) as one range.
    public static func compact(_ names: [String]) -> String {
        groups(names).joined(separator: " ")
    }

    /// As `compact`, but at most `limit` groups: the first ones, an ellipsis, the last two and
    /// the count. For a trace line, where a thousand-message batch must stay one line.
    public static func compact(_ names: [String], limit: Int) -> String {
        let groups = groups(names)
        guard groups.count > limit else { return groups.joined(separator: " ") }
        return (groups.prefix(limit - 2) + ["…"] + groups.suffix(2)).joined(separator: " ")
            + " (\(names.count))"
    }

    private static func groups(_ names: [String]) -> [String] {
        var groups: [String] = []
        var start = 0
        while start < names.count {
            var end = start
            if let first = split(names[start]) {
                while end + 1 < names.count, let next = split(names[end + 1]), next.prefix == first.prefix,
                    next.number == first.number + (end + 1 - start)
                {
                    end += 1
                }
            }
            if end - start >= 2 {
                groups.append("\(names[start])-\(names[end])")
            } else {
                groups.append(contentsOf: names[start...end])
            }
            start = end + 1
        }
        return groups
    }

    /// A name's prefix and trailing number (`#12` is `#`, 12), if it ends in digits. Leading
    /// zeros are not a number here (`m01` then `m2` are no run).
    private static func split(_ name: String) -> (prefix: Substring, number: Int)? {
        let digits = name.reversed().prefix { $0.isASCII && $0.isNumber }
        guard !digits.isEmpty, digits.count < 18, digits.last != "0" || digits.count == 1 else { return nil }
        let prefix = name.dropLast(digits.count)
        return Int(String(digits.reversed())).map { (prefix, $0) }
    }
}
