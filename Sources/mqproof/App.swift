import ArgumentParser
import Content
import Experiments
import Foundation

/// Options every command that reads the store takes.
struct GlobalOptions: ParsableArguments {
    @Option(
        name: .customLong("db"),
        help: ArgumentHelp(
            "The database file.",
            discussion:
                "Default: $MQPROOF_DB, else $XDG_DATA_HOME/mqproof/mqproof.sqlite, else ~/.local/share/mqproof/mqproof.sqlite.",
            valueName: "file"))
    var database: String?

    @Option(
        help: ArgumentHelp(
            "Serve the questions in this content directory instead of the built-in copy.",
            discussion:
                "Authors preview their edits with it. A directory with problems is not imported; the content imported before is still served.",
            valueName: "dir"))
    var content: String?

    @Option(
        help: ArgumentHelp(
            "The language to show: zh, en or both.",
            discussion:
                "Default: $MQPROOF_LANG, else zh when $LC_ALL, $LC_MESSAGES or $LANG is Chinese, else en."))
    var lang: LanguageChoice?
}

/// `--json` for commands whose output scripts may read.
struct JSONOption: ParsableArguments {
    @Flag(help: "Print JSON instead of text.")
    var json = false
}

enum LanguageChoice: String, ExpressibleByArgument, CaseIterable {
    case zh, en, both

    var languages: [Language] {
        switch self {
        case .zh: [.zh]
        case .en: [.en]
        case .both: [.zh, .en]
        }
    }

    /// The language the environment asks for when `--lang` is not given.
    static func fromEnvironment(_ environment: [String: String]) -> LanguageChoice {
        if let explicit = environment["MQPROOF_LANG"].flatMap(LanguageChoice.init(rawValue:)) {
            return explicit
        }
        let locale = ["LC_ALL", "LC_MESSAGES", "LANG"].lazy.compactMap { environment[$0] }.first {
            !$0.isEmpty
        }
        return locale?.lowercased().hasPrefix("zh") == true ? .zh : .en
    }
}

/// Everything a command needs: the store with current content, the languages, the terminal.
/// This is the one place that reads the environment.
struct App {
    let store: ContentStore
    let languages: [Language]
    let environment: Environment

    var terminal: Terminal { environment.terminal }
    var clock: WallClock { environment.clock }
    var output: Output { environment.output }

    /// The language for single-language lines (titles, lists) when both are shown.
    var primaryLanguage: Language { languages[0] }

    static func open(_ options: GlobalOptions, in environment: Environment) throws -> App {
        let path = try databasePath(options, environment: environment.variables)
        let store: ContentStore
        do {
            store = try ContentStore(path: path)
        } catch {
            throw Failure(message: "\(error)")
        }
        try importContent(into: store, from: options.content, output: environment.output)
        return App(
            store: store,
            languages: (options.lang ?? LanguageChoice.fromEnvironment(environment.variables)).languages,
            environment: environment)
    }

    static func databasePath(_ options: GlobalOptions, environment: [String: String]) throws -> String {
        if options.database == "" {
            throw Failure(
                message: "--db needs a file path; an empty one would be a throwaway database", exitCode: 64)
        }
        if let path = options.database ?? environment["MQPROOF_DB"].flatMap({ $0.isEmpty ? nil : $0 }) {
            return path
        }
        // XDG Base Directory: a relative XDG_DATA_HOME is invalid and must be ignored.
        let dataHome =
            environment["XDG_DATA_HOME"].flatMap { $0.hasPrefix("/") ? $0 : nil }
            ?? (environment["HOME"] ?? NSHomeDirectory()) + "/.local/share"
        let folder = dataHome + "/mqproof"
        // The first part of the path that exists must be a folder; say which one is not.
        var existing = folder
        var isDirectory: ObjCBool = false
        while !FileManager.default.fileExists(atPath: existing, isDirectory: &isDirectory), existing.count > 1
        {
            existing = OutputFile.folder(of: existing)
        }
        if !isDirectory.boolValue {
            throw Failure(
                message: "cannot create the data folder \(folder): \(existing) is a file, not a folder")
        }
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        } catch {
            throw Failure(
                message: "cannot create the data folder \(folder): check that \(existing) is writable")
        }
        return folder + "/mqproof.sqlite"
    }

    /// The content tree `--content` names, or the built-in one.
    static func contentFiles(_ directory: String?) throws -> ContentFiles {
        guard let directory else { return .embedded }
        do {
            return try ContentFiles.load(directory: directory)
        } catch {
            throw Failure(message: "\(error)")
        }
    }

    static let parser = ContentParser(knownExperiments: ExperimentCatalogue.ids.union(LiveCatalogue.ids))

    /// The seed document's headings, as `seed:` fields name them, mapped to their order.
    static func seedHeadings(_ directory: String?) -> [String: Int] {
        let seeds = ((try? contentFiles(directory)) ?? .embedded).files.filter { $0.role == .seed }
        var order: [String: Int] = [:]
        for heading in seeds.flatMap({ ContentParser.headings(ofSeed: $0.text) }) where order[heading] == nil
        {
            order[heading] = order.count
        }
        return order
    }

    /// Brings the store up to date with the content tree. A tree with problems is not imported:
    /// its problems go to standard error and the content imported before is still served.
    private static func importContent(
        into store: ContentStore, from directory: String?, output: Output
    ) throws {
        let tree = try contentFiles(directory)
        let outcome: ContentStore.ImportOutcome
        do {
            outcome = try store.ensureContent(tree, parser: parser)
        } catch {
            throw Failure(message: "\(error)")
        }
        guard case .refused(let problems, let servingPrevious) = outcome else { return }
        let count = problems.problems.count
        let summary = "content in \(tree.origin) not imported: \(count) problem\(count == 1 ? "" : "s")"
        guard servingPrevious else {
            for problem in problems.problems { output.error("\(problem)") }
            throw Failure(message: "\(summary), and there is no earlier content to serve")
        }
        output.error("mqproof: \(summary); serving the content imported before")
        for problem in problems.problems { output.error("\(problem)") }
    }

    /// Fails with "did you mean" suggestions for an id that does not exist.
    func unknown(_ what: String, _ name: String, among candidates: [String], searchHint: Bool) -> Failure {
        let name = TerminalSafe.clean(name)
        var message = ui(.noSuch(what, name))
        let suggestions = Suggestions.closest(to: name, among: candidates)
        if !suggestions.isEmpty {
            message += ui(.didYouMean(suggestions.map { "'\($0)'" }))
        } else if searchHint {
            message += ui(.trySearching(name))
        }
        return Failure(message: message)
    }
}
