// The Whisper-style encoder, chunks on the batch axis.
// Reference: transformers models/voxtral/modeling_voxtral.py VoxtralEncoder.forward / VoxtralEncoderLayer.forward
// (= WhisperEncoder); SPEC.md §2:
//   h = GELU(conv2(GELU(conv1(mel)))) ᵀ + positions            [T, D] per chunk, positions reset per chunk
//   for each layer: h += out_proj(attention(LN1(h)));  h += fc2(GELU(fc1(LN2(h))))
//   h = LN_final(h)
// With Precision.int8, QKV, out_proj, fc1 and fc2 run as int8 GEMMs (QuantisedLinear; docs/precision.md) in every layer
// but the first (QuantisedEncoderWeights.floatLayerCount); everything else, attention included, is float32 either way.
// Letters: B chunks, T = 1500, D width, F feed-forward width, M mel bins, H heads.

/// Points of the forward pass where `encode` can show its intermediate state (parity debugging, tests).
public enum EncoderStage: Sendable, Equatable {
    /// After conv1 → GELU → conv2 → GELU → + positions: the input of layer 0, [B·T, D].
    case convolutionStem
    /// The output of layer `index`, before the final LayerNorm, [B·T, D].
    case layer(Int)
}

/// Stateless forward pass over immutable weights: share one instance between threads, each with its own workspace.
public struct AudioEncoder: Sendable {
    /// The float32 weights. With `.int8`, the weight matrices of QKV, out_proj, fc1 and fc2 of the quantised layers are
    /// released (empty):
    /// `quantised` holds them, and the float32 copies would cost 4× their memory (2.5 GB for Voxtral Mini).
    public let weights: EncoderWeights
    public var configuration: EncoderConfiguration { weights.configuration }
    /// QKV, out_proj, fc1, fc2 in int8 (`.int8` only), quantised once here.
    public let quantised: QuantisedEncoderWeights?
    /// How the large GEMMs run (docs/precision.md).
    public var precision: Precision { quantised == nil ? .float32 : .int8 }
    /// The float32 GEMM backend (all GEMMs of float32 layers, the conv stem and attention; GEMMRouting decides).
    public let gemm: FloatGEMM

    /// float32 throughout.
    public init(weights: EncoderWeights, gemm: FloatGEMM = GEMMRouting.float32) {
        self.weights = weights
        self.quantised = nil
        self.gemm = gemm
    }

    /// `.int8` quantises the large GEMMs' weights now, except in the first `floatLayers` layers, and releases their
    /// float32 matrices; it throws where int8 cannot run (Precision.checkSupported).
    public init(weights: EncoderWeights, precision: Precision,
                floatLayers: Int = QuantisedEncoderWeights.floatLayerCount,
                gemm: FloatGEMM = GEMMRouting.float32) throws(QuantisationError) {
        self.gemm = gemm
        switch precision {
        case .float32:
            self.weights = weights
            quantised = nil
        case .int8:
            let support = try IntegerGEMM.support.get()
            quantised = try QuantisedEncoderWeights(quantising: weights, levels: support.weightLevels,
                                                    floatLayers: floatLayers)
            var released = weights
            for i in released.layers.indices where quantised?.layers[i] != nil {
                released.layers[i].qkvProj.weight = []
                released.layers[i].outProj.weight = []
                released.layers[i].fc1.weight = []
                released.layers[i].fc2.weight = []
            }
            self.weights = released
        }
    }

    /// Encodes `chunkCount` mel chunks, each [M, 2T] row-major (mel-bin major, as the front end makes them),
    /// into `output` [chunkCount·T, D]. `chunkCount` ≤ workspace.capacity.
    /// `observe`, when given, sees the residual stream after the conv stem and after each layer.
    public func encode(mel: UnsafePointer<Float>, chunkCount: Int, workspace: EncoderWorkspace,
                       into output: UnsafeMutablePointer<Float>,
                       observe: ((EncoderStage, UnsafeBufferPointer<Float>) -> Void)? = nil,
                       profile: EncoderProfile? = nil) {
        precondition(chunkCount >= 1 && chunkCount <= workspace.capacity, "batch exceeds the workspace")
        precondition(workspace.configuration == configuration, "workspace made for another shape")
        precondition(quantised == nil || workspace.quantisation != nil, "an int8 encoder needs an int8 workspace")
        let c = configuration
        let t = c.maxPositions, d = c.modelDimension
        let rows = chunkCount * t
        let h = workspace.hidden.baseAddress!
        let normed = workspace.normed.baseAddress!
        let qkv = workspace.qkv.baseAddress!
        let attended = workspace.attended.baseAddress!
        let feedForward = workspace.feedForward.baseAddress!

        var clock = profile.start
        for chunk in 0..<chunkCount {
            convolutionStem(mel: mel + chunk * c.melBinCount * c.melFrameCount, workspace: workspace,
                            into: h + chunk * t * d)
        }
        clock = profile.mark(.convolutionStem, clock)
        observe?(.convolutionStem, UnsafeBufferPointer(start: h, count: rows * d))
        let scale = Float(1 / Double(c.headDimension).squareRoot())
        for (index, layer) in weights.layers.enumerated() {
            let int8 = quantised?.layers[index]  // nil: this layer runs in float32
            // Self-attention block.
            LayerNorm.apply(h, rows: rows, width: d, weights: layer.selfAttnLayerNorm, epsilon: c.layerNormEpsilon,
                            into: normed)
            clock = profile.mark(.normsAndActivations, clock)
            linear(layer.qkvProj, int8?.qkvProj, input: normed, rows: rows, workspace: workspace, into: qkv,
                   deferringBias: true)
            clock = profile.mark(.projections, clock)
            // int8 added the bias in its epilogue; float32 adds it here, in the scaling's pass.
            addBiasAndScaleQueries(qkv, bias: int8 == nil ? layer.qkvProj.bias : nil, rows: rows, width: d, scale: scale)
            clock = profile.mark(.normsAndActivations, clock)
            for chunk in 0..<chunkCount {
                Attention.apply(qkv: qkv + chunk * t * 3 * d, frames: t, width: d, heads: c.headCount, gemm: gemm,
                                scores: workspace.scores.baseAddress!,
                                threads: min(Parallel.threadCount, workspace.attentionThreads),
                                into: attended + chunk * t * d)
            }
            clock = profile.mark(.attention, clock)
            linear(layer.outProj, int8?.outProj, input: attended, rows: rows, workspace: workspace, into: h,
                   accumulate: true)
            clock = profile.mark(.projections, clock)
            // MLP block.
            LayerNorm.apply(h, rows: rows, width: d, weights: layer.finalLayerNorm, epsilon: c.layerNormEpsilon,
                            into: normed)
            clock = profile.mark(.normsAndActivations, clock)
            linear(layer.fc1, int8?.fc1, input: normed, rows: rows, workspace: workspace, into: feedForward, gelu: true)
            clock = profile.mark(.mlp, clock)
            linear(layer.fc2, int8?.fc2, input: feedForward, rows: rows, workspace: workspace, into: h,
                   accumulate: true)
            clock = profile.mark(.mlp, clock)
            observe?(.layer(index), UnsafeBufferPointer(start: h, count: rows * d))
        }
        LayerNorm.apply(h, rows: rows, width: d, weights: weights.layerNorm, epsilon: c.layerNormEpsilon, into: output)
        _ = profile.mark(.normsAndActivations, clock)
    }

    /// conv1 → GELU → conv2 (stride 2) → GELU → + positions, for one chunk [M, 2T] → [T, D].
    func convolutionStem(mel: UnsafePointer<Float>, workspace: EncoderWorkspace, into hidden: UnsafeMutablePointer<Float>) {
        let c = configuration
        let melFrames = c.melFrameCount, bins = c.melBinCount, d = c.modelDimension
        // [M, 2T] → time-major [2T, M].
        let frames = workspace.melFrames.baseAddress!
        for m in 0..<bins {
            let row = mel + m * melFrames
            for t in 0..<melFrames { frames[t * bins + m] = row[t] }
        }
        let conv1Output = workspace.conv1Output.baseAddress!
        Convolution.apply(weights.conv1, gemm: gemm, input: frames, frames: melFrames, columns: workspace.columns.baseAddress!,
                          into: conv1Output)
        GELU.applyInPlace(conv1Output, count: melFrames * d)
        Convolution.apply(weights.conv2, gemm: gemm, input: conv1Output, frames: melFrames, columns: workspace.columns.baseAddress!,
                          into: hidden)
        GELU.applyInPlace(hidden, count: c.maxPositions * d)
        weights.positions.withUnsafeBufferPointer { positions in
            for i in 0..<(c.maxPositions * d) { hidden[i] += positions[i] }
        }
    }

    /// A Linear layer in the encoder's precision: sgemm, or int8 when the layer has quantised weights.
    /// `gelu`: GELU(x·Wᵀ + b), in int8's epilogue, or in one pass with the bias after sgemm.
    /// `deferringBias`: float32 leaves the bias to the caller's next pass (int8 adds it in its epilogue anyway).
    @inline(__always)
    func linear(_ weights: LinearWeights, _ quantised: QuantisedLinearWeights?, input: UnsafePointer<Float>, rows: Int,
                workspace: EncoderWorkspace, into output: UnsafeMutablePointer<Float>, accumulate: Bool = false,
                gelu: Bool = false, deferringBias: Bool = false) {
        if let quantised {
            QuantisedLinear.apply(quantised, input: input, rows: rows, scratch: workspace.quantisation!, into: output,
                                  accumulate: accumulate, gelu: gelu)
        } else {
            Linear.apply(weights, gemm: gemm, input: input, rows: rows, rowsPerChunk: configuration.maxPositions,
                         into: output, accumulate: accumulate, addingBias: !gelu && !deferringBias)
            if gelu {
                weights.bias.withUnsafePointer { bias in
                    GELU.applyInPlace(output, rows: rows, columns: weights.outputCount, addingBias: bias)
                }
            }
        }
    }

    /// qkv[r, :] += b (when given), then q ← q · Dh^−½ on the first D columns of each row: the reference's order
    /// (q_proj with its bias, then the scaling), in one pass over [B·T, 3D].
    func addBiasAndScaleQueries(_ qkv: UnsafeMutablePointer<Float>, bias: [Float]?, rows: Int, width: Int,
                                scale: Float) {
        bias.withUnsafePointer { bias in
            Parallel.forEachRange(rows, minimumPerThread: 64) { range in
                for r in range {
                    let row = qkv + r * 3 * width
                    if let bias {
                        for i in 0..<width { row[i] = (row[i] + bias[i]) * scale }
                        for i in width..<(3 * width) { row[i] += bias[i] }
                    } else {
                        for i in 0..<width { row[i] *= scale }
                    }
                }
            }
        }
    }
}
