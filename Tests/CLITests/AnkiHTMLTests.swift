import Testing

@testable import mqproof

@Suite("Anki cards as HTML")
struct AnkiHTMLTests {
    @Test("Tables become tables, code becomes code, lists keep their kind")
    func markdown() {
        let html = HTML.markdown(
            """
            | setting | default |
            |---|---|
            | `acks` | all |

            1. first
            2. second
            - a point
            """)
        #expect(
            html
                == "<table><tr><th>setting</th><th>default</th></tr><tr><td><code>acks</code></td><td>all</td></tr></table>"
                + "<ol><li>first</li><li>second</li></ol><ul><li>a point</li></ul>")
    }
}
