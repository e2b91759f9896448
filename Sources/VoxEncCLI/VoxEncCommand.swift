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
        subcommands: [EmbedCommand.self, MelCommand.self, InfoCommand.self, BenchCommand.self])

    static func main() async {
        // A file-size limit (ulimit -f) must surface as a write error (EFBIG), not kill the process mid-write.
        signal(SIGXFSZ, SIG_IGN)
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: error)
        }
    }
}
