import Foundation

/// Output longer than the screen, shown through $PAGER (else `less -R`) when both standard
/// input and output are a terminal; never when piped, and not with PAGER set to empty or `cat`.
///
/// The command writes its standard output into `buffer` (standard error, with its progress bars
/// and failures, still goes out at once); `show` then writes it straight out when it fits the screen,
/// or hands it to the pager and waits for the pager to end. While the pager runs, Ctrl-C is the
/// pager's (less uses it to stop a search), so mqproof ignores it until the pager is gone.
final class Pager {
    let buffer = CollectedOutput()
    private let command: String
    private let output: Output
    private let rows: Int

    /// A pager for this environment, or nil where output is not paged.
    init?(_ environment: Environment) {
        guard environment.terminal.isTerminal, isatty(STDIN_FILENO) == 1 else { return nil }
        let configured = environment.variables["PAGER"]
        if let configured, configured.trimmingCharacters(in: .whitespaces).isEmpty || configured == "cat" {
            return nil
        }
        command = configured ?? "less -R"
        output = environment.output
        rows = environment.terminal.height
    }

    /// What the command writes to: standard output kept for the pager, standard error as is.
    var collectingOutput: Output {
        let buffer = buffer
        let output = output
        return Output { chunk, stream in
            switch (chunk, stream) {
            case (.text(let text), .standardOutput): buffer.append(Data(text.utf8), to: .standardOutput)
            case (.bytes(let data), .standardOutput): buffer.append(data, to: .standardOutput)
            case (.text(let text), .standardError): output.progress(text)
            case (.bytes(let data), .standardError): output.progress(String(decoding: data, as: UTF8.self))
            }
        }
    }

    func show() {
        let text = buffer.standardOutput
        // One row is kept for the shell's prompt.
        guard text.reduce(0, { $0 + ($1 == "\n" ? 1 : 0) }) >= rows else {
            output.bytes(Data(text.utf8))
            return
        }
        fflush(nil)
        let previousInterrupt = signal(SIGINT, SIG_IGN)
        let previousPipe = signal(SIGPIPE, SIG_IGN)
        defer {
            signal(SIGINT, previousInterrupt)
            signal(SIGPIPE, previousPipe)
        }
        guard let pid = spawn(text) else {
            output.bytes(Data(text.utf8))
            return
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
    }

    /// Starts the pager in mqproof's own process group, so that it may read keys from the
    /// terminal (Foundation's Process puts a child in a group of its own, and a pager there
    /// cannot read the terminal), feeds it `text` and closes its input. Its own Ctrl-C comes
    /// back as the default: the pager decides what Ctrl-C means to it.
    private func spawn(_ text: String) -> pid_t? {
        var pipeEnds: [Int32] = [0, 0]
        guard pipe(&pipeEnds) == 0 else { return nil }
        let (readEnd, writeEnd) = (pipeEnds[0], pipeEnds[1])
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        posix_spawn_file_actions_adddup2(&actions, readEnd, STDIN_FILENO)
        posix_spawn_file_actions_addclose(&actions, readEnd)
        posix_spawn_file_actions_addclose(&actions, writeEnd)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        sigaddset(&defaults, SIGINT)
        sigaddset(&defaults, SIGPIPE)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF))
        defer {
            posix_spawn_file_actions_destroy(&actions)
            posix_spawnattr_destroy(&attributes)
        }
        let arguments = ["/bin/sh", "-c", command]
        var argv = arguments.map { strdup($0) } + [nil]
        defer { for argument in argv { free(argument) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, "/bin/sh", &actions, &attributes, &argv, environ)
        close(readEnd)
        guard spawned == 0 else {
            close(writeEnd)
            return nil
        }
        // The pager may quit before reading everything (q in less): the write fails, harmlessly.
        let bytes = Array(text.utf8)
        var written = 0
        while written < bytes.count {
            let count = bytes[written...].withUnsafeBytes { write(writeEnd, $0.baseAddress, $0.count) }
            if count > 0 {
                written += count
            } else if count == -1 && errno == EINTR {
                continue
            } else {
                break
            }
        }
        close(writeEnd)
        return pid
    }
}
