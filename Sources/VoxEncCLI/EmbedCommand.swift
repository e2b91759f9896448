// voxenc embed FILE... [--model DIR] [-o OUT] [--output-dir DIR] [--format npy|safetensors] [--encoder-only]
//                      [--threads N] [--chunks-per-batch N] [--channel N] [--force] [--keep-going] [--verbose]

import ArgumentParser
import Foundation
import VoxEnc

struct EmbedCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "embed",
        abstract: "Embed audio files: Voxtral adapter output [375·N, H] (or encoder states [1500·N, D]).",
        discussion: """
        Each input is decoded, resampled to 16 kHz mono (soxr HQ), turned into a log-mel over the whole audio, \
        encoded in independent 30 s chunks and, for Voxtral models, passed through the 4× adapter: 375 rows per \
        chunk at 12.5 Hz. Whisper models (or --encoder-only) give the encoder states: 1500 rows per chunk at 50 Hz. \
        The padded tail of the last chunk is kept, as in the reference; the sidecar's valid_frame_count says how many \
        rows cover real audio. Output: NAME.npy (float32) + NAME.json beside the input, or under --output-dir.
        """)

    @Argument(help: "Audio files (WAV, FLAC, OGG Vorbis, Opus, MP3).")
    var inputs: [String]

    @Option(help: "Model directory (Hugging Face Voxtral or Whisper, Mistral native, faster-whisper). Default: $VOXENC_MODEL, else the installed default (Weights/models/whisper-tiny.en).")
    var model: String?

    @Option(name: [.short, .customLong("output")], help: "Output path (one input only).")
    var output: String?

    @Option(name: .customLong("output-dir"), help: "Directory for the outputs (NAME.npy / NAME.safetensors).")
    var outputDirectory: String?

    @Option(help: "npy (float32 array + JSON sidecar) or safetensors (one file, metadata inside).")
    var format: String = "npy"

    @Flag(name: .customLong("encoder-only"), help: "Write the encoder states, skipping the adapter.")
    var encoderOnly = false

    @Option(help: "GEMM threads (default: the number of cores).")
    var threads: Int?

    @Option(name: .customLong("chunks-per-batch"), help: "30 s chunks encoded together (memory grows with it).")
    var chunksPerBatch: Int = 1

    @Option(help: "Use only this channel (0-based) instead of the average of all channels.")
    var channel: Int?

    @Flag(help: "Overwrite existing outputs.")
    var force = false

    @Flag(name: .customLong("keep-going"), help: "With several inputs, continue after a failure and summarise.")
    var keepGoing = false

    @Flag(help: "Print per-stage timings on stderr.")
    var verbose = false

    func validate() throws {
        guard EmbeddingsFormat(rawValue: format) != nil else {
            throw ValidationError("--format must be npy or safetensors, not \(format)")
        }
        if output != nil && inputs.count != 1 { throw ValidationError("-o/--output takes one input; use --output-dir") }
        if output != nil && outputDirectory != nil { throw ValidationError("use either -o or --output-dir") }
        if let threads, threads < 1 { throw ValidationError("--threads must be ≥ 1") }
        if chunksPerBatch < 1 { throw ValidationError("--chunks-per-batch must be ≥ 1") }
        if let channel, channel < 0 { throw ValidationError("--channel must be ≥ 0") }
    }

    func run() throws {
        let format = EmbeddingsFormat(rawValue: format)!
        let embedder: Embedder
        do {
            let directory = try ModelLocator.resolve(model)
            if directory.isInstalledDefault {
                FileHandleStderr.write("voxenc: using the installed default model \(directory.path) (choose with --model or VOXENC_MODEL)\n")
            }
            embedder = try Embedder(modelDirectory: directory.path, configuration: EmbedderConfiguration(
                threadCount: threads, chunksPerBatch: chunksPerBatch, kind: encoderOnly ? .encoder : nil))
        } catch {
            throw report(error)
        }
        if verbose {
            FileHandleStderr.write("voxenc: model \(embedder.model.path) (\(embedder.model.layout.rawValue), "
                + "d_model \(embedder.model.encoder.modelDimension), \(embedder.model.encoder.layerCount) layers), "
                + "output \(embedder.kind.rawValue) [\(embedder.rowsPerChunk)·N, \(embedder.dimension)]\n")
        }
        var failures: [(String, String)] = []
        var lastError: ExitCode?
        for input in inputs {
            let target = outputPath(for: input, format: format)
            do {
                try EmbeddingsFile.Writer.checkTargets(path: target, format: format, overwrite: force)
                // Streamed, memory independent of the duration: pass 1 finds the mel's maximum, the header is
                // written, pass 2 encodes chunk by chunk and appends rows (Embedder.embedStreaming).
                var writer: EmbeddingsFile.Writer?
                let embeddings = try embedder.embedStreaming(
                    fileAt: input, channels: channel.map(ChannelSelection.channel) ?? .average,
                    begin: { info, warnings throws(VoxEncError) in
                        warn(input, warnings)
                        do throws(OutputError) { writer = try EmbeddingsFile.Writer(path: target, format: format, info: info, input: input,
                                                                overwrite: force) } catch { throw .output(error) }
                    },
                    sink: { chunk throws(VoxEncError) in
                        do throws(OutputError) { try writer!.append(chunk.values) } catch { throw .output(error) }
                    })
                _ = try writer!.finish()
                print("\(target): \(embeddings.kind.rawValue) [\(embeddings.frameCount), \(embeddings.dimension)] float32, "
                    + "\(embeddings.chunkCount) chunk(s), \(embeddings.validFrameCount) valid rows at "
                    + "\(embeddings.frameRate) Hz, " + String(format: "%.3f s", embeddings.durationSeconds))
                if verbose {
                    let t = embeddings.timings
                    FileHandleStderr.write(String(format: "voxenc: %@: decode %.3f s, mel %.3f s, encoder %.3f s, adapter %.3f s, total %.3f s (%.1f× real time)\n",
                                                  input, t.decode, t.mel, t.encoder, t.adapter, t.total, t.realTimeFactor))
                }
            } catch {
                let code = report(error)
                lastError = code
                failures.append((input, describe(error).0))
                if !keepGoing { throw code }
            }
        }
        if inputs.count > 1 && keepGoing {
            FileHandleStderr.write("voxenc: \(inputs.count - failures.count) of \(inputs.count) files embedded, \(failures.count) failed\n")
        }
        if let lastError { throw lastError }
    }

    func outputPath(for input: String, format: EmbeddingsFormat) -> String {
        if let output { return output }
        let url = URL(fileURLWithPath: input)
        let name = url.deletingPathExtension().lastPathComponent + "." + format.fileExtension
        if let outputDirectory { return URL(fileURLWithPath: outputDirectory).appendingPathComponent(name).path }
        return url.deletingPathExtension().path + "." + format.fileExtension
    }
}
