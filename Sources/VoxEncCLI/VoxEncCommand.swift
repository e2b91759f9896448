// The `voxenc` command line: a thin shell over the library. Errors become one line on stderr and a
// sysexits-style exit code; outputs are written atomically.

import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif
import VoxEnc

@main
struct VoxEncCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "voxenc",
        abstract: "Voxtral-style audio embeddings on the CPU: log-mel front end, Whisper encoder, Voxtral adapter.",
        version: VoxEncVersion.string,
        subcommands: [EmbedCommand.self, StreamCommand.self, ServeCommand.self, PullCommand.self, MelCommand.self, InfoCommand.self, BenchCommand.self])

    static func main() async {
        // A file-size limit (ulimit -f) must surface as a write error (EFBIG), not kill the process mid-write.
        signal(SIGXFSZ, SIG_IGN)
        var command: any ParsableCommand
        do {
            command = try parseAsRoot()
        } catch {
            exitAfterParseFailure(error)
        }
        // `serve` writes no files; its SIGTERM/SIGINT mean a graceful shutdown (swift-service-lifecycle's handlers).
        if !(command is ServeCommand) { InterruptCleanup.install() }
        let savedStderr = LibraryDiagnostics.silence()
        do {
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            LibraryDiagnostics.restore(savedStderr)
            exit(withError: error)
        }
        LibraryDiagnostics.restore(savedStderr)
    }

    /// `--help` and `--version` print as the argument parser prints them. A usage error becomes one line, like every
    /// other voxenc error, with the help command as its hint (the parser's own text adds the whole usage synopsis).
    static func exitAfterParseFailure(_ error: any Error) -> Never {
        let code = exitCode(for: error)
        if code == .success { exit(withError: error) }
        var text = message(for: error).split(separator: "\n").first.map(String.init) ?? "invalid arguments"
        if text.hasPrefix("Error: ") { text.removeFirst("Error: ".count) }
        let names = configuration.subcommands.compactMap { $0.configuration.commandName }
        let subcommand = CommandLine.arguments.dropFirst().first { names.contains($0) }
        let help = ["voxenc", subcommand, "--help"].compactMap { $0 }.joined(separator: " ")
        FileHandleStderr.write("voxenc: error: \(text) (hint: see `\(help)`)\n")
        Glibc.exit(code.rawValue)
    }
}
