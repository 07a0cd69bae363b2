import Content
import Foundation

// Measures the content store's hot paths in-process, on a synthetic tree of 200 entries made
// from the real ones (so text sizes and the zh/en mix are realistic). Run in release:
//
//     swift run -c release content-benchmarks
//
// Targets (issue 2): search at most 5 ms per query, re-import of 200 entries at most 300 ms, and
// a start with unchanged content doing no work beyond the change check. Figures are printed,
// never asserted: a timed assertion in a test would fail on a busy machine, not on a regression.

let entryCount = 200
let real = ContentFiles.embedded
let realEntries = real.files.filter { $0.role == .entry }

/// The real tree with every entry copied under new ids until there are `count` of them.
func syntheticTree(count: Int, variant: String) -> ContentFiles {
    var files = real.files.filter { $0.role != .entry }
    for index in 0..<count {
        let template = realEntries[index % realEntries.count]
        let oldID = String(template.path.split(separator: "/").last!.dropLast(5))
        let newID = "\(oldID)-\(variant)\(index)"
        let text = template.text.replacingOccurrences(of: "id: \(oldID)\n", with: "id: \(newID)\n")
        files.append(.init(path: "content/entries/\(newID).yaml", role: .entry, text: text))
    }
    return ContentFiles(origin: "synthetic", files: files)
}

func measure(_ label: String, runs: Int, _ body: () throws -> Void) rethrows {
    var samples: [Duration] = []
    for _ in 0..<runs {
        let start = ContinuousClock.now
        try body()
        samples.append(ContinuousClock.now - start)
    }
    samples.sort()
    func milliseconds(_ duration: Duration) -> String {
        let value =
            Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
        return String(format: "%8.3f ms", value)
    }
    let median = samples[samples.count / 2]
    let p90 = samples[min(samples.count - 1, samples.count * 9 / 10)]
    print(
        "\(label.padding(toLength: 44, withPad: " ", startingAt: 0)) median \(milliseconds(median))  p90 \(milliseconds(p90))  max \(milliseconds(samples.last!))  (\(runs) runs)"
    )
}

let folder = FileManager.default.temporaryDirectory.appending(
    path: "mqproof-bench-\(ProcessInfo.processInfo.processIdentifier)")
try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(at: folder) }
let store = try ContentStore(path: folder.appending(path: "bench.sqlite").path)
let parser = ContentParser(knownExperiments: nil)

let trees = (0..<2).map { syntheticTree(count: entryCount, variant: "v\($0)-") }
print(
    "synthetic tree: \(entryCount) entries, \(trees[0].files.reduce(0) { $0 + $1.text.utf8.count } / 1024) KiB of YAML"
)
_ = try store.ensureContent(trees[0], parser: parser)

var flip = 0
try measure("re-import 200 entries (parse + write)", runs: 20) {
    flip ^= 1
    guard case .imported = try store.ensureContent(trees[flip], parser: parser) else {
        fatalError("not imported")
    }
}
let parsed = try parser.parse(trees[0]).get()
try measure("  of which: parse and validate", runs: 20) { _ = parser.parse(trees[0]) }
try measure("  of which: write in one transaction", runs: 20) {
    flip ^= 1
    try store.importContent(parsed, fingerprint: "bench-\(flip)", origin: "bench")
}
_ = try store.ensureContent(trees[0], parser: parser)
try measure("unchanged content: change check only", runs: 200) {
    guard case .unchanged = try store.ensureContent(trees[0], parser: parser) else { fatalError("imported") }
}
try measure("  of which: fingerprint of the tree", runs: 200) { _ = trees[0].fingerprint }

// Search on the synthetic tree (which carries the real search vocabulary): questions as people
// type them, keywords, operators, a typo (which reads the indexed words once per search), and a
// query that matches nothing exactly (which loosens and runs again).
for text in [
    "幂", "幂等", "如何保证消息不丢失", "消息积压了几百万条怎么处理", "Kafka为什么这么快",
    "how does Kafka prevent data loss", "idempot", "kafka NOT rabbitmq", "\"min insync replicas\"",
    "kafak acks", "zqxv",
] {
    let found = try store.search(text)!
    try measure("search \(text) (\(found.hits.count) hits, \(found.match))", runs: 100) {
        _ = try store.search(text)
    }
}
// The same searches over the shipped corpus alone, as a user's store holds it.
let shipped = try ContentStore(path: folder.appending(path: "shipped.sqlite").path)
_ = try shipped.ensureContent(real, parser: parser)
let corpusSize = try shipped.entryIDs().count
for text in [
    "如何保证消息不丢失", "消息积压了几百万条怎么处理", "Kafka为什么这么快", "how does Kafka prevent data loss", "kafak acks",
    "zqxv",
] {
    let found = try shipped.search(text)!
    try measure("shipped (\(corpusSize)): search \(text) (\(found.match))", runs: 100) {
        _ = try shipped.search(text)
    }
}
try measure("show: read one entry", runs: 200) { _ = try store.entry(id: "kafka-acks-message-loss-v0-2") }
