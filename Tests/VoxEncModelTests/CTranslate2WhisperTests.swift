// CTranslate2 (faster-whisper) Whisper directories through ModelLoader and Embedder:
//  - a WhisperSpec model.bin written here from the committed random HF Whisper fixture loads to bit-identical weights;
//  - broken CTranslate2 directories give typed errors naming model.bin (and the variable);
//  - random models written by CTranslate2 itself in int8_float16 / int16 / bfloat16, with aliases
//    (Tests/Fixtures/ctranslate2/random-*): digest, dtype, and encoder output vs CTranslate2's own `encode`;
//  - the real installed models (Weights/models/whisper-tiny.en, whisper-base; skipped when absent): encoder output on
//    real speech vs CTranslate2's `encode`, and whisper-base re-saved under Hugging Face names giving the same weights.
// References: Weights/tools/make_ctranslate2_fixtures.py (CTranslate2 4.8.5, compute_type float32).

import Foundation
import Testing
@_spi(Engine) import VoxEnc
import VoxEncAudio
@testable import VoxEncModel
import VoxEncTestSupport

/// Tests/Fixtures/ctranslate2/ctranslate2.json.
struct CTranslate2FixtureIndex: Decodable {
    struct Encoder: Decodable {
        var melBins, dModel, layers, heads, ffn, positions, parameterCount: Int
        enum CodingKeys: String, CodingKey {
            case melBins = "mel_bins", dModel = "d_model", layers, heads, ffn, positions, parameterCount = "parameter_count"
        }
        var configuration: EncoderConfiguration {
            EncoderConfiguration(melBinCount: melBins, modelDimension: dModel, layerCount: layers, headCount: heads,
                                 feedForwardDimension: ffn, maxPositions: positions)
        }
    }
    struct Audio: Decodable {
        var key: String
        var chunks: Int
        var sumOfSquares: [Double]
        var transcript: [String]
        enum CodingKeys: String, CodingKey { case key, chunks, sumOfSquares = "sum_of_squares", transcript }
    }
    struct Model: Decodable {
        var modelBinBytes: Int
        var encoder: Encoder
        var voxencDigest: String
        var storedDType: String
        var audio: [String: Audio]
        enum CodingKeys: String, CodingKey {
            case modelBinBytes = "model_bin_bytes", encoder, voxencDigest = "voxenc_digest", storedDType = "stored_dtype", audio
        }
    }
    struct Variant: Decodable {
        var encoder: Encoder
        var voxencDigest: String
        var aliases: [String: String]
        var sumOfSquares: [Double]
        enum CodingKeys: String, CodingKey {
            case encoder, voxencDigest = "voxenc_digest", aliases, sumOfSquares = "sum_of_squares"
        }
    }
    struct Random: Decodable {
        var audio: String
        var frameStride: Int
        var variants: [String: Variant]
        enum CodingKeys: String, CodingKey { case audio, frameStride = "frame_stride", variants }
    }
    var frameStride: Int
    var models: [String: Model]
    var random: Random
    enum CodingKeys: String, CodingKey { case frameStride = "frame_stride", models, random }

    static func load() throws -> CTranslate2FixtureIndex {
        try JSONDecoder().decode(Self.self, from: Data(contentsOf: URL(fileURLWithPath: Fixtures.path("ctranslate2/ctranslate2.json"))))
    }
}

@Suite("CTranslate2 Whisper models")
struct CTranslate2WhisperTests {
    static let whisperHF = Fixtures.path("encoder/whisper-tiny-hf")
    static let installedModels = Fixtures.repositoryRoot.appendingPathComponent("Weights/models").path

    static func installed(_ name: String) -> Bool {
        FileManager.default.fileExists(atPath: installedModels + "/" + name + "/model.bin")
    }

    /// python3 runs (the HF conversion script needs only its standard library).
    static let pythonAvailable: Bool = {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", "import json, struct"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { return false }
        process.waitUntilExit()
        return process.terminationStatus == 0
    }()

    func load(_ directory: String) -> ModelError? {
        do { _ = try ModelLoader.load(directory: directory); return nil } catch { return error }
    }

    // MARK: - A WhisperSpec written from the HF fixture

    /// The HF fixture's encoder under CTranslate2 names (q/k/v fused, zeros for k's bias), with a decoder variable, an
    /// alias, num_heads, and `edit` applied; plus CTranslate2's config.json (decoding options only).
    static func ctranslate2Copy(in temporary: TemporaryDirectory, name: String = "ct2", version: UInt32 = 6,
                                spec: String = "WhisperSpec", revision: UInt32 = 3, config: [String: Any]? = nil,
                                _ edit: (inout [CT2Variable]) -> Void = { _ in }) throws -> String {
        let tensors = Dictionary(uniqueKeysWithValues: try SafeTensorsFileBuilder.read(whisperHF + "/model.safetensors")
            .tensors.map { ($0.name, $0) })
        func copy(_ ct2: String, _ hf: String) -> CT2Variable {
            let tensor = tensors[hf]!
            return CT2Variable(name: ct2, dtype: 0, shape: tensor.shape, bytes: tensor.bytes)
        }
        let d = 64
        var variables: [CT2Variable] = [
            copy("encoder/conv1/weight", "model.encoder.conv1.weight"), copy("encoder/conv1/bias", "model.encoder.conv1.bias"),
            copy("encoder/conv2/weight", "model.encoder.conv2.weight"), copy("encoder/conv2/bias", "model.encoder.conv2.bias"),
            copy("encoder/position_encodings/encodings", "model.encoder.embed_positions.weight"),
            copy("encoder/layer_norm/gamma", "model.encoder.layer_norm.weight"),
            copy("encoder/layer_norm/beta", "model.encoder.layer_norm.bias"),
            .i16("encoder/num_heads", [], [4]),
            copy("decoder/embeddings/weight", "model.decoder.embed_tokens.weight"),
        ]
        for i in 0..<2 {
            let c = "encoder/layer_\(i)/", h = "model.encoder.layers.\(i)."
            let attention = h + "self_attn."
            variables += [
                copy(c + "self_attention/layer_norm/gamma", h + "self_attn_layer_norm.weight"),
                copy(c + "self_attention/layer_norm/beta", h + "self_attn_layer_norm.bias"),
                CT2Variable(name: c + "self_attention/linear_0/weight", dtype: 0, shape: [3 * d, d],
                            bytes: tensors[attention + "q_proj.weight"]!.bytes + tensors[attention + "k_proj.weight"]!.bytes
                                + tensors[attention + "v_proj.weight"]!.bytes),
                CT2Variable(name: c + "self_attention/linear_0/bias", dtype: 0, shape: [3 * d],
                            bytes: tensors[attention + "q_proj.bias"]!.bytes + [UInt8](repeating: 0, count: 4 * d)
                                + tensors[attention + "v_proj.bias"]!.bytes),
                copy(c + "self_attention/linear_1/weight", attention + "out_proj.weight"),
                copy(c + "self_attention/linear_1/bias", attention + "out_proj.bias"),
                copy(c + "ffn/layer_norm/gamma", h + "final_layer_norm.weight"),
                copy(c + "ffn/layer_norm/beta", h + "final_layer_norm.bias"),
                copy(c + "ffn/linear_0/weight", h + "fc1.weight"), copy(c + "ffn/linear_0/bias", h + "fc1.bias"),
                copy(c + "ffn/linear_1/weight", h + "fc2.weight"), copy(c + "ffn/linear_1/bias", h + "fc2.bias"),
            ]
        }
        edit(&variables)
        let directory = temporary.file(name)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try CTranslate2FileBuilder.write(CTranslate2FileBuilder.bytes(version: version, spec: spec, revision: revision,
                                                                      variables: variables,
                                                                      aliases: [("decoder/projection/weight", "decoder/embeddings/weight")]),
                                         to: directory + "/model.bin")
        let options = config ?? ["suppress_ids": [1, 2], "suppress_ids_begin": [220], "lang_ids": [], "alignment_heads": [[0, 1]]]
        try JSONSerialization.data(withJSONObject: options).write(to: URL(fileURLWithPath: directory + "/config.json"))
        return directory
    }

    @Test("a WhisperSpec model.bin of the HF fixture: detected, configured from shapes, bit-identical weights")
    func sameWeightsAsHuggingFace() throws {
        let temporary = TemporaryDirectory()
        let directory = try Self.ctranslate2Copy(in: temporary)
        #expect(try CheckpointLayout.detect(directory: directory) == .ctranslate2Whisper)
        let ct2 = try ModelLoader.load(directory: directory)
        let hf = try ModelLoader.load(directory: Self.whisperHF)
        #expect(ct2.description.layout == .ctranslate2Whisper && ct2.description.adapter == nil && ct2.adapter == nil)
        #expect(ct2.description.encoder == hf.description.encoder)
        #expect(ct2.encoder == hf.encoder)  // conv permutation, fused q/k/v, positions, norms: all bit for bit
        #expect(ct2.description.storedDType == "f32")
        #expect(ct2.description.parameterCount == hf.description.parameterCount + 2 * 64)  // the stored k-bias zeros
        #expect(ct2.unusedTensors.isEmpty, "\(ct2.unusedTensors)")
        // Digests from Weights/tools/make_digest_fixtures.py (hashlib over the same bytes, fused as written here).
        #expect(ct2.description.digest == ModelLoaderTests.digests["whisper-tiny-hf as ctranslate2"])
        #expect(hf.description.digest == ModelLoaderTests.digests["whisper-tiny-hf"])
        #expect(try CheckpointConfiguration.read(directory: directory, layout: .ctranslate2Whisper).encoder == hf.description.encoder)

        // CTranslate2's LayerNorm epsilon comes from its config.json when set; num_heads defaults to 8.
        let epsilon = try Self.ctranslate2Copy(in: temporary, name: "epsilon", config: ["layer_norm_epsilon": 1e-6])
        #expect(try ModelLoader.load(directory: epsilon).encoder.configuration.layerNormEpsilon == 1e-6)
        let noHeads = try Self.ctranslate2Copy(in: temporary, name: "noheads") { $0.removeAll { $0.name == "encoder/num_heads" } }
        #expect(try ModelLoader.load(directory: noHeads).description.encoder.headCount == 8)
        // A leftover encoder variable is reported as unused.
        let extra = try Self.ctranslate2Copy(in: temporary, name: "extra") { $0.append(.f32("encoder/extra/weight", [1], [0])) }
        #expect(try ModelLoader.load(directory: extra).unusedTensors == ["encoder/extra/weight"])
    }

    @Test("broken CTranslate2 directories: typed errors naming model.bin and the variable, one line, with a hint")
    func errors() throws {
        let temporary = TemporaryDirectory()
        func failure(_ name: String, version: UInt32 = 6, spec: String = "WhisperSpec", revision: UInt32 = 3,
                     config: [String: Any]? = nil, _ edit: @escaping (inout [CT2Variable]) -> Void = { _ in }) throws -> (ModelError?, String) {
            let directory = try Self.ctranslate2Copy(in: temporary, name: name, version: version, spec: spec, revision: revision,
                                                     config: config, edit)
            return (load(directory), directory + "/model.bin")
        }
        var (error, path) = try failure("translation", spec: "TransformerSpec", revision: 7)
        #expect(error == .unsupportedSpec(path: path, spec: "TransformerSpec", revision: 7))
        (error, path) = try failure("newer", revision: 4)
        #expect(error == .unsupportedSpec(path: path, spec: "WhisperSpec", revision: 4))
        (error, path) = try failure("future", version: 7)
        #expect(error == .unsupportedFormatVersion(path: path, version: 7))
        (error, path) = try failure("missing") { $0.removeAll { $0.name == "encoder/layer_1/ffn/linear_1/bias" } }
        #expect(error == .missingTensor(path: path, tensor: "encoder/layer_1/ffn/linear_1/bias"))
        (error, path) = try failure("nopositions") { $0.removeAll { $0.name == "encoder/position_encodings/encodings" } }
        #expect(error == .missingTensor(path: path, tensor: "encoder/position_encodings/encodings"))
        (error, path) = try failure("shape") { variables in
            let index = variables.firstIndex { $0.name == "encoder/layer_0/ffn/linear_1/weight" }!
            variables[index].shape = [256, 64]  // fc2 stored transposed
        }
        #expect(error == .shapeMismatch(path: path, tensor: "encoder/layer_0/ffn/linear_1/weight", expected: [64, 256], actual: [256, 64]))
        (error, path) = try failure("nan") { variables in
            let index = variables.firstIndex { $0.name == "encoder/layer_1/self_attention/linear_0/bias" }!
            variables[index].bytes.replaceSubrange(0..<4, with: littleEndian(Float.nan.bitPattern))
        }
        #expect(error == .nonFiniteWeights(path: path, tensor: "encoder/layer_1/self_attention/linear_0/bias", count: 1))
        (error, path) = try failure("int32") { variables in
            let index = variables.firstIndex { $0.name == "encoder/conv2/bias" }!
            variables[index].dtype = 3
        }
        #expect(error == .unsupportedDType(path: path, tensor: "encoder/conv2/bias", dtype: "I32"))
        (error, path) = try failure("heads") { variables in
            let index = variables.firstIndex { $0.name == "encoder/num_heads" }!
            variables[index] = .i16("encoder/num_heads", [], [5])
        }
        if case .invalidConfiguration(let reported, let reason)? = error {
            #expect(reported == path && reason.contains("not a multiple of 5 heads"))
        } else { Issue.record("5 heads for width 64: \(String(describing: error))") }
        (error, path) = try failure("badconfig", config: ["layer_norm_epsilon": "small"])
        #expect(error == .invalidConfiguration(path: (path as NSString).deletingLastPathComponent + "/config.json",
                                               reason: "layer_norm_epsilon: expected a number in (0, 1)"))

        // A truncated model.bin.
        let truncated = try Self.ctranslate2Copy(in: temporary, name: "truncated")
        let bytes = try Data(contentsOf: URL(fileURLWithPath: truncated + "/model.bin"))
        try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: truncated + "/model.bin"))
        guard case .invalidModelBinary(let reported, let reason)? = load(truncated) else {
            Issue.record("a truncated model.bin should be invalidModelBinary")
            return
        }
        #expect(reported == truncated + "/model.bin" && reason.contains("truncated"))

        for error in [ModelError.unsupportedSpec(path: "/m/model.bin", spec: "TransformerSpec", revision: 7),
                      .unsupportedSpec(path: "/m/model.bin", spec: "WhisperSpec", revision: 4),
                      .unsupportedFormatVersion(path: "/m/model.bin", version: 9),
                      .invalidModelBinary(path: "/m/model.bin", reason: "truncated")] {
            #expect(error.description.hasPrefix("/m/model.bin: ") && !error.description.contains("\n"), "\(error)")
            #expect(error.hint != nil && error.path == "/m/model.bin")
        }
    }

    // MARK: - Random models written by CTranslate2 (committed)

    @Test("int8_float16, int16 and bfloat16 models saved by CTranslate2: dtype, digest, aliases, encoder vs CTranslate2",
          arguments: ["int8_float16", "int16", "bfloat16"])
    func randomModels(variant: String) throws {
        let index = try CTranslate2FixtureIndex.load()
        let entry = try #require(index.random.variants[variant])
        let directory = Fixtures.path("ctranslate2/random-\(variant)")
        let model = try ModelLoader.load(directory: directory)
        #expect(model.description.layout == .ctranslate2Whisper)
        #expect(model.description.encoder == entry.encoder.configuration)
        #expect(model.description.storedDType == ["int8_float16": "int8_float16", "int16": "int16", "bfloat16": "bf16"][variant])
        #expect(model.description.digest == entry.voxencDigest)  // the recipe, computed in Python from the file
        #expect(model.description.parameterCount == entry.encoder.parameterCount)
        #expect(model.unusedTensors.isEmpty, "\(model.unusedTensors)")
        // CTranslate2 stored layer 1's ffn gamma and fc2 weight once, as aliases of layer 0's (the weight quantized:
        // the alias also stands for its scale).
        #expect(entry.aliases["encoder/layer_1/ffn/linear_1/weight"] == "encoder/layer_0/ffn/linear_1/weight")
        #expect(model.encoder.layers[1].finalLayerNorm.weight == model.encoder.layers[0].finalLayerNorm.weight)
        #expect(model.encoder.layers[1].fc2.weight == model.encoder.layers[0].fc2.weight)

        let embedder = try Embedder(model: model)
        let result = try embedder.embed(fileAt: Fixtures.path("audio/" + index.random.audio))
        let reference = try SafeTensors(contentsOf: Fixtures.path("ctranslate2/random.safetensors")).floats("\(variant).frames")
        let ours = Self.frames(result.values, chunks: result.chunkCount, width: result.dimension, stride: index.random.frameStride)
        let difference = Discrepancy(ours, reference)
        print(String(format: "CT2 random-%@ vs CTranslate2 encode: relL2 %.2e max|Δ| %.2e", variant, difference.relativeL2,
                     difference.maxAbsolute))
        #expect(difference.relativeL2 <= CTranslate2Tolerance.randomRelativeL2, "\(difference)")
        Self.expectChunkNorms(result, entry.sumOfSquares, bound: CTranslate2Tolerance.chunkNorm, variant)
    }

    /// Every `stride`-th row of each 1500-row chunk, chunk after chunk.
    static func frames(_ values: [Float], chunks: Int, width: Int, stride: Int) -> [Float] {
        var picked: [Float] = []
        for chunk in 0..<chunks {
            for frame in Swift.stride(from: 0, to: 1500, by: stride) {
                let row = (chunk * 1500 + frame) * width
                picked += values[row..<(row + width)]
            }
        }
        return picked
    }

    static func expectChunkNorms(_ result: Embeddings, _ sumsOfSquares: [Double], bound: Tolerance, _ label: String) {
        #expect(result.chunkCount == sumsOfSquares.count, "\(label)")
        let rows = result.frameCount / max(1, result.chunkCount)
        for (chunk, reference) in sumsOfSquares.enumerated() where chunk < result.chunkCount {
            let start = chunk * rows * result.dimension, end = (chunk + 1) * rows * result.dimension
            let ours = result.values[start..<end].reduce(0.0) { $0 + Double($1) * Double($1) }
            let relative = abs(ours.squareRoot() - reference.squareRoot()) / reference.squareRoot()
            #expect(relative <= bound, "\(label) chunk \(chunk): ‖ours‖ \(ours.squareRoot()) vs ‖CTranslate2‖ \(reference.squareRoot())")
        }
    }

    // MARK: - Real models (Weights/tools/install_models.py --all)

    func realModel(_ name: String) throws {
        let index = try CTranslate2FixtureIndex.load()
        let entry = try #require(index.models[name])
        let directory = Self.installedModels + "/" + name
        let size = (try FileManager.default.attributesOfItem(atPath: directory + "/model.bin")[.size] as? NSNumber)?.intValue
        try #require(size == entry.modelBinBytes, "\(directory)/model.bin is not the model the fixtures were made with")

        let embedder = try Embedder(modelDirectory: directory)
        #expect(embedder.model.layout == .ctranslate2Whisper)
        #expect(embedder.model.encoder == entry.encoder.configuration)
        #expect(embedder.model.storedDType == entry.storedDType)
        #expect(embedder.model.parameterCount == entry.encoder.parameterCount)
        #expect(embedder.model.digest == entry.voxencDigest)
        let reference = try SafeTensors(contentsOf: Fixtures.path("ctranslate2/\(name).safetensors"))
        for (audio, expected) in entry.audio.sorted(by: { $0.key < $1.key }) {
            let result = try embedder.embed(fileAt: Fixtures.path("audio/" + audio))
            #expect(result.chunkCount == expected.chunks && result.dimension == entry.encoder.dModel)
            let ours = Self.frames(result.values, chunks: result.chunkCount, width: result.dimension, stride: index.frameStride)
            let difference = Discrepancy(ours, try reference.floats("\(expected.key).frames"))
            print(String(format: "CT2 %@ %@ vs CTranslate2 encode: relL2 %.2e max|Δ| %.2e (CTranslate2 hears: %@)", name, audio,
                         difference.relativeL2, difference.maxAbsolute, expected.transcript.joined(separator: " ")))
            #expect(difference.relativeL2 <= CTranslate2Tolerance.realRelativeL2, "\(name) \(audio): \(difference)")
            Self.expectChunkNorms(result, expected.sumOfSquares, bound: CTranslate2Tolerance.chunkNorm, "\(name) \(audio)")
        }
    }

    @Test("whisper-tiny.en (real, float16): encoder output on real speech vs CTranslate2",
          .enabled(if: installed("whisper-tiny.en"), "Weights/models/whisper-tiny.en is not installed: run python3 Weights/tools/install_models.py"))
    func realTiny() throws { try realModel("whisper-tiny.en") }

    @Test("whisper-base (real, float16): encoder output on real speech vs CTranslate2",
          .enabled(if: installed("whisper-base"), "Weights/models/whisper-base is not installed: run python3 Weights/tools/install_models.py --all"))
    func realBase() throws { try realModel("whisper-base") }

    @Test("whisper-base re-saved under Hugging Face names (ctranslate2_to_hf_whisper.py) loads to the same weights and output",
          .enabled(if: installed("whisper-base") && pythonAvailable,
                   "needs Weights/models/whisper-base (install_models.py --all) and python3"))
    func realBaseThroughHuggingFaceLayout() throws {
        let temporary = TemporaryDirectory()
        let source = Self.installedModels + "/whisper-base", target = temporary.file("whisper-base-hf")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", Fixtures.repositoryRoot.appendingPathComponent("Weights/tools/ctranslate2_to_hf_whisper.py").path,
                             source, target]
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "ctranslate2_to_hf_whisper.py failed: \(message)")

        let ct2 = try ModelLoader.load(directory: source)
        let hf = try ModelLoader.load(directory: target)
        #expect(hf.description.layout == .huggingFaceWhisper && hf.unusedTensors.isEmpty)
        #expect(hf.description.encoder == ct2.description.encoder)
        #expect(hf.description.storedDType == ct2.description.storedDType)
        #expect(hf.encoder == ct2.encoder)  // q/k/v split back, k bias dropped and re-zeroed: bit for bit
        #expect(ct2.description.parameterCount == hf.description.parameterCount + 6 * 512)

        let audio = Fixtures.path("audio/speech-16k.wav")
        let fromHF = try Embedder(model: hf).embed(fileAt: audio)
        let fromCT2 = try Embedder(model: ct2).embed(fileAt: audio)
        #expect(fromHF.values == fromCT2.values)
    }
}
