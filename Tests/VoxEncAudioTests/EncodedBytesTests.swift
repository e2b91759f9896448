// Decoding from memory (libsndfile virtual I/O) against decoding the same bytes from a file: every container and
// encoding libsndfile reads, stereo and mono, each channel choice; and the same typed errors, named by the caller.

import Foundation
import Testing
@testable import VoxEncAudio
import VoxEncTestSupport

@Suite("Audio from bytes in memory")
struct EncodedBytesTests {
    /// A deterministic two-channel signal on the int16 grid (two tones, one per channel).
    static func stereo(frames: Int) -> [Float] {
        (0..<frames * 2).map { i in
            let t = Float(i / 2) / 22050, channel = Float(i % 2)
            return (0.4 * sin(2 * .pi * (220 + 110 * channel) * t) * 32767).rounded() / 32768
        }
    }

    @Test("every format: bytes decode to the samples the file gives, bit for bit, with the same metadata",
          arguments: TestAudioFormat.allCases)
    func sameAsFile(format: TestAudioFormat) throws {
        let directory = TemporaryDirectory()
        let path = directory.file("signal.\(format.fileExtension)")
        // 1.2 s at 24 kHz (a rate Opus and MP3 both take), resampled to 16 kHz.
        try TestAudioWriter.write(Self.stereo(frames: 28800), channels: 2, sampleRate: 24000, format: format, to: path)
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        for channels in [ChannelSelection.average, .channel(0), .channel(1)] {
            let fromFile = try Waveform(contentsOf: path, channels: channels)
            let fromBytes = try Waveform(bytes: bytes, name: "upload.\(format.fileExtension)", channels: channels)
            #expect(!fromFile.samples.isEmpty)
            #expect(fromBytes.samples.map(\.bitPattern) == fromFile.samples.map(\.bitPattern), "\(format) \(channels)")
            #expect(fromBytes.sourceFrameCount == fromFile.sourceFrameCount)
            #expect(fromBytes.sourceSampleRate == 24000 && fromBytes.sourceChannelCount == 2)
            #expect(fromBytes.sourceFormat == fromFile.sourceFormat)
        }
    }

    @Test("the committed fixtures: bytes and file agree bit for bit")
    func fixtures() throws {
        for name in ["speech-16k.wav", "speech-22k-stereo.flac", "speech-44k-stereo-37s.flac"] {
            let path = Fixtures.path("audio/\(name)")
            let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
            let fromFile = try Waveform(contentsOf: path), fromBytes = try Waveform(bytes: bytes, name: name)
            #expect(fromFile.samples.count > 16000)
            #expect(fromBytes.samples.map(\.bitPattern) == fromFile.samples.map(\.bitPattern), "\(name)")
        }
    }

    func error(_ bytes: [UInt8], name: String = "upload.bin", channels: ChannelSelection = .average) -> AudioError? {
        do { _ = try Waveform(bytes: bytes, name: name, channels: channels); return nil } catch { return error }
    }

    @Test("bad bytes: empty, text, an M4A, a channel out of range, a WAV cut inside its header; each names the upload")
    func errors() throws {
        guard case .corrupt(let path, let reason)? = error([], name: "empty.wav") else {
            Issue.record("empty: \(String(describing: error([])))"); return
        }
        #expect(path == "empty.wav" && reason.contains("0 bytes"))
        guard case .corrupt(let textPath, _)? = error(Array("hello, this is not audio\n".utf8), name: "notes.wav") else {
            Issue.record("text"); return
        }
        #expect(textPath == "notes.wav")
        let m4a: [UInt8] = [0, 0, 0, 0x20] + Array("ftypM4A ".utf8) + [UInt8](repeating: 0, count: 64)
        guard case .unsupportedFormat(let m4aPath, let detected)? = error(m4a, name: "voice.m4a") else {
            Issue.record("m4a: \(String(describing: error(m4a)))"); return
        }
        #expect(m4aPath == "voice.m4a" && detected.contains("M4A"))

        let directory = TemporaryDirectory()
        let wav = directory.file("tone.wav")
        try TestAudioWriter.write(Self.stereo(frames: 2000), channels: 2, sampleRate: 22050, format: .wavPCM16, to: wav)
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: wav)))
        #expect(error(bytes, name: "tone.wav", channels: .channel(2))
                == .channelOutOfRange(path: "tone.wav", requested: 2, available: 2))
        guard case .corrupt(let cutPath, _)? = error(Array(bytes.prefix(20)), name: "cut.wav") else {
            Issue.record("a WAV cut inside its header: \(String(describing: error(Array(bytes.prefix(20)))))"); return
        }
        #expect(cutPath == "cut.wav")
    }

    @Test("a WAV cut mid-data decodes the frames present, with the file's warning")
    func truncated() throws {
        let directory = TemporaryDirectory()
        let wav = directory.file("tone.wav")
        try TestAudioWriter.write(Self.stereo(frames: 22050), channels: 2, sampleRate: 22050, format: .wavPCM16, to: wav)
        let bytes = Array([UInt8](try Data(contentsOf: URL(fileURLWithPath: wav))).prefix(44 + 4 * 11025))
        let cutFile = directory.file("cut.wav")
        try Data(bytes).write(to: URL(fileURLWithPath: cutFile))
        let fromBytes = try Waveform(bytes: bytes, name: "cut.wav"), fromFile = try Waveform(contentsOf: cutFile)
        #expect(fromBytes.sourceFrameCount == 11025)
        #expect(fromBytes.samples.map(\.bitPattern) == fromFile.samples.map(\.bitPattern))
        #expect(fromBytes.warnings == fromFile.warnings && !fromBytes.warnings.isEmpty)
    }
}
