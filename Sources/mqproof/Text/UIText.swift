import ArgumentParser
import Content

/// One piece of the interface in both languages.
///
/// Every label, hint and sentence a command prints is defined once, as one of these, in the
/// catalogue (`Catalogue+*.swift` next to this file). Commands never write `zh ? … : …`
/// themselves, so the interface is as complete in Chinese as the catalogue is, and a change of
/// wording happens in one place. Technical names (acks=all, ISR, offset, lost-write) stay as
/// they are in both languages: they are what a user types and searches for.
struct UIText: Sendable, Equatable {
    let zh: String
    let en: String

    subscript(language: Language) -> String { language == .zh ? zh : en }
}

/// The language the interface speaks.
///
/// With `--lang both` the content (questions, answers, claims) is shown in both languages and
/// the interface speaks the first of them, Chinese, the same way in every command.
struct UI: Sendable {
    let language: Language

    init(_ languages: [Language]) { language = languages.first ?? .en }

    func callAsFunction(_ text: UIText) -> String { text[language] }

    /// A label padded to `width` display columns, for aligned label columns.
    func label(_ text: UIText, width: Int) -> String { text[language].rightPadded(to: width) }

    var isChinese: Bool { language == .zh }
}

/// `--lang` for commands that do not open the content store.
struct LanguageOption: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "The language to show: zh, en or both.",
            discussion:
                "Default: $MQPROOF_LANG, else zh when $LC_ALL, $LC_MESSAGES or $LANG is Chinese, else en."))
    var lang: LanguageChoice?

    func languages(_ environment: Environment) -> [Language] {
        (lang ?? LanguageChoice.fromEnvironment(environment.variables)).languages
    }

    func ui(_ environment: Environment) -> UI { UI(languages(environment)) }
}

extension App {
    var ui: UI { UI(languages) }
}
