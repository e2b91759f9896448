// Decoding (libsndfile) and resampling (soxr HQ) of real files written in the test setup, against python-soxr's
// output for the same samples (Weights/tools/make_frontend_fixtures.py).

import Foundation
import Testing
import VoxEncAudio
import VoxEncTestSupport

@Suite("Audio input: decode, downmix, resample")
struct AudioInputTests {
    static let rates = [8000, 22050, 44100, 48000]
    static let losslessFormats: [TestAudioFormat] = [.wavPCM16, .wavPCM24, .wavPCM32, .wavFloat, .flac16, .flac24]

    /// The fixture's int16 source as interleaved float frames (code / 32768, what libsndfile returns).
    static func source(rate: Int) throws -> (interleaved: [Float], frames: Int) {
        let source = try Fixtures.numpy("frontend/resample-\(rate).npy")  // int16 [frames, 2]
        // The Swift generator must agree with the fixture's source codes.
        let left = Signals.resamplerSource(rate: rate, seconds: 1, seed: 1000 + rates.firstIndex(of: rate)!,
                                           frequency: 440, amplitude: 0.3)
        #expect(left.count == source.shape[0])
        #expect(zip(left, stride(from: 0, to: source.values.count, by: 2)).allSatisfy { Float($0) == source.values[$1] })
        return (source.values.map { $0 / 32768 }, source.shape[0])
    }

    @Test("lossless files at 8/22.05/44.1/48 kHz, mono and stereo, match python-soxr HQ within 1e-4",
          arguments: rates, losslessFormats)
    func losslessMatchesSoxr(rate: Int, format: TestAudioFormat) throws {
        let directory = TemporaryDirectory()
        let (interleaved, frames) = try Self.source(rate: rate)
        let leftOnly = stride(from: 0, to: interleaved.count, by: 2).map { interleaved[$0] }

        let monoPath = directory.file("mono.\(format.fileExtension)")
        try TestAudioWriter.write(leftOnly, channels: 1, sampleRate: rate, format: format, to: monoPath)
        let mono = try Waveform(contentsOf: monoPath)
        #expect(mono.sourceSampleRate == rate && mono.sourceChannelCount == 1 && mono.sourceFrameCount == frames)
        let expectedLeft = try Fixtures.numpy("frontend/resample-\(rate)-left.npy").values
        #expect(mono.samples.count == expectedLeft.count, "length \(mono.samples.count) vs soxr \(expectedLeft.count)")
        if mono.samples.count == expectedLeft.count {
            let d = Discrepancy(mono.samples, expectedLeft)
            #expect(d.maxAbsolute <= FrontEndTolerance.resampledMaxAbsolute, "\(rate) Hz \(format) mono: \(d)")
            if ProcessInfo.processInfo.environment["VOXENC_REPORT"] != nil {
                print(String(format: "PARITY soxr %d Hz %@ mono: max|Δ| %.2e mean|Δ| %.2e", rate, format.rawValue, d.maxAbsolute, d.meanAbsolute))
            }
        }

        let stereoPath = directory.file("stereo.\(format.fileExtension)")
        try TestAudioWriter.write(interleaved, channels: 2, sampleRate: rate, format: format, to: stereoPath)
        let stereo = try Waveform(contentsOf: stereoPath)
        #expect(stereo.sourceChannelCount == 2)
        let expectedMean = try Fixtures.numpy("frontend/resample-\(rate)-mean.npy").values
        #expect(stereo.samples.count == expectedMean.count)
        if stereo.samples.count == expectedMean.count {
            let d = Discrepancy(stereo.samples, expectedMean)
            #expect(d.maxAbsolute <= FrontEndTolerance.resampledMaxAbsolute, "\(rate) Hz \(format) stereo: \(d)")
        }

        // --channel 0 of the stereo file is the mono file.
        let picked = try Waveform(contentsOf: stereoPath, channels: .channel(0))
        #expect(picked.samples == mono.samples)
    }

    @Test("resampling in blocks equals resampling in one call")
    func blocksEqualOneCall() throws {
        let (interleaved, _) = try Self.source(rate: 44100)
        let left = stride(from: 0, to: interleaved.count, by: 2).map { interleaved[$0] }
        let whole = try Resampler.resample(left, from: 44100, to: 16000)
        let resampler = try Resampler(inputRate: 44100, outputRate: 16000)
        var blocks: [Float] = []
        var start = 0
        for size in [1, 7, 1000, 4096, 333] + Array(repeating: 8192, count: 10) where start < left.count {
            let end = min(left.count, start + size)
            try left[start..<end].withUnsafeBufferPointer { try resampler.process($0, appendingTo: &blocks) }
            start = end
        }
        if start < left.count {
            try left[start...].withUnsafeBufferPointer { try resampler.process($0, appendingTo: &blocks) }
        }
        try resampler.finish(appendingTo: &blocks)
        #expect(blocks == whole)
    }

    @Test("lossy formats decode: OGG Vorbis, Opus, MP3 keep a 440 Hz tone and the duration",
          arguments: [TestAudioFormat.oggVorbis, .opus, .mp3])
    func lossyFormatsDecode(format: TestAudioFormat) throws {
        let directory = TemporaryDirectory()
        let rate = format == .opus ? 48000 : 44100
        let tone = (0..<(rate * 2)).map { Float(0.4 * sin(2 * Double.pi * 440 * Double($0) / Double(rate))) }
        let path = directory.file("tone.\(format.fileExtension)")
        try TestAudioWriter.write(tone, channels: 1, sampleRate: rate, format: format, to: path)
        let waveform = try Waveform(contentsOf: path)
        #expect(abs(waveform.durationSeconds - 2) <= FrontEndTolerance.lossyDurationSeconds, "\(format): \(waveform.durationSeconds) s")
        #expect(waveform.samples.allSatisfy { $0.isFinite })
        // Dominant frequency by correlation with 440 Hz vs 400/480 Hz over a middle second.
        func energy(_ frequency: Double) -> Double {
            var re = 0.0, im = 0.0
            for n in 8000..<24000 {
                let phase = 2 * Double.pi * frequency * Double(n) / 16000
                re += Double(waveform.samples[n]) * cos(phase)
                im += Double(waveform.samples[n]) * sin(phase)
            }
            return re * re + im * im
        }
        #expect(energy(440) / max(energy(400), energy(480)) >= FrontEndTolerance.lossyToneEnergy)
    }

    @Test("8 channels at 24 bits average to mono")
    func eightChannels() throws {
        let directory = TemporaryDirectory()
        let frames = 1600
        var interleaved = [Float](repeating: 0, count: frames * 8)
        for f in 0..<frames { for c in 0..<8 { interleaved[f * 8 + c] = Float((f * 7 + c * 1031) % 4001 - 2000) / 8192 } }
        let path = directory.file("eight.wav")
        try TestAudioWriter.write(interleaved, channels: 8, sampleRate: 16000, format: .wavPCM24, to: path)
        let waveform = try Waveform(contentsOf: path)
        #expect(waveform.sourceChannelCount == 8 && waveform.samples.count == frames)
        for f in [0, 1, 799, 1599] {
            let expected = (0..<8).reduce(Float(0)) { $0 + interleaved[f * 8 + $1] } / 8
            #expect(abs(waveform.samples[f] - expected) <= FrontEndTolerance.decodedSample)
        }
    }

    @Test("in-memory buffers resample like files")
    func memoryBuffer() throws {
        let (interleaved, _) = try Self.source(rate: 22050)
        let left = stride(from: 0, to: interleaved.count, by: 2).map { interleaved[$0] }
        let waveform = try Waveform(samples: left, sampleRate: 22050)
        let expected = try Fixtures.numpy("frontend/resample-22050-left.npy").values
        #expect(waveform.samples.count == expected.count)
        #expect(Discrepancy(waveform.samples, expected).maxAbsolute <= FrontEndTolerance.resampledMaxAbsolute)
        #expect(throws: AudioError.self) { try Waveform(samples: [0, .nan], sampleRate: 16000) }
    }
}
