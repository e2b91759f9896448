// A loaded Voxtral Realtime model: its kernels (every Linear a PanelledLinear, so that rows are computed by calls of
// one shape wherever a stream was cut) and the state every stream shares — the silent left pad's first blocks.
// Reference: transformers VoxtralRealtimeEncoder / VoxtralRealtimeMultiModalProjector (modeling_voxtral_realtime.py,
// 5.25). Letters: D width, A attention width, F feed-forward width, M mel bins, Dt adapter width, W window,
// R = 24 positions per block (6 tokens, 480 ms), C = W − 1 + R ring slots.

import Synchronization

public final class RealtimeModel: CausalEncoderModel, @unchecked Sendable {
    public let description: ModelDescription
    public let policy: PrecisionPolicy
    public let configuration: RealtimeConfiguration

    /// Encoder positions per block: every GEMM call covers one block of a stream, aligned to the stream's start (and
    /// after the shared prefix, to the stream's offset: RealtimeStreamState.origin).
    /// 24 = 6 tokens = 480 ms, the model's own delay and the default step.
    public static let blockPositions = 24
    /// conv1 output frames per block: positions p ∈ block read conv1 frames 2p − 1 … 2p + 1.
    static let convFramesPerBlock = 2 * blockPositions + 1

    struct Layer: Sendable {
        let attentionNorm: [Float]
        let qkv: PanelledLinear
        let output: PanelledLinear
        let mlpNorm: [Float]
        let gateUp: PanelledLinear
        let down: PanelledLinear
    }

    let conv1: PanelledLinear
    let conv2: PanelledLinear
    let layers: [Layer]
    let norm: [Float]
    let adapter1: PanelledLinear
    let adapter2: PanelledLinear
    let rope: RotaryEmbedding
    /// The silent left pad's first blocks, computed once per model (`prefix`).
    private let sharedPrefix = Mutex<RealtimePrefix?>(nil)
    /// takesOffsets, once computed.
    private let offsetsChecked = Mutex<Bool?>(nil)
    /// Work buffers of the runs (RealtimeBatch.swift), shared by the model's streams.
    let workspaces = RealtimeWorkspaces()
    /// Each layer's key/value elements: the policy's attention operands (bf16 above bf16's float layers).
    let ringElements: [KeyValueRing.Element]

    init(reading reader: RealtimeReader, policy: PrecisionPolicy) throws(EncoderLoadError) {
        let c = reader.configuration
        configuration = c
        self.policy = policy
        func kernel(_ weights: LinearWeights, _ site: LinearSite, rows: Int = RealtimeModel.blockPositions)
            throws(EncoderLoadError) -> PanelledLinear {
            guard case .route(let route) = policy.linear(at: site) else {
                throw .precision(.unsupportedByFamily(precision: policy.precision.rawValue, family: RealtimeFamily.name))
            }
            do { return try PanelledLinear(weights, route: route, blockRows: rows) } catch { throw .precision(error) }
        }
        do {
            let stem = try reader.readStem()
            conv1 = try kernel(stem.conv1.linear, .stem, rows: Self.convFramesPerBlock)
            conv2 = try kernel(stem.conv2.linear, .stem)
            var layers: [Layer] = []
            for i in 0..<c.layerCount {
                let w = try reader.readLayer(i)
                layers.append(Layer(attentionNorm: w.attentionNorm, qkv: try kernel(w.qkv, .layer(i)),
                                    output: try kernel(w.output, .layer(i)), mlpNorm: w.mlpNorm,
                                    gateUp: try kernel(w.gateUp, .layer(i)), down: try kernel(w.down, .layer(i))))
            }
            self.layers = layers
            norm = try reader.readNorm()
            let (a1, a2) = try reader.readAdapter()
            adapter1 = try kernel(a1, .adapter, rows: Self.blockPositions / c.stackFactor)
            adapter2 = try kernel(a2, .adapter, rows: Self.blockPositions / c.stackFactor)
        } catch let error as ModelError {
            throw .model(error)
        } catch let error as EncoderLoadError {
            throw error
        } catch {
            preconditionFailure("unexpected \(error)")
        }
        rope = RotaryEmbedding(headWidth: c.headDimension, theta: c.ropeTheta)
        ringElements = (0..<c.layerCount).map { policy.attention(layer: $0) == .bfloat16 ? .bfloat16 : .float32 }
        description = reader.finish()
    }

    public var hasAdapter: Bool { true }

    /// VoxtralRealtimeFeatureExtractor: the clamp at a fixed top; a causal stream of 8-frame tokens.
    public var frontEnd: FrontEndPolicy {
        FrontEndPolicy(melBinCount: configuration.melBinCount, clamp: .fixed(configuration.globalLogMelMax),
                       steps: .causalTokens(melFrames: RealtimeConfiguration.melFramesPerToken,
                                            leftPadTokens: configuration.leftPadTokens,
                                            rightPadTokens: configuration.rightPadTokens))
    }

    public func output(_ kind: EmbeddingKind) -> OutputGeometry { Self.output(kind, configuration) }

    /// Per token (80 ms): 4 encoder rows of D, or one adapter row of Dt.
    static func output(_ kind: EmbeddingKind, _ c: RealtimeConfiguration) -> OutputGeometry {
        let seconds = Double(RealtimeConfiguration.melFramesPerToken) / Double(FrontEndPolicy.melFramesPerSecond)
        return kind == .adapter
            ? OutputGeometry(width: c.adapterDimension, rowsPerStep: 1, stepSeconds: seconds)
            : OutputGeometry(width: c.modelDimension, rowsPerStep: c.stackFactor, stepSeconds: seconds)
    }

    /// Ring slots per layer: the window's W − 1 past positions and one block.
    var ringCapacity: Int { configuration.slidingWindow - 1 + Self.blockPositions }


    public func makeStream(kind: EmbeddingKind, threads: Int, offset: Int) -> any CausalEncoderStream {
        RealtimeStreamState(model: self, kind: kind, threads: threads, prefix: prefix(threads: threads),
                            offset: takesOffsets ? offset : 0)
    }

    public var runTokens: Int { Self.blockPositions / configuration.stackFactor }

    /// An offset of j tokens moves a position 4j rows within its layer blocks (8j conv1 frames, j adapter rows).
    /// Attention and the row-wise kernels never see a row's place (query groups of 4 start at positions 4i), so the
    /// GEMMs decide: layer 0's and the stem's and adapter's, as every layer runs the same calls.
    public var takesOffsets: Bool {
        if let known = offsetsChecked.withLock({ $0 }) { return known }
        let (S, R, F1) = (configuration.stackFactor, Self.blockPositions, Self.convFramesPerBlock)
        let tokens = Array(1..<runTokens)
        var kernels = [(conv1, F1, tokens.map { 2 * S * $0 }), (conv2, R, tokens.map { S * $0 }),
                       (adapter1, R / S, tokens), (adapter2, R / S, tokens)]
        if let first = layers.first {
            for linear in [first.qkv, first.output, first.gateUp, first.down] { kernels.append((linear, R, tokens.map { S * $0 })) }
        }
        let keeps = kernels.allSatisfy { linear, rows, shifts in linear.keepsRowBits(blockRows: rows, shifts: shifts) }
        offsetsChecked.withLock { $0 = keeps }
        return keeps
    }

    /// A causal model has no chunk sessions: the engine runs its streams (makeStream).
    public func makeSession(capacity: Int, threads: Int) -> any EncoderSession {
        preconditionFailure("a causal model runs as a stream (CausalEncoderModel.makeStream)")
    }

    /// Blocks 0 ..< n whose mel frames all lie in the silent left pad (frame f reads samples up to 160f + 200, so
    /// frames ≤ 8L − 2 are silent): their keys, values and rows are the same for every stream.
    var silentBlocks: Int {
        let lastSilentFrame = RealtimeConfiguration.melFramesPerToken * configuration.leftPadTokens - 2
        let framesPerBlock = 2 * Self.blockPositions
        return max(0, (lastSilentFrame + 1) / framesPerBlock)
    }

    /// The shared start: computed by a stream fed silent tokens, once per model, then copied into every stream.
    func prefix(threads: Int) -> RealtimePrefix? {
        let blocks = silentBlocks
        // The silent frames' value is the clamp's bound only while top − 8 lies above log10 of the mel floor.
        guard blocks > 0, configuration.globalLogMelMax - 8 > -10 else { return nil }
        if let made = sharedPrefix.withLock({ $0 }) { return made }
        let tokens = blocks * Self.blockPositions / configuration.stackFactor
        let state = RealtimeStreamState(model: self, kind: .adapter, threads: threads)
        // The normalised mel of silence: log10 of the 1e-10 floor, clamped at top − 8, then (x + 4) / 4.
        let silent = (configuration.globalLogMelMax - 8 + 4) / 4
        let mel = [Float](repeating: silent,
                          count: tokens * RealtimeConfiguration.melFramesPerToken * configuration.melBinCount)
        mel.withUnsafeBufferPointer { state.append(mel: $0.baseAddress!, tokens: tokens) }
        let made = state.snapshot(tokens: tokens)
        sharedPrefix.withLock { $0 = $0 ?? made }
        return sharedPrefix.withLock { $0 }
    }
}

/// What every stream of a model starts from: the keys and values of the silent blocks' positions (rings of just those
/// slots), and their rows of both kinds.
final class RealtimePrefix: @unchecked Sendable {
    let tokens: Int
    /// Ring slots 0 ..< slots the prefix holds: its positions', slot for slot (all of a ring's when they wrap it).
    var slots: Int { rings.capacity }
    let rings: RealtimeRings
    let encoderRows: [Float]
    let adapterRows: [Float]

    init(model: RealtimeModel, tokens: Int, encoderRows: [Float], adapterRows: [Float]) {
        self.tokens = tokens
        rings = RealtimeRings(model, capacity: min(tokens * model.configuration.stackFactor, model.ringCapacity))
        (self.encoderRows, self.adapterRows) = (encoderRows, adapterRows)
    }
}
