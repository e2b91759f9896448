// voxenc embed FILE... | --manifest FILE|- | --input-dir DIR [--recursive]
//              [--model DIR] [-o OUT] [--output-dir DIR] [--format npy|safetensors] [--encoder-only]
//              [--threads N] [--chunks-per-batch N] [EngineOptions: --precision, --float-layers, --gemm]
//              [--channel N] [--force] [--skip-existing]
//              [--shard I/N|auto] [--shard-count N] [--keep-going] [--jsonl] [--quiet] [--verbose]
// One model load for every file; chunks of consecutive files share encoder batches (EmbeddingJob).

import ArgumentParser
import Foundation
#if canImport(Glibc)
import Glibc
#endif
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

        Batch jobs: --manifest or --input-dir list the files; outputs mirror their ids under --output-dir; one JSON \
        line per file goes to stdout; failures are listed and the job goes on. --shard I/N embeds the files whose id \
        hashes to I; --skip-existing leaves complete outputs alone, so a killed worker restarted with the same \
        command finishes the job (docs/scale-out.md).
        """)

    @Argument(help: "Audio files (WAV, FLAC, OGG Vorbis, Opus, MP3).")
    var inputs: [String] = []

    @Option(help: "A list of files: one path per line, or JSON lines {\"id\": …, \"path\": …}; - reads stdin.")
    var manifest: String?

    @Option(name: .customLong("input-dir"), help: "Embed the audio files in this directory (ids relative to it).")
    var inputDirectory: String?

    @Flag(help: "With --input-dir, descend into subdirectories.")
    var recursive = false

    @Option(name: .customLong("input-tar"), help: "Embed the audio members (.wav .flac .ogg .opus .mp3) of this tar, read from it without extraction; ids are their WebDataset keys (repeatable).")
    var inputTars: [String] = []

    @Option(help: "Model directory (Hugging Face Voxtral or Whisper, Mistral native, faster-whisper). Default: $VOXENC_MODEL, else the installed default (Weights/models/whisper-tiny.en).")
    var model: String?

    @Option(name: [.short, .customLong("output")], help: "Output path (one input only).")
    var output: String?

    @Option(name: .customLong("output-dir"), help: "Directory for the outputs (NAME.npy / NAME.safetensors; batch jobs mirror the ids' folders).")
    var outputDirectory: String?

    @Option(name: .customLong("output-tar"), help: "Write every output into this tar as KEY.npy + KEY.json members (WebDataset); {shard} becomes the --shard index (6 digits). Written as NAME.partial and renamed when complete.")
    var outputTar: String?

    @Option(help: "npy (array + JSON sidecar) or safetensors (one file, metadata inside).")
    var format: String = "npy"

    @Option(help: "Element type of the outputs: float32 (default), float16 (half the bytes, ≈ 2⁻¹¹ relative rounding) or bfloat16 (safetensors only); rounded to nearest even from float32.")
    var dtype: String = OutputDType.float32.rawValue

    @Option(help: "none (default: every row) or mean (one vector per file: the mean of the rows that cover the audio, summed in float64).")
    var pool: String = Pooling.none.rawValue

    @Flag(name: .customLong("encoder-only"), help: "Write the encoder states, skipping the adapter.")
    var encoderOnly = false

    @OptionGroup var batch: BatchOptions

    @OptionGroup var engine: EngineOptions

    @Option(help: "Use only this channel (0-based) instead of the average of all channels.")
    var channel: Int?

    @Flag(help: "Overwrite existing outputs.")
    var force = false

    @Flag(name: .customLong("skip-existing"), help: "Leave complete outputs alone; redo incomplete ones (resume after a kill).")
    var skipExisting = false

    @Option(help: "Embed only shard I of N (I/N, 0-based, by a stable hash of each id), or auto: from SLURM_ARRAY_TASK_ID/_COUNT or JOB_COMPLETION_INDEX.")
    var shard: String?

    @Option(name: .customLong("shard-count"), help: "The number of shards for --shard auto (required with JOB_COMPLETION_INDEX: the Job's completions).")
    var shardCount: Int?

    @Flag(name: .customLong("keep-going"), help: "Continue after a failure and summarise (always on with --manifest/--input-dir).")
    var keepGoing = false

    @Flag(help: "One JSON line per file on stdout (always on with --manifest/--input-dir).")
    var jsonl = false

    @Flag(help: "No progress bar, warnings or summary on stderr (errors of single files still go to the JSON lines).")
    var quiet = false

    @Flag(help: "Print per-stage timings on stderr.")
    var verbose = false

    var isBatchJob: Bool { manifest != nil || inputDirectory != nil || !inputTars.isEmpty }

    /// --dtype and --pool (validate() has refused other values).
    var encoding: OutputEncoding { OutputEncoding(dtype: OutputDType(rawValue: dtype)!, pooling: Pooling(rawValue: pool)!) }

    func validate() throws {
        guard let format = EmbeddingsFormat(rawValue: format) else {
            throw ValidationError("--format must be npy or safetensors, not \(format)")
        }
        guard OutputDType(rawValue: dtype) != nil else {
            throw ValidationError("--dtype must be \(OutputDType.allCases.map(\.rawValue).joined(separator: ", ")), not \(dtype)")
        }
        guard Pooling(rawValue: pool) != nil else { throw ValidationError("--pool must be none or mean, not \(pool)") }
        do { try encoding.check(format: format) } catch {
            throw ValidationError("--dtype \(dtype): \(error.description); write --format safetensors (BF16), or --dtype float16")
        }
        let sources = (inputs.isEmpty ? 0 : 1) + (manifest == nil ? 0 : 1) + (inputDirectory == nil ? 0 : 1)
            + (inputTars.isEmpty ? 0 : 1)
        if sources == 0 { throw ValidationError("missing <inputs>: give audio files, --manifest FILE, --input-dir DIR or --input-tar TAR") }
        if sources > 1 { throw ValidationError("give audio files, --manifest, --input-dir or --input-tar, not several of them") }
        if outputTar != nil && (output != nil || outputDirectory != nil) { throw ValidationError("use either --output-tar or -o/--output-dir") }
        if !inputTars.isEmpty && outputTar == nil && outputDirectory == nil {
            throw ValidationError("--input-tar needs --output-dir DIR or --output-tar TAR (there is no directory beside its members)")
        }
        if let outputTar, !outputTar.hasSuffix(".tar") { throw ValidationError("--output-tar must name a .tar file, not \(outputTar)") }
        if recursive && inputDirectory == nil { throw ValidationError("--recursive goes with --input-dir") }
        if output != nil && (inputs.count != 1 || isBatchJob) { throw ValidationError("-o/--output takes one input; use --output-dir") }
        if output != nil && outputDirectory != nil { throw ValidationError("use either -o or --output-dir") }
        if force && skipExisting { throw ValidationError("use either --force or --skip-existing") }
        if let channel, channel < 0 { throw ValidationError("--channel must be ≥ 0") }
        if let shardCount, shardCount < 1 { throw ValidationError("--shard-count must be ≥ 1") }
        if shardCount != nil && shard != "auto" { throw ValidationError("--shard-count goes with --shard auto") }
    }

    func run() throws {
        let format = EmbeddingsFormat(rawValue: format)!
        var items: [JobItem]
        let selection: (items: [JobItem], shard: Shard?, damagedTars: [TarError])
        do { selection = try selectItems(format: format) } catch { throw report(error) }
        items = selection.items
        // --output-tar: the shard's path, its items' keys; a finished shard under --skip-existing is done already. The
        // shard is checked now and opened once the model has loaded (a job that cannot start leaves no partial).
        var shardTarget: (path: String, keys: [String])?
        if let outputTar {
            let path = outputTar.replacingOccurrences(of: "{shard}", with: String(format: "%06d", selection.shard?.index ?? 0))
            let keys: [String]
            do {
                keys = try items.map { item throws(JobError) in try TarShardWriter.key(for: item.id) }
                try JobItem.checkDistinctOutputs(zip(items, keys).map { JobItem(id: $0.id, input: $0.input, output: $1) })
            } catch { throw report(error) }
            items = zip(items, keys).map { item, key in
                var item = item
                item.output = path + ":" + key + "." + format.fileExtension
                return item
            }
            if skipExisting, let finished = TarShardWriter.finishedSamples(at: path) {
                if reportFinishedShard(path, items: items, keys: keys, samples: finished) {
                    throw ExitCode(ExitStatus.someFilesFailed)
                }
                return
            }
            do {
                try FileManager.default.createDirectory(atPath: URL(fileURLWithPath: path).deletingLastPathComponent().path,
                                                        withIntermediateDirectories: true)
                try TarShardWriter.checkTarget(path, resume: skipExisting, overwrite: force)
            } catch { throw report(error) }
            shardTarget = (path, keys)
        }

        let embedder: Embedder
        do {
            try engine.precision.checkSupported()  // before looking for the model: one clear line, exit 64
            let directory = try ModelLocator.resolve(model)
            if directory.isInstalledDefault && !quiet {
                FileHandleStderr.write("voxenc: using the installed default model \(directory.path) (choose with --model or VOXENC_MODEL)\n")
            }
            embedder = try Embedder(modelDirectory: directory.path,
                                    configuration: batch.configuration(engine, kind: encoderOnly ? .encoder : nil))
        } catch {
            throw report(error)
        }
        if verbose {
            FileHandleStderr.write("voxenc: model \(embedder.model.path) (\(embedder.model.layout.rawValue), "
                + "d_model \(embedder.model.encoder.modelDimension), \(embedder.model.encoder.layerCount) layers), "
                + "output \(embedder.kind.rawValue) [\(embedder.rowsPerChunk)·N, \(embedder.dimension)], "
                + "precision \(embedder.configuration.precision.rawValue)\n")
            let route = embedder.floatRoute
            FileHandleStderr.write("voxenc: f32 GEMM \(route.backend) (\(route.kernel)): \(route.reason)\n")
            if let route = embedder.precisionRoute {
                let levels = embedder.int8WeightLevels.map { ", weights quantised to ±\($0)" } ?? ""
                FileHandleStderr.write("voxenc: \(route.precision) GEMM \(route.backend) (\(route.kernel))\(levels): "
                    + "\(route.reason)\n")
            }
            FileHandleStderr.write("voxenc: element-wise kernels \(MachineSummary().elementwiseKernels)\n")
        }
        if !quiet {
            for line in embedder.routeWarnings { FileHandleStderr.write("voxenc: \(line)\n") }
        }

        var shard: (writer: TarShardWriter, keys: [String])?
        if let shardTarget {
            do { shard = (try TarShardWriter(path: shardTarget.path, resume: skipExisting, overwrite: force), shardTarget.keys) }
            catch { throw report(error) }
        }
        let keepGoing = self.keepGoing || isBatchJob
        let job = EmbeddingJob(embedder: embedder, items: items, options: JobOptions(
            format: format, channels: channel.map(ChannelSelection.channel) ?? .average, overwrite: force,
            skipExisting: skipExisting, stopAtFirstFailure: !keepGoing, createsDirectories: isBatchJob,
            encoding: encoding), shard: shard)
        let progressBar = !quiet && isatty(2) == 1 && items.count > 1 ? ProgressBar() : nil
        var summary = job.run(progress: { progressBar?.show($0) }, report: { result in
            progressBar?.clear()
            present(result)
        })
        progressBar?.finish()
        for damage in selection.damagedTars {  // the members after a damaged header: one failure for the archive
            let item = JobItem(id: damage.path, input: damage.path, output: "")
            present(JobResult(item: item, status: .failed, frameCount: nil, dimension: nil, durationSeconds: nil,
                              seconds: 0, error: .tar(damage), warnings: [], files: [], info: nil))
            summary.failed += 1
            if summary.firstError == nil { summary.firstError = .tar(damage) }
        }
        if let shard {
            do { try shard.writer.finish() } catch { throw report(error) }
        }
        if items.count > 1 && !quiet && (keepGoing || isBatchJob) {
            FileHandleStderr.write("voxenc: \(summary.embedded) embedded, \(summary.skipped) skipped, \(summary.failed) failed "
                + "of \(items.count) files; " + String(format: "%.2f h of audio in %.1f s (%.1f× real time)\n",
                summary.audioSeconds / 3600, summary.elapsedSeconds,
                summary.elapsedSeconds > 0 ? summary.audioSeconds / summary.elapsedSeconds : 0))
        }
        if let error = summary.firstError { throw ExitCode(isBatchJob ? ExitStatus.someFilesFailed : ErrorReport(error).category.exitStatus) }
    }

    /// The files of this run: the arguments, the manifest, the directory listing or the tars' audio members, then
    /// this worker's shard.
    func selectItems(format: EmbeddingsFormat) throws -> (items: [JobItem], shard: Shard?, damagedTars: [TarError]) {
        var items: [JobItem]
        var damagedTars: [TarError] = []
        if !inputTars.isEmpty {
            let listing = try InputTars.list(inputTars)
            damagedTars = listing.damaged
            items = try listing.members.map { id, source throws(JobError) in
                var item = try JobItem.mirrored(id: id, input: source.archive + ":" + source.member.name,
                                                outputDirectory: outputDirectory ?? "", format: format)
                item.tarMember = source
                return item
            }
        } else if let manifest {
            items = try Manifest.read(path: manifest).map { entry throws(JobError) in
                try JobItem.mirrored(id: entry.id, input: entry.path, outputDirectory: outputDirectory, format: format)
            }
        } else if let inputDirectory {
            items = try Manifest.list(directory: inputDirectory, recursive: recursive).map { entry throws(JobError) in
                try JobItem.mirrored(id: entry.id, input: entry.path, outputDirectory: outputDirectory, format: format)
            }
        } else {
            items = inputs.map { JobItem(id: $0, input: $0, output: outputPath(for: $0, format: format)) }
        }
        try JobItem.checkDistinctOutputs(items)
        let environment = ProcessInfo.processInfo.environment
        var selected: Shard?
        if let shard {
            selected = shard == "auto" ? try Shard.fromEnvironment(environment, count: shardCount)
                                       : try Shard(parsing: shard)
            items = items.filter { selected!.contains(id: $0.id) }
            if verbose { FileHandleStderr.write("voxenc: shard \(selected!): \(items.count) files\n") }
        } else if !quiet, let variable = Shard.schedulerVariables(in: environment).first {
            FileHandleStderr.write("voxenc: warning: \(variable) is set but --shard is not: embedding every file (pass --shard auto to split the list)\n")
        }
        return (items, selected, damagedTars)
    }

    /// --skip-existing on a finished shard: each item is skipped (its sample is there) or failed (it failed in the run
    /// that finished the shard, which cannot take more members). Returns whether any failed.
    func reportFinishedShard(_ path: String, items: [JobItem], keys: [String], samples: [String: [String: Any]]) -> Bool {
        var failed = false
        for (item, key) in zip(items, keys) {
            if let metadata = samples[key], let shape = metadata["shape"] as? [Int] {
                present(JobResult(item: item, status: .skipped, frameCount: metadata["frame_count"] as? Int ?? shape.first,
                                  dimension: shape.last, durationSeconds: (metadata["duration_s"] as? NSNumber)?.doubleValue,
                                  seconds: 0, error: nil, warnings: [], files: [], info: nil))
            } else {
                failed = true
                present(JobResult(item: item, status: .failed, frameCount: nil, dimension: nil, durationSeconds: nil,
                                  seconds: 0, error: .tar(.absentFromFinishedShard(path: path, key: key)), warnings: [],
                                  files: [], info: nil))
            }
        }
        return failed
    }

    /// -o; else NAME.EXT under --output-dir; else beside the input (the same rule as a batch job without --output-dir).
    func outputPath(for input: String, format: EmbeddingsFormat) -> String {
        if let output { return output }
        let beside = JobItem.replacingExtension(of: input, with: format.fileExtension)
        guard let outputDirectory else { return beside }
        return URL(fileURLWithPath: outputDirectory).appendingPathComponent(URL(fileURLWithPath: beside).lastPathComponent).path
    }

    /// One result: a JSON line (batch jobs, --jsonl) or a human line; errors and warnings on stderr.
    func present(_ result: JobResult) {
        if !quiet { warn(result.item.input, result.warnings) }
        if let error = result.error, !(quiet && (isBatchJob || jsonl)) { _ = report(error) }
        if isBatchJob || jsonl {
            print(ResultLine.json(result))
        } else if let info = result.info {
            print("\(result.item.output): \(info.kind.rawValue) [\(info.frameCount), \(info.dimension)] \(encoding.dtype.rawValue)"
                + (encoding.pooling == .mean ? " pooled to [\(info.dimension)] (mean of \(info.validFrameCount) rows)" : "") + ", "
                + "\(info.chunkCount) chunk(s), \(info.validFrameCount) valid rows at "
                + "\(info.frameRate) Hz, " + String(format: "%.3f s", info.durationSeconds))
            if verbose {
                let t = info.timings
                FileHandleStderr.write(String(format: "voxenc: %@: decode %.3f s, mel %.3f s, encoder %.3f s, adapter %.3f s, total %.3f s (%.1f× real time)\n",
                                              result.item.input, t.decode, t.mel, t.encoder, t.adapter, t.total, t.realTimeFactor))
            }
        } else if result.status == .skipped {
            print("\(result.item.output): complete, skipped")
        }
        fflush(nil)  // each line reaches a pipe at once (a killed worker keeps what it reported)
    }
}

/// The JSON line of one file: {"id", "input", "output", "status", "frames", "duration_s", "seconds", "error"}.
enum ResultLine {
    static func json(_ result: JobResult) -> String {
        let report = result.error.map { ErrorReport($0) }
        var object: [String: Any] = [
            "id": result.item.id, "input": result.item.input, "output": result.item.output,
            "status": result.status.rawValue,
            "frames": result.frameCount.map { $0 as Any } ?? NSNull(),
            "duration_s": result.durationSeconds.map { $0 as Any } ?? NSNull(),
            "seconds": (result.seconds * 1000).rounded() / 1000,
            "error": report.map { $0.message as Any } ?? NSNull(),
        ]
        if let report { object["exit_code"] = Int(report.category.exitStatus) }
        if !result.warnings.isEmpty { object["warnings"] = result.warnings }
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]),
              let line = String(data: data, encoding: .utf8) else { return "{}" }
        return line
    }
}
