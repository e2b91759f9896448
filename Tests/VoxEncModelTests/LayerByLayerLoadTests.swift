// The encoder made as its layers are read (AudioEncoder(reading:…), what `Embedder(modelDirectory:)` does) against
// the encoder made from the whole float32 load (ModelLoader.load + AudioEncoder(weights:…)): the same digest and the
// same embeddings bit for bit on every precision and route that runs here, for each layout; and a count of the
// float32 matrices alive while it is made, which shows that a packed or quantised encoder never held them all.

import Foundation
import Testing
@_spi(Engine) import VoxEnc
import VoxEncAudio
@testable import VoxEncModel
import VoxEncTestSupport

@Suite("encoder made layer by layer as it is read")
struct LayerByLayerLoadTests {
    struct Case: CustomStringConvertible, Sendable {
        var precision: Precision
        var gemm: FloatGEMM?
        var description: String { precision.rawValue + (gemm.map { " " + $0.rawValue } ?? "") }
        var runs: Bool { precision.isSupported && (gemm?.isAvailable ?? true) }
    }

    /// Every precision, and float32 on each GEMM route (the packed matmul releases its matrices, the BLAS routes
    /// keep them); the ones this machine cannot run are cancelled (reported as skipped) inside the test.
    static let cases = [Case(precision: .float32, gemm: .openBLAS), Case(precision: .float32, gemm: .oneDNN),
                        Case(precision: .float32, gemm: .oneDNNMatmul), Case(precision: .int8),
                        Case(precision: .bfloat16)]
    static let models = [EncoderParityTests.voxtralHF, EncoderParityTests.voxtralMistral, EncoderParityTests.whisperHF,
                         Fixtures.path("ctranslate2/random-bfloat16"), Fixtures.path("ctranslate2/random-int8_float16")]

    /// Cancels the test case (Swift Testing records it as skipped, not passed) where this CPU or build cannot run
    /// it, and says so on stdout too: the console reporter shows no line for a cancelled case.
    static func skipUnlessRunnable(_ test: Case) throws {
        guard !test.runs else { return }
        let reason = "skipped \(test): this CPU or build cannot run it"
        print(reason)
        try Test.cancel(Comment(rawValue: reason))
    }

    @Test("read layer by layer: the digest and every embedding equal the whole float32 load's, bit for bit",
          arguments: cases)
    func sameAsWholeFloat32Load(_ test: Case) throws {
        try Self.skipUnlessRunnable(test)
        let samples = EncoderParityTests.audio("in75s")  // 3 chunks at 2 per batch: a full and a partial batch
        for model in Self.models {
            let configuration = EmbedderConfiguration(threadCount: 2, precision: test.precision, floatGEMM: test.gemm)
            let layered = try Embedder(modelDirectory: model, configuration: configuration)
            let whole = try Embedder(model: ModelLoader.load(directory: model), configuration: configuration)
            let label = "\(test) \((model as NSString).lastPathComponent)"
            #expect(layered.model == whole.model, "\(label): description and digest")
            #expect(layered.encoderModel.policy.precision == test.precision, "\(label)")
            let a = try layered.embed(samples: samples, sampleRate: 16000)
            let b = try whole.embed(samples: samples, sampleRate: 16000)
            #expect(a.values.count == b.values.count && a.values == b.values, "\(label): \(Discrepancy(a.values, b.values))")
        }
    }

    @Test("the digests read layer by layer are the pinned ones (digests.json, made by Python's hashlib)")
    func pinnedDigests() throws {
        for (name, directory) in [("voxtral-tiny-hf", EncoderParityTests.voxtralHF),
                                  ("whisper-tiny-hf", EncoderParityTests.whisperHF)] {
            let embedder = try Embedder(modelDirectory: directory)
            #expect(embedder.model.digest == Fixtures.modelDigests[name], "\(name)")
        }
    }

    @Test("at one thread, a packed or quantised encoder holds one layer's float32 matrices at a time, never all; the BLAS routes keep them",
          arguments: cases)
    func floatMatricesAliveAtOnce(_ test: Case) throws {
        try Self.skipUnlessRunnable(test)
        let gemm = test.gemm ?? GEMMRouting.float32
        let reader = try ModelLoader.open(directory: EncoderParityTests.voxtralHF)
        let encoder = try Parallel.withThreads(1) { () throws(any Error) in
            // int8 with no float32 layer, so that every layer is quantised.
            try AudioEncoder(reading: reader, policy: PrecisionPolicy(precision: test.precision, floatLayers: 0, gemm: gemm))
        }
        let count = encoder.floatMatrices
        let layers = encoder.configuration.layerCount
        try #require(layers >= 2 && count.readBytes > 0)
        let oneLayer = count.readBytes / layers  // the layers have equal shapes
        #expect(count.peakBytes <= count.heldBytes + oneLayer, "\(test): \(count)")
        // Layers whose kernels multiply with the float32 matrices keep them (the BLAS routes; bf16's first layer
        // where float32 runs on BLAS); every other layer's are released once its kernels exist.
        let kept = encoder.layerKernels.filter { $0.fc1.readsFloatWeights }.count
        #expect(count.heldBytes == kept * oneLayer, "\(test): \(count)")
        if kept == 0 {
            #expect(count.peakBytes == oneLayer && count.peakBytes < count.readBytes, "\(test): \(count)")
        }
        if test.precision == .float32 {
            #expect(kept == (gemm == .oneDNNMatmul ? 0 : layers), "\(test): the BLAS routes keep every matrix")
        } else if test.precision == .int8 {
            #expect(kept == 0, "\(test)")
        }
    }

    @Test("read part by part (ModelReader, ModelLoader.describe): the same description, unused tensors and float count as the whole load")
    func readerOrderAndUnused() throws {
        for model in Self.models {
            let reader = try ModelLoader.open(directory: model)
            _ = try reader.readStem()
            for index in 0..<reader.configuration.layerCount { _ = try reader.readLayer(index) }
            _ = try reader.readLayerNorm()
            _ = try reader.readAdapter()
            let (description, unused) = reader.finish()
            let whole = try ModelLoader.load(directory: model)
            #expect(description == whole.description && unused == whole.unusedTensors, "\(model)")
            let described = try ModelLoader.describe(directory: model)  // voxenc info: parts counted and dropped
            #expect(described.description == whole.description && described.unusedTensors == whole.unusedTensors
                    && described.floatCount == whole.encoder.floatCount + (whole.adapter?.floatCount ?? 0), "\(model)")
        }
    }
}
