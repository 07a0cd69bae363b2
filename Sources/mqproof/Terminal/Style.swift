/// Text styles, written as ANSI escapes on a colour terminal and as nothing otherwise.
struct Style: Sendable {
    let isEnabled: Bool

    static let plain = Style(isEnabled: false)

    private func wrap(_ text: String, _ code: String) -> String {
        isEnabled && !text.isEmpty ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text
    }

    func bold(_ text: String) -> String { wrap(text, "1") }
    func dim(_ text: String) -> String { wrap(text, "2") }
    func italic(_ text: String) -> String { wrap(text, "3") }
    func underline(_ text: String) -> String { wrap(text, "1;4") }
    func code(_ text: String) -> String { wrap(text, "36") }
    func accent(_ text: String) -> String { wrap(text, "1;36") }
    func good(_ text: String) -> String { wrap(text, "32") }
    func bad(_ text: String) -> String { wrap(text, "31") }
    func highlight(_ text: String) -> String { wrap(text, "1;33") }
}
