// A batch job: many files, one model load. Each file is decoded twice (pass 1: the mel's whole-audio maximum; pass
// 2: chunks), and the chunks of consecutive files are packed into shared encoder batches of `chunksPerBatch`, so
// short files fill the batch too. Every file's rows still equal a single-file run bit for bit (BatchEncoder).
// Outputs are written as their chunks come out of the encoder and committed atomically when complete; a result is
// reported per file (embedded, skipped as already complete, or failed with its error) and the job goes on.

import Foundation
import VoxEncAudio

public struct JobOptions: Sendable {
    public var format: EmbeddingsFormat
    public var channels: ChannelSelection
    /// Replace existing outputs (--force).
    public var overwrite: Bool
    /// Leave complete outputs alone and redo incomplete ones (--skip-existing).
    public var skipExisting: Bool
    /// Stop taking new files after the first failure (the files already in the encoder batch are finished).
    public var stopAtFirstFailure: Bool
    /// Make missing output directories (a batch job mirrors its ids' folders); otherwise a missing directory is an
    /// error, as for `-o no/such/dir/x.npy`.
    public var createsDirectories: Bool
    /// The element type and pooling of the outputs (--dtype, --pool).
    public var encoding: OutputEncoding

    public init(format: EmbeddingsFormat = .npy, channels: ChannelSelection = .average, overwrite: Bool = false,
                skipExisting: Bool = false, stopAtFirstFailure: Bool = false, createsDirectories: Bool = true,
                encoding: OutputEncoding = .float32Rows) {
        self.createsDirectories = createsDirectories
        self.encoding = encoding
        self.format = format
        self.channels = channels
        self.overwrite = overwrite
        self.skipExisting = skipExisting
        self.stopAtFirstFailure = stopAtFirstFailure
    }
}

/// The outcome of one file.
public struct JobResult: Sendable {
    public enum Status: String, Sendable {
        case embedded = "ok", skipped, failed
    }

    public var item: JobItem
    public var status: Status
    /// Rows written (or found, when skipped); nil when failed.
    public var frameCount: Int?
    public var dimension: Int?
    /// Seconds of audio; nil when failed before the file was read.
    public var durationSeconds: Double?
    /// Wall-clock seconds from starting the file to committing its output.
    public var seconds: Double
    public var error: VoxEncError?
    /// Damaged-but-readable input, said once per file.
    public var warnings: [String]
    /// Files written (output, and the sidecar for .npy).
    public var files: [String]
    /// The full description (embedded files only).
    public var info: EmbeddingsInfo?

    public init(item: JobItem, status: Status, frameCount: Int? = nil, dimension: Int? = nil,
                durationSeconds: Double? = nil, seconds: Double = 0, error: VoxEncError? = nil, warnings: [String] = [],
                files: [String] = [], info: EmbeddingsInfo? = nil) {
        self.item = item
        self.status = status
        self.frameCount = frameCount
        self.dimension = dimension
        self.durationSeconds = durationSeconds
        self.seconds = seconds
        self.error = error
        self.warnings = warnings
        self.files = files
        self.info = info
    }
}

/// Where the job stands, after every encoder batch and every file.
public struct JobProgress: Sendable {
    public var filesDone: Int
    public var filesTotal: Int
    public var failed: Int
    /// Seconds of audio embedded so far (whole chunks for files still in progress).
    public var audioSeconds: Double
    public var elapsedSeconds: Double

    public var realTimeFactor: Double { elapsedSeconds > 0 ? audioSeconds / elapsedSeconds : 0 }
    /// Remaining wall-clock seconds at the rate of files so far; nil before the first file.
    public var estimatedSecondsLeft: Double? {
        filesDone > 0 ? elapsedSeconds / Double(filesDone) * Double(filesTotal - filesDone) : nil
    }
}

public struct JobSummary: Sendable {
    public var embedded = 0
    public var skipped = 0
    public var failed = 0
    public var audioSeconds = 0.0
    public var elapsedSeconds = 0.0
    /// The first failure, for the exit status.
    public var firstError: VoxEncError?
}

public final class EmbeddingJob {
    public let embedder: Embedder
    public let items: [JobItem]
    public let options: JobOptions
    /// The tar every output goes into as members (--output-tar), with each item's WebDataset key; nil: files.
    public let shard: (writer: TarShardWriter, keys: [String])?

    public init(embedder: Embedder, items: [JobItem], options: JobOptions = .init(),
                shard: (writer: TarShardWriter, keys: [String])? = nil) {
        precondition(shard.map { $0.keys.count == items.count } ?? true, "one key per item")
        self.embedder = embedder
        self.items = items
        self.options = options
        self.shard = shard
    }

    /// A file between its first pass and its committed output.
    private final class OpenFile {
        let slot: Int
        let started: Double
        /// Its description; the timings gain the file's share of each encoder batch and its pass-2 mel time.
        var info: EmbeddingsInfo
        let warnings: [String]
        let writer: EmbeddingsFile.Writer
        /// Seconds of its audio in chunks encoded so far.
        var audioEncoded = 0.0
        /// When its second pass began, and the job's encode seconds then; nil once the pass has ended.
        var secondPassStart: (time: Double, encodeSeconds: Double)?

        /// Pass 2's mel time: its wall time without the encoder batches run meanwhile. Called at the end of the pass,
        /// or at completion when the file's last batch ran inside its own pass.
        func endSecondPass(encodeSeconds: Double) {
            guard let start = secondPassStart else { return }
            info.timings.mel = max(0, now() - start.time - (encodeSeconds - start.encodeSeconds))
            secondPassStart = nil
        }

        init(slot: Int, started: Double, info: EmbeddingsInfo, warnings: [String], writer: EmbeddingsFile.Writer) {
            self.slot = slot
            self.started = started
            self.info = info
            self.warnings = warnings
            self.writer = writer
        }
    }

    /// Runs every item in order. `report` receives each file's result when it is done (files finish in order,
    /// except that a failure is reported at once); `progress` after every encoder batch and every file.
    @discardableResult
    public func run(progress: (JobProgress) -> Void = { _ in }, report: (JobResult) -> Void) -> JobSummary {
        let jobStart = now()
        var summary = JobSummary()
        var open: [Int: OpenFile] = [:]
        var batch = BatchEncoder<Int>(embedder: embedder)
        let stepSeconds = batch.output.stepSeconds
        var encodeSeconds = 0.0  // encoder + adapter, all batches so far

        func tell() {
            let inProgress = open.values.reduce(0) { $0 + $1.audioEncoded }
            progress(JobProgress(filesDone: summary.embedded + summary.skipped + summary.failed, filesTotal: items.count,
                                 failed: summary.failed, audioSeconds: summary.audioSeconds + inProgress,
                                 elapsedSeconds: now() - jobStart))
        }
        func finish(_ result: JobResult) {
            switch result.status {
            case .embedded: summary.embedded += 1
            case .skipped: summary.skipped += 1
            case .failed:
                summary.failed += 1
                if summary.firstError == nil { summary.firstError = result.error }
            }
            if result.status == .embedded, let duration = result.durationSeconds { summary.audioSeconds += duration }
            report(result)
            tell()
        }
        /// Reports a failure; an open output is dropped, which removes its temporary file.
        func fail(_ slot: Int, _ error: VoxEncError, started: Double, prepared: PreparedAudio? = nil) {
            let file = open.removeValue(forKey: slot)
            finish(JobResult(item: items[slot], status: .failed, frameCount: nil, dimension: nil,
                             durationSeconds: (file?.info ?? prepared?.info)?.durationSeconds, seconds: now() - started,
                             error: error, warnings: file?.warnings ?? prepared?.warnings ?? [], files: [], info: nil))
        }
        func complete(_ file: OpenFile) {
            file.endSecondPass(encodeSeconds: encodeSeconds)
            do throws(OutputError) {
                let files = try file.writer.finish()
                open.removeValue(forKey: file.slot)
                finish(JobResult(item: items[file.slot], status: .embedded, frameCount: file.info.frameCount,
                                 dimension: file.info.dimension, durationSeconds: file.info.durationSeconds,
                                 seconds: now() - file.started, error: nil, warnings: file.warnings, files: files,
                                 info: file.info))
            } catch {
                fail(file.slot, .output(error), started: file.started)
            }
        }
        /// Appends each encoded chunk's rows to its file's output.
        func deliver(_ done: EncodedBatch<Int>) {
            encodeSeconds += done.encoderSeconds + done.adapterSeconds
            for (position, entry) in done.entries.enumerated() {
                guard let file = open[entry.owner] else { continue }  // failed meanwhile
                do throws(OutputError) {
                    try done.values(at: position).withUnsafeBufferPointer { rows throws(OutputError) in
                        try file.writer.append(rows)
                    }
                } catch {
                    fail(entry.owner, .output(error), started: file.started)
                    continue
                }
                let duration = file.info.durationSeconds, end = Double(entry.step + 1) * stepSeconds
                file.audioEncoded += min(duration, end) - min(duration, end - stepSeconds)
                file.info.timings.encoder += done.encoderShare
                file.info.timings.adapter += done.adapterShare
                if file.writer.isFull { complete(file) }
            }
            tell()
        }

        if options.skipExisting && shard == nil {
            StaleTemporaries.remove(besides: items.map(\.output), format: options.format)
        }
        for (slot, item) in items.enumerated() {
            if options.stopAtFirstFailure && summary.failed > 0 { break }
            let started = now()
            var overwrite = options.overwrite
            if let shard, options.skipExisting {
                if let facts = shard.writer.resumed[shard.keys[slot]].flatMap(CompletedOutput.facts(metadata:)) {
                    finish(JobResult(item: item, status: .skipped, frameCount: facts.frameCount, dimension: facts.dimension,
                                     durationSeconds: facts.durationSeconds, seconds: now() - started, error: nil,
                                     warnings: [], files: [], info: nil))
                    continue
                }
            } else if options.skipExisting {
                if let facts = CompletedOutput.facts(at: item.output, format: options.format) {
                    finish(JobResult(item: item, status: .skipped, frameCount: facts.frameCount, dimension: facts.dimension,
                                     durationSeconds: facts.durationSeconds, seconds: now() - started, error: nil,
                                     warnings: [], files: [], info: nil))
                    continue
                }
                overwrite = true  // an incomplete output of an earlier run: ours to redo
            }
            var prepared: PreparedAudio?
            do throws(VoxEncError) {
                // Refuse before decoding (the writer would refuse anyway, after a whole first pass). A missing parent
                // directory is made after the first pass, so that a file that cannot be read leaves none behind.
                if shard == nil && (!options.createsDirectories
                    || Self.directoryExists(URL(fileURLWithPath: item.output).deletingLastPathComponent().path)) {
                    do throws(OutputError) {
                        try EmbeddingsFile.Writer.checkTargets(path: item.output, format: options.format, overwrite: overwrite)
                    } catch { throw .output(error) }
                }
                let first = try prepare(item)
                prepared = first
                let writer: EmbeddingsFile.Writer
                do throws(OutputError) {
                    if let shard {
                        writer = try EmbeddingsFile.Writer(shard: shard.writer, key: shard.keys[slot], format: options.format,
                                                           info: first.info, input: item.input, encoding: options.encoding)
                    } else {
                        if options.createsDirectories { try Self.createParentDirectory(of: item.output) }
                        writer = try EmbeddingsFile.Writer(path: item.output, format: options.format, info: first.info,
                                                           input: item.input, encoding: options.encoding, overwrite: overwrite)
                    }
                } catch { throw .output(error) }
                let file = OpenFile(slot: slot, started: started, info: first.info, warnings: first.warnings, writer: writer)
                open[slot] = file
                file.secondPassStart = (now(), encodeSeconds)
                defer { file.endSecondPass(encodeSeconds: encodeSeconds) }
                if embedder.encoderModel.frontEnd.isCausal {
                    // A causal model streams each file through its own run state: no batches across files.
                    let seconds = try embedder.encodeSteps(of: first) { (chunk: ChunkEmbeddings) throws(VoxEncError) in
                        do throws(OutputError) {
                            try chunk.values.withUnsafeBufferPointer { rows throws(OutputError) in try file.writer.append(rows) }
                        } catch { throw .output(error) }
                    }
                    encodeSeconds += seconds.encoder + seconds.adapter
                    file.info.timings.encoder += seconds.encoder
                    file.info.timings.adapter += seconds.adapter
                    file.audioEncoded = file.info.durationSeconds
                    complete(file)
                    continue
                }
                let source = try MelSource(spectrogram: embedder.frontEnd, prepared: first)
                while let step = try source.next() {
                    if open[slot] == nil { throw .cancelled }  // its output failed and was reported: stop reading it
                    batch.append(step.mel, owner: slot, index: step.index, deliver: deliver)
                }
            } catch {
                if case .cancelled = error, open[slot] == nil { continue }
                fail(slot, error, started: started, prepared: prepared)
            }
        }
        batch.flush(deliver: deliver)
        summary.elapsedSeconds = now() - jobStart
        return summary
    }

    /// Pass 1 over an item's audio: a file, or a tar member read into memory (decoded from there, no extraction).
    private func prepare(_ item: JobItem) throws(VoxEncError) -> PreparedAudio {
        guard let source = item.tarMember else { return try embedder.prepare(fileAt: item.input, channels: options.channels) }
        let bytes: [UInt8]
        do { bytes = try source.member.bytes(inArchive: source.archive) } catch { throw .tar(error) }
        do {
            return try embedder.prepare(bytes: bytes, name: item.input, channels: options.channels, kind: embedder.kind)
        } catch {
            switch error {
            case .embedding(let error): throw error
            case .tooLong: preconditionFailure("no sample limit was given")
            }
        }
    }

    private static func directoryExists(_ path: String) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue
    }

    /// Output directories mirror the ids' folders; they are made as needed.
    private static func createParentDirectory(of path: String) throws(OutputError) {
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        if directoryExists(directory) { return }  // a file in the way fails below, in createDirectory
        do { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) } catch {
            throw .cannotCreate(path: path, reason: "cannot create the directory \(directory)")
        }
    }
}
