// The Whisper-style encoder, chunks on the batch axis.
// Reference: transformers models/voxtral/modeling_voxtral.py VoxtralEncoder.forward / VoxtralEncoderLayer.forward
// (= WhisperEncoder); SPEC.md §2:
//   h = GELU(conv2(GELU(conv1(mel)))) ᵀ + positions            [T, D] per chunk, positions reset per chunk
//   for each layer: h += out_proj(attention(LN1(h)));  h += fc2(GELU(fc1(LN2(h))))
//   h = LN_final(h)
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
    public let weights: EncoderWeights
    public var configuration: EncoderConfiguration { weights.configuration }

    public init(weights: EncoderWeights) {
        self.weights = weights
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
        let c = configuration
        let t = c.maxPositions, d = c.modelDimension, f = c.feedForwardDimension
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
            // Self-attention block.
            LayerNorm.apply(h, rows: rows, width: d, weights: layer.selfAttnLayerNorm, epsilon: c.layerNormEpsilon,
                            into: normed)
            clock = profile.mark(.normsAndActivations, clock)
            Linear.apply(layer.qkvProj, input: normed, rows: rows, into: qkv)
            clock = profile.mark(.projections, clock)
            scaleQueries(qkv, rows: rows, width: d, scale: scale)
            clock = profile.mark(.normsAndActivations, clock)
            for chunk in 0..<chunkCount {
                Attention.apply(qkv: qkv + chunk * t * 3 * d, frames: t, width: d, heads: c.headCount,
                                scores: workspace.scores.baseAddress!,
                                threads: min(Parallel.threadCount, workspace.attentionThreads),
                                into: attended + chunk * t * d)
            }
            clock = profile.mark(.attention, clock)
            Linear.apply(layer.outProj, input: attended, rows: rows, into: h, accumulate: true)
            clock = profile.mark(.projections, clock)
            // MLP block.
            LayerNorm.apply(h, rows: rows, width: d, weights: layer.finalLayerNorm, epsilon: c.layerNormEpsilon,
                            into: normed)
            clock = profile.mark(.normsAndActivations, clock)
            Linear.apply(layer.fc1, input: normed, rows: rows, into: feedForward)
            clock = profile.mark(.mlp, clock)
            GELU.applyInPlace(feedForward, count: rows * f)
            clock = profile.mark(.normsAndActivations, clock)
            Linear.apply(layer.fc2, input: feedForward, rows: rows, into: h, accumulate: true)
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
        Convolution.apply(weights.conv1, input: frames, frames: melFrames, columns: workspace.columns.baseAddress!,
                          into: conv1Output)
        GELU.applyInPlace(conv1Output, count: melFrames * d)
        Convolution.apply(weights.conv2, input: conv1Output, frames: melFrames, columns: workspace.columns.baseAddress!,
                          into: hidden)
        GELU.applyInPlace(hidden, count: c.maxPositions * d)
        weights.positions.withUnsafeBufferPointer { positions in
            for i in 0..<(c.maxPositions * d) { hidden[i] += positions[i] }
        }
    }

    /// q ← q · Dh^−½ on the first D columns of each qkv row (after the q bias, as the reference does).
    func scaleQueries(_ qkv: UnsafeMutablePointer<Float>, rows: Int, width: Int, scale: Float) {
        Parallel.forEachRange(rows, minimumPerThread: 64) { range in
            for r in range {
                let q = qkv + r * 3 * width
                for i in 0..<width { q[i] *= scale }
            }
        }
    }
}
