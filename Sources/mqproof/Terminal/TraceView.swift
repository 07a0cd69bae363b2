import Simulation

/// The lane view of a trace: one column per node (controller, brokers, producers, consumers),
/// one line per event, a mark in the lane of the node where it happened.
///
/// Legend: `●`/`*` an event at that node, `✖`/`X` a crash or power or disk loss, `↺`/`R` a
/// restart, `│`/`|` a node that is up, `·`/`.` a node that is down. Script steps are rules across
/// the lanes. Plain ASCII when the output is not a terminal.
///
/// A long trace is cut to a window of at most `windowLines` lines around what matters: the
/// events of the witness chain (or, without an anomaly, the faults), each with as many
/// neighbours as fit, and a line saying how many events each gap hides. `full` shows it all.
struct TraceView {
    let world: any ScenarioWorld
    let terminal: Terminal
    let ui: UI
    /// Show routine events (high-watermark moves) too.
    let showRoutine: Bool
    /// The events to centre a cut trace on.
    var focus: [TraceEvent] = []
    var full = true

    static let windowLines = 40

    /// The header, then the events' lines: all of them, or a window.
    func lines() -> [String] {
        let rows = eventRows()
        let total = rows.reduce(0) { $0 + $1.count }
        guard !full, total > Self.windowLines - 1 else { return [header()] + rows.flatMap { $0 } }
        let shown = window(rows, budget: Self.windowLines - 2)
        var output = [header()]
        var previous = -1
        for index in shown {
            if index > previous + 1 { output.append(gap(index - previous - 1)) }
            output.append(contentsOf: rows[index])
            previous = index
        }
        if previous < rows.count - 1 { output.append(gap(rows.count - 1 - previous)) }
        output.append(
            contentsOf: terminal.wrapped(ui(.traceCut(shown: shown.count, of: rows.count)), first: "")
                .map(terminal.style.dim))
        return output
    }

    /// Which events to show within `budget` lines: the focus events with the most neighbours
    /// that fit; when even the focus alone does not fit, its first and last events.
    private func window(_ rows: [[String]], budget: Int) -> [Int] {
        let visible = visibleEvents()
        var centres = focus.compactMap { event in visible.firstIndex(of: event) }
        if centres.isEmpty {
            centres = visible.indices.filter {
                switch visible[$0].note {
                case .crashed, .restarted, .paused, .partitioned, .healed: true
                default: false
                }
            }
        }
        if centres.isEmpty { centres = [0] }
        func cost(_ chosen: [Int]) -> Int {
            var lines = 0
            var previous = -1
            for index in chosen {
                if index > previous + 1 { lines += 1 }
                lines += rows[index].count
                previous = index
            }
            return lines + (previous < rows.count - 1 ? 1 : 0)
        }
        for context in stride(from: 12, through: 0, by: -1) {
            var chosen = Set<Int>()
            for centre in centres {
                for index in max(0, centre - context)...min(rows.count - 1, centre + context) {
                    chosen.insert(index)
                }
            }
            let ordered = chosen.sorted()
            if cost(ordered) <= budget { return ordered }
        }
        // The focus alone is too long: its start and its end, half the budget each.
        var head: [Int] = []
        var tail: [Int] = []
        for centre in centres {
            guard cost(head + [centre]) <= budget / 2 else { break }
            head.append(centre)
        }
        for centre in centres.reversed() where centre > (head.last ?? -1) {
            guard cost(head + [centre] + tail) <= budget else { break }
            tail.insert(centre, at: 0)
        }
        return head + tail
    }

    private func gap(_ events: Int) -> String {
        terminal.style.dim(
            String(repeating: " ", count: timeWidth + 2) + (terminal.isTerminal ? "⋮ " : ": ")
                + ui(.traceGap(events)))
    }

    private func visibleEvents() -> [TraceEvent] {
        world.trace.filter { showRoutine || !$0.note.isRoutine }
    }

    private var lanes: [NodeID] { world.allNodes }
    private var laneWidth: Int { max(4, lanes.map { short($0).count + 1 }.max() ?? 4) }
    // Seven digits fit 2.7 simulated hours; RocketMQ's retry ladder runs longer.
    private var timeWidth: Int { max(7, String(world.trace.last?.time ?? 0).count) }

    private func header() -> String {
        terminal.style.bold(
            ui(.traceTime).leftPadded(to: timeWidth) + "  "
                + lanes.map { short($0).rightPadded(to: laneWidth) }.joined()
                + " " + ui(.traceEvent))
    }

    /// Each visible event's lines: its lane marks and its text, wrapped to the terminal.
    private func eventRows() -> [[String]] {
        let style = terminal.style
        let unicode = terminal.isTerminal
        let lanes = lanes
        let laneWidth = laneWidth
        let timeWidth = timeWidth
        var down: Set<NodeID> = []
        var rows: [[String]] = []
        let textWidth = max(20, terminal.width - timeWidth - 2 - laneWidth * lanes.count - 1)
        for event in visibleEvents() {
            if case .step(let text) = event.note {
                let rule = String(repeating: unicode ? "─" : "-", count: 4)
                let indent = timeWidth + 2 + rule.count + 1
                let wrapped = terminal.renderer().wrap(
                    [InlineParser.Span(text: TerminalSafe.clean(text) + " " + rule, kind: .plain)],
                    width: max(20, terminal.width - indent))
                rows.append(
                    wrapped.enumerated().map { index, line in
                        style.dim(
                            (index == 0
                                ? String(event.time).leftPadded(to: timeWidth) + "  " + rule + " "
                                : String(repeating: " ", count: indent)) + line.text)
                    })
                continue
            }
            var mark = unicode ? "●" : "*"
            switch event.note {
            case .crashed(let node, let fault):
                if fault != .applicationCrash { down.insert(node) }
                mark = unicode ? "✖" : "X"
            case .restarted(let node):
                down.remove(node)
                mark = unicode ? "↺" : "R"
            default: break
            }
            var row = String(event.time).leftPadded(to: timeWidth) + "  "
            for lane in lanes {
                let cell: String
                if lane == event.node {
                    cell = style.accent(mark)
                } else {
                    cell = down.contains(lane) ? (unicode ? "·" : ".") : (unicode ? "│" : "|")
                }
                row += cell + String(repeating: " ", count: laneWidth - 1)
            }
            let text = TerminalSafe.clean(event.note.text(world.name(of:)))
            let wrapped = terminal.renderer().wrap(
                [InlineParser.Span(text: text, kind: .plain)], width: textWidth)
            let continuation = String(repeating: " ", count: timeWidth + 2 + laneWidth * lanes.count) + " "
            rows.append(
                [row + " " + (wrapped.first?.text ?? "")] + wrapped.dropFirst().map { continuation + $0.text }
            )
        }
        return rows
    }

    private func short(_ node: NodeID) -> String {
        node == .controller ? "ctl" : node.description
    }
}
