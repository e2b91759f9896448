// voxenc pull REPO [--revision R] [--endpoint URL] [--dir D] [--dry-run] [--retries N]

import ArgumentParser
import Foundation
import VoxEncHub
#if canImport(Glibc)
import Glibc
#endif

struct PullCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pull",
        abstract: "Download only the audio weights of a model repository from a Hugging Face-style hub.",
        discussion: """
        Reads the safetensors headers with HTTP Range requests, then fetches only the byte ranges of the tensors \
        voxenc reads (the audio encoder and the projector) into a local directory voxenc loads as it is: the \
        configs and one safetensors file with those tensors, their names, dtypes and shapes unchanged. A CTranslate2 \
        model.bin is fetched whole and checked against its sha256. HF_ENDPOINT, HF_TOKEN and the token file \
        (~/.cache/huggingface/token) are honoured. Killed or cut off, rerun it: it resumes where it stopped.
        """)

    @Argument(help: "The repository, OWNER/NAME (e.g. mistralai/Voxtral-Mini-3B-2507).")
    var repository: String

    @Option(help: "Branch, tag or commit (default: main).")
    var revision: String?

    @Option(help: "The hub's URL (default: $HF_ENDPOINT, else https://huggingface.co).")
    var endpoint: String?

    @Option(help: "The model directory to write (default: the repository's NAME, in the current directory).")
    var dir: String?

    @Flag(name: .customLong("dry-run"), help: "Print what would be fetched and its size; write nothing.")
    var dryRun = false

    @Option(help: "Attempts per request before giving up (no connection, a cut, 429, 5xx), with exponential backoff.")
    var retries: Int = 5

    func validate() throws {
        guard retries >= 1 else { throw ValidationError("--retries must be ≥ 1") }
    }

    func run() async throws {
        let directory = dir ?? String(repository.split(separator: "/").last ?? "model")
        let client: HubClient
        do {
            client = HubClient(repository: try HubRepository(id: repository, revision: revision, endpoint: endpoint),
                               attempts: retries, backoff: Double(ProcessInfo.processInfo.environment["VOXENC_PULL_BACKOFF"] ?? "") ?? 1)
        } catch {
            throw fail(error)
        }
        let bar = TransferProgressBar()
        let summary: PullSummary
        do {
            summary = try await ModelPuller(client: client).pull(into: directory, dryRun: dryRun) { bar.show($0) }
            bar.finish()
            await client.shutdown()
        } catch {
            bar.finish()
            await client.shutdown()
            throw fail(error)
        }
        print(Self.report(summary, directory: directory, dryRun: dryRun))
    }

    private func fail(_ error: PullError) -> ExitCode {
        FileHandleStderr.write("voxenc: error: \(error.line)\n")
        return ExitCode(error.exitStatus)
    }

    static func report(_ summary: PullSummary, directory: String, dryRun: Bool) -> String {
        var lines: [String] = []
        let share = summary.repositoryBytes > 0 ? Double(summary.plannedFetch) / Double(summary.repositoryBytes) * 100 : 0
        lines.append("\(summary.repository)@\(summary.commit.prefix(12)): \(summary.family), layout \(summary.layout)")
        for file in summary.files {
            var line = "  \(file.name): \(TransferProgressBar.bytes(file.size))"
            if file.tensors > 0 {
                line += " (\(file.tensors) tensors from \(file.sources.joined(separator: ", ")))"
            }
            lines.append(line)
        }
        let verb = dryRun ? "would fetch" : summary.upToDate ? "up to date, fetched" : "fetched"
        let planned = "\(TransferProgressBar.bytes(summary.plannedFetch)) of the repository's "
            + "\(TransferProgressBar.bytes(summary.repositoryBytes)) (" + String(format: "%.1f %%", share) + ")"
        if dryRun {
            lines.append("\(directory): would fetch \(planned)")
        } else if summary.upToDate {
            lines.append("\(directory): already holds this pull (\(verb) \(summary.bytesReceived) bytes to check)")
        } else {
            lines.append("\(directory): \(planned); \(summary.bytesReceived) bytes received"
                         + (summary.resumedPieces > 0 ? ", \(summary.resumedPieces) pieces resumed" : ""))
        }
        return lines.joined(separator: "\n")
    }
}

/// One line on a terminal's stderr, redrawn in place: bytes done of total, rate and time left.
final class TransferProgressBar: @unchecked Sendable {
    private let start = Date()
    private var lastDraw = 0.0
    private var visible = false
    private let enabled = isatty(2) != 0

    func show(_ progress: PullProgress) {
        guard enabled else { return }
        let now = Date().timeIntervalSince1970
        guard now - lastDraw >= 0.1 || progress.bytesDone == progress.bytesTotal else { return }
        lastDraw = now
        FileHandleStderr.write("\r\u{1B}[K" + Self.line(progress, seconds: Date().timeIntervalSince(start)))
        visible = true
    }

    func finish() {
        if visible { FileHandleStderr.write("\r\u{1B}[K"); visible = false }
    }

    /// `[#######.............] 412.3 MB / 1.31 GB · 48.2 MB/s · ETA 0:18`
    static func line(_ progress: PullProgress, seconds: Double, width: Int = 20) -> String {
        let fraction = progress.bytesTotal > 0 ? Double(progress.bytesDone) / Double(progress.bytesTotal) : 1
        let filled = min(width, Int(fraction * Double(width)))
        var line = "[" + String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled) + "] "
        line += "\(bytes(progress.bytesDone)) / \(bytes(progress.bytesTotal))"
        if seconds > 0.5 {
            let rate = Double(progress.bytesDone) / seconds
            line += " · \(bytes(Int(rate)))/s"
            if rate > 0 { line += " · ETA " + ProgressBar.duration(Double(progress.bytesTotal - progress.bytesDone) / rate) }
        }
        return line
    }

    /// 1.31 GB, 412.3 MB, 18.0 kB, 512 B (decimal units).
    static func bytes(_ count: Int) -> String {
        let value = Double(count)
        if value >= 1e9 { return String(format: "%.2f GB", value / 1e9) }
        if value >= 1e6 { return String(format: "%.1f MB", value / 1e6) }
        if value >= 1e3 { return String(format: "%.1f kB", value / 1e3) }
        return "\(count) B"
    }
}
