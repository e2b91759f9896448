// Every bad input gets its own typed error naming the file; nothing crashes.

import Foundation
import Testing
@testable import VoxEncAudio
import VoxEncTestSupport

@Suite("Audio input errors")
struct AudioErrorTests {
    func load(_ path: String) -> AudioError? {
        do { _ = try Waveform(contentsOf: path); return nil } catch { return error }
    }

    @Test("missing file, directory, empty file")
    func missingDirectoryEmpty() throws {
        let directory = TemporaryDirectory()
        #expect(load(directory.file("absent.wav")) == .fileNotFound(path: directory.file("absent.wav")))
        #expect(load(directory.path) == .notARegularFile(path: directory.path))
        let empty = directory.file("empty.wav")
        _ = FileManager.default.createFile(atPath: empty, contents: Data())
        guard case .corrupt(let path, let reason)? = load(empty) else { Issue.record("expected corrupt"); return }
        #expect(path == empty && reason.contains("0 bytes"))
    }

    @Test("random bytes, text and wrong magic are corrupt; M4A is named as unsupported")
    func garbage() throws {
        let directory = TemporaryDirectory()
        var generator = SeededGenerator(seed: 25)  // fixed: a failure repeats
        let random = directory.file("random.wav")
        _ = FileManager.default.createFile(atPath: random, contents: Data((0..<4096).map { _ in UInt8.random(in: 0...255, using: &generator) }))
        if case .corrupt(let path, _)? = load(random) { #expect(path == random) } else { Issue.record("random bytes: \(String(describing: load(random)))") }

        let text = directory.file("notes.wav")
        _ = FileManager.default.createFile(atPath: text, contents: Data("hello, this is not audio\n".utf8))
        if case .corrupt? = load(text) {} else { Issue.record("text: \(String(describing: load(text)))") }

        let m4a = directory.file("voice.m4a")
        var bytes: [UInt8] = [0, 0, 0, 0x20] + Array("ftypM4A ".utf8) + [0, 0, 0, 0] + Array("M4A mp42isom".utf8)
        bytes += [UInt8](repeating: 0, count: 64)
        _ = FileManager.default.createFile(atPath: m4a, contents: Data(bytes))
        let error = load(m4a)
        if case .unsupportedFormat(let path, let detected)? = error {
            #expect(path == m4a && detected.contains("M4A"))
            #expect(error!.description.contains("M4A") && error!.description.contains("FLAC"))
            #expect(error!.hint != nil)
        } else { Issue.record("m4a: \(String(describing: error))") }
    }

    @Test("a WAV header with no samples; NaN and Inf float samples; channel out of range")
    func emptyAndNonFinite() throws {
        let directory = TemporaryDirectory()
        let headerOnly = directory.file("header-only.wav")
        try TestAudioWriter.write([], channels: 1, sampleRate: 16000, format: .wavPCM16, to: headerOnly)
        #expect(load(headerOnly) == .noSamples(path: headerOnly))

        for bad in [Float.nan, .infinity, -.infinity] {
            let path = directory.file("bad.wav")
            try TestAudioWriter.write([0.1, 0.2, bad, 0.3], channels: 1, sampleRate: 16000, format: .wavFloat, to: path)
            #expect(load(path) == .nonFiniteSample(path: path, frame: 2, channel: 0))
        }

        let stereo = directory.file("stereo.wav")
        try TestAudioWriter.write([0, 0, 0.1, 0.1], channels: 2, sampleRate: 16000, format: .wavPCM16, to: stereo)
        #expect(throws: AudioError.channelOutOfRange(path: stereo, requested: 2, available: 2)) {
            try Waveform(contentsOf: stereo, channels: .channel(2))
        }
    }

    @Test("one sample at 8 and 16 kHz: python-soxr's samples and a mel of padding; at 192 kHz a typed error")
    func tinyAndExtremeRates() throws {
        let directory = TemporaryDirectory()
        // python-soxr 1.1.0: soxr.resample(np.float32([0.5]), rate, 16000, quality="HQ") (16 kHz: not resampled);
        // at 192 kHz it returns no sample, and the reference's WhisperFeatureExtractor refuses the empty array
        // (RuntimeError in torch.stft): voxenc refuses the file, from a path, from bytes and from samples.
        let expected: [Int: [Float]] = [8000: [0.47843587, 0.31752712], 16000: [0.5], 192_000: []]
        for (rate, reference) in expected.sorted(by: { $0.key < $1.key }) {
            let path = directory.file("one-\(rate).wav")
            try TestAudioWriter.write([0.5], channels: 1, sampleRate: rate, format: .wavPCM16, to: path)
            if reference.isEmpty {
                let tooShort = AudioError.shorterThanOneSample(path: path, frames: 1, sampleRate: rate)
                #expect(throws: tooShort) { try Waveform(contentsOf: path) }
                let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
                #expect(throws: AudioError.shorterThanOneSample(path: "one.wav", frames: 1, sampleRate: rate)) {
                    try Waveform(bytes: bytes, name: "one.wav")
                }
                #expect(throws: AudioError.shorterThanOneSample(path: "<memory>", frames: 1, sampleRate: rate)) {
                    try Waveform(samples: [0.5], sampleRate: rate)
                }
                #expect(tooShort.description.contains("shorter than one 16 kHz sample"))
                continue
            }
            let waveform = try Waveform(contentsOf: path)
            #expect(waveform.sourceFrameCount == 1)
            #expect(waveform.samples.count == reference.count, "\(rate) Hz: \(waveform.samples)")
            if waveform.samples.count == reference.count {
                #expect(Discrepancy(waveform.samples, reference).maxAbsolute <= FrontEndTolerance.resampledMaxAbsolute,
                        "\(rate) Hz: \(waveform.samples)")
            }
            let mel = LogMelSpectrogram().compute(waveform.samples)
            #expect(mel.frameCount == 3000 && mel.chunks.count == 1 && mel.values.allSatisfy { $0.isFinite })
        }
    }

    @Test("a FLAC cut short decodes what is there, with one warning (its STREAMINFO declares every frame)")
    func shortfallWarning() throws {
        let directory = TemporaryDirectory()
        let tone = (0..<32000).map { Float(0.3 * sin(2 * Double.pi * 440 * Double($0) / 16000)) }
        let whole = directory.file("whole.flac")
        try TestAudioWriter.write(tone, channels: 1, sampleRate: 16000, format: .flac16, to: whole)
        #expect(try Waveform(contentsOf: whole).warnings.isEmpty)
        let damaged = directory.file("damaged.flac")
        let bytes = try Data(contentsOf: URL(fileURLWithPath: whole))
        try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: damaged))
        let waveform = try Waveform(contentsOf: damaged)
        #expect(waveform.sourceFrameCount < 32000)
        #expect(waveform.warnings == ["the header declares 32000 frames, \(waveform.sourceFrameCount) decoded: decoded what is there (truncated or damaged?)"],
                "\(waveform.warnings)")
        // MP3 lengths are estimates without a Xing tag, an unknown length is not a promise: no warning.
        #expect(AudioStream.shortfallWarning(declared: 100, decoded: 90, formatName: "MPEG MP3", alreadyWarned: false) == nil)
        #expect(AudioStream.shortfallWarning(declared: Int(Int64.max), decoded: 90, formatName: "WAV PCM_16", alreadyWarned: false) == nil)
        #expect(AudioStream.shortfallWarning(declared: 100, decoded: 90, formatName: "WAV PCM_16", alreadyWarned: true) == nil)
        #expect(AudioStream.shortfallWarning(declared: 100, decoded: 100, formatName: "FLAC PCM_16", alreadyWarned: false) == nil)
    }

    @Test("bytes that look like an MPEG frame are corrupt, not \"File does not exist\"")
    func mpegLookalike() throws {
        let directory = TemporaryDirectory()
        let path = directory.file("mpeg-like.wav")
        let noise = Signals.lcgUniform(count: 4092, seed: 7).map { UInt8(min(255, Int(($0 + 0.5) * 256))) }
        _ = FileManager.default.createFile(atPath: path, contents: Data([0xFF, 0xE4, 0x22, 0x79] + noise))
        guard case .corrupt(let named, let reason)? = load(path) else { Issue.record("\(String(describing: load(path)))"); return }
        #expect(named == path && reason.contains("MPEG") && !reason.contains("does not exist"), "\(reason)")
    }
}
