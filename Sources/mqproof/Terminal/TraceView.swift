import Simulation

/// The lane view of a trace: one column per node (controller, brokers, producers, consumers),
/// one line per event, a mark in the lane of the node where it happened.
///
/// Legend: `●`/`*` an event at that node, `✖`/`X` a crash or power or disk loss, `↺`/`R` a
/// restart, `│`/`|` a node that is up, `·`/`.` a node that is down. Script steps are rules across
/// the lanes. Plain ASCII when the output is not a terminal.
struct TraceView {
    let world: any ScenarioWorld
    let terminal: Terminal
    let ui: UI
    /// Show routine events (high-watermark moves) too.
    let showRoutine: Bool

    func lines() -> [String] {
        let style = terminal.style
        let unicode = terminal.isTerminal
        let lanes = world.allNodes
        let laneWidth = max(4, lanes.map { short($0).count + 1 }.max() ?? 4)
        var down: Set<NodeID> = []
        var output: [String] = []
        // Seven digits fit 2.7 simulated hours; RocketMQ's retry ladder runs longer.
        let timeWidth = max(7, String(world.trace.last?.time ?? 0).count)
        let header =
            ui(.traceTime).leftPadded(to: timeWidth) + "  "
            + lanes.map { short($0).rightPadded(to: laneWidth) }.joined()
            + " " + ui(.traceEvent)
        output.append(style.bold(header))
        let textWidth = max(20, terminal.width - timeWidth - 2 - laneWidth * lanes.count - 1)
        for event in world.trace where showRoutine || !event.note.isRoutine {
            if case .step(let text) = event.note {
                let rule = String(repeating: unicode ? "─" : "-", count: 4)
                output.append(
                    style.dim(
                        String(event.time).leftPadded(to: timeWidth) + "  " + rule + " "
                            + TerminalSafe.clean(text)
                            + " " + rule))
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
            output.append(row + " " + (wrapped.first?.text ?? ""))
            let continuation = String(repeating: " ", count: timeWidth + 2 + laneWidth * lanes.count) + " "
            for line in wrapped.dropFirst() { output.append(continuation + line.text) }
        }
        return output
    }

    private func short(_ node: NodeID) -> String {
        node == .controller ? "ctl" : node.description
    }
}
