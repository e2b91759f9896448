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
    /// The committed seeds. An unreadable or empty corpus stops the run (a precondition, not zero passing cases).
    static let seeds: [String] = {
        let names: [String]
        do { names = try FileManager.default.contentsOfDirectory(atPath: corpus.path) } catch {
            preconditionFailure("\(corpus.path): \(error)")
        }
        let seeds = names.filter { !$0.hasPrefix(".") }.sorted()
        precondition(seeds.count >= 10, "\(corpus.path) holds \(seeds.count) seeds")
        return seeds
    }()

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

    /// Tests/Fixtures/fuzz/audio-seeds.json (Weights/tools/make_seed_references.py): soundfile + python-soxr's
    /// decode of each valid seed.
    struct SeedReference: Decodable {
        var sourceRate: Int
        var sourceFrames: Int
        var sampleCount: Int
        var rms: Double
        var head: [Float]
        enum CodingKeys: String, CodingKey {
            case sourceRate = "source_rate", sourceFrames = "source_frames", sampleCount = "sample_count", rms, head
        }
    }
    struct SeedReferences: Decodable { var seeds: [String: SeedReference] }
    static let references = try! JSONDecoder().decode(SeedReferences.self, from: Data(contentsOf: URL(
        fileURLWithPath: Fixtures.path("fuzz/audio-seeds.json")))).seeds

    @Test("every audio seed: valid ones decode to 16 kHz as soundfile + python-soxr do, damaged-* with a warning, broken-* and regression-* throw",
          arguments: seeds)
    func seed(_ name: String) throws {
        let path = Self.corpus.appendingPathComponent(name).path
        let reference = Self.references[name]
        do {
            let waveform = try Waveform(contentsOf: path)
            #expect(!name.hasPrefix("broken-") && !name.hasPrefix("regression-"), "\(name) decoded")
            #expect(waveform.warnings.isEmpty == !name.hasPrefix("damaged-"), "\(name): \(waveform.warnings)")
            let expected = try #require(reference, "\(name): no reference decode in audio-seeds.json (rerun the script)")
            #expect(waveform.sampleRate == 16000 && waveform.sourceSampleRate == expected.sourceRate)
            #expect(waveform.sourceFrameCount == expected.sourceFrames, "\(name)")
            #expect(waveform.samples.count == expected.sampleCount, "\(name)")
            let rms = (waveform.samples.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(max(1, waveform.samples.count)))
                .squareRoot()
            // Same libsndfile decoders and libsoxr: equal up to the front end's resampling bound.
            #expect(abs(rms - expected.rms) <= FrontEndTolerance.resampledMaxAbsolute, "\(name): RMS \(rms) vs \(expected.rms)")
            let head = Array(waveform.samples.prefix(expected.head.count))
            if head.count == expected.head.count {
                #expect(Discrepancy(head, expected.head).maxAbsolute <= FrontEndTolerance.resampledMaxAbsolute,
                        "\(name): \(head) vs \(expected.head)")
            }
        } catch let error as AudioError {
            #expect(name.hasPrefix("broken-") || name.hasPrefix("regression-"), "\(name): \(error)")
            #expect(reference == nil, "\(name): the reference decodes it")
        }
    }
}
