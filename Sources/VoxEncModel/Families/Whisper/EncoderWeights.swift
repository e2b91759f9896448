// Typed weights, float32, laid out once at load for the kernels (the "remap" step is in the loaders).
// Letters: D model width, F feed-forward width, M mel bins, K = 3 conv taps, P positions.

/// y = x·Wᵀ + b. `weight` is [outputCount, inputCount] row-major (PyTorch's Linear layout).
public struct LinearWeights: Sendable, Equatable {
    /// Empty in an int8 AudioEncoder / Adapter, which runs the layer from its QuantisedLinearWeights.
    public var weight: [Float]
    /// [outputCount], or nil for bias-free layers (adapter, Voxtral k_proj).
    public var bias: [Float]?
    public var outputCount: Int
    public var inputCount: Int

    public init(weight: [Float], bias: [Float]?, outputCount: Int, inputCount: Int) {
        precondition(weight.count == outputCount * inputCount, "weight size")
        precondition(bias == nil || bias!.count == outputCount, "bias size")
        self.weight = weight
        self.bias = bias
        self.outputCount = outputCount
        self.inputCount = inputCount
    }
}

/// nn.LayerNorm's affine parameters, [D] each.
public struct LayerNormWeights: Sendable, Equatable {
    public var weight: [Float]
    public var bias: [Float]
    public init(weight: [Float], bias: [Float]) {
        precondition(weight.count == bias.count, "LayerNorm sizes")
        self.weight = weight
        self.bias = bias
    }
}

/// Conv1d(in → out, kernel 3, padding 1). `weight` is stored [out, K, in] (taps outermost within a row), permuted
/// from PyTorch's [out, in, K], so that an im2col row is three contiguous input frames.
public struct ConvolutionWeights: Sendable, Equatable {
    public var weight: [Float]
    public var bias: [Float]
    public var outputChannels: Int
    public var inputChannels: Int
    public var stride: Int
    public static let taps = 3

    /// Takes PyTorch's [out, in, 3] layout and permutes it to [out, 3, in].
    public init(pytorchWeight: [Float], bias: [Float], outputChannels: Int, inputChannels: Int, stride: Int) {
        precondition(pytorchWeight.count == outputChannels * inputChannels * Self.taps, "conv weight size")
        precondition(bias.count == outputChannels, "conv bias size")
        var permuted = [Float](repeating: 0, count: pytorchWeight.count)
        for o in 0..<outputChannels {
            for i in 0..<inputChannels {
                for k in 0..<Self.taps {
                    permuted[(o * Self.taps + k) * inputChannels + i] = pytorchWeight[(o * inputChannels + i) * Self.taps + k]
                }
            }
        }
        self.weight = permuted
        self.bias = bias
        self.outputChannels = outputChannels
        self.inputChannels = inputChannels
        self.stride = stride
    }
}

/// One pre-LN encoder layer (transformers VoxtralEncoderLayer / WhisperEncoderLayer).
public struct EncoderLayerWeights: Sendable, Equatable {
    /// `self_attn_layer_norm`.
    public var selfAttnLayerNorm: LayerNormWeights
    /// q_proj, k_proj, v_proj fused: weight [3D, D] (q rows, then k, then v), bias [3D] with zeros for k (no k bias).
    public var qkvProj: LinearWeights
    /// `self_attn.out_proj` [D, D] + bias.
    public var outProj: LinearWeights
    /// `final_layer_norm` (before the MLP).
    public var finalLayerNorm: LayerNormWeights
    /// `fc1` [F, D] + bias.
    public var fc1: LinearWeights
    /// `fc2` [D, F] + bias.
    public var fc2: LinearWeights

    public init(selfAttnLayerNorm: LayerNormWeights, qkvProj: LinearWeights, outProj: LinearWeights,
                finalLayerNorm: LayerNormWeights, fc1: LinearWeights, fc2: LinearWeights) {
        self.selfAttnLayerNorm = selfAttnLayerNorm
        self.qkvProj = qkvProj
        self.outProj = outProj
        self.finalLayerNorm = finalLayerNorm
        self.fc1 = fc1
        self.fc2 = fc2
    }
}

/// The whole encoder (transformers VoxtralEncoder / WhisperEncoder).
public struct EncoderWeights: Sendable, Equatable {
    public var configuration: EncoderConfiguration
    /// `conv1`: M → D, stride 1.
    public var conv1: ConvolutionWeights
    /// `conv2`: D → D, stride 2.
    public var conv2: ConvolutionWeights
    /// `embed_positions` [P, D], the stored table, or `Sinusoids.table` when the checkpoint has none (Mistral).
    public var positions: [Float]
    public var layers: [EncoderLayerWeights]
    /// The final `layer_norm`.
    public var layerNorm: LayerNormWeights

    public init(configuration: EncoderConfiguration, conv1: ConvolutionWeights, conv2: ConvolutionWeights,
                positions: [Float], layers: [EncoderLayerWeights], layerNorm: LayerNormWeights) {
        self.configuration = configuration
        self.conv1 = conv1
        self.conv2 = conv2
        self.positions = positions
        self.layers = layers
        self.layerNorm = layerNorm
    }
}

/// The Voxtral adapter (`multi_modal_projector`): linear_1 [Dt, 4D] and linear_2 [Dt, Dt], both bias-free.
public struct AdapterWeights: Sendable, Equatable {
    public var configuration: AdapterConfiguration
    public var linear1: LinearWeights
    public var linear2: LinearWeights

    public init(configuration: AdapterConfiguration, linear1: LinearWeights, linear2: LinearWeights) {
        self.configuration = configuration
        self.linear1 = linear1
        self.linear2 = linear2
    }
}

extension LinearWeights {
    var floatCount: Int { weight.count + (bias?.count ?? 0) }
}

extension LayerNormWeights {
    var floatCount: Int { weight.count + bias.count }
}

extension EncoderLayerWeights {
    var floatCount: Int {
        selfAttnLayerNorm.floatCount + qkvProj.floatCount + outProj.floatCount + finalLayerNorm.floatCount
            + fc1.floatCount + fc2.floatCount
    }
}

extension EncoderWeights {
    /// Floats held in memory (float32), positions included.
    public var floatCount: Int {
        conv1.weight.count + conv1.bias.count + conv2.weight.count + conv2.bias.count + positions.count
            + layerNorm.floatCount + layers.reduce(0) { $0 + $1.floatCount }
    }
}

extension AdapterWeights {
    public var floatCount: Int { linear1.floatCount + linear2.floatCount }
}
