// The public facade: load a model once, then embed files or buffers, whole or step by step.
// One `embed` call: MelSource (decode + soxr HQ → log-mel steps, pulled) → BatchEncoder (steps of one or many
// owners, one encoder call per batch) → the family's EncoderSession (encoder, adapter) → rows to the caller.
// The model's family decides the front end (EncoderModel.frontEnd) and the output's geometry (OutputGeometry);
// nothing here knows a chunk's length or a frame rate.

import Synchronization
import VoxEncAudio
import VoxEncModel

/// A loaded model, shareable between threads: the weights are immutable, each call borrows a session from a pool.
public final class Embedder: Sendable {
    public let model: ModelDescription
    public let configuration: EmbedderConfiguration
    public let kind: EmbeddingKind
    /// The family's loaded model (Families/): its front end, output geometry and sessions.
    @_spi(Engine) public let encoderModel: any EncoderModel
    /// The log-mel front end the family asks for.
    @_spi(Engine) public let frontEnd: LogMelSpectrogram
    let sessions: SessionPool
    /// Batches `encode(mel:steps:kind:into:)` has started: lets tests see that nothing is computed ahead of a request.
    let batchesStarted = Atomic<Int>(0)

    /// The family's model made; `configuration.kind` decides what the calls return.
    init(model encoderModel: any EncoderModel, configuration: EmbedderConfiguration) {
        self.model = encoderModel.description
        self.configuration = configuration
        self.encoderModel = encoderModel
        self.kind = (configuration.kind == .encoder || !encoderModel.hasAdapter) ? .encoder : .adapter
        let mel = encoderModel.frontEnd
        self.frontEnd = LogMelSpectrogram(configuration: FrontEndConfiguration(melBinCount: mel.melBinCount,
                                                                               framesPerChunk: mel.melFramesPerStep))
        self.sessions = SessionPool(model: encoderModel, threads: configuration.threadCount)
    }

    /// The float32 GEMM backend this Embedder runs (GEMMRouting's choice, or the configuration's).
    public var floatGEMM: FloatGEMM { encoderModel.policy.gemm }
    /// How its float32 GEMMs run: backend, kernel and why (`voxenc embed --verbose`).
    public var floatRoute: GEMMRoute { GEMMRouting.float32Route(configuration.floatGEMM) }
    /// How its precision's own GEMMs run where that is not float32's route: bf16's oneDNN matmul, or int8's u8 × s8
    /// GEMM (nil for float32). `voxenc embed --verbose` prints it, so a test sees the route the process took.
    public var precisionRoute: GEMMRoute? {
        switch encoderModel.policy.precision {
        case .float32: return nil
        case .bfloat16: return GEMMRouting.bfloat16Route
        case .int8: return GEMMRouting.int8Route
        }
    }
    /// int8: the levels its weights are quantised to (127 with VNNI, 63 without); nil otherwise.
    public var int8WeightLevels: Int? { encoderModel.policy.int8Levels }
    /// Lines for stderr when its float32 GEMMs run a slow path (forced by --gemm, VOXENC_GEMM or OPENBLAS_CORETYPE).
    public var routeWarnings: [String] { GEMMRouting.warnings(float32: configuration.floatGEMM) }
    /// Mel bins of its input.
    public var melBinCount: Int { frontEnd.configuration.melBinCount }
    /// Mel frames per step of its input (Whisper: 3000), and per second of audio (100).
    public var melFramesPerStep: Int { encoderModel.frontEnd.melFramesPerStep }
    public var melFrameRate: Double { Double(FrontEndPolicy.melFramesPerSecond) }

    /// With int8: the encoder layers that run in float32 (at most the layer count); nil otherwise.
    var int8FloatLayers: Int? {
        let policy = encoderModel.policy
        return policy.precision == .int8 ? min(policy.floatLayers, model.encoder.layerCount) : nil
    }

    /// Whether the model has an adapter (otherwise every output is encoder states).
    public var hasAdapter: Bool { encoderModel.hasAdapter }
    /// Whether the model is causal (Voxtral Realtime): it streams (StreamingSession), and the stage calls
    /// (`encode`, `adapt`), made for independent chunks, do not apply.
    public var isCausal: Bool { encoderModel.frontEnd.isCausal }
    /// The model's family ("whisper", "voxtral-realtime"), for messages.
    public var familyName: String { EncoderFamilies.family(for: model.path).name }
    /// The rows a call returns: width, rows per step, seconds per step.
    public var output: OutputGeometry { output(kind) }
    /// The rows `kind` gives (`.adapter` on a model without one gives encoder states).
    public func output(_ kind: EmbeddingKind) -> OutputGeometry { encoderModel.output(resolvedKind(kind)) }

    /// Output width: Dt (adapter) or D (encoder).
    public var dimension: Int { output.width }
    /// Rows per step (Whisper: 375 adapter or 1500 encoder rows per 30 s chunk).
    public var rowsPerChunk: Int { output.rowsPerStep }
    /// Rows per second of audio (Whisper: 12.5 Hz adapter, 50 Hz encoder).
    public var frameRate: Double { output.rowsPerSecond }

    /// What a call asking for `requested` gets: encoder states when asked, or when the model has no adapter.
    public func resolvedKind(_ requested: EmbeddingKind?) -> EmbeddingKind {
        guard let requested else { return kind }
        return requested == .encoder || !hasAdapter ? .encoder : .adapter
    }

    // MARK: - One call

    /// Decodes, resamples and embeds an audio file, streaming it (two passes, about one chunk of samples held).
    public func embed(fileAt path: String, channels: ChannelSelection = .average) throws(VoxEncError) -> Embeddings {
        try collect(prepare(fileAt: path, channels: channels))
    }

    /// Decodes an encoded file held in memory (no temporary file), resamples and embeds it: the same values as
    /// `embed(fileAt:)` on a file with these bytes. `name` stands for the path in errors.
    public func embed(bytes: [UInt8], name: String, channels: ChannelSelection = .average) throws(VoxEncError) -> Embeddings {
        let prepared: PreparedAudio
        do { prepared = try prepare(bytes: bytes, name: name, channels: channels, kind: kind) } catch {
            switch error {
            case .embedding(let error): throw error
            case .tooLong: preconditionFailure("no sample limit was given")
            }
        }
        return try collect(prepared)
    }

    /// Embeds mono samples at any rate (resampled to 16 kHz with soxr HQ when needed).
    public func embed(samples: [Float], sampleRate: Int) throws(VoxEncError) -> Embeddings {
        let start = now()
        let waveform: Waveform
        do { waveform = try Waveform(samples: samples, sampleRate: sampleRate) } catch { throw .audio(error) }
        let decodeSeconds = now() - start
        var result = embed(waveform: waveform)
        result.timings.decode = decodeSeconds
        return result
    }

    /// Embeds 16 kHz audio, all rows in memory (the streaming `embed(waveform:sink:)` collected).
    public func embed(waveform: Waveform) -> Embeddings {
        var values: [Float] = []
        let info = embed(waveform: waveform) { (chunk: ChunkEmbeddings) in values += chunk.values }
        return Embeddings(values: values, info: info)
    }

    /// Prepared audio's second pass, every row in memory.
    private func collect(_ prepared: PreparedAudio) throws(VoxEncError) -> Embeddings {
        var values: [Float] = []
        values.reserveCapacity(prepared.info.frameCount * prepared.info.dimension)
        var info = prepared.info
        let seconds = try encodeSteps(of: prepared) { (chunk: ChunkEmbeddings) in values += chunk.values }
        info.timings.mel += seconds.mel
        info.timings.encoder = seconds.encoder
        info.timings.adapter = seconds.adapter
        return Embeddings(values: values, info: info)
    }

    /// What `embed(waveform:)` will produce, before any work: shapes, rates, counts.
    public func info(for waveform: Waveform) -> EmbeddingsInfo {
        var timings = Timings()
        timings.audioSeconds = waveform.durationSeconds
        return makeInfo(kind: kind, sampleCount: waveform.samples.count, duration: waveform.durationSeconds,
                        sourceSampleRate: waveform.sourceSampleRate, sourceChannelCount: waveform.sourceChannelCount,
                        timings: timings)
    }

    /// Embeds step by step, handing each step's rows to `sink` in order as soon as they exist. Memory holds the
    /// 16 kHz samples and about `chunksPerBatch` steps of mel and of output: the clamp's whole-audio maximum comes
    /// from a first pass, the second pass encodes. Bit-identical to slicing the whole-audio mel.
    @discardableResult
    public func embed<E: Error>(waveform: Waveform, sink: (ChunkEmbeddings) throws(E) -> Void) throws(E) -> EmbeddingsInfo {
        var info = info(for: waveform)
        let start = now()
        if encoderModel.frontEnd.isCausal {
            let next = blocks(of: waveform.samples)
            let seconds = try encodeCausalRows(read: { () throws(E) -> [Float]? in next() }, info: info, sink: sink)
            info.timings.mel = seconds.mel
            info.timings.encoder = seconds.encoder
            info.timings.adapter = seconds.adapter
            return info
        }
        let maximum = firstPass(read: blocks(of: waveform.samples)).top
        let firstPass = now() - start
        let next = blocks(of: waveform.samples)
        let source = MelSource(spectrogram: frontEnd, maximum: maximum, expectedSteps: info.chunkCount, name: "<samples>",
                               read: { () throws(VoxEncError) -> [Float]? in next() })
        let seconds = try encodeSteps(of: source, chunkCount: info.chunkCount, sink: sink)
        info.timings.mel = firstPass + seconds.mel
        info.timings.encoder = seconds.encoder
        info.timings.adapter = seconds.adapter
        return info
    }

    /// Embeds a file with memory independent of its duration: a first pass decodes it to find the clamp's
    /// whole-audio maximum, `begin` then receives the output's description (to write a header), and a second pass
    /// decodes it again, computing, encoding and handing each batch of steps to `sink` in order. Holds about one
    /// chunk of samples, `chunksPerBatch` steps of mel and of output. Bit-identical to `embed(fileAt:)`.
    @discardableResult
    public func embedStreaming(fileAt path: String, channels: ChannelSelection = .average,
                               begin: (EmbeddingsInfo, [String]) throws(VoxEncError) -> Void,
                               sink: (ChunkEmbeddings) throws(VoxEncError) -> Void) throws(VoxEncError) -> EmbeddingsInfo {
        let prepared = try prepare(fileAt: path, channels: channels)
        var info = prepared.info
        try begin(info, prepared.warnings)
        let seconds = try encodeSteps(of: prepared, sink: sink)
        info.timings.encoder = seconds.encoder
        info.timings.adapter = seconds.adapter
        info.timings.mel = seconds.mel
        return info
    }

    /// Embeds step by step on a thread of its own (`ChunkPump`): a batch is computed only when the consumer asks for
    /// its first step, so nothing runs once the consumer stops iterating. Cancelling the consuming task ends the
    /// sequence; if a batch is being computed, it is finished first and the wait throws `VoxEncError.cancelled`.
    public func chunkEmbeddings(of waveform: Waveform) -> AsyncThrowingStream<ChunkEmbeddings, any Error> {
        let pump = ChunkPump { [self] channel in
            do {
                try embed(waveform: waveform) { (chunk: ChunkEmbeddings) throws(VoxEncError) in try channel.deliver(chunk) }
                channel.finish(.success(()))
            } catch {
                channel.finish(.failure(error))
            }
        }
        return AsyncThrowingStream(unfolding: { try await pump.next() })
    }

    // MARK: - Stages

    /// Samples at 16 kHz → independent [M, 3000] chunks (the mel is computed over the whole audio first).
    public func melChunks(samples: [Float]) -> [MelChunk] {
        frontEnd.chunks(samples)
    }

    /// Mel steps → encoder states [steps · rows, D], the steps on the batch axis.
    public func encode(_ chunks: [MelChunk]) -> [Float] {
        guard !chunks.isEmpty else { return [] }
        precondition(!encoderModel.frontEnd.isCausal, "a causal model runs as a stream (StreamingSession)")
        precondition(chunks.allSatisfy { $0.melBinCount == melBinCount && $0.frameCount == melFramesPerStep },
                     "mel steps of another shape than the model's")
        var output = [Float](repeating: 0, count: chunks.count * encoderModel.output(.encoder).valuesPerStep)
        let mel = chunks.flatMap(\.values)
        mel.withUnsafeBufferPointer { mel in
            output.withUnsafeMutableBufferPointer { out in
                _ = encode(mel: mel.baseAddress!, steps: chunks.count, kind: .encoder, into: out.baseAddress!)
            }
        }
        return output
    }

    /// Encoder states [rows, D] (whole steps) → adapter output. Nil without an adapter.
    public func adapt(_ states: [Float]) -> [Float]? {
        guard hasAdapter else { return nil }
        precondition(!isCausal, "a causal model runs as a stream (StreamingSession)")
        let encoder = encoderModel.output(.encoder), adapter = encoderModel.output(.adapter)
        precondition(states.count % encoder.valuesPerStep == 0, "states must be whole steps [k · rows, D]")
        let steps = states.count / encoder.valuesPerStep
        var output = [Float](repeating: 0, count: steps * adapter.valuesPerStep)
        sessions.withSession(capacity: 1) { session in
            Parallel.withThreads(configuration.threadCount) {
                states.withUnsafeBufferPointer { s in
                    output.withUnsafeMutableBufferPointer { out in
                        session.adapt(states: s.baseAddress!, rows: steps * encoder.rowsPerStep, into: out.baseAddress!)
                    }
                }
            }
        }
        return output
    }

    // MARK: - Internals

    /// Encodes `steps` mel steps and writes `kind`'s rows to `output`, on a session of the pool and this Embedder's
    /// threads. Returns the encoder and adapter seconds.
    func encode(mel: UnsafePointer<Float>, steps: Int, kind: EmbeddingKind, into output: UnsafeMutablePointer<Float>)
        -> (encoder: Double, adapter: Double) {
        batchesStarted.add(1, ordering: .relaxed)
        return sessions.withSession(capacity: steps) { session in
            Parallel.withThreads(configuration.threadCount) {
                session.encode(mel: mel, steps: steps, kind: kind, into: output)
            }
        }
    }
}
