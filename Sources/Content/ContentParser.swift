import YAMLGuard
import Yams

// Theory of operation
//
// Content files are YAML, but the YAML decoder of Codable would report a problem as a coding
// path, not a line, and would stop at the first one. Authors need every problem at once, each as
// file:line: reason. So the parser composes each file into Yams nodes (which carry their line)
// and walks them by hand, collecting problems instead of throwing. An entry with any problem is
// dropped; a tree with any problem is refused whole by the store.

/// Parses and validates a content tree.
public struct ContentParser: Sendable {
    /// Experiment ids an entry may link to; any other id is a problem. Nil skips the check (for
    /// code that cannot see the catalogue).
    public var knownExperiments: Set<String>?

    public init(knownExperiments: Set<String>?) {
        self.knownExperiments = knownExperiments
    }

    /// The validated content, or every problem found, sorted by file and line.
    public func parse(_ tree: ContentFiles) -> Result<ContentSet, ContentProblems> {
        var log = ProblemLog()
        let seedHeadings = Set(
            tree.files.filter { $0.role == .seed }.flatMap { Self.headings(ofSeed: $0.text) })
        let hasSeeds = tree.files.contains { $0.role == .seed }

        var topics: [Topic] = []
        for file in tree.files where file.role == .topics {
            topics += parseTopics(file, log: &log)
        }
        if topics.isEmpty && !tree.files.contains(where: { $0.role == .topics }) {
            log.report(tree.origin, 1, "no topics.yaml")
        }
        // Every entry names a topic: with topics.yaml broken, each would add an "unknown topic"
        // and bury the cause. Report the cause, and how many entries it kept from being checked.
        if !log.problems.isEmpty {
            let skipped = tree.files.filter { $0.role == .entry }.count
            var problems = log.sorted
            if skipped > 0, let topicsFile = problems.first?.file {
                problems.append(
                    ContentProblem(
                        file: topicsFile, line: problems.last?.line ?? 1,
                        reason: "\(skipped) entries skipped because topics.yaml is broken"))
            }
            return .failure(ContentProblems(problems: problems))
        }
        let topicIDs = Set(topics.map(\.id))

        var entries: [Entry] = []
        var firstFileOfID: [String: String] = [:]
        let entryFiles = tree.files.filter { $0.role == .entry }
        let parsed = entryFiles.concurrentMap { file in
            var fileLog = ProblemLog()
            let entry = parseEntry(
                file, topicIDs: topicIDs, seedHeadings: hasSeeds ? seedHeadings : nil, log: &fileLog)
            return (entry, fileLog.problems)
        }
        for (file, (entry, problems)) in zip(entryFiles, parsed) {
            log.problems += problems
            guard let entry else { continue }
            if let other = firstFileOfID[entry.id] {
                log.report(file.path, 1, "id '\(entry.id)' is already used by \(other)")
                continue
            }
            firstFileOfID[entry.id] = file.path
            entries.append(entry)
        }
        var vocabulary = SearchVocabulary()
        for file in tree.files where file.role == .search {
            parseSearchFile(file, into: &vocabulary, log: &log)
        }
        var studyPath: StudyPath?
        for file in tree.files where file.role == .studyPath {
            studyPath = parseStudyPath(file, entries: entries, log: &log)
        }
        if !log.problems.isEmpty {
            return .failure(ContentProblems(problems: log.sorted))
        }
        return .success(
            ContentSet(
                topics: topics, entries: entries.sorted { $0.id < $1.id }, searchVocabulary: vocabulary,
                studyPath: studyPath))
    }

    /// Headings of the seed document, as `seed:` fields name them: `Heading` for a top-level one
    /// and `Parent / Heading` for one below it.
    public static func headings(ofSeed text: String) -> [String] {
        var result: [String] = []
        var parent: String?
        var inFence = false
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.hasPrefix("```") { inFence.toggle() }
            if inFence { continue }
            if trimmed.hasPrefix("## ") {
                let heading = String(trimmed.dropFirst(3)).trimmingCharacters(in: .whitespaces)
                result.append(parent.map { "\($0) / \(heading)" } ?? heading)
            } else if trimmed.hasPrefix("# ") {
                let heading = String(trimmed.dropFirst(2)).trimmingCharacters(in: .whitespaces)
                parent = heading
                result.append(heading)
            }
        }
        return result
    }

    // MARK: - Topics

    private func parseTopics(_ file: ContentFiles.File, log: inout ProblemLog) -> [Topic] {
        guard let root = compose(file, log: &log) else { return [] }
        guard case .sequence(let list) = root else {
            log.report(file.path, root.line, "topics.yaml must be a list of topics")
            return []
        }
        var topics: [Topic] = []
        var seen: Set<String> = []
        for node in list {
            var fields = Fields(node, file: file.path, what: "a topic", log: &log)
            let id = fields.identifier("id", log: &log)
            let group = fields.text("group", log: &log)
            let title = fields.localized("title", log: &log)
            fields.rejectUnknown(log: &log)
            guard let id, let group, let title else { continue }
            guard seen.insert(id).inserted else {
                log.report(file.path, node.line, "topic '\(id)' is listed twice")
                continue
            }
            topics.append(Topic(id: id, group: group, title: title))
        }
        return topics
    }

    // MARK: - Search vocabulary

    /// `search/synonyms.yaml` (`groups:`, lists of terms) or `search/dictionary.yaml` (`words:`,
    /// and `stopwords:` with `zh` and `en` lists).
    private func parseSearchFile(
        _ file: ContentFiles.File, into vocabulary: inout SearchVocabulary, log: inout ProblemLog
    ) {
        guard let root = compose(file, log: &log) else { return }
        var fields = Fields(root, file: file.path, what: "search vocabulary", log: &log)
        func searchable(_ node: Node, _ log: inout ProblemLog) -> String? {
            guard let text = node.scalar?.string.trimmingCharacters(in: .whitespaces), !text.isEmpty,
                !SearchText.words(of: text).isEmpty
            else {
                log.report(file.path, node.line, "a search term must hold a word or Chinese characters")
                return nil
            }
            return text
        }
        if file.path.hasSuffix("synonyms.yaml") {
            let groups = fields.list("groups", log: &log) { node, log -> [String]? in
                guard let terms = node.sequence else {
                    log.report(file.path, node.line, "a synonym group must be a list of terms")
                    return nil
                }
                let group = terms.compactMap { searchable($0, &log) }
                if group.count < 2 {
                    log.report(file.path, node.line, "a synonym group needs at least two terms")
                    return nil
                }
                return group
            }
            vocabulary.synonymGroups += groups ?? []
        } else if file.path.hasSuffix("dictionary.yaml") {
            vocabulary.words += fields.list("words", log: &log) { node, log in searchable(node, &log) } ?? []
            vocabulary.products +=
                fields.list("products", required: false, log: &log) { node, log in searchable(node, &log) }
                ?? []
            if let stopwords = fields.optionalNode("stopwords") {
                var languages = Fields(stopwords, file: file.path, what: "stopwords by language", log: &log)
                for language in ["zh", "en"] {
                    vocabulary.stopwords +=
                        languages.list(language, log: &log) { node, log in searchable(node, &log) } ?? []
                }
                languages.rejectUnknown(log: &log)
            }
        } else {
            log.report(
                file.path, 1, "unknown search file: content/search holds synonyms.yaml and dictionary.yaml")
            return
        }
        fields.rejectUnknown(log: &log)
    }

    // MARK: - Entries

    private func parseEntry(
        _ file: ContentFiles.File, topicIDs: Set<String>, seedHeadings: Set<String>?, log: inout ProblemLog
    ) -> Entry? {
        guard let root = compose(file, log: &log) else { return nil }
        let before = log.problems.count
        var fields = Fields(root, file: file.path, what: "an entry", log: &log)

        let id = fields.identifier("id", log: &log)
        if let id, let idNode = fields.node("id") {
            let stem = String(file.path.split(separator: "/").last ?? "").replacingOccurrences(
                of: ".yaml", with: "")
            if stem != id {
                log.report(file.path, idNode.line, "id '\(id)' does not match the file name '\(stem).yaml'")
            }
        }
        let topic = fields.text("topic", log: &log)
        if let topic, !topicIDs.contains(topic), let node = fields.node("topic") {
            let known = topicIDs.sorted().joined(separator: ", ")
            log.report(file.path, node.line, "unknown topic '\(topic)' (topics.yaml has: \(known))")
        }
        let tags = fields.textList("tags", log: &log)
        if let tags, let node = fields.node("tags") {
            if tags.isEmpty { log.report(file.path, node.line, "'tags' must not be empty") }
            for tag in tags where tag != tag.lowercased() || tag.contains(" ") {
                log.report(file.path, node.line, "tag '\(tag)' must be lower-case without spaces")
            }
        }
        let difficulty = fields.integer("difficulty", log: &log)
        if let difficulty, !(1...3).contains(difficulty), let node = fields.node("difficulty") {
            log.report(file.path, node.line, "'difficulty' must be 1, 2 or 3, not \(difficulty)")
        }
        let seed = fields.optionalText("seed", log: &log)
        if let seed, let seedHeadings, !seedHeadings.contains(seed), let node = fields.node("seed") {
            log.report(file.path, node.line, "'seed' names no heading of the seed document: '\(seed)'")
        }
        let question = fields.localized("question", log: &log)
        let answer = fields.localized("answer", log: &log)
        for (name, text) in [("question", question), ("answer", answer)] {
            if let text, !text.zh.unicodeScalars.contains(where: SearchText.isCJK),
                let node = fields.node(name)
            {
                log.report(file.path, node.line, "'\(name).zh' has no Chinese in it")
            }
        }
        let keyPoints = fields.localizedList("key_points", count: 2...8, log: &log)
        let sources = fields.list("sources", log: &log) { node, log in
            var source = Fields(node, file: file.path, what: "a source", log: &log)
            let url = source.text("url", log: &log)
            let version = source.text("version", log: &log)
            let note = source.optionalText("note", log: &log)
            source.rejectUnknown(log: &log)
            if let url, !(url.hasPrefix("https://") || url.hasPrefix("http://")) {
                log.report(file.path, node.line, "source url must start with https:// or http://: '\(url)'")
            }
            return url.flatMap { url in version.map { Source(url: url, version: $0, note: note) } }
        }
        if let sources, sources.isEmpty, let node = fields.node("sources") {
            log.report(file.path, node.line, "'sources' must name at least one source")
        }
        let misconceptions =
            fields.list("misconceptions", required: false, log: &log) { node, log -> Misconception? in
                var item = Fields(node, file: file.path, what: "a misconception", log: &log)
                let myth = item.localized("myth", log: &log)
                let truth = item.localized("truth", log: &log)
                let cited = item.integerList("sources", log: &log)
                item.rejectUnknown(log: &log)
                for index in cited ?? [] where !(1...max(1, sources?.count ?? 0)).contains(index) {
                    log.report(
                        file.path, node.line,
                        "misconception cites source \(index), but the entry has \(sources?.count ?? 0)")
                }
                if cited?.isEmpty == true {
                    log.report(
                        file.path, node.line, "a misconception must cite at least one of the entry's sources")
                }
                guard let myth, let truth, let cited else { return nil }
                return Misconception(myth: myth, truth: truth, sources: cited)
            } ?? []
        let experiments = fields.textList("experiments", log: &log)
        if let experiments, let node = fields.node("experiments") {
            for experiment in experiments where !(knownExperiments?.contains(experiment) ?? true) {
                log.report(
                    file.path, node.line, "unknown experiment '\(experiment)' (see `mqproof experiments`)")
            }
        }
        let notDemonstrable = fields.localized("not_demonstrable", required: false, log: &log)
        if let notDemonstrable, !notDemonstrable.zh.unicodeScalars.contains(where: SearchText.isCJK),
            let node = fields.node("not_demonstrable")
        {
            log.report(file.path, node.line, "'not_demonstrable.zh' has no Chinese in it")
        }
        if notDemonstrable != nil, experiments?.isEmpty == false, let node = fields.node("not_demonstrable") {
            log.report(
                file.path, node.line,
                "'not_demonstrable' and 'experiments' contradict each other: keep the experiments or the reason"
            )
        }
        let quiz = fields.list("quiz", log: &log) { node, log in
            parseQuizItem(node, file: file.path, log: &log)
        }
        if let quiz, quiz.isEmpty, let node = fields.node("quiz") {
            log.report(file.path, node.line, "'quiz' needs at least one item")
        }
        fields.rejectUnknown(log: &log)

        guard log.problems.count == before,
            let id, let topic, let tags, let difficulty, let question, let answer, let keyPoints,
            let sources, let experiments, let quiz
        else { return nil }
        return Entry(
            id: id, topic: topic, tags: tags, difficulty: difficulty, seed: seed, question: question,
            answer: answer, keyPoints: keyPoints, misconceptions: misconceptions, sources: sources,
            experiments: experiments, notDemonstrable: notDemonstrable, quiz: quiz)
    }

    private func parseQuizItem(_ node: Node, file: String, log: inout ProblemLog) -> QuizItem? {
        var fields = Fields(node, file: file, what: "a quiz item", log: &log)
        let type = fields.text("type", log: &log)
        let prompt = fields.localized("prompt", log: &log)
        let explanation = fields.localized("explanation", log: &log)
        var kind: QuizItem.Kind?
        switch type {
        case "choice":
            var options: [Localized] = []
            var correct: [Int] = []
            let optionNodes = fields.list("options", log: &log) { option, _ in option } ?? []
            for (index, option) in optionNodes.enumerated() {
                var optionFields = Fields(option, file: file, what: "an option", log: &log)
                if let text = optionFields.localizedFields(log: &log) { options.append(text) }
                if optionFields.optionalBool("correct", log: &log) == true { correct.append(index) }
                optionFields.rejectUnknown(log: &log)
            }
            if fields.node("options") == nil {
                break
            } else if !(2...6).contains(optionNodes.count) {
                log.report(file, node.line, "a choice item needs 2 to 6 options, not \(optionNodes.count)")
            } else if correct.count != 1 {
                log.report(
                    file, node.line,
                    "a choice item needs exactly one option with 'correct: true', not \(correct.count)")
            } else if options.count == optionNodes.count {
                kind = .choice(options: options, correctIndex: correct[0])
            }
        case "true-false":
            if let answer = fields.bool("answer", log: &log) { kind = .trueFalse(answer: answer) }
        case let other?:
            log.report(
                file, fields.node("type")?.line ?? node.line,
                "quiz type must be 'choice' or 'true-false', not '\(other)'")
        case nil:
            break
        }
        fields.rejectUnknown(log: &log)
        guard let prompt, let explanation, let kind else { return nil }
        return QuizItem(prompt: prompt, kind: kind, explanation: explanation)
    }

    /// - Parameter commentsAfterIDs: a comment may follow a list item that is one kebab-case id
    ///   (`- why-introduce-mq   # A1 (7)`): an id has no spaces, so the comment cannot cut it.
    func compose(_ file: ContentFiles.File, log: inout ProblemLog, commentsAfterIDs: Bool = false) -> Node? {
        if let line = ControlCharacters.firstLine(in: file.text) {
            log.report(file.path, line, "control character in the text (only newlines are allowed)")
            return nil
        }
        do {
            guard file.text.utf8.count <= ContentFiles.maximumFileSize else {
                log.report(
                    file.path, 1,
                    "the file is over \(ContentFiles.maximumFileSize / 1024) KiB; a question is not that long"
                )
                return nil
            }
            if let line = YAMLGuard.firstAnchorOrAlias(in: file.text) {
                log.report(
                    file.path, line,
                    "YAML anchors and aliases (& and *) are not used in content: write the text out")
                return nil
            }
            guard let node = try Yams.compose(yaml: file.text) else {
                log.report(file.path, 1, "the file is empty")
                return nil
            }
            if let problem = YAMLNodes.firstProblem(in: node) {
                log.report(file.path, problem.line, problem.reason)
                return nil
            }
            let lines = file.text.split(separator: "\n", omittingEmptySubsequences: false)
            let cut = TruncatedPlainScalar.lines(in: node, text: file.text).filter { line in
                !(commentsAfterIDs && line <= lines.count
                    && lines[line - 1].range(
                        of: #"^\s*- [a-z0-9][a-z0-9.-]*\s+#"#, options: .regularExpression) != nil)
            }
            for line in cut {
                log.report(
                    file.path, line,
                    "' #' starts a YAML comment, so the text after it is dropped: quote the value or use a block (|)"
                )
            }
            if !cut.isEmpty { return nil }
            return node
        } catch let error as YamlError {
            log.report(file.path, error.line ?? 1, "YAML: \(error.problem)")
        } catch {
            log.report(file.path, 1, "YAML: \(error)")
        }
        return nil
    }
}

/// Finds an unquoted value cut short by a comment: in `note: see issue #2745`, YAML reads only
/// `see issue`, silently. A plain value followed on its line by whitespace and '#' is exactly
/// such a cut (content files hold no comments of their own).
enum TruncatedPlainScalar {
    /// Every line where a value is cut, in order.
    static func lines(in root: Node, text: String) -> [Int] {
        let source = text.split(separator: "\n", omittingEmptySubsequences: false)
        var found: [Int] = []
        func visit(_ node: Node) {
            switch node {
            case .scalar(let scalar):
                guard scalar.style == .plain, let mark = node.mark, mark.line - 1 < source.count else {
                    return
                }
                // What follows the value on its line: a comment there is whitespace, then '#'.
                let after = source[mark.line - 1].unicodeScalars.dropFirst(
                    max(0, mark.column - 1) + scalar.string.unicodeScalars.count)
                let rest = after.drop { $0 == " " || $0 == "\t" }
                if rest.count < after.count && rest.first == "#" { found.append(mark.line) }
            case .mapping(let mapping):
                for (key, value) in mapping {
                    visit(key)
                    visit(value)
                }
            case .sequence(let sequence):
                for item in sequence { visit(item) }
            case .alias: break
            }
        }
        visit(root)
        return found
    }
}

/// Every problem of a refused content tree.
public struct ContentProblems: Error, Equatable, Sendable {
    public var problems: [ContentProblem]
}

/// Finds characters that could drive a terminal: C0 and C1 controls other than newline and tab,
/// DEL, and the bidirectional overrides that can make text read differently than it is.
/// Checks on a composed YAML tree that the text alone cannot make.
enum YAMLNodes {
    /// The first value holding a control character written as an escape ("\\a" in a
    /// double-quoted string), which the check of the raw text cannot see. Run after YAMLGuard,
    /// so the tree has no aliases and the walk is linear in the file's size.
    static func firstProblem(in root: Node) -> (line: Int, reason: String)? {
        var stack = [root]
        while let node = stack.popLast() {
            let line = node.mark?.line ?? 1
            switch node {
            case .scalar(let scalar):
                if scalar.string.unicodeScalars.contains(where: ControlCharacters.isForbidden) {
                    return (line, "control character in the text (only newlines are allowed)")
                }
            case .mapping(let mapping):
                for pair in mapping.reversed() { stack += [pair.value, pair.key] }
            case .sequence(let sequence):
                stack += sequence.reversed()
            case .alias: continue
            }
        }
        return nil
    }
}

enum ControlCharacters {
    static func isForbidden(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x0A, 0x09: false
        case 0x00...0x1F, 0x7F...0x9F: true
        case 0x202A...0x202E, 0x2066...0x2069: true
        default: false
        }
    }

    static func firstLine(in text: String) -> Int? {
        var line = 1
        for scalar in text.unicodeScalars {
            if scalar == "\n" { line += 1 } else if isForbidden(scalar) { return line }
        }
        return nil
    }
}

struct ProblemLog {
    var problems: [ContentProblem] = []

    mutating func report(_ file: String, _ line: Int, _ reason: String) {
        problems.append(ContentProblem(file: file, line: line, reason: reason))
    }

    var sorted: [ContentProblem] {
        problems.enumerated().sorted { a, b in
            (a.element.file, a.element.line, a.offset) < (b.element.file, b.element.line, b.offset)
        }.map(\.element)
    }
}

extension Node {
    var line: Int { mark?.line ?? 1 }
}
