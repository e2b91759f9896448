// --precision bf16 against the reference (transformers float32) and against voxenc's float32, bounded from both
// sides: within the issue's 1 % of float32, and far enough from it that bf16 really ran.

import Foundation
import Testing
@_spi(Engine) import VoxEnc
import VoxEncAudio
@testable import VoxEncModel
import VoxEncTestSupport

@Suite("bf16 encoder and adapter")
struct BFloat16EncoderTests {
    static var bfloat16Runs: Bool { Precision.bfloat16.isSupported }

    static func check(_ actual: [Float], _ expected: [Float], _ label: String) {
        #expect(actual.count == expected.count, "\(label)")
        guard actual.count == expected.count else { return }
        let d = Discrepancy(actual, expected)
        #expect(d.relativeL2 <= BFloat16Tolerance.relativeL2, "\(label): \(d)")
        #expect(d.relativeL2 >= BFloat16Tolerance.minimumRelativeL2, "\(label): bf16 gave float32's values? \(d)")
        if ProcessInfo.processInfo.environment["VOXENC_REPORT"] != nil {
            print(String(format: "BF16 %@: relL2 %.2e max|Δ| %.2e", label, d.relativeL2, d.maxAbsolute))
        }
    }

    @Test("random tiny Voxtral: bf16 embeddings against transformers float32 (1 s, 30 s, 75 s)",
          arguments: ["in1s", "in30s", "in75s"])
    func voxtralAgainstReference(input: String) throws {
        let route = try RouteCoverage.requireBFloat16()  // skipped with bf16's refusal where it cannot run
        defer { RouteCoverage.ran(route) }
        let embedder = try Embedder(modelDirectory: EncoderParityTests.voxtralHF, configuration: .init(precision: .bfloat16))
        let embeddings = try embedder.embed(samples: EncoderParityTests.audio(input), sampleRate: 16000)
        #expect(embeddings.precision == .bfloat16)
        let reference = try EncoderParityTests.reference("reference-voxtral-\(input).safetensors")
        Self.check(embeddings.values, try reference.floats("\(input).adapter"), "voxtral-tiny \(input) adapter")
    }

    @Test("real Whisper tiny.en and base: bf16 encoder states against voxenc float32",
          .enabled(if: bfloat16Runs, "this CPU has no native bf16 (AVX512-BF16 or AMX-BF16), or no oneDNN"),
          arguments: ["whisper-tiny.en", "whisper-base"])
    func realWhisper(model: String) throws {
        try #require(CTranslate2WhisperTests.installed(model),
                     "Weights/models/\(model) is not installed: run python3 Weights/tools/install_models.py --all")
        let directory = CTranslate2WhisperTests.installedModels + "/" + model
        let audio = Fixtures.path("audio/speech-16k.wav")
        let float = try Embedder(modelDirectory: directory).embed(fileAt: audio)
        let half = try Embedder(modelDirectory: directory, configuration: .init(precision: .bfloat16)).embed(fileAt: audio)
        Self.check(half.values, float.values, "\(model) encoder")
    }

    @Test("bf16: a chunk alone at 1 thread equals the chunk inside a batch of three at 2 threads, bit for bit",
          .enabled(if: bfloat16Runs, "this CPU has no native bf16 (AVX512-BF16 or AMX-BF16), or no oneDNN"))
    func invariance() throws {
        let samples = EncoderParityTests.audio("in75s")
        let alone = try Embedder(modelDirectory: EncoderParityTests.voxtralHF,
                                 configuration: .init(threadCount: 1, chunksPerBatch: 1, precision: .bfloat16))
        let batched = try Embedder(modelDirectory: EncoderParityTests.voxtralHF,
                                   configuration: .init(threadCount: 2, chunksPerBatch: 3, precision: .bfloat16))
        #expect(try batched.embed(samples: samples, sampleRate: 16000).values
            == (try alone.embed(samples: samples, sampleRate: 16000).values))
    }

    @Test("bf16 weights are held packed (the first layer in float32): the float32 matrices of the bf16 layers and the conv stem are released",
          .enabled(if: bfloat16Runs, "this CPU has no native bf16 (AVX512-BF16 or AMX-BF16), or no oneDNN"))
    func weightsReleased() throws {
        let model = try ModelLoader.load(directory: EncoderParityTests.whisperHF)
        let encoder = try AudioEncoder(weights: model.encoder, precision: .bfloat16)
        #expect(encoder.weights.layers.dropFirst(encoder.policy.floatLayers).allSatisfy {
            $0.fc1.weight.isEmpty && $0.qkvProj.weight.isEmpty
        })
        #expect(encoder.weights.conv1.weight.isEmpty && encoder.weights.conv2.weight.isEmpty)
        switch encoder.layerKernels[0].fc1 {  // the first layer runs float32 (PrecisionPolicy.floatLayers)
        case .blas: break
        case .packed(let first, _): #expect(first.operands == .float32)
        case .int8: Issue.record("layer 0 is int8 under bf16")
        }
        for kernel in [encoder.layerKernels[1].fc1, encoder.stemKernels.conv2] {
            guard case .packed(let matrix, _) = kernel else { Issue.record("not packed: \(kernel)"); continue }
            #expect(matrix.operands == .bfloat16)
            #expect(matrix.byteCount >= matrix.outputCount * matrix.inputCount * 2)  // bf16: 2 bytes a weight
            #expect(matrix.byteCount < matrix.outputCount * matrix.inputCount * 4)
        }
    }
}
