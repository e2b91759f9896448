// voxenc serve --model DIR [--host 127.0.0.1] [--port 8080] [--threads N] [--chunks-per-batch N]
//              [EngineOptions: --precision, --float-layers, --gemm] [--max-upload-mb 100] [--max-audio-seconds 3600]
//              [--max-queue 64] [--api-key-file F] [--log-level info]
// The HTTP service (Sources/VoxEncServer, docs/serve.md): loads the model once, serves until SIGTERM/SIGINT, then
// finishes the requests in flight and exits 0.

import ArgumentParser
import Foundation
import Logging
import VoxEnc
import VoxEncServer

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve embeddings over HTTP: POST /v1/audio/embeddings (docs/serve.md).",
        discussion: """
        Loads the model once and serves POST /v1/audio/embeddings (the audio file's bytes, or multipart/form-data \
        with a `file` part; ?format=json|npy|safetensors, ?encoder_only=true), GET /v1/models, /healthz, /readyz and \
        /metrics (Prometheus). Chunks of concurrent requests share encoder batches; each response equals \
        `voxenc embed` of the same file bit for bit. Binds 127.0.0.1 unless --host says otherwise. SIGTERM or \
        SIGINT: stop accepting, finish the requests in flight, exit 0. Prints `voxenc: listening on http://HOST:PORT` \
        on stderr once it accepts connections.
        """)

    @Option(help: "Model directory (as for `voxenc embed`). Default: $VOXENC_MODEL, else the installed default.")
    var model: String?

    @Option(help: "Address to bind (127.0.0.1: this machine only; 0.0.0.0: every interface).")
    var host: String = "127.0.0.1"

    @Option(help: "TCP port (0: any free port, printed at start).")
    var port: Int = 8080

    @OptionGroup var batch: BatchOptions

    @OptionGroup var engine: EngineOptions

    @Option(name: .customLong("max-upload-mb"), help: "Largest upload accepted, in MiB (413 beyond).")
    var maxUploadMB: Int = 100

    @Option(name: .customLong("max-audio-seconds"), help: "Longest audio accepted, in seconds (413 beyond).")
    var maxAudioSeconds: Double = 3600

    @Option(name: .customLong("max-queue"), help: "Requests admitted at once: uploading, waiting or being embedded (503 + Retry-After beyond).")
    var maxQueue: Int = 64

    @Option(name: .customLong("max-live-streams"), help: "Live WebSocket streams at once (/v1/realtime, causal models; each holds its key/value rings).")
    var maxLiveStreams: Int = 4

    @Option(name: .customLong("api-key-file"), help: "A file holding the API key: /v1/* then needs `Authorization: Bearer KEY`.")
    var apiKeyFile: String?

    @Option(name: .customLong("model-name"), help: "The model's id in responses (default: the model directory's name).")
    var modelName: String?

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel: String = "info"

    func validate() throws {
        if !(0...65535).contains(port) { throw ValidationError("--port must be 0…65535") }
        if maxUploadMB < 1 { throw ValidationError("--max-upload-mb must be ≥ 1") }
        if !(maxAudioSeconds > 0) { throw ValidationError("--max-audio-seconds must be > 0") }
        if maxQueue < 1 { throw ValidationError("--max-queue must be ≥ 1") }
        if maxLiveStreams < 1 { throw ValidationError("--max-live-streams must be ≥ 1") }
        if Logger.Level(rawValue: logLevel) == nil { throw ValidationError("--log-level must be trace, debug, info, notice, warning, error or critical") }
    }

    func run() async throws {
        var apiKey: String?
        if let apiKeyFile {
            guard let text = try? String(contentsOfFile: apiKeyFile, encoding: .utf8) else {
                FileHandleStderr.write("voxenc: error: \(apiKeyFile): cannot read the API key file (hint: a file holding the key on one line)\n")
                throw ExitCode(ErrorCategory.noInput.exitStatus)
            }
            let key = text.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !key.isEmpty else {
                FileHandleStderr.write("voxenc: error: \(apiKeyFile): the API key file is empty\n")
                throw ExitCode(ErrorCategory.dataError.exitStatus)
            }
            apiKey = key
        }
        let embedder: Embedder
        let directory: ModelLocator.Resolved
        do {
            try engine.precision.checkSupported()
            directory = try ModelLocator.resolve(model)
            embedder = try Embedder(modelDirectory: directory.path, configuration: batch.configuration(engine))
        } catch {
            throw report(error)
        }
        var logger = Logger(label: "voxenc.serve") { label in StderrLogHandler(label: label) }
        logger.logLevel = Logger.Level(rawValue: logLevel)!

        var configuration = ServerConfiguration(
            modelName: modelName ?? URL(fileURLWithPath: directory.path).standardizedFileURL.lastPathComponent)
        configuration.host = host
        configuration.port = port
        configuration.maxUploadBytes = maxUploadMB << 20
        configuration.maxAudioSeconds = maxAudioSeconds
        configuration.maxQueue = maxQueue
        configuration.maxLiveStreams = maxLiveStreams
        configuration.apiKey = apiKey
        let server = EmbeddingServer(embedder: embedder, configuration: configuration, logger: logger)
        let host = self.host
        let threadCount = embedder.configuration.threadCount
        let name = configuration.modelName
        do {
            try await server.run(signals: true) { port in
                FileHandleStderr.write("voxenc: serving \(name) (\(embedder.kind.rawValue) [\(embedder.rowsPerChunk)·N, "
                    + "\(embedder.dimension)], \(threadCount) threads)\n")
                FileHandleStderr.write("voxenc: listening on http://\(host.contains(":") ? "[\(host)]" : host):\(port)\n")
            }
        } catch {
            FileHandleStderr.write("voxenc: error: cannot serve on \(host):\(port): \(error)\n")
            throw ExitCode(ErrorCategory.other.exitStatus)
        }
        FileHandleStderr.write("voxenc: stopped\n")
    }
}

/// swift-log lines on file descriptor 2 (stdio's `stderr` points at /dev/null while a command runs:
/// LibraryDiagnostics): `voxenc: 2026-12-06T03:00:00Z info: message key=value`.
struct StderrLogHandler: LogHandler {
    let label: String
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var all = metadata
        if let extra = event.metadata { all.merge(extra) { $1 } }
        let details = all.isEmpty ? "" : " " + all.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        let time = ISO8601DateFormatter().string(from: Date())
        FileHandleStderr.write("voxenc: \(time) \(event.level): \(event.message)\(details)\n")
    }
}
