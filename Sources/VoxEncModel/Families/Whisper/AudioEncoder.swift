// The Whisper-style encoder, chunks on the batch axis.
// Reference: transformers models/voxtral/modeling_voxtral.py VoxtralEncoder.forward / VoxtralEncoderLayer.forward
// (= WhisperEncoder); SPEC.md §2:
//   h = GELU(conv2(GELU(conv1(mel)))) ᵀ + positions            [T, D] per chunk, positions reset per chunk
//   for each layer: h += out_proj(attention(LN1(h)));  h += fc2(GELU(fc1(LN2(h))))
//   h = LN_final(h)
// Each Linear layer (and the conv stem's GEMMs) runs as a LinearKernel made once at init for the precision:
// float32 sgemm or oneDNN matmul on packed weights; bf16 operands; or int8 (QuantisedLinear), as the PrecisionPolicy
// says for each layer (its `floatLayers` stay float32). Attention's two products take the operands the policy gives
// the layer; LayerNorm, softmax, GELU and residuals are float32 in all (docs/precision.md).
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
    /// The float32 weights as loaded. A matrix that a kernel holds in another form (int8, packed for oneDNN's
    /// matmul, bf16) is released here (empty): keeping both would double the weights' memory.
    public let weights: EncoderWeights
    public var configuration: EncoderConfiguration { weights.configuration }
    /// QKV, out_proj, fc1, fc2 in int8 (`.int8` only), quantised once here.
    public let quantised: QuantisedEncoderWeights?
    /// Which kernel and operands each layer and role runs with (docs/precision.md).
    public let policy: PrecisionPolicy
    public var precision: Precision { policy.precision }
    /// The float32 route (GEMMRouting): float32 layers, and attention's products of two activations.
    public var gemm: FloatGEMM { policy.gemm }
    /// Each layer's four Linear kernels in their precision, and the conv stem's two (LinearKernel).
    let layerKernels: [LayerKernels]
    let stemKernels: (conv1: LinearKernel, conv2: LinearKernel)

    struct LayerKernels: Sendable {
        let qkvProj, outProj, fc1, fc2: LinearKernel
    }
    /// The encoder layers' float32 matrices while the encoder was made: at most about a group of layers at once
    /// with a packed or quantised precision (tests).
    let floatMatrices: FloatMatrixCount

    /// float32 throughout on a BLAS route (never throws there); `AudioEncoder(weights:precision:…)` for the others.
    public init(weights: EncoderWeights, gemm: FloatGEMM = .openBLAS) {
        precondition(gemm != .oneDNNMatmul, "packing may fail: use the throwing initialiser")
        try! self.init(weights: weights, precision: .float32, gemm: gemm)
    }

    /// Makes every layer's kernels for `precision` from weights already in memory (the same kernels as
    /// `init(reading:…)`, which reads them layer by layer from the file): `.int8` quantises the large GEMMs' weights
    /// except in the first `floatLayers` layers; `.bfloat16` and the `.oneDNNMatmul` float32 route pack them for
    /// oneDNN's matmul. Each float32 matrix that no kernel reads is released as soon as its kernel exists, so a caller
    /// that hands the weights over (`consume`) never holds two copies of more than a few layers. Throws where the
    /// precision cannot run here (Precision.checkSupported) or oneDNN refuses a shape.
    public init(weights: consuming EncoderWeights, precision: Precision,
                floatLayers: Int = PrecisionPolicy.defaultFloatLayers,
                gemm: FloatGEMM = GEMMRouting.float32) throws(PrecisionError) {
        try self.init(weights: consume weights,
                      policy: PrecisionPolicy(precision: precision, floatLayers: floatLayers, gemm: gemm))
    }

    /// `init(weights:precision:…)` with the policy made already.
    public init(weights: consuming EncoderWeights, policy: PrecisionPolicy) throws(PrecisionError) {
        var held = consume weights
        let stem = (conv1: held.conv1, conv2: held.conv2, positions: held.positions)
        held.conv1.weight = []
        held.conv2.weight = []
        let empty = EncoderLayerWeights.empty
        do {
            try self.init(configuration: held.configuration, stem: stem, policy: policy,
                          layer: { index in
                              // Moved out, so that the layer's matrices go once its kernels are made.
                              var layer = empty
                              swap(&layer, &held.layers[index])
                              return layer
                          },
                          layerNorm: { held.layerNorm })
        } catch {
            switch error {
            case .precision(let error): throw error
            case .model(let error): preconditionFailure("weights in memory cannot fail to read: \(error)")
            }
        }
    }

    /// Reads the encoder from `model` one layer at a time and makes each layer's kernels before the next is read
    /// (the same kernels as `init(weights:…)`): with a packed or quantised precision, only about one layer per thread
    /// of float32 matrices exists at once, instead of the whole float32 model (Voxtral Mini: 2.5 GB) beside the
    /// packed copy. The float32 BLAS route keeps every matrix, as it multiplies with them. The adapter comes next
    /// (`model.readAdapter()`).
    public init(reading model: ModelReader, policy: PrecisionPolicy) throws(EncoderLoadError) {
        let stem: (conv1: ConvolutionWeights, conv2: ConvolutionWeights, positions: [Float])
        do { stem = try model.readStem() } catch { throw .model(error) }
        try self.init(configuration: model.configuration, stem: stem, policy: policy,
                      layer: { index throws(EncoderLoadError) in
                          do throws(ModelError) { return try model.readLayer(index) } catch { throw .model(error) }
                      },
                      layerNorm: { () throws(EncoderLoadError) in
                          do throws(ModelError) { return try model.readLayerNorm() } catch { throw .model(error) }
                      })
    }

    /// Both public initialisers: takes the layers from `layer(i)` in order, a group of `Parallel.threadCount` at a
    /// time, makes the group's kernels in parallel (packing reorders every matrix once: ≈ 0.2 s per Voxtral-Mini
    /// layer on one thread), releases the float32 matrices no kernel reads, then asks for the next group.
    private init(configuration: EncoderConfiguration,
                 stem: consuming (conv1: ConvolutionWeights, conv2: ConvolutionWeights, positions: [Float]),
                 policy: PrecisionPolicy,
                 layer: (Int) throws(EncoderLoadError) -> EncoderLayerWeights,
                 layerNorm: () throws(EncoderLoadError) -> LayerNormWeights) throws(EncoderLoadError) {
        self.policy = policy
        let maker = LayerKernelMaker(policy: policy)
        do {
            stemKernels = (try maker.stemKernel(&stem.conv1), try maker.stemKernel(&stem.conv2))
        } catch {
            throw .precision(error)
        }
        var layers: [EncoderLayerWeights] = []
        var layerKernels: [LayerKernels] = []
        var quantisedLayers: [QuantisedEncoderWeights.Layer?] = []
        var memory = FloatMatrixCount()
        let groupSize = max(1, Parallel.threadCount)
        var next = 0
        while next < configuration.layerCount {
            let first = next
            var group: [EncoderLayerWeights] = []
            for index in first..<min(first + groupSize, configuration.layerCount) {
                group.append(try layer(index))
                memory.read(group.last!.matrixByteCount)
            }
            var made = [Result<LayerKernelMaker.Made, PrecisionError>?](repeating: nil, count: group.count)
            group.withUnsafeMutableBufferPointer { group in
                made.withUnsafeMutableBufferPointer { made in
                    let slots = UncheckedSendable((group.baseAddress!, made.baseAddress!))
                    Parallel.forEachRange(group.count) { range in
                        let (group, made) = slots.value
                        for offset in range {
                            made[offset] = Result { () throws(PrecisionError) -> LayerKernelMaker.Made in
                                try maker.layerKernels(&group[offset], index: first + offset)
                            }
                        }
                    }
                }
            }
            for (offset, result) in made.enumerated() {
                let kernels: LayerKernelMaker.Made
                do { kernels = try result!.get() } catch { throw .precision(error) }
                layerKernels.append(kernels.kernels)
                quantisedLayers.append(kernels.quantised)
                memory.released(kernels.releasedBytes)
                layers.append(group[offset])
            }
            next += group.count
        }
        self.layerKernels = layerKernels
        self.quantised = policy.quantisesActivations ? QuantisedEncoderWeights(layers: quantisedLayers) : nil
        self.floatMatrices = memory
        self.weights = EncoderWeights(configuration: configuration, conv1: stem.conv1, conv2: stem.conv2,
                                      positions: stem.positions, layers: layers, layerNorm: try layerNorm())
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
        precondition(policy.attentionUsesBFloat16 == (workspace.valuesBFloat16 != nil), "a workspace of another precision")
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
            let kernels = layerKernels[index]
            let scratch = workspace.quantisation
            // Self-attention block.
            LayerNorm.apply(h, rows: rows, width: d, weights: layer.selfAttnLayerNorm, epsilon: c.layerNormEpsilon,
                            into: normed)
            clock = profile.mark(.normsAndActivations, clock)
            kernels.qkvProj.apply(input: normed, rows: rows, rowsPerChunk: t, scratch: scratch, into: qkv,
                                  deferringBias: true)
            clock = profile.mark(.projections, clock)
            // The bias joins the q scaling's pass, unless the kernel's epilogue added it already (int8).
            addBiasAndScaleQueries(qkv, bias: kernels.qkvProj.alwaysAddsBias ? nil : layer.qkvProj.bias, rows: rows,
                                   width: d, scale: scale)
            clock = profile.mark(.normsAndActivations, clock)
            for chunk in 0..<chunkCount {
                Attention.apply(qkv: qkv + chunk * t * 3 * d, frames: t, width: d, heads: c.headCount, gemm: gemm,
                                scores: workspace.scores.baseAddress!,
                                threads: min(Parallel.threadCount, workspace.attentionThreads),
                                bfloat16QKV: policy.attention(layer: index) == .float32 ? nil
                                    : workspace.valuesBFloat16.map { $0.baseAddress! + chunk * t * 3 * d },
                                into: attended + chunk * t * d)
            }
            clock = profile.mark(.attention, clock)
            kernels.outProj.apply(input: attended, rows: rows, rowsPerChunk: t, scratch: scratch, into: h,
                                  accumulate: true)
            clock = profile.mark(.projections, clock)
            // MLP block.
            LayerNorm.apply(h, rows: rows, width: d, weights: layer.finalLayerNorm, epsilon: c.layerNormEpsilon,
                            into: normed)
            clock = profile.mark(.normsAndActivations, clock)
            kernels.fc1.apply(input: normed, rows: rows, rowsPerChunk: t, scratch: scratch, into: feedForward, gelu: true)
            clock = profile.mark(.mlp, clock)
            kernels.fc2.apply(input: feedForward, rows: rows, rowsPerChunk: t, scratch: scratch, into: h,
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
        Convolution.apply(stemKernels.conv1, input: frames, channels: bins, stride: weights.conv1.stride,
                          frames: melFrames, columns: workspace.columns.baseAddress!, into: conv1Output)
        GELU.applyInPlace(conv1Output, count: melFrames * d)
        Convolution.apply(stemKernels.conv2, input: conv1Output, channels: d, stride: weights.conv2.stride,
                          frames: melFrames, columns: workspace.columns.baseAddress!, into: hidden)
        GELU.applyInPlace(hidden, count: c.maxPositions * d)
        weights.positions.withUnsafeBufferPointer { positions in
            for i in 0..<(c.maxPositions * d) { hidden[i] += positions[i] }
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
