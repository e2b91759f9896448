// Loading the three fixture layouts: detection, configuration (values from their config files), the HF and Mistral
// copies of one checkpoint giving bit-identical weights, the computed vs stored positional table, the remap steps
// (q/k/v fusion, conv permutation), and a Hugging Face cache snapshot (symlinks) loading as is.

import Foundation
import Testing
import VoxEncModel
import VoxEncTestSupport

@Suite("Model loading")
struct ModelLoaderTests {
    static let voxtralHF = Fixtures.path("encoder/voxtral-tiny-hf")
    static let voxtralMistral = Fixtures.path("encoder/voxtral-tiny-mistral")
    static let whisperHF = Fixtures.path("encoder/whisper-tiny-hf")


    /// The fixture's tiny audio tower: 128 mels, width 64, 2 layers, 4 heads, ffn 256, 1500 positions.
    static let tinyVoxtralEncoder = EncoderConfiguration(melBinCount: 128, modelDimension: 64, layerCount: 2, headCount: 4,
                                                         feedForwardDimension: 256, maxPositions: 1500, layerNormEpsilon: 1e-5)

    /// Learned parameters under the audio prefixes, counted with the test's own reader (positions excluded).
    static func storedParameterCount(files: [String], prefixes: [String]) throws -> Int {
        var count = 0
        for file in files {
            for tensor in try SafeTensorsFileBuilder.read(file).tensors
            where prefixes.contains(where: tensor.name.hasPrefix) && !tensor.name.contains("embed_positions") {
                count += tensor.shape.reduce(1, *)
            }
        }
        return count
    }

    @Test("HF Voxtral (sharded bf16): layout, configuration from config.json, description")
    func huggingFaceVoxtral() throws {
        #expect(try CheckpointLayout.detect(directory: Self.voxtralHF) == .huggingFaceVoxtral)
        let model = try ModelLoader.load(directory: Self.voxtralHF)
        let description = model.description
        #expect(description.layout == .huggingFaceVoxtral)
        #expect(description.path == Self.voxtralHF)
        #expect(description.encoder == Self.tinyVoxtralEncoder)
        // intermediate_size 256 = 4 · hidden_size 64 frames stacked; text_config.hidden_size 96.
        #expect(description.adapter == AdapterConfiguration(stackFactor: 4, inputDimension: 256, outputDimension: 96))
        #expect(description.storedDType == "bf16")  // embed_positions (F32) is not counted
        let shards = ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"].map { Self.voxtralHF + "/" + $0 }
        #expect(description.parameterCount == (try Self.storedParameterCount(files: shards,
                                                                            prefixes: ["audio_tower.", "multi_modal_projector."])))
        #expect(description.digest.count == 64 && description.digest.allSatisfy(\.isHexDigit))
        #expect(model.unusedTensors.isEmpty, "\(model.unusedTensors)")
        #expect(model.encoder.configuration == description.encoder)
        #expect(model.encoder.layers.count == 2)
        #expect(model.adapter?.linear1.outputCount == 96 && model.adapter?.linear1.inputCount == 256)
        #expect(model.adapter?.linear1.bias == nil && model.adapter?.linear2.bias == nil)
    }

    @Test("Mistral Voxtral: layout, configuration from params.json, text tensors skipped")
    func mistralVoxtral() throws {
        #expect(try CheckpointLayout.detect(directory: Self.voxtralMistral) == .mistralVoxtral)
        let model = try ModelLoader.load(directory: Self.voxtralMistral)
        #expect(model.description.layout == .mistralVoxtral)
        #expect(model.description.encoder == Self.tinyVoxtralEncoder)
        // downsample_factor 4; top-level dim 96.
        #expect(model.description.adapter == AdapterConfiguration(stackFactor: 4, inputDimension: 256, outputDimension: 96))
        #expect(model.description.storedDType == "bf16")
        #expect(model.description.parameterCount == (try Self.storedParameterCount(
            files: [Self.voxtralMistral + "/consolidated.safetensors"],
            prefixes: ["mm_whisper_embeddings.whisper_encoder.", "mm_whisper_embeddings.audio_language_projection."])))
        #expect(model.unusedTensors.isEmpty, "\(model.unusedTensors)")
    }

    @Test("HF Whisper (F32): layout, WhisperConfig keys, no adapter, decoder skipped")
    func huggingFaceWhisper() throws {
        #expect(try CheckpointLayout.detect(directory: Self.whisperHF) == .huggingFaceWhisper)
        let model = try ModelLoader.load(directory: Self.whisperHF)
        #expect(model.description.encoder == EncoderConfiguration(melBinCount: 80, modelDimension: 64, layerCount: 2, headCount: 4,
                                                                  feedForwardDimension: 256, maxPositions: 1500))
        #expect(model.description.adapter == nil && model.adapter == nil)
        #expect(model.description.storedDType == "f32")
        #expect(model.description.parameterCount == (try Self.storedParameterCount(files: [Self.whisperHF + "/model.safetensors"],
                                                                                  prefixes: ["model.encoder."])))
        #expect(model.unusedTensors.isEmpty, "\(model.unusedTensors)")
        // The stored table is used as is: it is transformers' float32 sinusoids(1500, 64).
        let stored = try SafeTensors(contentsOf: Self.whisperHF + "/model.safetensors").floats("model.encoder.embed_positions.weight")
        #expect(model.encoder.positions == stored)
    }

    @Test("the HF sharded bf16 and the Mistral copies of one checkpoint load to bit-identical weights")
    func huggingFaceAndMistralAgree() throws {
        let hf = try ModelLoader.load(directory: Self.voxtralHF)
        let mistral = try ModelLoader.load(directory: Self.voxtralMistral)
        #expect(hf.encoder.conv1 == mistral.encoder.conv1)
        #expect(hf.encoder.conv2 == mistral.encoder.conv2)
        #expect(hf.encoder.layers.count == mistral.encoder.layers.count)
        for (index, (a, b)) in zip(hf.encoder.layers, mistral.encoder.layers).enumerated() {
            #expect(a == b, "layer \(index)")
        }
        #expect(hf.encoder.layerNorm == mistral.encoder.layerNorm)
        #expect(hf.adapter == mistral.adapter)
        #expect(hf.description.parameterCount == mistral.description.parameterCount)

        // Positions: stored F32 (transformers' torch float32 sinusoids) vs computed by Sinusoids.table.
        let difference = Discrepancy(mistral.encoder.positions, hf.encoder.positions)
        print("Mistral (computed) vs HF (stored F32) positions [1500, 64]: \(difference)")
        #expect(difference.maxAbsolute <= EncoderTolerance.computedPositions, "\(difference)")
        // The digest covers the positional table too: equal exactly when the tables are.
        #expect((hf.description.digest == mistral.description.digest) == (hf.encoder.positions == mistral.encoder.positions))
    }

    @Test("Sinusoids.table(1500, 1280) matches the float32 check values of docs/numerics.md (Positional table values)")
    func sinusoidCheckValues() {
        let table = Sinusoids.table(length: 1500, channels: 1280)
        func value(_ t: Int, _ channel: Int) -> Float { table[t * 1280 + channel] }
        let expected: [(Int, Int, Float)] = [(1, 0, 0.841471), (1, 1, 0.8336533), (1, 2, 0.8257802), (1, 3, 0.8178591),
                                             (1499, 0, -0.4442207), (1499, 640, -0.8959174), (0, 640, 1), (0, 0, 0)]
        for (t, channel, reference) in expected {
            #expect(abs(value(t, channel) - reference) <= EncoderTolerance.positionalTable, "PE[\(t), \(channel)] = \(value(t, channel)), docs/numerics.md \(reference)")
        }
    }

    @Test("remap: q/k/v fused with a zero k bias, conv weights permuted [out, in, 3] → [out, 3, in]")
    func remap() throws {
        let model = try ModelLoader.load(directory: Self.whisperHF)
        let file = try SafeTensors(contentsOf: Self.whisperHF + "/model.safetensors")
        let D = 64
        let layer = model.encoder.layers[1]
        let q = try file.floats("model.encoder.layers.1.self_attn.q_proj.weight")
        let k = try file.floats("model.encoder.layers.1.self_attn.k_proj.weight")
        let v = try file.floats("model.encoder.layers.1.self_attn.v_proj.weight")
        #expect(layer.qkvProj.outputCount == 3 * D && layer.qkvProj.inputCount == D)
        #expect(layer.qkvProj.weight == q + k + v)
        let bias = try #require(layer.qkvProj.bias)
        #expect(Array(bias[0..<D]) == (try file.floats("model.encoder.layers.1.self_attn.q_proj.bias")))
        #expect(bias[D..<(2 * D)].allSatisfy { $0 == 0 })
        #expect(Array(bias[(2 * D)...]) == (try file.floats("model.encoder.layers.1.self_attn.v_proj.bias")))

        let conv1 = try file.floats("model.encoder.conv1.weight")  // [64, 80, 3]
        var permuted = true
        for o in 0..<D { for i in 0..<80 { for tap in 0..<3 where model.encoder.conv1.weight[(o * 3 + tap) * 80 + i] != conv1[(o * 80 + i) * 3 + tap] { permuted = false } } }
        #expect(permuted)
        #expect(model.encoder.conv2.stride == 2 && model.encoder.conv1.stride == 1)
    }

    @Test("a Hugging Face cache snapshot (files symlinked into blobs/) loads as is")
    func cacheSnapshot() throws {
        let cache = TemporaryDirectory()
        let blobs = cache.file("models--tiny/blobs")
        let snapshot = cache.file("models--tiny/snapshots/0123abcd")
        try FileManager.default.createDirectory(atPath: blobs, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: snapshot, withIntermediateDirectories: true)
        for (number, name) in try FileManager.default.contentsOfDirectory(atPath: Self.voxtralHF).sorted().enumerated() {
            let blob = "blob\(number)"
            try FileManager.default.copyItem(atPath: Self.voxtralHF + "/" + name, toPath: blobs + "/" + blob)
            try FileManager.default.createSymbolicLink(atPath: snapshot + "/" + name, withDestinationPath: "../../blobs/" + blob)
        }
        let linked = try ModelLoader.load(directory: snapshot + "/")
        let direct = try ModelLoader.load(directory: Self.voxtralHF)
        #expect(linked.description.path == snapshot)
        var expected = direct.description
        expected.path = snapshot
        #expect(linked.description == expected)
        #expect(linked.encoder == direct.encoder && linked.adapter == direct.adapter)
    }

    /// Digests computed independently in Python, following the definition in WeightReader.swift.
    static let digests = Fixtures.modelDigests

    @Test("the digest is the documented hashlib recipe over the stored tensors (digests.json, made by Python)")
    func digestReproducibleWithHashlib() throws {
        #expect(try ModelLoader.load(directory: Self.whisperHF).description.digest == Self.digests["whisper-tiny-hf"])
        #expect(try ModelLoader.load(directory: Self.voxtralHF).description.digest == Self.digests["voxtral-tiny-hf"])
    }

    @Test("the loaded weights are the stored values: the Whisper fixture's F32 tensors, read by the tests' own reader")
    func weightsAreTheStoredValues() throws {
        let model = try ModelLoader.load(directory: Self.whisperHF)
        let stored = Dictionary(uniqueKeysWithValues: try SafeTensorsFileBuilder.read(Self.whisperHF + "/model.safetensors")
            .tensors.map { ($0.name, $0.floats) })
        func file(_ name: String) -> [Float] { stored["model.encoder." + name] ?? [] }
        #expect(model.encoder.positions == file("embed_positions.weight"))
        #expect(model.encoder.conv1.bias == file("conv1.bias") && model.encoder.conv2.bias == file("conv2.bias"))
        #expect(model.encoder.layerNorm.weight == file("layer_norm.weight") && model.encoder.layerNorm.bias == file("layer_norm.bias"))
        for (i, layer) in model.encoder.layers.enumerated() {
            let p = "layers.\(i)."
            #expect(layer.qkvProj.weight == file(p + "self_attn.q_proj.weight") + file(p + "self_attn.k_proj.weight")
                    + file(p + "self_attn.v_proj.weight"), "layer \(i) q/k/v")
            #expect(layer.outProj.weight == file(p + "self_attn.out_proj.weight") && layer.outProj.bias == file(p + "self_attn.out_proj.bias"))
            #expect(layer.fc1.weight == file(p + "fc1.weight") && layer.fc1.bias == file(p + "fc1.bias"), "layer \(i) fc1")
            #expect(layer.fc2.weight == file(p + "fc2.weight") && layer.fc2.bias == file(p + "fc2.bias"), "layer \(i) fc2")
            #expect(layer.selfAttnLayerNorm.weight == file(p + "self_attn_layer_norm.weight")
                    && layer.finalLayerNorm.bias == file(p + "final_layer_norm.bias"), "layer \(i) norms")
        }
    }
}
