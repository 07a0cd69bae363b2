import CYaml
import Yams

// Theory of operation
//
// YAML anchors and aliases let a 1 KB file stand for billions of nodes (the "billion laughs"),
// and composing such a file into a tree takes time that grows with what it stands for, not with
// its size. Content and scenario files never need them. So before a file is composed, libyaml's
// event parser (linear in the text: it reports an alias, it does not expand it) reads it once,
// and the first anchor or alias stops it. Everything else, syntax errors included, is left to the
// composer, which reports them with their lines.

/// A check run on YAML text before it is composed.
public enum YAMLGuard {
    /// The 1-based line of the first anchor (&name) or alias (*name), if the text has one.
    public static func firstAnchorOrAlias(in text: String) -> Int? {
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) == 1 else { return nil }
        defer { yaml_parser_delete(&parser) }
        var bytes = Array(text.utf8)
        return bytes.withUnsafeMutableBufferPointer { buffer -> Int? in
            yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)
            var event = yaml_event_t()
            while yaml_parser_parse(&parser, &event) == 1 {
                defer { yaml_event_delete(&event) }
                let line = Int(event.start_mark.line) + 1
                switch event.type {
                case YAML_ALIAS_EVENT:
                    return line
                case YAML_SCALAR_EVENT where event.data.scalar.anchor != nil,
                    YAML_SEQUENCE_START_EVENT where event.data.sequence_start.anchor != nil,
                    YAML_MAPPING_START_EVENT where event.data.mapping_start.anchor != nil:
                    return line
                case YAML_STREAM_END_EVENT:
                    return nil
                default:
                    continue
                }
            }
            // A syntax error: the composer reports it.
            return nil
        }
    }
}

extension YamlError {
    /// The 1-based line the error is on, where the parser knows it.
    public var line: Int? {
        switch self {
        case .scanner(_, _, let mark, _), .parser(_, _, let mark, _), .composer(_, _, let mark, _): mark.line
        default: nil
        }
    }

    /// What is wrong, in one line: Yams' own description quotes the text around the error over
    /// several lines, which a one-line report cannot carry.
    public var problem: String {
        let text: String
        switch self {
        case .scanner(let context, let problem, _, _), .parser(let context, let problem, _, _),
            .composer(let context, let problem, _, _):
            text = [context?.text, problem].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: ": ")
        case .duplicatedKeysInMapping(let duplicates, _):
            text = "duplicated keys: \(duplicates.joined(separator: ", "))"
        default:
            text = "\(self)"
        }
        return text.split(whereSeparator: \.isNewline).joined(separator: " ")
    }
}
