// What the audio fuzzer (Tests/Fuzz, libFuzzer) found, as tests: each minimised crasher is committed under
// Tests/Fuzz/Corpus/audio/regression-* (also a seed) and must now give a typed error. And a replay of every committed
// audio seed through `Waveform(contentsOf:)`: valid seeds decode (`damaged-*` ones with a warning), `broken-*` seeds
// throw `AudioError`, nothing crashes.

import Foundation
import Testing
import VoxEncAudio
import VoxEncTestSupport

@Suite("Fuzz regressions: audio")
struct AudioFuzzRegressionTests {
    static let corpus = Fixtures.repositoryRoot.appendingPathComponent("Tests/Fuzz/Corpus/audio")
    static let seeds = ((try? FileManager.default.contentsOfDirectory(atPath: corpus.path)) ?? [])
        .filter { !$0.hasPrefix(".") }.sorted()

    @Test("a 42-byte FLAC declaring 2^36 - 1 frames is a typed error (was a 256 GiB reservation and an abort)")
    func flacDeclaringHugeLength() throws {
        let path = Self.corpus.appendingPathComponent("regression-flac-declares-2e36-frames.flac").path
        #expect(try AudioFile(path: path).info.declaredFrameCount == (1 << 36) - 1)  // what the header claims
        #expect(throws: AudioError.self) { try Waveform(contentsOf: path) }
        #expect(throws: AudioError.self) { try Waveform(contentsOf: path, channels: .channel(0)) }
    }

    @Test("a 16 KB WAV declaring 1 Hz is invalidSampleRate (was 256 M samples at 16 kHz: 1 GB and a fuzzer timeout)")
    func wavAtOneHertz() throws {
        let path = Self.corpus.appendingPathComponent("regression-wav-1hz-16k-frames.wav").path
        #expect(throws: AudioError.invalidSampleRate(path: path, sampleRate: 1)) { try Waveform(contentsOf: path) }
        #expect(throws: AudioError.invalidSampleRate(path: path, sampleRate: 1)) { try AudioStream(contentsOf: path) }
    }

    @Test("every audio seed: valid ones decode to 16 kHz, damaged-* with a warning, broken-* and regression-* throw",
          arguments: seeds)
    func seed(_ name: String) {
        let path = Self.corpus.appendingPathComponent(name).path
        do {
            let waveform = try Waveform(contentsOf: path)
            #expect(!name.hasPrefix("broken-") && !name.hasPrefix("regression-"), "\(name) decoded")
            #expect(waveform.sourceFrameCount > 0 && !waveform.samples.isEmpty)
            #expect(waveform.warnings.isEmpty == !name.hasPrefix("damaged-"), "\(name): \(waveform.warnings)")
        } catch {
            #expect(name.hasPrefix("broken-") || name.hasPrefix("regression-"), "\(name): \(error)")
        }
    }
}
