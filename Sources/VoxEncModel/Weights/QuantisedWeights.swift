// The int8 weights of the large GEMMs, quantised once at load from the float32 weights (docs/precision.md).
// Symmetric per output channel: scale[j] = max_k |W[j, k]| / L, q[j, k] = round(W[j, k] / scale[j]) ∈ [−L, L],
// L = IntegerGEMM.Support.weightLevels (127 with VNNI, 63 without). The same per-row absmax scheme as
// CTranslate2's int8 weights (ctranslate2 ops/quantize.cc); the 7-bit fallback follows oneDNN's int8 guide.
// Letters: D width, F feed-forward width, Dt adapter width.

/// A Linear layer (y = x·Wᵀ + b) with W in int8: W[j, :] ≈ scales[j] · weight[j, :].
public struct QuantisedLinearWeights: Sendable {
    /// q [outputCount, inputCount] row-major (PyTorch's Linear layout).
    public let weight: [Int8]
    /// [outputCount]: one scale per output channel.
    public let scales: [Float]
    /// Σ_k q[j, k] [outputCount]: removes the activations' zero point exactly, (u − z)·q = u·q − z·Σq, in int32.
    public let sums: [Int32]
    /// [outputCount] or nil, float32 as in the model.
    public let bias: [Float]?
    public let outputCount: Int
    public let inputCount: Int

    /// Widest input whose int32 sums cannot overflow: 255 · 127 · k < 2³¹.
    public static let maximumInputCount = Int(Int32.max) / (255 * 127)

    /// Quantises `linear`'s weight to ±`levels`; `name` labels it in errors.
    public init(quantising linear: LinearWeights, levels: Int, name: String) throws(QuantisationError) {
        precondition(levels >= 1 && levels <= 127, "levels")
        let n = linear.outputCount, k = linear.inputCount
        guard k <= Self.maximumInputCount else {
            throw .reductionTooLong(tensor: name, length: k, limit: Self.maximumInputCount)
        }
        var weight = [Int8](repeating: 0, count: n * k)
        var scales = [Float](repeating: 0, count: n)
        var sums = [Int32](repeating: 0, count: n)
        linear.weight.withUnsafeBufferPointer { w in
            weight.withUnsafeMutableBufferPointer { q in
                scales.withUnsafeMutableBufferPointer { scales in
                    sums.withUnsafeMutableBufferPointer { sums in
                        Parallel.forEachRange(n, minimumPerThread: 64) { range in
                            for j in range {
                                let row = w.baseAddress! + j * k, out = q.baseAddress! + j * k
                                var maximum: Float = 0, finite = true
                                for i in 0..<k {
                                    maximum = max(maximum, abs(row[i]))
                                    finite = finite && row[i].isFinite
                                }
                                let scale = finite ? maximum / Float(levels) : .nan
                                var sum: Int32 = 0
                                if scale > 0 {
                                    for i in 0..<k {
                                        let value = Int8((row[i] / scale).rounded(.toNearestOrEven))
                                        out[i] = value
                                        sum += Int32(value)
                                    }
                                }
                                scales[j] = scale
                                sums[j] = sum
                            }
                        }
                    }
                }
            }
        }
        if let row = scales.firstIndex(where: { $0.isNaN }) { throw .nonFiniteWeight(tensor: name, row: row) }
        self.init(weight: weight, scales: scales, sums: sums, bias: linear.bias, outputCount: n, inputCount: k)
    }

    /// Already quantised values (tests).
    public init(weight: [Int8], scales: [Float], sums: [Int32], bias: [Float]?, outputCount: Int, inputCount: Int) {
        precondition(weight.count == outputCount * inputCount && scales.count == outputCount
                     && sums.count == outputCount && (bias == nil || bias!.count == outputCount), "sizes")
        self.weight = weight
        self.scales = scales
        self.sums = sums
        self.bias = bias
        self.outputCount = outputCount
        self.inputCount = inputCount
    }

    public var byteCount: Int { weight.count + 4 * (scales.count + sums.count + (bias?.count ?? 0)) }
}

/// The encoder's int8 GEMMs; LayerNorms, the conv stem, positions and attention stay in `EncoderWeights` (float32).
/// conv2 (im2col + GEMM, 0.6 % of the FLOPs) stays float32: in int8 it saved < 1 % of the time and raised the relative
/// L2 to float32 by up to a third on the real Whisper weights (docs/precision.md), as its input has an outlier channel
/// and its error enters the residual stream of every layer.
public struct QuantisedEncoderWeights: Sendable {
    public struct Layer: Sendable {
        /// Fused q | k | v [3D, D], bias [3D] (zeros for k).
        public let qkvProj: QuantisedLinearWeights
        /// out_proj [D, D].
        public let outProj: QuantisedLinearWeights
        /// fc1 [F, D].
        public let fc1: QuantisedLinearWeights
        /// fc2 [D, F].
        public let fc2: QuantisedLinearWeights
    }

    public let layers: [Layer]

    public init(quantising weights: EncoderWeights, levels: Int) throws(QuantisationError) {
        var layers: [Layer] = []
        for (index, layer) in weights.layers.enumerated() {
            func quantise(_ linear: LinearWeights, _ name: String) throws(QuantisationError) -> QuantisedLinearWeights {
                try QuantisedLinearWeights(quantising: linear, levels: levels, name: "layers.\(index).\(name)")
            }
            layers.append(Layer(qkvProj: try quantise(layer.qkvProj, "self_attn.qkv_proj"),
                                outProj: try quantise(layer.outProj, "self_attn.out_proj"),
                                fc1: try quantise(layer.fc1, "fc1"), fc2: try quantise(layer.fc2, "fc2")))
        }
        self.layers = layers
    }

    public var byteCount: Int {
        layers.reduce(0) { $0 + $1.qkvProj.byteCount + $1.outProj.byteCount + $1.fc1.byteCount + $1.fc2.byteCount }
    }
}

/// The adapter's two linears in int8.
public struct QuantisedAdapterWeights: Sendable {
    /// linear_1 [Dt, 4D].
    public let linear1: QuantisedLinearWeights
    /// linear_2 [Dt, Dt].
    public let linear2: QuantisedLinearWeights

    public init(quantising weights: AdapterWeights, levels: Int) throws(QuantisationError) {
        linear1 = try QuantisedLinearWeights(quantising: weights.linear1, levels: levels, name: "linear_1")
        linear2 = try QuantisedLinearWeights(quantising: weights.linear2, levels: levels, name: "linear_2")
    }
}
