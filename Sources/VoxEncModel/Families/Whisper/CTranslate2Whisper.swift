// A CTranslate2 WhisperSpec model.bin → `EncoderConfiguration` (its tensors are read through `EncoderTensors`).
// Reference: ctranslate2 specs/whisper_spec.py (WhisperSpec, revision 3; WhisperEncoderSpec: num_heads int16,
// conv1, conv2, position_encodings, layer_norm, layer_{i}), transformer_spec.py (TransformerEncoderLayerSpec:
// self_attention {layer_norm, linear_0 = fused q/k/v, linear_1 = out}, ffn {layer_norm, linear_0, linear_1}),
// converters/transformers.py WhisperLoader (conv weights as PyTorch [out, in, 3]; `set_position_encodings` copies
// embed_positions.weight; `set_attention` fuses q/k/v with `fuse_linear`, which stores zeros for k's missing bias),
// and the C++ encoder that runs it (src/layers/whisper.cc WhisperEncoder: conv1 stride 1 pad 1 → GELU → conv2 stride 2
// pad 1 → GELU → + position encodings → pre-norm layers with GELU → layer_norm; `num_heads` with default 8;
// src/layers/common.cc LayerNorm: epsilon from config.json "layer_norm_epsilon", else 1e-5).
//
// The configuration comes from the tensors themselves (the file has no dimensions elsewhere): D and mel bins from
// conv1.weight [D, M, 3], layers from the highest `encoder/layer_{i}/`, F from layer 0's ffn/linear_0 [F, D],
// positions from position_encodings [P, D], heads from `encoder/num_heads`. Every other shape is then checked
// against it by `WeightReader`, as for the other layouts; the tensors are read through the same `EncoderTensors`
// recipe (EncoderTensors.swift).

import Foundation

public enum CTranslate2Whisper {
    public static let specName = "WhisperSpec"
    /// CTranslate2 4.x writes revision 3 (and refuses newer ones); revisions 1–2 have the same encoder variables.
    public static let maxSpecRevision = 3
    /// src/layers/whisper.cc: `get_attribute_with_default<int32_t>(scope + "/num_heads", 8)`.
    public static let defaultHeadCount = 8

    /// Throws `unsupportedSpec` unless `model` is a WhisperSpec of a known revision.
    public static func checkSpec(of model: CTranslate2Model) throws(ModelError) {
        guard model.specName == specName, (1...maxSpecRevision).contains(model.specRevision) else {
            throw .unsupportedSpec(path: model.path, spec: model.specName, revision: model.specRevision)
        }
    }

    /// The encoder's shape from the variables' shapes and `num_heads`; the LayerNorm epsilon from CTranslate2's
    /// config.json (`configPath`, optional) when it sets one.
    public static func configuration(of model: CTranslate2Model, configPath: String?,
                                     names: WhisperTensorNames = .ctranslate2Whisper) throws(ModelError)
        -> EncoderConfiguration {
        try checkSpec(of: model)
        func shape(_ name: String, rank: Int, _ meaning: String) throws(ModelError) -> [Int] {
            guard let variable = model.variable(name) else { throw .missingTensor(path: model.path, tensor: name) }
            guard variable.shape.count == rank else {
                throw .invalidModelBinary(path: model.path, reason: "\(name) has shape \(variable.shape), expected \(meaning)")
            }
            return variable.shape
        }
        let conv1Weight = names.required(.conv1Weight)
        let conv1 = try shape(conv1Weight, rank: 3, "[d_model, mel bins, 3]")
        guard conv1[2] == ConvolutionWeights.taps else {
            throw .invalidModelBinary(path: model.path, reason: "\(conv1Weight) has shape \(conv1), expected a kernel of 3")
        }
        let positions = try shape(names.required(.embedPositionsWeight), rank: 2, "[positions, d_model]")
        let layerCount = try Self.layerCount(of: model, names: names)
        let feedForward = layerCount > 0
            ? try shape(names.required(.layerFc1Weight, layer: 0), rank: 2, "[ffn, d_model]")[0] : 4 * conv1[0]
        let heads = try model.integer(names.required(.numHeads)) ?? defaultHeadCount
        let epsilon = try layerNormEpsilon(configPath: configPath)
        let configuration = EncoderConfiguration(melBinCount: conv1[1], modelDimension: conv1[0], layerCount: layerCount,
                                                 headCount: heads, feedForwardDimension: feedForward,
                                                 maxPositions: positions[0], layerNormEpsilon: epsilon)
        if let reason = configuration.inconsistency {
            throw .invalidConfiguration(path: model.path, reason: "\(reason) (num_heads \(heads), from the tensor shapes)")
        }
        return configuration
    }

    /// 1 + the highest `i` of an `encoder/layer_{i}/` variable or alias (a gap is reported later as a missing tensor;
    /// `encoder/layer_norm/…` is not a layer).
    static func layerCount(of model: CTranslate2Model, names: WhisperTensorNames) throws(ModelError) -> Int {
        let layerPrefix = names.layerPrefix
        var count = 0
        for name in model.allNames where name.hasPrefix(layerPrefix) {
            let rest = name.dropFirst(layerPrefix.count)
            let digits = rest.prefix { $0.isASCII && $0.isNumber }
            guard !digits.isEmpty, rest.dropFirst(digits.count).hasPrefix("/") else { continue }
            guard digits.count <= 4, let index = Int(digits), index < 1024 else {
                throw .invalidModelBinary(path: model.path, reason: "\(name): layer index out of range")
            }
            count = max(count, index + 1)
        }
        return count
    }

    /// CTranslate2's LayerNorm epsilon: config.json "layer_norm_epsilon" when present and not null, else 1e-5.
    static func layerNormEpsilon(configPath: String?) throws(ModelError) -> Float {
        let standard: Float = 1e-5
        guard let configPath, FileManager.default.fileExists(atPath: configPath) else { return standard }
        let config = try JSONObjectFile.read(configPath)
        guard let value = config["layer_norm_epsilon"], !(value is NSNull) else { return standard }
        guard let number = value as? Double, number > 0, number < 1 else {
            throw .invalidConfiguration(path: configPath, reason: "layer_norm_epsilon: expected a number in (0, 1)")
        }
        return Float(number)
    }
}
