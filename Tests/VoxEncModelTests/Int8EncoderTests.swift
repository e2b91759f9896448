// The int8 encoder and adapter (docs/precision.md) against float32 on the committed fixtures and the real Whisper
// tiny.en weights: a named relative-L2 bound each, and the properties float32 has (batch and thread independence).

import Foundation
import Testing
@_spi(Engine) import VoxEnc
import VoxEncAudio
@testable import VoxEncModel
import VoxEncTestSupport

@Suite("int8 encoder and adapter against float32")
struct Int8EncoderTests {
    static var int8Runs: Bool { (try? Precision.int8.checkSupported()) != nil }
    static let speech = "audio/speech-16k.wav"

    /// The reference's output on `file`, where a fixture has one: transformers' (random models on speech-16k.wav) or
    /// CTranslate2's float32 `encode` (tiny.en, every `frameStride`-th frame). int8 is bounded against it from both
    /// sides, as against voxenc's float32 (which meets the reference to ≤ 1.1e-6).
    struct ReferenceOutput {
        var values: [Float]
        /// Picks the compared values out of voxenc's output.
        var select: (Embeddings) -> [Float] = { $0.values }
    }

    static func compare(_ directory: String, kind: EmbeddingKind? = nil, file: String = speech, bound: Int8Tolerance.Bound,
                        reference: ReferenceOutput? = nil, _ label: String) throws {
        let float = try Embedder(modelDirectory: directory, configuration: .init(kind: kind))
        let int8 = try Embedder(modelDirectory: directory, configuration: .init(kind: kind, precision: .int8))
        let expected = try float.embed(fileAt: Fixtures.path(file))
        let actual = try int8.embed(fileAt: Fixtures.path(file))
        #expect(actual.precision == .int8 && expected.precision == .float32)
        #expect(actual.frameCount == expected.frameCount && actual.dimension == expected.dimension)
        func check(_ d: Discrepancy, _ against: String) {
            #expect(d.relativeL2 <= bound.here, "\(label) vs \(against): \(d)")
            #expect(d.relativeL2 >= Int8Tolerance.minimumRelativeL2, "\(label) vs \(against): int8 was not used? \(d)")
            if ProcessInfo.processInfo.environment["VOXENC_REPORT"] != nil {
                print(String(format: "INT8 %@ vs %@: relL2 %.2e max|Δ| %.2e", label, against, d.relativeL2, d.maxAbsolute))
            }
        }
        check(Discrepancy(actual.values, expected.values), "voxenc f32")
        if let reference {
            let float32 = Discrepancy(reference.select(expected), reference.values)
            #expect(float32.relativeL2 <= EncoderTolerance.endToEndRelativeL2, "\(label): f32 vs the reference: \(float32)")
            check(Discrepancy(reference.select(actual), reference.values), "the reference")
        }
    }

    static func fixture(_ file: String, _ tensor: String) throws -> ReferenceOutput {
        ReferenceOutput(values: try SafeTensors(contentsOf: Fixtures.path("encoder/\(file)")).floats(tensor))
    }

    @Test("random tiny Voxtral: adapter and encoder output within the bound of f32 and of transformers, both sides",
          arguments: ["audio/speech-16k.wav", "audio/speech-44k-stereo-37s.flac"])
    func voxtralFixture(file: String) throws {
        let route = try RouteCoverage.requireInt8()  // skipped with int8's refusal where it cannot run
        defer { RouteCoverage.ran(route) }
        let onSpeech = file == Self.speech  // the reference fixtures cover speech-16k.wav
        try Self.compare(EncoderParityTests.voxtralHF, file: file, bound: Int8Tolerance.voxtralFixtureRelativeL2,
                         reference: onSpeech ? try Self.fixture("reference-voxtral-speech.safetensors", "speech.adapter") : nil,
                         "voxtral-tiny adapter \(file)")
        try Self.compare(EncoderParityTests.voxtralHF, kind: .encoder, file: file,
                         bound: Int8Tolerance.voxtralFixtureRelativeL2,
                         reference: onSpeech ? try Self.fixture("reference-speech-encoder.safetensors", "voxtral.encoder") : nil,
                         "voxtral-tiny encoder \(file)")
    }

    @Test("random tiny Whisper: encoder output within the bound of f32 and of transformers, both sides",
          .enabled(if: int8Runs, "int8 cannot run here"))
    func whisperFixture() throws {
        try Self.compare(EncoderParityTests.whisperHF, bound: Int8Tolerance.whisperFixtureRelativeL2,
                         reference: try Self.fixture("reference-speech-encoder.safetensors", "whisper.encoder"),
                         "whisper-tiny-hf encoder")
    }

    @Test("real Whisper tiny.en: encoder output within the bound of f32 and of CTranslate2's float32 encode, both sides",
          .enabled(if: int8Runs, "int8 cannot run here"),
          .enabled(if: CTranslate2WhisperTests.installed("whisper-tiny.en"),
                   "Weights/models/whisper-tiny.en is not installed: run python3 Weights/tools/install_models.py"))
    func whisperTinyEn() throws {
        let index = try CTranslate2FixtureIndex.load()
        let key = try #require(index.models["whisper-tiny.en"]?.audio["speech-16k.wav"]?.key)
        let frames = try SafeTensors(contentsOf: Fixtures.path("ctranslate2/whisper-tiny.en.safetensors")).floats("\(key).frames")
        let reference = ReferenceOutput(values: frames) {
            CTranslate2WhisperTests.frames($0.values, chunks: $0.chunkCount, width: $0.dimension, stride: index.frameStride)
        }
        try Self.compare(CTranslate2WhisperTests.installedModels + "/whisper-tiny.en",
                         bound: Int8Tolerance.whisperTinyEnRelativeL2, reference: reference, "whisper-tiny.en encoder")
    }

    @Test("int8: a chunk alone equals the chunk inside a batch of three, at 1 and 2 threads, bit for bit",
          .enabled(if: int8Runs, "int8 cannot run here"))
    func int8Properties() throws {
        let samples = EncoderParityTests.audio("in75s")
        let one = try Embedder(modelDirectory: EncoderParityTests.voxtralHF,
                               configuration: .init(threadCount: 1, chunksPerBatch: 1, precision: .int8))
        let alone = try one.embed(samples: samples, sampleRate: 16000).values
        // Each row is quantised on its own and integer sums are exact: neither the batch nor the split matters.
        let batched = try Embedder(modelDirectory: EncoderParityTests.voxtralHF,
                                   configuration: .init(threadCount: 2, chunksPerBatch: 3, precision: .int8))
        #expect(try batched.embed(samples: samples, sampleRate: 16000).values == alone)
    }

    @Test("the first layer stays float32 (its kernels float32, not quantised); the others are quantised and released",
          .enabled(if: int8Runs, "int8 cannot run here"))
    func firstLayerStaysFloat() throws {
        let model = try ModelLoader.load(directory: EncoderParityTests.whisperHF)
        let encoder = try AudioEncoder(weights: model.encoder, precision: .int8)
        #expect(PrecisionPolicy.defaultFloatLayers == 1 && encoder.policy.floatLayers == 1)
        #expect(encoder.quantised?.layers.count == model.encoder.layers.count)
        #expect(encoder.quantised?.layers[0] == nil && encoder.quantised?.layers[1] != nil)
        func isInt8(_ kernel: LinearKernel) -> Bool { if case .int8 = kernel { return true } else { return false } }
        let first = encoder.layerKernels[0], second = encoder.layerKernels[1]
        #expect(![first.qkvProj, first.outProj, first.fc1, first.fc2].contains(where: isInt8))
        #expect([second.qkvProj, second.outProj, second.fc1, second.fc2].allSatisfy(isInt8))
        // Layer 0 keeps its float32 matrices exactly when its route reads them (sgemm); packed routes hold a copy.
        #expect((encoder.weights.layers[0] == model.encoder.layers[0]) == first.fc1.readsFloatWeights)
        #expect(encoder.weights.layers[1].fc1.weight.isEmpty && encoder.weights.layers[1].qkvProj.weight.isEmpty)
    }

    @Test("int8 with every layer in float32 gives float32's encoder output bit for bit; fewer float layers, more error",
          .enabled(if: int8Runs, "int8 cannot run here"),
          .enabled(if: CTranslate2WhisperTests.installed("whisper-tiny.en"),
                   "Weights/models/whisper-tiny.en is not installed: run python3 Weights/tools/install_models.py"))
    func floatLayers() throws {
        let directory = CTranslate2WhisperTests.installedModels + "/whisper-tiny.en"
        let audio = Fixtures.path(Self.speech)
        let float = try Embedder(modelDirectory: directory).embed(fileAt: audio)
        func int8(_ layers: Int) throws -> Embeddings {
            try Embedder(modelDirectory: directory, configuration: .init(precision: .int8, int8FloatLayers: layers))
                .embed(fileAt: audio)
        }
        let all = try int8(4)  // tiny.en has 4 layers: nothing of the encoder is quantised
        #expect(all.values == float.values)
        #expect(all.int8FloatLayers == 4 && float.int8FloatLayers == nil)
        let errors = try [0, 1, 2].map { Discrepancy(try int8($0).values, float.values).relativeL2 }
        // Measured 2.7 %, 1.93 %, 1.5 %: layer 0's rounding is the one the others amplify (precision.md).
        #expect(errors[0] > errors[1] && errors[1] > errors[2], "relative L2 with 0, 1, 2 float layers: \(errors)")
    }

    @Test("weights int8 cannot quantise make the Embedder throw VoxEncError.precision")
    func refusesNonFiniteWeights() throws {
        var model = try ModelLoader.load(directory: EncoderParityTests.whisperHF)
        model.encoder.layers[1].fc2.weight[3] = .infinity
        do {
            _ = try Embedder(model: model, configuration: .init(precision: .int8))
            Issue.record("an infinite weight was quantised")
        } catch {
            // Where int8 runs: the weight is named; elsewhere int8's own refusal comes first. Anything else fails.
            switch (error, Self.int8Runs) {
            case (.precision(let reason), true):
                #expect(reason == .nonFiniteWeight(tensor: "layers.1.fc2", row: 0))
            case (.precision(.oneDNNUnavailable), false), (.precision(.instructionSetTooOld), false):
                break
            default:
                Issue.record("unexpected error (int8 runs here: \(Self.int8Runs)): \(error)")
            }
        }
        _ = try Embedder(model: model)  // float32 does not quantise
    }
}
