// The bad-input corpus of issue #6, generated in the test setup and run through the real `voxenc` binary with the
// tiny Voxtral fixture model. Every bad case (audio, weights, command line) must end with its sysexits code, a short
// stderr (one line, "voxenc: error: FILE: problem (hint: …)") naming the offending file, no crash text and nothing in
// the output directory, not even a hidden temporary. Damaged but readable audio is embedded with one warning line;
// valid edge cases succeed with finite outputs.

import Foundation
import Testing
@_spi(Engine) import VoxEnc
import VoxEncModel
import VoxEncAudio
import VoxEncTestSupport
#if canImport(Glibc)
import Glibc
#endif

/// One corpus case's directories: inputs under `in/`, a model copy under `model/`, outputs under `out/`.
final class CorpusWorkspace {
    let root = TemporaryDirectory()
    var inputs: String { root.file("in") }
    var outputs: String { root.file("out") }
    var output: String { root.file("out/x.npy") }

    init() {
        for directory in [inputs, outputs] {
            try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
    }

    func input(_ name: String) -> String { inputs + "/" + name }

    /// A copy of the tiny Voxtral fixture (config.json, an index and two shards) to damage.
    func modelCopy() throws -> String {
        let directory = root.file("model")
        try SafeTensorsFileBuilder.copyDirectory(BadInputCorpusTests.model, to: directory)
        return directory
    }

    func write(_ bytes: [UInt8], to name: String) -> String {
        let path = input(name)
        _ = FileManager.default.createFile(atPath: path, contents: Data(bytes))
        return path
    }
}

/// The contract every failing run must keep. `outputs` must hold nothing but `preexisting` afterwards.
func expectCleanFailure(_ result: VoxEncProcess.Result, status: Int32, naming name: String, outputs: String,
                        preexisting: [String] = [], sourceLocation: SourceLocation = #_sourceLocation) {
    #expect((1...125).contains(result.status), "exit \(result.status): \(result.stderr)", sourceLocation: sourceLocation)
    #expect(result.status == status, "exit \(result.status), expected \(status): \(result.stderr)",
            sourceLocation: sourceLocation)
    let lines = result.stderr.split(separator: "\n")
    // One message line; a hint rides on it, so two lines at most even if a hint ever moves to its own line.
    #expect((1...2).contains(lines.count) && result.stderr.count <= 700, "stderr: \(result.stderr)",
            sourceLocation: sourceLocation)
    #expect(lines.first?.hasPrefix("voxenc: error: ") == true, "stderr: \(result.stderr)", sourceLocation: sourceLocation)
    #expect(lines.allSatisfy { $0.hasPrefix("voxenc: ") }, "foreign stderr lines: \(result.stderr)",
            sourceLocation: sourceLocation)
    for crash in ["Fatal error", "Swift runtime failure", "Stack dump", "Backtrace", "Current stack trace", "Usage:"] {
        #expect(!result.stderr.contains(crash), "stderr: \(result.stderr)", sourceLocation: sourceLocation)
    }
    #expect(lines.first?.contains(name) == true, "the message should name \(name): \(result.stderr)",
            sourceLocation: sourceLocation)
    #expect(result.stdout.isEmpty, "stdout: \(result.stdout)", sourceLocation: sourceLocation)
    let left = (try? FileManager.default.contentsOfDirectory(atPath: outputs)) ?? ["<unreadable>"]
    #expect(left.sorted() == preexisting.sorted(), "left in the output directory: \(left)", sourceLocation: sourceLocation)
}

/// A WAV header written by hand: RIFF, a 16-byte PCM `fmt ` chunk, and a `data` chunk declaring `dataByteCount`.
func wavHeader(channels: Int = 1, sampleRate: Int = 16000, bitsPerSample: Int = 16, formatTag: Int = 1,
               dataByteCount: Int, magic: String = "RIFF") -> [UInt8] {
    let blockAlign = channels * bitsPerSample / 8
    var bytes = Array(magic.utf8) + littleEndian(UInt32(36 + dataByteCount)) + Array("WAVEfmt ".utf8)
    bytes += littleEndian(UInt32(16)) + littleEndian(UInt16(formatTag)) + littleEndian(UInt16(channels))
    bytes += littleEndian(UInt32(sampleRate)) + littleEndian(UInt32(sampleRate * blockAlign))
    bytes += littleEndian(UInt16(blockAlign)) + littleEndian(UInt16(bitsPerSample))
    return bytes + Array("data".utf8) + littleEndian(UInt32(dataByteCount))
}

/// Seeded bytes: the same corpus on every run.
func seededBytes(_ count: Int, seed: Int) -> [UInt8] {
    Signals.lcgUniform(count: count, seed: seed).map { UInt8(min(255, Int(($0 + 0.5) * 256))) }  // u ∈ [-0.5, 0.5)
}

/// A 1 s 440 Hz tone at `rate`, `channels` identical channels.
func tone(seconds: Double = 1, rate: Int, channels: Int = 1) -> [Float] {
    let frames = Int(seconds * Double(rate))
    return (0..<frames).flatMap { i in
        [Float](repeating: Float(0.3 * sin(2 * Double.pi * 440 * Double(i) / Double(rate))), count: channels)
    }
}

@Suite("Bad-input corpus (the real binary)")
struct BadInputCorpusTests {
    static let model = Fixtures.path("encoder/voxtral-tiny-hf")
    static let speech = Fixtures.path("audio/speech-16k.wav")
    static let shard = "model-00001-of-00002.safetensors"

    // MARK: - Audio that must fail

    enum BadAudio: String, CaseIterable, Sendable {
        case emptyFile, headerOnly, headerOnlyClaimingData, wrongMagic, randomBytes, randomBytesLikeMPEG, textFile,
             m4aContainer, directory, missingPath, zeroSamples, nanSamples, infSamples, zeroChannels, sampleRateZero

        var status: Int32 {
            switch self {
            case .directory, .missingPath: return 66
            default: return 65
            }
        }

        /// Writes the case into the workspace; returns the input path.
        func make(in workspace: CorpusWorkspace) throws -> String {
            switch self {
            case .emptyFile:
                return workspace.write([], to: "empty.wav")
            case .headerOnly:
                return workspace.write(wavHeader(dataByteCount: 0), to: "header-only.wav")
            case .headerOnlyClaimingData:
                return workspace.write(wavHeader(dataByteCount: 320_000), to: "header-claims-data.wav")
            case .wrongMagic:
                return workspace.write(wavHeader(dataByteCount: 3200, magic: "RIFX") + [UInt8](repeating: 0, count: 3200),
                                       to: "wrong-magic.wav")
            case .randomBytes:
                return workspace.write([0x52, 0x49] + seededBytes(8192, seed: 6), to: "random.wav")
            case .randomBytesLikeMPEG:
                // An MPEG-2.5 layer II frame header, then noise: libsndfile hands it to libmpg123, which used to
                // print its own lines on stderr and left libsndfile's "File does not exist" as the message.
                return workspace.write([0xFF, 0xE4, 0x22, 0x79] + seededBytes(4092, seed: 7), to: "mpeg-like.wav")
            case .textFile:
                return workspace.write(Array(String(repeating: "this is a text file, not audio\n", count: 40).utf8),
                                       to: "notes.wav")
            case .m4aContainer:
                let ftyp: [UInt8] = [0, 0, 0, 0x18] + Array("ftypM4A ".utf8) + [0, 0, 0, 0] + Array("M4A isom".utf8)
                return workspace.write(ftyp + [0, 0, 0, 8] + Array("mdat".utf8), to: "voice.m4a")
            case .directory:
                let path = workspace.input("folder.wav")
                try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
                return path
            case .missingPath:
                return workspace.input("absent.wav")
            case .zeroSamples:
                let path = workspace.input("zero-samples.flac")
                try TestAudioWriter.write([], channels: 1, sampleRate: 16000, format: .flac16, to: path)
                return path
            case .nanSamples, .infSamples:
                let path = workspace.input(self == .nanSamples ? "nan.wav" : "inf.wav")
                var samples = tone(rate: 16000)
                samples[1234] = self == .nanSamples ? .nan : -.infinity
                try TestAudioWriter.write(samples, channels: 1, sampleRate: 16000, format: .wavFloat, to: path)
                return path
            case .zeroChannels:
                return workspace.write(wavHeader(channels: 0, dataByteCount: 64) + [UInt8](repeating: 0, count: 64),
                                       to: "zero-channels.wav")
            case .sampleRateZero:
                return workspace.write(wavHeader(sampleRate: 0, dataByteCount: 64) + [UInt8](repeating: 0, count: 64),
                                       to: "rate-zero.wav")
            }
        }
    }

    @Test("bad audio: sysexits code, one line naming the file, no output", arguments: BadAudio.allCases)
    func badAudio(_ audio: BadAudio) throws {
        let workspace = CorpusWorkspace()
        let input = try audio.make(in: workspace)
        let result = try VoxEncProcess.run(["embed", input, "--model", Self.model, "-o", workspace.output])
        expectCleanFailure(result, status: audio.status, naming: input, outputs: workspace.outputs)
        #expect(!result.stderr.contains("does not exist") || audio == .missingPath, "\(result.stderr)")
        // The front end alone fails the same way.
        let mel = try VoxEncProcess.run(["mel", input, "-o", workspace.output])
        expectCleanFailure(mel, status: audio.status, naming: input, outputs: workspace.outputs)
    }

    // MARK: - Damaged but readable audio: embedded, with one warning

    enum DamagedAudio: String, CaseIterable, Sendable {
        case wavTruncatedMidFrame, wavDataLengthBeyondFile, flacTruncated

        /// Writes the case; returns the input path and the seconds of audio that survive.
        func make(in workspace: CorpusWorkspace) throws -> (String, Double) {
            let good = workspace.input("good." + (self == .flacTruncated ? "flac" : "wav"))
            // 2 s of 16-bit stereo at 16 kHz: 4-byte frames, so an odd cut lands mid-frame (and mid-sample).
            try TestAudioWriter.write(tone(seconds: 2, rate: 16000, channels: 2), channels: 2, sampleRate: 16000,
                                      format: self == .flacTruncated ? .flac16 : .wavPCM16, to: good)
            var bytes = try Data(contentsOf: URL(fileURLWithPath: good))
            try FileManager.default.removeItem(atPath: good)
            switch self {
            case .wavTruncatedMidFrame:
                let cut = 44 + 4 * 16000 + 3  // 1 s of frames and three bytes of the next
                return (workspace.write(Array(bytes.prefix(cut)), to: "truncated.wav"), 1.0)
            case .wavDataLengthBeyondFile:
                let size = bytes.range(of: Data("data".utf8))!.upperBound
                bytes.replaceSubrange(size..<(size + 4), with: littleEndian(UInt32(0x7FFF_0000)))
                return (workspace.write(Array(bytes), to: "still-being-written.wav"), 2.0)
            case .flacTruncated:
                return (workspace.write(Array(bytes.prefix(bytes.count / 2)), to: "truncated.flac"), 0)
            }
        }
    }

    @Test("damaged but readable audio is embedded with one warning line naming the file", arguments: DamagedAudio.allCases)
    func damagedAudio(_ audio: DamagedAudio) throws {
        let workspace = CorpusWorkspace()
        let (input, seconds) = try audio.make(in: workspace)
        let result = try VoxEncProcess.run(["embed", input, "--model", Self.model, "-o", workspace.output])
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.count == 1 && lines[0].hasPrefix("voxenc: warning: \(input): ") && lines[0].contains("decoded what is there"),
                "\(result.stderr)")
        if seconds > 0 { #expect(result.stdout.contains(String(format: "%.3f s", seconds)), "\(result.stdout)") }
        let embeddings = try NumpyArray(contentsOf: workspace.output)
        #expect(embeddings.shape == [375, 96] && embeddings.values.allSatisfy(\.isFinite))
        // Values: the frames that survive are the tone's, so the output is the reference's embedding of that many
        // seconds of it. (The FLAC cut keeps a length only its decoder knows: its shape and finiteness are checked.)
        if seconds > 0 {
            let reference = try Self.toneReference("tone.16000.PCM_16.\(Int(seconds))")
            Self.expectClose(embeddings.values, reference, bound: CorpusTolerance.losslessRelativeL2, "\(audio)")
        }
    }

    // MARK: - Valid edge cases: they must succeed with finite outputs

    enum EdgeCase: String, CaseIterable, Sendable {
        case oneSample, eightChannels24Bit, rate8k, rate192k, oggVorbis, flac44k, mp3, opus

        /// The reference embedding (make_speech_references.py) and the bound.
        var reference: (String, Tolerance) {
            switch self {
            case .oneSample: return ("one.sample", CorpusTolerance.losslessRelativeL2)
            case .eightChannels24Bit: return ("tone.48000.PCM_24.1", CorpusTolerance.losslessRelativeL2)
            case .rate8k: return ("tone.8000.PCM_16.1", CorpusTolerance.losslessRelativeL2)
            case .rate192k: return ("tone.192000.PCM_24.1", CorpusTolerance.losslessRelativeL2)
            case .flac44k: return ("tone.44100.PCM_16.1", CorpusTolerance.losslessRelativeL2)
            case .oggVorbis, .mp3: return ("tone.44100.PCM_16.1", CorpusTolerance.lossyRelativeL2)
            case .opus: return ("tone.48000.PCM_24.1", CorpusTolerance.lossyRelativeL2)
            }
        }

        func make(in workspace: CorpusWorkspace) throws -> String {
            let (samples, channels, rate, format): ([Float], Int, Int, TestAudioFormat)
            switch self {
            case .oneSample: (samples, channels, rate, format) = ([0.5], 1, 16000, .wavPCM16)
            case .eightChannels24Bit: (samples, channels, rate, format) = (tone(rate: 48000, channels: 8), 8, 48000, .wavPCM24)
            case .rate8k: (samples, channels, rate, format) = (tone(rate: 8000), 1, 8000, .wavPCM16)
            case .rate192k: (samples, channels, rate, format) = (tone(rate: 192_000), 1, 192_000, .wavPCM24)
            case .oggVorbis: (samples, channels, rate, format) = (tone(rate: 44100, channels: 2), 2, 44100, .oggVorbis)
            case .flac44k: (samples, channels, rate, format) = (tone(rate: 44100, channels: 2), 2, 44100, .flac16)
            case .mp3: (samples, channels, rate, format) = (tone(rate: 44100), 1, 44100, .mp3)
            case .opus: (samples, channels, rate, format) = (tone(rate: 48000), 1, 48000, .opus)
            }
            let path = workspace.input("\(rawValue).\(format.fileExtension)")
            try TestAudioWriter.write(samples, channels: channels, sampleRate: rate, format: format, to: path)
            return path
        }
    }

    @Test("valid edge cases succeed with finite outputs and a quiet stderr", arguments: EdgeCase.allCases)
    func validEdgeCase(_ edge: EdgeCase) throws {
        let workspace = CorpusWorkspace()
        let input = try edge.make(in: workspace)
        let result = try VoxEncProcess.run(["embed", input, "--model", Self.model, "-o", workspace.output])
        #expect(result.status == 0 && result.stderr.isEmpty, "\(result.status): \(result.stderr)")
        let embeddings = try NumpyArray(contentsOf: workspace.output)
        #expect(embeddings.shape == [375, 96] && embeddings.values.allSatisfy(\.isFinite))
        #expect(try FileManager.default.contentsOfDirectory(atPath: workspace.outputs).sorted() == ["x.json", "x.npy"])
        // Values: transformers' embedding of the same signal (lossless: written, read back and resampled by
        // soundfile + python-soxr; lossy codecs: against the lossless tone at their rate, a looser bound).
        let (key, bound) = edge.reference
        Self.expectClose(embeddings.values, try Self.toneReference(key), bound: bound, "\(edge)")
    }

    /// Weights/tools/make_speech_references.py's embeddings of the corpus's tones.
    static func toneReference(_ key: String) throws -> [Float] {
        try SafeTensors(contentsOf: Fixtures.path("encoder/reference-speech-encoder.safetensors")).floats(key)
    }

    static func expectClose(_ actual: [Float], _ expected: [Float], bound: Tolerance, _ label: String) {
        guard actual.count == expected.count else { Issue.record("\(label): \(actual.count) values vs \(expected.count)"); return }
        let d = Discrepancy(actual, expected)
        #expect(d.relativeL2 <= bound, "\(label): \(d)")
        if ProcessInfo.processInfo.environment["VOXENC_REPORT"] != nil {
            print(String(format: "CORPUS %@: relL2 %.2e max|Δ| %.2e", label, d.relativeL2, d.maxAbsolute))
        }
    }

    // MARK: - Weights that must fail (--model DIR)

    enum BadWeights: String, CaseIterable, Sendable {
        case missingDirectory, fileInsteadOfDirectory, missingConfig, configNotJSON, truncatedShard, emptyShard,
             shardIsDirectory, headerLengthBeyondFile, headerNotJSON, offsetsPastEnd, overlappingTensors, unknownDType,
             shapeTimesDTypeDisagreesWithBytes, missingTensor, configDisagreesWithTensors, nanWeights

        var status: Int32 {
            switch self {
            case .missingDirectory, .fileInsteadOfDirectory, .missingConfig, .shardIsDirectory: return 66
            default: return 65
            }
        }

        /// Builds the damaged model; returns its directory and the path the message must name.
        func make(in workspace: CorpusWorkspace) throws -> (model: String, named: String) {
            if self == .missingDirectory { return (workspace.root.file("no-model"), workspace.root.file("no-model")) }
            let directory = try workspace.modelCopy()
            let shard = directory + "/" + BadInputCorpusTests.shard
            let config = directory + "/config.json"
            func rewrite(_ edit: (inout [RawTensor], inout [String: Any]) -> Void) throws {
                var (tensors, metadata) = try SafeTensorsFileBuilder.read(shard)
                var header = SafeTensorsFileBuilder.header(for: tensors, metadata: metadata)
                edit(&tensors, &header)
                try SafeTensorsFileBuilder.write(tensors, to: shard, metadata: metadata, editHeader: { $0 = header })
            }
            func bytes() throws -> Data { try Data(contentsOf: URL(fileURLWithPath: shard)) }
            switch self {
            case .missingDirectory:
                fatalError("handled above")
            case .fileInsteadOfDirectory:
                return (shard, shard)
            case .missingConfig:
                try FileManager.default.removeItem(atPath: config)
                return (directory, config)
            case .configNotJSON:
                try Data("{ \"audio_config\": ".utf8).write(to: URL(fileURLWithPath: config))
                return (directory, config)
            case .truncatedShard:
                try bytes().prefix(try bytes().count / 2).write(to: URL(fileURLWithPath: shard))
            case .emptyShard:
                try Data().write(to: URL(fileURLWithPath: shard))
            case .shardIsDirectory:
                try FileManager.default.removeItem(atPath: shard)
                try FileManager.default.createDirectory(atPath: shard, withIntermediateDirectories: false)
            case .headerLengthBeyondFile:
                var data = try bytes()
                data.replaceSubrange(0..<8, with: littleEndian(UInt64(data.count)))
                try data.write(to: URL(fileURLWithPath: shard))
            case .headerNotJSON:
                let (tensors, _) = try SafeTensorsFileBuilder.read(shard)
                try SafeTensorsFileBuilder.write(tensors, to: shard, headerText: "this header is not JSON at all")
            case .offsetsPastEnd:
                try rewrite { tensors, header in
                    let total = tensors.reduce(0) { $0 + $1.bytes.count }
                    let name = tensors[0].name
                    header[name] = ["dtype": tensors[0].dtype, "shape": tensors[0].shape,
                                    "data_offsets": [total, total + tensors[0].bytes.count]]
                }
            case .overlappingTensors:
                try rewrite { tensors, header in
                    // The second tensor starts where the first does (its size unchanged).
                    let second = tensors[1]
                    header[second.name] = ["dtype": second.dtype, "shape": second.shape,
                                           "data_offsets": [0, second.bytes.count]]
                }
            case .unknownDType:
                try rewrite { tensors, header in
                    var entry = header[tensors[0].name] as! [String: Any]
                    entry["dtype"] = "Q7"
                    header[tensors[0].name] = entry
                }
            case .shapeTimesDTypeDisagreesWithBytes:
                try rewrite { tensors, header in
                    var entry = header[tensors[0].name] as! [String: Any]
                    entry["shape"] = tensors[0].shape.enumerated().map { $0.offset == 0 ? $0.element * 2 : $0.element }
                    header[tensors[0].name] = entry
                }
            case .missingTensor:
                // A consistent checkpoint that lacks one tensor: gone from the shard and from the index.
                let name = "audio_tower.layers.1.fc2.bias"
                try rewrite { tensors, header in
                    tensors.removeAll { $0.name == name }
                    header = SafeTensorsFileBuilder.header(for: tensors, metadata: header["__metadata__"] as? [String: String])
                }
                try SafeTensorsFileBuilder.editJSON(directory + "/model.safetensors.index.json") { root in
                    var map = root["weight_map"] as! [String: String]
                    map[name] = nil
                    root["weight_map"] = map
                }
                return (directory, name)
            case .configDisagreesWithTensors:
                try SafeTensorsFileBuilder.editJSON(config) { root in
                    var audio = root["audio_config"] as! [String: Any]
                    audio["intermediate_size"] = 128
                    root["audio_config"] = audio
                }
            case .nanWeights:
                try rewrite { tensors, _ in
                    let index = tensors.firstIndex { $0.name == "audio_tower.layers.0.fc1.weight" }!
                    // The same bit pattern family in every float type: exponent all ones, quiet bit set.
                    switch tensors[index].dtype {
                    case "F32": tensors[index].bytes.replaceSubrange(0..<4, with: littleEndian(Float.nan.bitPattern))
                    case "F16": tensors[index].bytes.replaceSubrange(0..<2, with: littleEndian(UInt16(0x7E00)))
                    default: tensors[index].bytes.replaceSubrange(0..<2, with: littleEndian(UInt16(0x7FC0)))  // BF16
                    }
                }
            }
            return (directory, shard)
        }
    }

    @Test("damaged weights: sysexits code, one line naming the file, no output", arguments: BadWeights.allCases)
    func badWeights(_ weights: BadWeights) throws {
        let workspace = CorpusWorkspace()
        let (model, named) = try weights.make(in: workspace)
        let result = try VoxEncProcess.run(["embed", Self.speech, "--model", model, "-o", workspace.output])
        expectCleanFailure(result, status: weights.status, naming: named, outputs: workspace.outputs)
        if weights == .nanWeights { #expect(result.stderr.contains("NaN")) }
        let info = try VoxEncProcess.run(["info", "--model", model])
        #expect(info.status == weights.status && info.stderr.split(separator: "\n").count == 1, "\(info.stderr)")
    }

    // MARK: - Signals

    @Test("Ctrl-C while embedding removes the hidden temporary files, and the exit status says SIGINT")
    func interruptLeavesNothingBehind() throws {
        let workspace = CorpusWorkspace()
        // 20 minutes of a 16-bit tone at 8 kHz (40 chunks), written by hand: quick to make, long enough to catch.
        let second = (0..<8000).flatMap { i in littleEndian(Int16(9830 * sin(2 * Double.pi * 440 * Double(i) / 8000))) }
        let minutes = 20
        let data = [UInt8]((0..<(60 * minutes)).lazy.flatMap { _ in second })
        let input = workspace.write(wavHeader(sampleRate: 8000, dataByteCount: data.count) + data, to: "long.wav")
        let process = Process()
        process.executableURL = VoxEncProcess.executable
        process.arguments = ["embed", input, "--model", Self.model, "-o", workspace.output]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        // The output is opened once the first pass has found the mel's maximum; interrupt while rows are written.
        // Waits for that event (the temporary output appearing), not for a time. Precondition: the 40 chunks take
        // longer than one poll (2 ms) to write — true by ≈ 3 orders of magnitude on the tiny model; a machine fast
        // enough to finish first fails `sawTemporaries` with that message rather than passing unchecked.
        // It is a hidden named file (.x.npy.tmp-XXXXXX), or, where O_TMPFILE works, an unnamed file in the output
        // directory, seen as the process's descriptor "DIR/#inode (deleted)".
        var sawTemporaries = false
        let deadline = Date().addingTimeInterval(300)
        let descriptors = "/proc/\(process.processIdentifier)/fd"
        while process.isRunning && Date() < deadline {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: workspace.outputs)) ?? []
            if names.contains(where: { $0.hasPrefix(".x.npy.tmp-") }) { sawTemporaries = true; break }
            let open = ((try? FileManager.default.contentsOfDirectory(atPath: descriptors)) ?? []).compactMap {
                try? FileManager.default.destinationOfSymbolicLink(atPath: descriptors + "/" + $0)
            }
            if open.contains(where: { $0.hasPrefix(workspace.outputs + "/") }) { sawTemporaries = true; break }
            usleep(2000)
        }
        process.interrupt()
        process.waitUntilExit()
        #expect(sawTemporaries, "the embedding ended before its temporary output was seen")
        #expect(process.terminationReason == .uncaughtSignal && process.terminationStatus == SIGINT,
                "\(process.terminationReason) \(process.terminationStatus)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: workspace.outputs) == [])
    }

    // MARK: - Command lines that must fail

    enum BadCommandLine: String, CaseIterable, Sendable {
        case unknownFlag, unknownSubcommand, missingInput, invalidFormat, unwritableOutputPath, outputIsDirectory,
             sidecarIsDirectory, outputIsFIFO, outputDirectoryMissing, outputExists, fileSizeLimit, fullDisk

        var status: Int32 {
            switch self {
            case .unknownFlag, .unknownSubcommand, .missingInput, .invalidFormat: return 64
            case .fileSizeLimit, .fullDisk: return 74
            default: return 73
            }
        }
    }

    /// The cases that need something of the machine run as tests of their own, skipped (and reported so) where
    /// they cannot run.
    static let portableCommandLines = BadCommandLine.allCases.filter { $0 != .fileSizeLimit && $0 != .fullDisk }

    /// mount(2) of a tmpfs works here (root, and a kernel or container that allows it).
    static let canMountTmpfs: Bool = {
        let directory = TemporaryDirectory()
        let mountPoint = directory.file("probe")
        guard geteuid() == 0, (try? FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)) != nil,
              mount("tmpfs", mountPoint, "tmpfs", 0, "size=64k") == 0 else { return false }
        umount(mountPoint)
        return true
    }()

    @Test("bad command lines and outputs: sysexits code, one line naming the culprit, nothing left behind",
          arguments: portableCommandLines)
    func badCommandLine(_ commandLine: BadCommandLine) throws { try Self.check(commandLine) }

    @Test("a file-size limit mid-write: exit 74, one line, nothing left behind",
          .disabled(if: VoxEncProcess.isThreadSanitized, "the TSan runtime cannot start under ulimit -f (SIGBUS, exit 66)"))
    func fileSizeLimit() throws { try Self.check(.fileSizeLimit) }

    @Test("a full disk (a 64 KiB tmpfs): exit 74, one line, nothing left behind",
          .enabled(if: canMountTmpfs, "needs root and the right to mount a tmpfs"))
    func fullDisk() throws { try Self.check(.fullDisk) }

    static func check(_ commandLine: BadCommandLine) throws {
        let workspace = CorpusWorkspace()
        let embed = ["embed", Self.speech, "--model", Self.model]
        // What the message must name, and what was in the output directory before the run.
        var named = workspace.output
        var preexisting: [String] = []
        var outputs = workspace.outputs
        let result: VoxEncProcess.Result
        switch commandLine {
        case .unknownFlag:
            named = "--frobnicate"
            result = try VoxEncProcess.run(embed + ["-o", workspace.output, "--frobnicate"])
        case .unknownSubcommand:
            named = "frobnicate"
            result = try VoxEncProcess.run(["frobnicate", Self.speech])
        case .missingInput:
            named = "<inputs>"
            result = try VoxEncProcess.run(["embed", "--model", Self.model])
        case .invalidFormat:
            named = "wav"
            result = try VoxEncProcess.run(embed + ["-o", workspace.output, "--format", "wav"])
        case .unwritableOutputPath:
            if geteuid() == 0 {
                // Permission bits do not stop root; sysfs refuses new files to everyone.
                named = "/sys/voxenc-corpus.npy"
                outputs = workspace.outputs
            } else {
                let locked = workspace.root.file("locked")
                try FileManager.default.createDirectory(atPath: locked, withIntermediateDirectories: true)
                chmod(locked, 0o555)
                named = locked + "/x.npy"
                outputs = locked
            }
            result = try VoxEncProcess.run(embed + ["-o", named])
            #expect(!FileManager.default.fileExists(atPath: named))
        case .outputIsDirectory:
            named = workspace.outputs
            result = try VoxEncProcess.run(embed + ["-o", workspace.outputs, "--force"])
        case .sidecarIsDirectory:
            named = workspace.root.file("out/x.json")
            try FileManager.default.createDirectory(atPath: named, withIntermediateDirectories: true)
            preexisting = ["x.json"]
            result = try VoxEncProcess.run(embed + ["-o", workspace.output, "--force"])
        case .outputIsFIFO:
            // A device or FIFO is never replaced by a regular file (with --force, /dev/full used to be).
            named = workspace.root.file("out/pipe.npy")
            #expect(mkfifo(named, 0o644) == 0)
            preexisting = ["pipe.npy"]
            result = try VoxEncProcess.run(embed + ["-o", named, "--force", "--format", "safetensors"])
            var status = stat()
            #expect(stat(named, &status) == 0 && (status.st_mode & S_IFMT) == S_IFIFO)
        case .outputDirectoryMissing:
            named = workspace.root.file("out/no/such/x.npy")
            result = try VoxEncProcess.run(embed + ["-o", named])
        case .outputExists:
            _ = FileManager.default.createFile(atPath: workspace.output, contents: Data("keep".utf8))
            preexisting = ["x.npy"]
            result = try VoxEncProcess.run(embed + ["-o", workspace.output])
            #expect(FileManager.default.contents(atPath: workspace.output) == Data("keep".utf8))
        case .fileSizeLimit:
            // 4 blocks of 512 bytes: the header and the sidecar fit, the rows do not. The binary ignores SIGXFSZ, so
            // write(2) returns EFBIG instead of the signal killing it.
            result = try VoxEncProcess.runShell("ulimit -f 4; exec \"$VOXENC\" embed \"$INPUT\" --model \"$MODEL\" -o \"$OUTPUT\"",
                                                environment: ["INPUT": Self.speech, "MODEL": Self.model, "OUTPUT": workspace.output])
            #expect(result.stderr.contains("File too large"))
        case .fullDisk:
            // A 64 KiB tmpfs (the output is 144 KiB): ENOSPC. The test runs only where canMountTmpfs.
            let mountPoint = workspace.root.file("small-disk")
            try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)
            try #require(mount("tmpfs", mountPoint, "tmpfs", 0, "size=64k") == 0, "mount: \(String(cString: strerror(errno)))")
            defer { umount(mountPoint) }
            named = mountPoint + "/x.npy"
            outputs = mountPoint
            result = try VoxEncProcess.run(embed + ["-o", named])
            #expect(result.stderr.contains("No space left on device"))
        }
        expectCleanFailure(result, status: commandLine.status, naming: named, outputs: outputs, preexisting: preexisting)
    }
}
