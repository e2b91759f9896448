// voxenc stream --model DIR [--step-ms 480] [--format jsonl|f32|npy] [-o OUT] [--input-format auto|s16le|f32le]
//               [--rate 16000] [INPUT | -]
// A live stream through a causal model (Voxtral Realtime): raw PCM from a pipe, or an audio file, in; each row out
// as soon as it is final. `ffmpeg -i … -f s16le -ar 16000 -ac 1 - | voxenc stream --model DIR`.

import ArgumentParser
import Foundation
import VoxEnc
import VoxEncAudio

struct StreamCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stream",
        abstract: "Embed live audio with a causal model (Voxtral Realtime): rows out as soon as they are final.",
        discussion: """
        Reads raw PCM (16-bit little-endian by default, mono, --rate Hz) from stdin or a path, or an audio file \
        (WAV, FLAC, OGG, Opus, MP3: recognised by its first bytes). The stream starts with the model's silent left \
        pad (32 rows for Voxtral Realtime, out at once); a row is final 2.5 ms after its 80 ms of audio, and the \
        encoder runs once --step-ms of audio is pending. At the end of input the offline right pad is added, so the \
        rows equal `voxenc embed` of the same audio bit for bit. Formats: jsonl (one {"index", "time_s", \
        "embedding"} line per row, on stdout or -o), f32 (raw float32 rows), npy (written at the end; needs -o).
        """)

    @Option(help: "Model directory (a Voxtral Realtime model); default: $VOXENC_MODEL.")
    var model: String?

    @Argument(help: "Input path, or - (the default) for stdin.")
    var input: String = "-"

    @Option(name: .customLong("step-ms"), help: "Audio pending before the encoder runs: a multiple of 80 ms (default 480, the model's delay).")
    var stepMilliseconds = 480

    @Option(help: "Output: jsonl, f32 or npy.")
    var format = "jsonl"

    @Option(name: [.short, .customLong("output")], help: "Output path (default: stdout; npy needs a path).")
    var output: String?

    @Option(name: .customLong("input-format"), help: "auto (a file's header, else s16le), s16le or f32le.")
    var inputFormat = "auto"

    @Option(help: "Sample rate of raw PCM input (resampled to 16 kHz with soxr HQ).")
    var rate = 16_000

    @Flag(name: .customLong("encoder-only"), help: "Write the encoder's rows (4 per 80 ms) instead of the adapter's.")
    var encoderOnly = false

    @OptionGroup var engine: EngineOptions

    @Option(help: "GEMM threads (default: the number of cores).")
    var threads: Int?

    @Flag(help: "Overwrite an existing output.")
    var force = false

    @Flag(help: "At the end, one line on stderr: rows, audio seconds, encoder and adapter seconds, real-time factor.")
    var verbose = false

    func validate() throws {
        guard ["jsonl", "f32", "npy"].contains(format) else { throw ValidationError("--format must be jsonl, f32 or npy, not \(format)") }
        guard ["auto", "s16le", "f32le"].contains(inputFormat) else {
            throw ValidationError("--input-format must be auto, s16le or f32le, not \(inputFormat)")
        }
        if format == "npy" && output == nil { throw ValidationError("--format npy needs -o/--output") }
        guard stepMilliseconds > 0 && stepMilliseconds % 80 == 0 else {
            throw ValidationError("--step-ms must be a positive multiple of 80, not \(stepMilliseconds)")
        }
        guard rate > 0 && rate <= 1_000_000 else { throw ValidationError("--rate must be a sample rate in Hz") }
        if let threads, threads < 1 { throw ValidationError("--threads must be ≥ 1") }
    }

    func run() throws {
        do {
            try engine.precision.checkSupported()
            let directory = try ModelLocator.resolve(model)
            let embedder = try Embedder(modelDirectory: directory.path, configuration: EmbedderConfiguration(
                threadCount: threads, kind: encoderOnly ? .encoder : nil, precision: engine.precision,
                floatGEMM: engine.gemm))
            let session = try StreamingSession(embedder: embedder, stepMilliseconds: stepMilliseconds)
            if let output { try AtomicFileWriter.checkTarget(output, overwrite: force) }
            var sink = try RowSink(format: format, path: format == "npy" ? nil : output, width: session.width,
                                   rowsPerSecond: embedder.output.rowsPerSecond, leadingPadRows: session.leadingPadRows)
            // A live output that fails part way is removed: nothing half-written is left behind.
            var succeeded = false
            defer { if !succeeded, let output, format != "npy" { try? FileManager.default.removeItem(atPath: output) } }
            let source = try InputSource(path: input, format: inputFormat, rate: rate)
            while let (samples, rate) = try source.next() {
                try session.push(samples, sampleRate: rate)
                try sink.write(session.pull())
            }
            // The end of input: the audio's last rows out first (one block's run), then the right pad's.
            try session.endAudio()
            for scope in [StreamingSession.EncodeScope.audio, .everything] {
                StreamingSession.encode([(session, scope)])
                try sink.write(session.pull())
            }
            try sink.close()
            if format == "npy", let output {
                try NumpyArray.write(shape: [sink.rows, session.width], values: sink.kept, to: output, overwrite: force)
            }
            succeeded = true
            if verbose {
                let audio = Double(session.audioSampleCount) / 16_000
                let compute = session.encoderSeconds + session.adapterSeconds
                FileHandleStderr.write(String(format: "voxenc: stream: %d rows, audio %.3f s, encoder %.3f s, adapter %.3f s, "
                                              + "RTF %.3f (encoder + adapter / audio), step %d ms\n", sink.rows, audio,
                                              session.encoderSeconds, session.adapterSeconds,
                                              audio > 0 ? compute / audio : 0, stepMilliseconds))
            }
        } catch {
            throw report(error)
        }
    }
}

/// Where the samples come from: raw PCM from stdin or a file, read as it arrives; or an audio file decoded block by
/// block (at 16 kHz).
private final class InputSource {
    private let handle: FileHandle?
    private let decoded: AudioStream?
    private let bytesPerSample: Int
    private let rate: Int
    private var carry = Data()
    private var pending: Data?

    init(path: String, format: String, rate: Int) throws {
        let handle: FileHandle
        if path == "-" {
            handle = .standardInput
        } else {
            guard FileManager.default.fileExists(atPath: path) else { throw AudioError.fileNotFound(path: path) }
            guard let opened = FileHandle(forReadingAtPath: path) else {
                throw AudioError.unreadable(path: path, reason: "cannot open it")
            }
            handle = opened
        }
        self.rate = rate
        bytesPerSample = format == "f32le" ? 4 : 2
        let head = format == "auto" ? handle.readData(ofLength: 4) : Data()
        let magic = [UInt8](head)
        // Containers with a signature only (RIFF, fLaC, OggS, an ID3-tagged MP3): a bare MPEG frame sync (0xFFE…) is
        // also what raw PCM16 of −1, −257, … starts with, so untagged MP3 needs a path with --input-format auto off
        // raw (or a tag).
        let signatures: [[UInt8]] = [[0x52, 0x49, 0x46, 0x46], [0x66, 0x4C, 0x61, 0x43], [0x4F, 0x67, 0x67, 0x53]]
        let isAudioFile = magic.count == 4 && (signatures.contains(magic) || magic.prefix(3) == [0x49, 0x44, 0x33])
        if isAudioFile {
            // A container: decoded whole from its bytes (libsndfile reads a seekable stream), then pushed block by block.
            let bytes = [UInt8](head + handle.readDataToEndOfFile())
            decoded = try AudioStream(bytes: bytes, name: path == "-" ? "<stdin>" : path)
            self.handle = nil
        } else {
            decoded = nil
            self.handle = handle
            pending = head
        }
    }

    /// The next block of samples and their rate; nil at the end.
    func next() throws -> ([Float], Int)? {
        if let decoded {
            guard let block = try decoded.next() else { return nil }
            return (block, 16_000)
        }
        guard let handle else { return nil }
        var data = pending ?? Data()
        pending = nil
        if data.isEmpty { data = handle.availableData }
        if data.isEmpty {
            if !carry.isEmpty {
                throw AudioError.corrupt(path: "<pcm>", reason: "input ends mid-sample (\(carry.count) stray byte(s))")
            }
            return nil
        }
        carry.append(data)
        let whole = carry.count / bytesPerSample * bytesPerSample
        let bytes = carry.prefix(whole)
        carry = Data(carry.dropFirst(whole))
        var samples = [Float](repeating: 0, count: whole / bytesPerSample)
        bytes.withUnsafeBytes { raw in
            if bytesPerSample == 2 {
                for i in 0..<samples.count {
                    samples[i] = Float(Int16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * i, as: Int16.self))) / 32768
                }
            } else {
                for i in 0..<samples.count {
                    samples[i] = Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))
                }
            }
        }
        return (samples, rate)
    }
}

/// Rows out: JSON lines or raw float32 as they come, or kept for an npy at the end.
private struct RowSink {
    let format: String
    let handle: FileHandle
    let width: Int
    let rowsPerSecond: Double
    let leadingPadRows: Int
    private(set) var rows = 0
    private(set) var kept: [Float] = []
    let path: String?

    init(format: String, path: String?, width: Int, rowsPerSecond: Double, leadingPadRows: Int) throws {
        self.format = format
        self.leadingPadRows = leadingPadRows
        self.width = width
        self.rowsPerSecond = rowsPerSecond
        self.path = path
        if let path, format != "npy" {
            guard FileManager.default.createFile(atPath: path, contents: nil), let handle = FileHandle(forWritingAtPath: path) else {
                throw OutputError.cannotCreate(path: path, reason: "cannot create the file")
            }
            self.handle = handle
        } else {
            handle = .standardOutput
        }
    }

    mutating func write(_ values: [Float]) throws {
        guard !values.isEmpty else { return }
        switch format {
        case "npy":
            kept += values
            rows += values.count / width
        case "f32":
            var data = Data(count: values.count * 4)
            data.withUnsafeMutableBytes { raw in
                for (i, v) in values.enumerated() { raw.storeBytes(of: v.bitPattern.littleEndian, toByteOffset: 4 * i, as: UInt32.self) }
            }
            try handle.write(contentsOf: data)
            rows += values.count / width
        default:
            var text = ""
            for r in 0..<(values.count / width) {
                let row = values[(r * width)..<((r + 1) * width)].map { "\($0)" }.joined(separator: ",")
                // time_s: the row's start in the audio (the silent left pad's rows before 0).
                text += "{\"index\":\(rows),\"time_s\":\(Double(rows - leadingPadRows) / rowsPerSecond),\"embedding\":[\(row)]}\n"
                rows += 1
            }
            try handle.write(contentsOf: Data(text.utf8))
        }
    }

    func close() throws {
        if path != nil { try handle.close() }
    }
}
