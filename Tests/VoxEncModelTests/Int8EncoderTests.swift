// The int8 encoder and adapter (docs/precision.md) against float32 on the committed fixtures and the real Whisper
// tiny.en weights: a named relative-L2 bound each, and the properties float32 has (batch and thread independence).

import Foundation
import Testing
import VoxEnc
@testable import VoxEncModel
import VoxEncTestSupport

enum Int8Tolerance {
    // Results are deterministic for a kernel class (integer sums are exact), so each bound is the measured value
    // (VOXENC_REPORT=1, 2026-11-29; docs/precision.md) with a 1.3–1.6× margin, for 8-bit weights (VNNI) and for the
    // 7-bit weights of AVX2 without VNNI (DNNL_MAX_CPU_ISA=AVX2), which roughly 1.5× the error.

    /// Random tiny Voxtral (2 layers, d 64, q/k gain 2.5: sharp attention; layer 0 stays float32), adapter and
    /// encoder output on speech. Measured ≤ 1.8 % (VNNI), ≤ 3.0 % (AVX2).
    static var voxtralFixtureRelativeL2: Double { forWeights(vnni: 2.5e-2, avx2: 4.2e-2) }
    /// Random tiny Whisper (2 layers, d 64), encoder output on speech. Measured 0.94 % (VNNI), 1.55 % (AVX2).
    static var whisperFixtureRelativeL2: Double { forWeights(vnni: 1.3e-2, avx2: 2.2e-2) }
    /// Real Whisper tiny.en, encoder output on the committed speech. Its activations have outlier channels (row
    /// maxima 5–25 × the row RMS), which per-row 8-bit codes resolve coarsely. Measured with VNNI 1.93 % with layer 0
    /// (float32) and the float32 baseline on OpenBLAS, 2.05 % on oneDNN's packed matmul (AMD Zen 4): the float32
    /// rounding of each backend moves which 8-bit codes round up; 2.7 % when layer 0 was int8 too; 3.1 % on AVX2.
    /// CTranslate2 4.8.5 int8 on the same audio: 3.3 %. Bound 2.4 %: 15 % above the larger VNNI measurement, as the
    /// backend a CPU gets decides which of the two it sees.
    static var whisperTinyEnRelativeL2: Double { forWeights(vnni: 2.4e-2, avx2: 4e-2) }

    static func forWeights(vnni: Double, avx2: Double) -> Double {
        (try? IntegerGEMM.support.get().weightLevels) == 63 ? avx2 : vnni
    }
}

@Suite("int8 encoder and adapter against float32")
struct Int8EncoderTests {
    static var int8Runs: Bool { (try? Precision.int8.checkSupported()) != nil }
    static let speech = "audio/speech-16k.wav"

    static func compare(_ directory: String, kind: EmbeddingKind? = nil, file: String = speech, bound: Double,
                        _ label: String) throws {
        let float = try Embedder(modelDirectory: directory, configuration: .init(kind: kind))
        let int8 = try Embedder(modelDirectory: directory, configuration: .init(kind: kind, precision: .int8))
        let expected = try float.embed(fileAt: Fixtures.path(file))
        let actual = try int8.embed(fileAt: Fixtures.path(file))
        #expect(actual.precision == .int8 && expected.precision == .float32)
        #expect(actual.frameCount == expected.frameCount && actual.dimension == expected.dimension)
        let d = Discrepancy(actual.values, expected.values)
        #expect(d.relativeL2 <= bound, "\(label): \(d)")
        #expect(actual.values != expected.values, "\(label): int8 gave float32's exact values")
        if ProcessInfo.processInfo.environment["VOXENC_REPORT"] != nil {
            print(String(format: "INT8 %@: relL2 %.2e max|Δ| %.2e", label, d.relativeL2, d.maxAbsolute))
        }
    }

    @Test("random tiny Voxtral: adapter and encoder output within the bound",
          .enabled(if: int8Runs, "int8 cannot run here (no oneDNN or a CPU below AVX2)"),
          arguments: ["audio/speech-16k.wav", "audio/speech-44k-stereo-37s.flac"])
    func voxtralFixture(file: String) throws {
        try Self.compare(EncoderParityTests.voxtralHF, file: file, bound: Int8Tolerance.voxtralFixtureRelativeL2,
                         "voxtral-tiny adapter \(file)")
        try Self.compare(EncoderParityTests.voxtralHF, kind: .encoder, file: file,
                         bound: Int8Tolerance.voxtralFixtureRelativeL2, "voxtral-tiny encoder \(file)")
    }

    @Test("random tiny Whisper: encoder output within the bound", .enabled(if: int8Runs, "int8 cannot run here"))
    func whisperFixture() throws {
        try Self.compare(EncoderParityTests.whisperHF, bound: Int8Tolerance.whisperFixtureRelativeL2, "whisper-tiny-hf encoder")
    }

    @Test("real Whisper tiny.en: encoder output within the bound",
          .enabled(if: int8Runs, "int8 cannot run here"),
          .enabled(if: CTranslate2WhisperTests.installed("whisper-tiny.en"),
                   "Weights/models/whisper-tiny.en is not installed: run python3 Weights/tools/install_models.py"))
    func whisperTinyEn() throws {
        try Self.compare(CTranslate2WhisperTests.installedModels + "/whisper-tiny.en",
                         bound: Int8Tolerance.whisperTinyEnRelativeL2, "whisper-tiny.en encoder")
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
        #expect(QuantisedEncoderWeights.floatLayerCount == 1)
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
        #expect(throws: VoxEncError.self) { try Embedder(model: model, configuration: .init(precision: .int8)) }
        do {
            _ = try Embedder(model: model, configuration: .init(precision: .int8))
        } catch {
            if case .precision(let reason) = error, Self.int8Runs {
                #expect(reason == .nonFiniteWeight(tensor: "layers.1.fc2", row: 0))
            }
        }
        _ = try Embedder(model: model)  // float32 does not quantise
    }
}
