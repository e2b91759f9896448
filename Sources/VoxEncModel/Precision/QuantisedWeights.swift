// The int8 weights of the large GEMMs, quantised once at load from the float32 weights (docs/precision.md).
// Symmetric per output channel: m[j] = max_k |W[j, k]|, scale[j] = m[j] / L, q[j, k] = round(W[j, k] · L / m[j]) ∈ [−L, L],
// L = IntegerGEMM.Support.weightLevels (127 with VNNI, 63 without). The same per-row absmax scheme as
// CTranslate2's int8 weights (ctranslate2 ops/quantize.cc); the 7-bit fallback follows oneDNN's int8 guide.
// Letters: D width, F feed-forward width, Dt adapter width.

/// A Linear layer (y = x·Wᵀ + b) with W in int8: W[j, :] ≈ scales[j] · weight[j, :].
public struct QuantisedLinearWeights: Sendable {
    /// q [outputCount, inputCount] row-major (PyTorch's Linear layout); empty once packed (`packed` holds it).
    public private(set) var weight: [Int8]
    /// q packed for oneDNN's u8 × s8 matmul, where GEMMRouting routes int8 there (nil: dnnl_gemm_u8s8s32 on `weight`).
    public private(set) var packed: PackedMatrix?
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
    public init(quantising linear: LinearWeights, levels: Int, name: String) throws(PrecisionError) {
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
                                let row = Self.quantise(w.baseAddress! + j * k, count: k, levels: levels,
                                                        into: q.baseAddress! + j * k)
                                scales[j] = row?.scale ?? .nan
                                sums[j] = row?.sum ?? 0
                            }
                        }
                    }
                }
            }
        }
        if let row = scales.firstIndex(where: { $0.isNaN }) { throw .nonFiniteWeight(tensor: name, row: row) }
        self.init(weight: weight, scales: scales, sums: sums, bias: linear.bias, outputCount: n, inputCount: k)
    }

    /// One row: scale = max|w| / L, q = round(w · (L / max|w|)) (the product rounded to float32, then to an integer,
    /// ties to even); nil when the row holds NaN or infinity. Returns the scale and Σq.
    @inline(__always)
    static func quantise(_ w: UnsafePointer<Float>, count k: Int, levels: Int,
                         into q: UnsafeMutablePointer<Int8>) -> (scale: Float, sum: Int32)? {
        let lanes = Vector16.scalarCount
        let vectorCount = k / lanes
        var maxima = Vector16(), nonFinite = Vector16()
        for v in 0..<vectorCount {
            let x = Vector16.load(w + v * lanes)
            maxima = maxima.maximum(x.magnitude)
            nonFinite += x - x  // NaN for NaN or ±∞, which a maximum would skip
        }
        var maximum = maxima.max(), finite = !nonFinite.sum().isNaN
        for i in (vectorCount * lanes)..<k {
            maximum = max(maximum, abs(w[i]))
            finite = finite && w[i].isFinite
        }
        guard finite else { return nil }
        guard maximum > 0 else {
            q.update(repeating: 0, count: k)
            return (0, 0)
        }
        let inverse = Float(levels) / maximum
        // Adding 1.5·2²³ rounds to an integer (ties to even) and leaves it, two's complement, in the low mantissa bits.
        let magic = Vector16(repeating: 12_582_912), scaled = Vector16(repeating: inverse)
        var sums = SIMD16<Int32>()
        for v in 0..<vectorCount {
            let shifted = Vector16.load(w + v * lanes) * scaled + magic
            let values = unsafeBitCast(shifted, to: SIMD16<Int32>.self) &- 0x4B40_0000
            UnsafeMutableRawPointer(q + v * lanes).storeBytes(of: SIMD16<Int8>(truncatingIfNeeded: values),
                                                              as: SIMD16<Int8>.self)
            sums &+= values
        }
        var sum = sums.wrappedSum()
        for i in (vectorCount * lanes)..<k {
            let value = Int8((w[i] * inverse).rounded(.toNearestOrEven))
            q[i] = value
            sum += Int32(value)
        }
        return (maximum / Float(levels), sum)
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
        self.packed = nil
    }

    /// The same weights packed for oneDNN's u8 × s8 matmul, the plain copy released.
    public func packingForMatmul() throws(PrecisionError) -> QuantisedLinearWeights {
        var copy = self
        do {
            copy.packed = try weight.withUnsafeBufferPointer { q throws(PackingError) in
                try PackedMatrix(quantised: q.baseAddress!, outputCount: outputCount, inputCount: inputCount)
            }
        } catch {
            throw .packingFailed(error.description)
        }
        copy.weight = []
        return copy
    }

    public var byteCount: Int {
        (packed?.byteCount ?? weight.count) + 4 * (scales.count + sums.count + (bias?.count ?? 0))
    }
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

        /// Layer `index`'s four Linear layers quantised to ±`levels` (packed where int8 runs on oneDNN's matmul).
        init(quantising layer: EncoderLayerWeights, index: Int, levels: Int) throws(PrecisionError) {
            func quantise(_ linear: LinearWeights, _ name: String) throws(PrecisionError) -> QuantisedLinearWeights {
                let q = try QuantisedLinearWeights(quantising: linear, levels: levels, name: "layers.\(index).\(name)")
                return GEMMRouting.int8UsesMatmul ? try q.packingForMatmul() : q
            }
            qkvProj = try quantise(layer.qkvProj, "self_attn.qkv_proj")
            outProj = try quantise(layer.outProj, "self_attn.out_proj")
            fc1 = try quantise(layer.fc1, "fc1")
            fc2 = try quantise(layer.fc2, "fc2")
        }
    }

    /// One per encoder layer; nil for a layer that runs in float32 (the policy's first `floatLayers`).
    public let layers: [Layer?]


    public init(quantising weights: EncoderWeights, levels: Int, floatLayers: Int = PrecisionPolicy.defaultFloatLayers)
        throws(PrecisionError) {
        var layers: [Layer?] = []
        for (index, layer) in weights.layers.enumerated() {
            layers.append(index < floatLayers ? nil : try Layer(quantising: layer, index: index, levels: levels))
        }
        self.init(layers: layers)
    }

    /// Layers quantised one at a time (AudioEncoder, as it reads them).
    init(layers: [Layer?]) {
        self.layers = layers
    }

    public var byteCount: Int {
        layers.compactMap { $0 }.reduce(0) {
            $0 + $1.qkvProj.byteCount + $1.outProj.byteCount + $1.fc1.byteCount + $1.fc2.byteCount
        }
    }
}

/// The adapter's two linears in int8.
public struct QuantisedAdapterWeights: Sendable {
    /// linear_1 [Dt, 4D].
    public let linear1: QuantisedLinearWeights
    /// linear_2 [Dt, Dt].
    public let linear2: QuantisedLinearWeights

    public init(quantising weights: AdapterWeights, levels: Int) throws(PrecisionError) {
        let linear1 = try QuantisedLinearWeights(quantising: weights.linear1, levels: levels, name: "linear_1")
        let linear2 = try QuantisedLinearWeights(quantising: weights.linear2, levels: levels, name: "linear_2")
        self.linear1 = GEMMRouting.int8UsesMatmul ? try linear1.packingForMatmul() : linear1
        self.linear2 = GEMMRouting.int8UsesMatmul ? try linear2.packingForMatmul() : linear2
    }
}
