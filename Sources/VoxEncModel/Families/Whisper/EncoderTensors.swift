// Which stored tensors fill each part of `EncoderWeights` / `AdapterWeights`, with their shapes: the one recipe the
// loader follows for every layout, naming them through the layout's role table (WhisperTensorNames). The safetensors layouts store q, k, v apart with no k bias; CTranslate2 stores
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
        /// Rows stored in another order than the kernels use (weight and stored bias alike), or nil.
        var reorder: RowReorder? = nil
    }
    /// How stored rows map to the kernels' rows.
    enum RowReorder: Sendable {
        /// Mistral's interleaved rotary pairs → rotate_half's halves, per head of `heads`: the kernels' row
        /// h·Dh + j·Dh/2 + i is stored row h·Dh + 2i + j (the HF conversion's permute_for_rope,
        /// convert_voxtral_realtime_weights_to_hf.py: view(H, Dh/2, 2, ·).transpose(1, 2)).
        case rotaryHalves(heads: Int)

        /// `values` [rows · width] with its rows put in the kernels' order.
        func apply(_ values: [Float], rows: Int, width: Int) -> [Float] {
            switch self {
            case .rotaryHalves(let heads):
                let dh = rows / heads, half = dh / 2
                var out = [Float](repeating: 0, count: values.count)
                for h in 0..<heads {
                    for j in 0..<2 {
                        for i in 0..<half {
                            let target = (h * dh + j * half + i) * width, source = (h * dh + 2 * i + j) * width
                            for c in 0..<width { out[target + c] = values[source + c] }
                        }
                    }
                }
                return out
            }
        }
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

extension LinearTensors {
    /// Each row group's weight [rows, in] and stored bias [rows], in reading order.
    var expectations: [(name: String, shape: [Int])] {
        groups.flatMap { group -> [(name: String, shape: [Int])] in
            guard case .stored(let bias) = group.bias else { return [(group.weight, [group.rows, inputCount])] }
            return [(group.weight, [group.rows, inputCount]), (bias, [group.rows])]
        }
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

    /// The weight [out, in, 3] and the bias [out].
    var expectations: [(name: String, shape: [Int])] {
        [(weight, [outputChannels, inputChannels, ConvolutionWeights.taps]), (bias, [outputChannels])]
    }
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

    /// The tensors `names` gives for this configuration; the adapter's only when `adapter` is given and the layout
    /// stores one.
    init(names: WhisperTensorNames, encoder configuration: EncoderConfiguration, adapter: AdapterConfiguration?) {
        let D = configuration.modelDimension, F = configuration.feedForwardDimension
        self.configuration = configuration
        conv1 = ConvolutionTensors(weight: names.required(.conv1Weight), bias: names.required(.conv1Bias),
                                   outputChannels: D, inputChannels: configuration.melBinCount, stride: 1)
        conv2 = ConvolutionTensors(weight: names.required(.conv2Weight), bias: names.required(.conv2Bias),
                                   outputChannels: D, inputChannels: D, stride: 2)
        positions = names[.embedPositionsWeight]
        layers = (0..<configuration.layerCount).map { index in
            func name(_ role: WhisperTensor) -> String { names.required(role, layer: index) }
            return EncoderLayerTensors(
                selfAttnLayerNorm: LayerNormTensors(weight: name(.layerSelfAttnLayerNormWeight),
                                                    bias: name(.layerSelfAttnLayerNormBias), width: D),
                qkvProj: Self.qkvProj(names, layer: index, width: D),
                outProj: .single(name(.layerOutProjWeight), bias: name(.layerOutProjBias), outputCount: D,
                                 inputCount: D),
                finalLayerNorm: LayerNormTensors(weight: name(.layerFinalLayerNormWeight),
                                                 bias: name(.layerFinalLayerNormBias), width: D),
                fc1: .single(name(.layerFc1Weight), bias: name(.layerFc1Bias), outputCount: F, inputCount: D),
                fc2: .single(name(.layerFc2Weight), bias: name(.layerFc2Bias), outputCount: D, inputCount: F))
        }
        layerNorm = LayerNormTensors(weight: names.required(.encoderLayerNormWeight),
                                     bias: names.required(.encoderLayerNormBias), width: D)
        if let adapter, let linear1 = names[.adapterLinear1Weight], let linear2 = names[.adapterLinear2Weight] {
            adapterConfiguration = adapter
            self.adapter = (.single(linear1, bias: nil, outputCount: adapter.outputDimension,
                                    inputCount: adapter.inputDimension),
                            .single(linear2, bias: nil, outputCount: adapter.outputDimension,
                                    inputCount: adapter.outputDimension))
        } else {
            adapterConfiguration = nil
            self.adapter = nil
        }
    }

    /// A layer's q | k | v [3D, D]. CTranslate2's fused tensor is used as stored (its k bias is whatever the file
    /// holds: zeros from the converters), so CTranslate2's own arithmetic is reproduced; the safetensors layouts' three
    /// tensors become row groups q, k, v with biases q, zeros (no k bias), v.
    private static func qkvProj(_ names: WhisperTensorNames, layer index: Int, width D: Int) -> LinearTensors {
        func name(_ role: WhisperTensor) -> String { names.required(role, layer: index) }
        if names[.layerQKVProjWeight, layer: index] != nil {
            return .single(name(.layerQKVProjWeight), bias: name(.layerQKVProjBias), outputCount: 3 * D, inputCount: D)
        }
        let q = LinearTensors.RowGroup(weight: name(.layerQProjWeight), bias: .stored(name(.layerQProjBias)), rows: D)
        let k = LinearTensors.RowGroup(weight: name(.layerKProjWeight), bias: .zeros, rows: D)
        let v = LinearTensors.RowGroup(weight: name(.layerVProjWeight), bias: .stored(name(.layerVProjBias)), rows: D)
        return LinearTensors(groups: [q, k, v], inputCount: D)
    }

    /// Every stored tensor and its shape, in reading (and digest) order.
    var expectations: [(name: String, shape: [Int])] {
        var list: [(name: String, shape: [Int])] = []
        func add(_ conv: ConvolutionTensors) { list += conv.expectations }
        func add(_ norm: LayerNormTensors) { list += [(norm.weight, [norm.width]), (norm.bias, [norm.width])] }
        func add(_ linear: LinearTensors) { list += linear.expectations }
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
