// Broken model directories, built from copies of the fixtures: each gives its typed error naming the file (and the
// tensor), before any weights are used.

import Foundation
import Testing
import VoxEncModel
import VoxEncTestSupport

@Suite("Model loading errors")
struct ModelLoaderErrorTests {
    static let voxtralHF = Fixtures.path("encoder/voxtral-tiny-hf")
    static let voxtralMistral = Fixtures.path("encoder/voxtral-tiny-mistral")
    static let whisperHF = Fixtures.path("encoder/whisper-tiny-hf")

    func load(_ directory: String) -> ModelError? {
        do { _ = try ModelLoader.load(directory: directory); return nil } catch { return error }
    }

    /// A copy of the Whisper fixture whose model.safetensors went through `edit`.
    func whisperCopy(in temporary: TemporaryDirectory, _ edit: (inout [RawTensor]) -> Void) throws -> String {
        let directory = temporary.file("whisper")
        try SafeTensorsFileBuilder.copyDirectory(Self.whisperHF, to: directory)
        let weights = directory + "/model.safetensors"
        var (tensors, metadata) = try SafeTensorsFileBuilder.read(weights)
        edit(&tensors)
        try SafeTensorsFileBuilder.write(tensors, to: weights, metadata: metadata)
        return directory
    }

    @Test("missing directory, a file instead of a directory, a directory with no config, a shard that is a directory")
    func directories() throws {
        let temporary = TemporaryDirectory()
        let absent = temporary.file("no-such-model")
        #expect(load(absent) == .directoryNotFound(path: absent))
        let file = temporary.file("file.txt")
        _ = FileManager.default.createFile(atPath: file, contents: Data("x".utf8))
        #expect(load(file) == .notADirectory(path: file))
        #expect(load(file)?.hint?.contains("not a file in it") == true)
        #expect(load(absent)?.hint?.contains("huggingface-cli download mistralai/Voxtral-Mini-3B-2507") == true)

        let empty = temporary.file("empty")
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        #expect(load(empty) == .unrecognizedLayout(path: empty, found: []))
        let weightsOnly = temporary.file("weights-only")
        try SafeTensorsFileBuilder.copyDirectory(Self.whisperHF, to: weightsOnly, skipping: ["config.json"])
        // Weights without their config.json: an incomplete download, named as such.
        #expect(load(weightsOnly) == .missingFile(path: weightsOnly + "/config.json"))
        let shardedWithoutConfig = temporary.file("sharded-weights-only")
        try SafeTensorsFileBuilder.copyDirectory(Self.voxtralHF, to: shardedWithoutConfig, skipping: ["config.json"])
        #expect(load(shardedWithoutConfig) == .missingFile(path: shardedWithoutConfig + "/config.json"))
        let mistralWithoutParams = temporary.file("mistral-weights-only")
        try SafeTensorsFileBuilder.copyDirectory(Self.voxtralMistral, to: mistralWithoutParams, skipping: ["params.json"])
        #expect(load(mistralWithoutParams) == .missingFile(path: mistralWithoutParams + "/params.json"))
        // Files that belong to no layout are listed.
        let stray = temporary.file("stray")
        try FileManager.default.createDirectory(atPath: stray, withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: stray + "/weights.pt", contents: Data("x".utf8))
        let failure = load(stray)
        #expect(failure == .unrecognizedLayout(path: stray, found: ["weights.pt"]))
        #expect(failure?.description.contains("config.json") == true && failure?.description.contains("params.json") == true)

        let directoryShard = temporary.file("directory-shard")
        try SafeTensorsFileBuilder.copyDirectory(Self.whisperHF, to: directoryShard, skipping: ["model.safetensors"])
        try FileManager.default.createDirectory(atPath: directoryShard + "/model.safetensors", withIntermediateDirectories: true)
        #expect(load(directoryShard) == .notARegularFile(path: directoryShard + "/model.safetensors"))
    }

    @Test("config.json: not JSON, another model type, a wrong key type, inconsistent dimensions, unsupported activation")
    func invalidConfigurations() throws {
        let temporary = TemporaryDirectory()
        let directory = temporary.file("whisper")
        try SafeTensorsFileBuilder.copyDirectory(Self.whisperHF, to: directory)
        let config = directory + "/config.json"
        let original = try Data(contentsOf: URL(fileURLWithPath: config))
        func reason(after edit: (inout [String: Any]) -> Void) throws -> String? {
            try original.write(to: URL(fileURLWithPath: config))
            try SafeTensorsFileBuilder.editJSON(config, edit)
            guard case .invalidConfiguration(let path, let reason)? = load(directory) else { return nil }
            #expect(path == config)
            return reason
        }
        #expect(try reason { $0["d_model"] = "64" }?.contains("d_model") == true)
        #expect(try reason { $0["encoder_attention_heads"] = 5 }?.contains("not a multiple of 5 heads") == true)
        #expect(try reason { $0["encoder_layers"] = -1 }?.contains("positive") == true)
        #expect(try reason { $0["activation_function"] = "gelu_new" }?.contains("gelu_new") == true)
        #expect(try reason { $0["hidden_size"] = 32 }?.contains("alias d_model") == true)
        #expect(try reason { $0 = ["model_type": "llama", "hidden_size": 96] }?.contains("neither a Voxtral") == true)

        try Data("{ not json".utf8).write(to: URL(fileURLWithPath: config))
        #expect(load(directory) == .invalidConfiguration(path: config, reason: "not valid JSON"))
    }

    @Test("params.json: a missing key, a causal encoder")
    func invalidMistralParams() throws {
        let temporary = TemporaryDirectory()
        let directory = temporary.file("mistral")
        try SafeTensorsFileBuilder.copyDirectory(Self.voxtralMistral, to: directory)
        let params = directory + "/params.json"
        let original = try Data(contentsOf: URL(fileURLWithPath: params))
        func editEncoderArgs(_ edit: @escaping (inout [String: Any]) -> Void) throws {
            try original.write(to: URL(fileURLWithPath: params))
            try SafeTensorsFileBuilder.editJSON(params) { root in
                var multimodal = root["multimodal"] as! [String: Any]
                var whisper = multimodal["whisper_model_args"] as! [String: Any]
                var encoder = whisper["encoder_args"] as! [String: Any]
                edit(&encoder)
                whisper["encoder_args"] = encoder
                multimodal["whisper_model_args"] = whisper
                root["multimodal"] = multimodal
            }
        }
        try editEncoderArgs { $0["n_heads"] = nil }
        #expect(load(directory) == .invalidConfiguration(
            path: params, reason: "missing key multimodal.whisper_model_args.encoder_args.n_heads"))
        try editEncoderArgs { $0["causal"] = true }
        if case .invalidConfiguration(let path, let reason)? = load(directory) {
            #expect(path == params && reason.contains("causal"))
        } else { Issue.record("a causal encoder should be refused") }
    }

    @Test("a config whose dimensions disagree with the tensors: shapeMismatch names the tensor and its file")
    func dimensionsDisagree() throws {
        let temporary = TemporaryDirectory()
        let whisper = temporary.file("whisper")
        try SafeTensorsFileBuilder.copyDirectory(Self.whisperHF, to: whisper)
        try SafeTensorsFileBuilder.editJSON(whisper + "/config.json") { $0["encoder_ffn_dim"] = 128 }
        #expect(load(whisper) == .shapeMismatch(path: whisper + "/model.safetensors", tensor: "model.encoder.layers.0.fc1.weight",
                                                expected: [128, 64], actual: [256, 64]))

        // The adapter's output width is checked before any tensor is read, in the shard that holds it.
        let voxtral = temporary.file("voxtral")
        try SafeTensorsFileBuilder.copyDirectory(Self.voxtralHF, to: voxtral)
        try SafeTensorsFileBuilder.editJSON(voxtral + "/config.json") { root in
            var text = root["text_config"] as! [String: Any]
            text["hidden_size"] = 128
            root["text_config"] = text
        }
        #expect(load(voxtral) == .shapeMismatch(path: voxtral + "/model-00002-of-00002.safetensors",
                                                tensor: "multi_modal_projector.linear_1.weight",
                                                expected: [128, 256], actual: [96, 256]))
        #expect(load(voxtral)?.hint != nil)
    }

    @Test("a missing tensor, a missing shard, a missing weights file")
    func missingPieces() throws {
        let temporary = TemporaryDirectory()
        let dropped = try whisperCopy(in: temporary) { $0.removeAll { $0.name == "model.encoder.layers.1.fc2.bias" } }
        #expect(load(dropped) == .missingTensor(path: dropped + "/model.safetensors", tensor: "model.encoder.layers.1.fc2.bias"))

        let sharded = temporary.file("voxtral")
        try SafeTensorsFileBuilder.copyDirectory(Self.voxtralHF, to: sharded, skipping: ["model-00002-of-00002.safetensors"])
        #expect(load(sharded) == .missingFile(path: sharded + "/model-00002-of-00002.safetensors"))

        // A tensor the index promises but its shard lacks.
        let lying = temporary.file("voxtral-index")
        try SafeTensorsFileBuilder.copyDirectory(Self.voxtralHF, to: lying)
        try SafeTensorsFileBuilder.editJSON(lying + "/model.safetensors.index.json") { root in
            var map = root["weight_map"] as! [String: String]
            map["audio_tower.conv1.bias"] = "model-00002-of-00002.safetensors"
            root["weight_map"] = map
        }
        #expect(load(lying) == .missingTensor(path: lying + "/model-00002-of-00002.safetensors", tensor: "audio_tower.conv1.bias"))

        let noWeights = temporary.file("whisper-no-weights")
        try SafeTensorsFileBuilder.copyDirectory(Self.whisperHF, to: noWeights, skipping: ["model.safetensors"])
        #expect(load(noWeights) == .missingFile(path: noWeights + "/model.safetensors"))
    }

    @Test("NaN or Inf weights name the tensor and the count; an unsupported dtype names the tensor")
    func badValues() throws {
        let temporary = TemporaryDirectory()
        let nonFinite = try whisperCopy(in: temporary) { tensors in
            let index = tensors.firstIndex { $0.name == "model.encoder.layers.0.fc1.weight" }!
            var values = tensors[index].floats
            values[0] = .nan
            values[100] = .infinity
            values[values.count - 1] = -.nan
            tensors[index] = .f32(tensors[index].name, tensors[index].shape, values)
        }
        #expect(load(nonFinite) == .nonFiniteWeights(path: nonFinite + "/model.safetensors",
                                                     tensor: "model.encoder.layers.0.fc1.weight", count: 3))

        let temporary2 = TemporaryDirectory()
        let float64 = try whisperCopy(in: temporary2) { tensors in
            let index = tensors.firstIndex { $0.name == "model.encoder.layer_norm.bias" }!
            let values = tensors[index].floats
            tensors[index] = RawTensor(name: tensors[index].name, dtype: "F64", shape: tensors[index].shape,
                                       bytes: values.flatMap { littleEndian(Double($0).bitPattern) })
        }
        #expect(load(float64) == .unsupportedDType(path: float64 + "/model.safetensors", tensor: "model.encoder.layer_norm.bias",
                                                   dtype: "F64"))
    }

    @Test("a corrupt shard header is reported against the shard")
    func corruptShard() throws {
        let temporary = TemporaryDirectory()
        let directory = temporary.file("voxtral")
        try SafeTensorsFileBuilder.copyDirectory(Self.voxtralHF, to: directory)
        let shard = directory + "/model-00001-of-00002.safetensors"
        let bytes = try Data(contentsOf: URL(fileURLWithPath: shard))
        try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: shard))  // truncated download
        guard case .invalidHeader(let path, let reason)? = load(directory) else {
            Issue.record("expected invalidHeader, got \(String(describing: load(directory)))")
            return
        }
        #expect(path == shard && reason.contains("run past the end"))
    }
}
