import Testing

@testable import mqproof

@Suite("Terminal rendering")
struct RendererTests {
    let plain = MarkdownRenderer(width: 20, style: .plain)

    @Test("Chinese characters count as two columns, and lines break between them")
    func chineseWidth() {
        let lines = plain.render("消息队列用于解耦、异步和削峰，代价是多一个要运维的系统。")
        #expect(lines.allSatisfy { DisplayWidth.of($0) <= 20 })
        #expect(lines.joined() == "消息队列用于解耦、异步和削峰，代价是多一个要运维的系统。")
        #expect(lines.count == 3)
    }

    @Test("Closing punctuation never starts a line")
    func kinsoku() {
        // Ten characters fill the line exactly; the full stop must go with the last character.
        let lines = MarkdownRenderer(width: 20, style: .plain).render("一二三四五六七八九十。")
        #expect(lines == ["一二三四五六七八九", "十。"])
    }

    @Test("English wraps at spaces; a line break inside Chinese is not a space")
    func joiningLines() {
        #expect(
            plain.render("acks=all waits for the\ncurrent ISR only") == [
                "acks=all waits for", "the current ISR only",
            ])
        #expect(MarkdownRenderer(width: 40, style: .plain).render("消息\n队列") == ["消息队列"])
    }

    @Test("Escape sequences and control characters in content never reach the terminal")
    func controlCharactersStripped() {
        let lines = MarkdownRenderer(width: 40, style: Style(isEnabled: true)).render(
            "safe\u{1B}]0;pwned\u{07} text\u{202E}")
        #expect(!lines.joined().contains("\u{1B}]"))
        #expect(!lines.joined().contains("\u{07}"))
        #expect(!lines.joined().contains("\u{202E}"))
    }

    @Test("Bold, emphasis and code: styled on a colour terminal, plain text otherwise")
    func inlineStyles() {
        #expect(
            MarkdownRenderer(width: 60, style: .plain).render(
                "**acks=all** waits for *the ISR*, see `min.insync.replicas`")
                == ["acks=all waits for the ISR, see `min.insync.replicas`"])
        let coloured = MarkdownRenderer(width: 60, style: Style(isEnabled: true)).render(
            "**bold** and `code`")
        #expect(coloured == ["\u{1B}[1mbold\u{1B}[0m and \u{1B}[36mcode\u{1B}[0m"])
    }

    @Test("Lists get markers and hanging indents; headings stand apart")
    func listsAndHeadings() {
        let lines = MarkdownRenderer(width: 30, style: .plain).render(
            "## Where loss happens\n- producer: the send callback is ignored\n- broker\n\n1. first\n2. second"
        )
        #expect(
            lines == [
                "Where loss happens",
                "  • producer: the send",
                "    callback is ignored",
                "  • broker",
                "",
                "  1. first",
                "  2. second",
            ])
    }

    @Test("Tables align columns by display width and wrap cells that do not fit")
    func tables() {
        let lines = MarkdownRenderer(width: 30, style: .plain).render(
            "| acks | 何时回应 |\n|---|---|\n| 0 | 不回应 |\n| 1 | Leader 本地写完就回应，不等 Follower |")
        #expect(lines[0] == "acks  何时回应")
        #expect(lines[1] == String(repeating: "-", count: 30))
        #expect(lines[2] == "0     不回应")
        #expect(lines.allSatisfy { DisplayWidth.of($0) <= 30 })
        #expect(lines.count > 4)  // the last row wrapped
    }

    @Test("Fenced code is kept as written")
    func codeBlocks() {
        let lines = MarkdownRenderer(width: 20, style: .plain).render("```\nacks=all   # keep spacing\n```")
        #expect(lines == ["    acks=all   # keep spacing"])
    }

    @Test("Did you mean: close typos and shared words")
    func suggestions() {
        let ids = ["kafka-acks-message-loss", "kafka-idempotent-producer", "why-introduce-mq"]
        #expect(Suggestions.closest(to: "kafka-acks-mesage-loss", among: ids) == ["kafka-acks-message-loss"])
        #expect(Suggestions.closest(to: "idempotent", among: ids) == ["kafka-idempotent-producer"])
        #expect(Suggestions.closest(to: "zzz", among: ids).isEmpty)
    }
}
