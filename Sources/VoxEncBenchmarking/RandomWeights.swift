// Random weights of real shapes, made in memory, for benchmarks (no checkpoint needed).
// Scales are realistic (uniform with the variance of N(0, 1/fan_in)) so activations stay O(1); values are
// deterministic for a seed. Not a model: only its arithmetic cost is real.

@_spi(Engine) import VoxEnc
import VoxEncModel

public enum ModelPreset: String, CaseIterable, Sendable {
    case voxtralMini = "voxtral-mini", voxtralSmall = "voxtral-small", whisperLargeV3 = "whisper-large-v3"
    case whisperBase = "whisper-base", whisperTiny = "whisper-tiny"

    public var encoder: EncoderConfiguration {
        switch self {
        case .voxtralMini, .voxtralSmall, .whisperLargeV3: return .voxtral
        case .whisperBase: return .whisperBase
        case .whisperTiny: return .whisperTiny
        }
    }

    public var adapter: AdapterConfiguration? {
        switch self {
        case .voxtralMini: return .voxtralMini
        case .voxtralSmall: return .voxtralSmall
        default: return nil
        }
    }
}

public enum RandomWeights {
    public static func encoder(_ c: EncoderConfiguration, seed: UInt64 = 1) -> EncoderWeights {
        var generator = Generator(seed: seed)
        let d = c.modelDimension, f = c.feedForwardDimension
        func linear(_ out: Int, _ inputs: Int, bias: Bool = true) -> LinearWeights {
            LinearWeights(weight: generator.values(out * inputs, scale: 1 / Float(inputs).squareRoot()),
                          bias: bias ? generator.values(out, scale: 0.1) : nil, outputCount: out, inputCount: inputs)
        }
        func norm() -> LayerNormWeights {
            LayerNormWeights(weight: generator.values(d, scale: 0.1).map { 1 + $0 }, bias: generator.values(d, scale: 0.1))
        }
        let conv1 = ConvolutionWeights(pytorchWeight: generator.values(d * c.melBinCount * 3, scale: 1 / Float(3 * c.melBinCount).squareRoot()),
                                       bias: generator.values(d, scale: 0.1), outputChannels: d,
                                       inputChannels: c.melBinCount, stride: 1)
        let conv2 = ConvolutionWeights(pytorchWeight: generator.values(d * d * 3, scale: 1 / Float(3 * d).squareRoot()),
                                       bias: generator.values(d, scale: 0.1), outputChannels: d, inputChannels: d, stride: 2)
        let layers = (0..<c.layerCount).map { _ -> EncoderLayerWeights in
            var qkv = linear(3 * d, d)
            for i in d..<(2 * d) { qkv.bias![i] = 0 }  // no k bias
            return EncoderLayerWeights(selfAttnLayerNorm: norm(), qkvProj: qkv, outProj: linear(d, d),
                                       finalLayerNorm: norm(), fc1: linear(f, d), fc2: linear(d, f))
        }
        return EncoderWeights(configuration: c, conv1: conv1, conv2: conv2,
                              positions: Sinusoids.table(length: c.maxPositions, channels: d), layers: layers,
                              layerNorm: norm())
    }

    public static func adapter(_ c: AdapterConfiguration, seed: UInt64 = 2) -> AdapterWeights {
        var generator = Generator(seed: seed)
        return AdapterWeights(
            configuration: c,
            linear1: LinearWeights(weight: generator.values(c.outputDimension * c.inputDimension, scale: 1 / Float(c.inputDimension).squareRoot()),
                                   bias: nil, outputCount: c.outputDimension, inputCount: c.inputDimension),
            linear2: LinearWeights(weight: generator.values(c.outputDimension * c.outputDimension, scale: 1 / Float(c.outputDimension).squareRoot()),
                                   bias: nil, outputCount: c.outputDimension, inputCount: c.outputDimension))
    }

    /// A fast deterministic generator (PCG-style LCG) of uniform values with the variance of N(0, scale²).
    struct Generator {
        var state: UInt64
        init(seed: UInt64) { state = seed &* 0x9E37_79B9_7F4A_7C15 | 1 }
        mutating func values(_ count: Int, scale: Float) -> [Float] {
            let amplitude = scale * 3.0.squareRoot().float
            return [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
                for i in 0..<count {
                    state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                    buffer[i] = (Float(state >> 40) * (2 / Float(1 << 24)) - 1) * amplitude
                }
                initialized = count
            }
        }
    }
}

private extension Double {
    var float: Float { Float(self) }
}
