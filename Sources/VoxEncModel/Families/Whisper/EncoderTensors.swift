// Which stored tensors fill each part of `EncoderWeights` / `AdapterWeights`, with their shapes: the one recipe the
// loader follows for every layout. The safetensors layouts store q, k, v apart with no k bias; CTranslate2 stores
// them fused [3D, D] with a [3D] bias (zeros for k, converters/utils.py `fuse_linear`): both become one `LinearTensors`
// of row groups, read in the order below, which is the digest's order (WeightReader.swift).
// Reference: the transformers module shapes (conv [out, in, 3], Linear [out, in]), VoxtralMultiModalProjector
// (linear_1 [Dt, 4D], linear_2 [Dt, Dt], no bias); the zero k bias follows vLLM's `_create_fake_bias_for_k_proj`
// (SPEC.md §4.2). Letters: D model width, F feed-forward width, M mel bins, P positions, Dt text width.

/// A Linear layer's weight [out, in] as row groups stacked in order, each with its bias (stored, zeros, or none).
struct LinearTensors: Sendable {
    enum Bias: Sendable {
        case stored(String)
        /// No bias stored for these rows where the fused layer has one (Voxtral's k_proj): zeros.
        case zeros
        /// A bias-free layer (the adapter).
        case absent
    }
    struct RowGroup: Sendable {
        var weight: String
        var bias: Bias
        var rows: Int
    }
    var groups: [RowGroup]
    var inputCount: Int
    var outputCount: Int { groups.reduce(0) { $0 + $1.rows } }
    var hasBias: Bool {
        groups.contains { group in
            if case .absent = group.bias { return false }
            return true
        }
    }

    /// One stored weight [out, in] and its bias.
    static func single(_ weight: String, bias: String?, outputCount: Int, inputCount: Int) -> LinearTensors {
        LinearTensors(groups: [RowGroup(weight: weight, bias: bias.map { Bias.stored($0) } ?? Bias.absent,
                                         rows: outputCount)],
                      inputCount: inputCount)
    }
}

struct LayerNormTensors: Sendable {
    var weight, bias: String
    var width: Int
}

/// PyTorch's Conv1d weight [out, in, 3] and bias [out].
struct ConvolutionTensors: Sendable {
    var weight, bias: String
    var outputChannels, inputChannels, stride: Int
}

struct EncoderLayerTensors: Sendable {
    var selfAttnLayerNorm: LayerNormTensors
    /// q | k | v fused, [3D, D].
    var qkvProj: LinearTensors
    var outProj: LinearTensors
    var finalLayerNorm: LayerNormTensors
    var fc1, fc2: LinearTensors
}

/// A layout's encoder (and adapter) tensors, in reading order.
struct EncoderTensors: Sendable {
    var configuration: EncoderConfiguration
    var conv1, conv2: ConvolutionTensors
    /// The stored positional table [P, D], or nil when the layout has none (Mistral: `Sinusoids.table`).
    var positions: String?
    var layers: [EncoderLayerTensors]
    var layerNorm: LayerNormTensors
    var adapterConfiguration: AdapterConfiguration?
    /// linear_1 [Dt, 4D], linear_2 [Dt, Dt]; nil when the layout has no adapter.
    var adapter: (linear1: LinearTensors, linear2: LinearTensors)?

    /// The safetensors layouts (HF Voxtral, Mistral Voxtral, HF Whisper): q, k, v stored apart, no k bias.
    init(names: TensorNames, encoder configuration: EncoderConfiguration, adapter: AdapterConfiguration?) {
        let D = configuration.modelDimension
        self.init(names, positions: names.embedPositionsWeight, configuration: configuration) { name in
            // Rows q, then k, then v; bias q, zeros (no k bias), v.
            LinearTensors(groups: [.init(weight: name.qProjWeight, bias: .stored(name.qProjBias), rows: D),
                                   .init(weight: name.kProjWeight, bias: .zeros, rows: D),
                                   .init(weight: name.vProjWeight, bias: .stored(name.vProjBias), rows: D)],
                          inputCount: D)
        }
        if let adapter, let linear1 = names.linear1Weight, let linear2 = names.linear2Weight {
            adapterConfiguration = adapter
            self.adapter = (.single(linear1, bias: nil, outputCount: adapter.outputDimension,
                                    inputCount: adapter.inputDimension),
                            .single(linear2, bias: nil, outputCount: adapter.outputDimension,
                                    inputCount: adapter.outputDimension))
        }
    }

    /// A CTranslate2 Whisper encoder: q/k/v used fused as stored (its k bias is whatever the file holds: zeros from
    /// the converters), so CTranslate2's own arithmetic is reproduced; no adapter.
    init(names: CTranslate2TensorNames, configuration: EncoderConfiguration) {
        let D = configuration.modelDimension
        self.init(names, positions: names.embedPositionsWeight, configuration: configuration) { name in
            .single(name.qkvProjWeight, bias: name.qkvProjBias, outputCount: 3 * D, inputCount: D)
        }
    }

    /// What every layout shares (the name tables agree on these names); `qkv` makes a layer's fused projection.
    private init<Names: EncoderTensorNaming>(_ names: Names, positions: String?, configuration: EncoderConfiguration,
                                             qkv: (Names.Layer) -> LinearTensors) {
        let D = configuration.modelDimension, F = configuration.feedForwardDimension
        self.configuration = configuration
        conv1 = ConvolutionTensors(weight: names.conv1Weight, bias: names.conv1Bias, outputChannels: D,
                                   inputChannels: configuration.melBinCount, stride: 1)
        conv2 = ConvolutionTensors(weight: names.conv2Weight, bias: names.conv2Bias, outputChannels: D,
                                   inputChannels: D, stride: 2)
        self.positions = positions
        layers = (0..<configuration.layerCount).map { index in
            let name = names.layer(index)
            return EncoderLayerTensors(
                selfAttnLayerNorm: LayerNormTensors(weight: name.selfAttnLayerNormWeight,
                                                    bias: name.selfAttnLayerNormBias, width: D),
                qkvProj: qkv(name),
                outProj: .single(name.outProjWeight, bias: name.outProjBias, outputCount: D, inputCount: D),
                finalLayerNorm: LayerNormTensors(weight: name.finalLayerNormWeight, bias: name.finalLayerNormBias,
                                                 width: D),
                fc1: .single(name.fc1Weight, bias: name.fc1Bias, outputCount: F, inputCount: D),
                fc2: .single(name.fc2Weight, bias: name.fc2Bias, outputCount: D, inputCount: F))
        }
        layerNorm = LayerNormTensors(weight: names.layerNormWeight, bias: names.layerNormBias, width: D)
        adapterConfiguration = nil
        adapter = nil
    }

    /// Every stored tensor and its shape, in reading (and digest) order.
    var expectations: [(name: String, shape: [Int])] {
        var list: [(name: String, shape: [Int])] = []
        func add(_ conv: ConvolutionTensors) {
            list += [(conv.weight, [conv.outputChannels, conv.inputChannels, ConvolutionWeights.taps]),
                     (conv.bias, [conv.outputChannels])]
        }
        func add(_ norm: LayerNormTensors) { list += [(norm.weight, [norm.width]), (norm.bias, [norm.width])] }
        func add(_ linear: LinearTensors) {
            for group in linear.groups {
                list.append((group.weight, [group.rows, linear.inputCount]))
                if case .stored(let bias) = group.bias { list.append((bias, [group.rows])) }
            }
        }
        add(conv1)
        add(conv2)
        if let positions { list.append((positions, [configuration.maxPositions, configuration.modelDimension])) }
        for layer in layers {
            add(layer.selfAttnLayerNorm)
            add(layer.qkvProj)
            add(layer.outProj)
            add(layer.finalLayerNorm)
            add(layer.fc1)
            add(layer.fc2)
        }
        add(layerNorm)
        if let adapter {
            add(adapter.linear1)
            add(adapter.linear2)
        }
        return list
    }
}

/// The tensor names both name tables (TensorNames, CTranslate2TensorNames) give alike.
protocol EncoderTensorNaming {
    associatedtype Layer: EncoderLayerTensorNaming
    var conv1Weight: String { get }
    var conv1Bias: String { get }
    var conv2Weight: String { get }
    var conv2Bias: String { get }
    var layerNormWeight: String { get }
    var layerNormBias: String { get }
    func layer(_ index: Int) -> Layer
}

/// A layer's names both tables give alike (their q/k/v differ: apart, or fused).
protocol EncoderLayerTensorNaming {
    var selfAttnLayerNormWeight: String { get }
    var selfAttnLayerNormBias: String { get }
    var outProjWeight: String { get }
    var outProjBias: String { get }
    var finalLayerNormWeight: String { get }
    var finalLayerNormBias: String { get }
    var fc1Weight: String { get }
    var fc1Bias: String { get }
    var fc2Weight: String { get }
    var fc2Bias: String { get }
}

extension TensorNames: EncoderTensorNaming {}
extension LayerTensorNames: EncoderLayerTensorNaming {}
extension CTranslate2TensorNames: EncoderTensorNaming {}
extension CTranslate2LayerTensorNames: EncoderLayerTensorNaming {}
