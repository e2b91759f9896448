// The public facade: load a model once, then embed files or buffers, whole or chunk by chunk.
// Pipeline: Waveform (decode + soxr HQ) → LogMelSpectrogram (whole audio) → AudioEncoder (chunks on the batch axis)
// → Adapter (stack 4 frames → Linear → GELU → Linear). Letters: N chunks, T = 1500, D width, Dt adapter width.

import Synchronization
import VoxEncModel

/// A loaded model, shareable between threads: the weights are immutable, each call borrows a workspace from a pool.
public final class Embedder: Sendable {
    public let model: ModelDescription
    public let configuration: EmbedderConfiguration
    public let kind: EmbeddingKind
    public let encoder: AudioEncoder
    public let adapter: Adapter?
    public let frontEnd: LogMelSpectrogram
    private let pool: Mutex<[WorkspaceBox]>
    /// Batches `run(mel:chunkCount:into:)` has started: lets tests see that nothing is computed ahead of a request.
    let batchesStarted = Atomic<Int>(0)

    /// Loads the model in `directory` (Hugging Face Voxtral or Whisper, Mistral native, CTranslate2; see
    /// Weights/README.md). With `precision` int8 or bf16, refuses before reading the weights when it cannot run here.
    /// The encoder is made as its layers are read (AudioEncoder(reading:…)): a packed or quantised model never holds
    /// its whole float32 copy (Voxtral Mini bf16: ≈ 1.3 GB of weights resident, not 2.5 GB of float32 first).
    public convenience init(modelDirectory: String, configuration: EmbedderConfiguration = .init()) throws(VoxEncError) {
        do { try configuration.precision.checkSupported() } catch { throw .precision(error) }
        let model: ModelReader
        do { model = try ModelLoader.open(directory: modelDirectory) } catch { throw .model(error) }
        let gemm = GEMMRouting.resolve(configuration.floatGEMM).backend
        let encoder: AudioEncoder, adapter: Adapter?
        do {
            (encoder, adapter) = try Parallel.withThreads(configuration.threadCount) { () throws(EncoderLoadError) in
                let encoder = try AudioEncoder(reading: model, precision: configuration.precision,
                                               floatLayers: configuration.int8FloatLayers, gemm: gemm)
                let adapterWeights: AdapterWeights?
                do throws(ModelError) { adapterWeights = try model.readAdapter() } catch { throw .model(error) }
                guard let adapterWeights = consume adapterWeights else { return (encoder, nil) }
                do throws(QuantisationError) {
                    return (encoder, try Adapter(weights: consume adapterWeights, precision: configuration.precision,
                                                 gemm: gemm))
                } catch {
                    throw .kernels(error)
                }
            }
        } catch {
            switch error {
            case .model(let error): throw .model(error)
            case .kernels(let error): throw .precision(error)
            }
        }
        self.init(model: model.finish().description, encoder: encoder, adapter: adapter, configuration: configuration)
    }

    /// Wraps weights already in memory (benchmarks, tests). Throws only for int8 and bf16 (`VoxEncError.precision`).
    /// When `loaded` is handed over (`consume`), the float32 matrices that a kernel holds in another form are freed
    /// while the encoder is made (peak memory: the float32 weights plus one layer); a copy kept by the caller keeps
    /// them alive.
    public convenience init(model loaded: consuming LoadedModel, configuration: EmbedderConfiguration = .init())
        throws(VoxEncError) {
        let (description, encoderWeights, adapterWeights) = Self.split(loaded)
        let gemm = GEMMRouting.resolve(configuration.floatGEMM).backend
        // Handed to the encoder and adapter through a box, so that no binding here keeps the float32 arrays alive.
        let handover = Handover((consume encoderWeights, consume adapterWeights))
        let encoder: AudioEncoder, adapter: Adapter?
        do {
            (encoder, adapter) = try Parallel.withThreads(configuration.threadCount) { () throws(QuantisationError) in
                let (encoderWeights, adapterWeights) = handover.take()
                let encoder = try AudioEncoder(weights: consume encoderWeights, precision: configuration.precision,
                                               floatLayers: configuration.int8FloatLayers, gemm: gemm)
                guard let adapterWeights = consume adapterWeights else { return (encoder, nil) }
                return (encoder, try Adapter(weights: consume adapterWeights, precision: configuration.precision,
                                             gemm: gemm))
            }
        } catch {
            throw .precision(error)
        }
        self.init(model: description, encoder: encoder, adapter: adapter, configuration: configuration)
    }

    /// The encoder and adapter made; `configuration.kind` decides what the calls return.
    private init(model description: ModelDescription, encoder: AudioEncoder, adapter: Adapter?,
                 configuration: EmbedderConfiguration) {
        self.model = description
        self.configuration = configuration
        self.kind = (configuration.kind == .encoder || adapter == nil) ? .encoder : .adapter
        self.encoder = encoder
        self.adapter = adapter
        self.frontEnd = LogMelSpectrogram(configuration: FrontEndConfiguration(melBinCount: encoder.configuration.melBinCount))
        self.pool = Mutex([])
    }

    /// A model's parts, the model itself gone (so that its arrays are referenced once, by the parts).
    private static func split(_ loaded: consuming LoadedModel) -> (ModelDescription, EncoderWeights, AdapterWeights?) {
        (loaded.description, loaded.encoder, loaded.adapter)
    }

    /// The float32 GEMM backend this Embedder runs (GEMMRouting's choice, or the configuration's).
    public var floatGEMM: FloatGEMM { encoder.gemm }

    /// With int8: the encoder layers that run in float32 (at most the layer count); nil with f32.
    var int8FloatLayers: Int? {
        encoder.quantised.map { quantised in quantised.layers.prefix { $0 == nil }.count }
    }

    /// Output width: Dt (adapter) or D (encoder).
    public var dimension: Int { dimension(kind) }
    /// Rows per 30 s chunk: 375 (adapter) or 1500 (encoder).
    public var rowsPerChunk: Int { rowsPerChunk(kind) }
    /// 12.5 Hz (adapter) or 50 Hz (encoder).
    public var frameRate: Double { frameRate(kind) }

    /// What a call asking for `requested` gets: encoder states when asked, or when the model has no adapter.
    public func resolvedKind(_ requested: EmbeddingKind?) -> EmbeddingKind {
        guard let requested else { return kind }
        return requested == .encoder || adapter == nil ? .encoder : .adapter
    }
    func dimension(_ kind: EmbeddingKind) -> Int {
        kind == .adapter ? adapter!.weights.configuration.outputDimension : encoder.configuration.modelDimension
    }
    func rowsPerChunk(_ kind: EmbeddingKind) -> Int {
        kind == .adapter ? encoder.configuration.maxPositions / adapter!.weights.configuration.stackFactor
            : encoder.configuration.maxPositions
    }
    func frameRate(_ kind: EmbeddingKind) -> Double { Double(rowsPerChunk(kind)) / 30 }

    // MARK: - One call

    /// Decodes, resamples and embeds an audio file.
    public func embed(fileAt path: String, channels: ChannelSelection = .average) throws(VoxEncError) -> Embeddings {
        try embed { () throws(AudioError) in try Waveform(contentsOf: path, channels: channels) }
    }

    /// Decodes an encoded file held in memory (no temporary file), resamples and embeds it: the same values as
    /// `embed(fileAt:)` on a file with these bytes. `name` stands for the path in errors.
    public func embed(bytes: [UInt8], name: String, channels: ChannelSelection = .average) throws(VoxEncError) -> Embeddings {
        try embed { () throws(AudioError) in try Waveform(bytes: bytes, name: name, channels: channels) }
    }

    /// Embeds mono samples at any rate (resampled to 16 kHz with soxr HQ when needed).
    public func embed(samples: [Float], sampleRate: Int) throws(VoxEncError) -> Embeddings {
        try embed { () throws(AudioError) in try Waveform(samples: samples, sampleRate: sampleRate) }
    }

    /// Decodes (timed as `decode`), then embeds.
    private func embed(decoding decode: () throws(AudioError) -> Waveform) throws(VoxEncError) -> Embeddings {
        let start = now()
        let waveform: Waveform
        do { waveform = try decode() } catch { throw .audio(error) }
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

    /// What `embed(waveform:)` will produce, before any work: shapes, rates, counts.
    public func info(for waveform: Waveform) -> EmbeddingsInfo {
        let chunkCount = FrontEndConfiguration.chunkCount(sampleCount: waveform.samples.count)
        var timings = Timings()
        timings.audioSeconds = waveform.durationSeconds
        return EmbeddingsInfo(frameCount: chunkCount * rowsPerChunk, dimension: dimension, kind: kind,
                              frameRate: frameRate,
                              validFrameCount: Self.validFrames(duration: waveform.durationSeconds, rate: frameRate,
                                                                limit: chunkCount * rowsPerChunk),
                              durationSeconds: waveform.durationSeconds, chunkCount: chunkCount,
                              sourceSampleRate: waveform.sourceSampleRate, sourceChannelCount: waveform.sourceChannelCount,
                              melBinCount: frontEnd.configuration.melBinCount, model: model, timings: timings,
                              precision: configuration.precision, int8FloatLayers: int8FloatLayers)
    }

    /// Embeds chunk by chunk, handing each batch's rows to `sink` in order as soon as they exist. Memory holds the
    /// 16 kHz samples and about `chunksPerBatch` chunks of mel and of output: the mel's whole-audio maximum comes
    /// from a first pass (`maximumLog10`), the second pass encodes (`encodeChunks`). Bit-identical to slicing the
    /// whole-audio mel.
    @discardableResult
    public func embed<E: Error>(waveform: Waveform, sink: (ChunkEmbeddings) throws(E) -> Void) throws(E) -> EmbeddingsInfo {
        var info = info(for: waveform)
        let start = now()
        let (maximum, _) = maximumLog10(read: Self.blocks(of: waveform.samples))
        let firstPass = now() - start
        let next = Self.blocks(of: waveform.samples)
        let seconds = try encodeChunks(chunkCount: info.chunkCount, chunks: { body throws(E) in
            try forEachNormalisedChunk(maximum: maximum, read: { () throws(E) -> [Float]? in next() }, body)
        }, sink: sink)
        info.timings.mel = firstPass + seconds.mel
        info.timings.encoder = seconds.encoder
        info.timings.adapter = seconds.adapter
        return info
    }

    /// Embeds a file with memory independent of its duration: a first pass decodes it to find the mel's
    /// whole-audio maximum, `begin` then receives the output's description (to write a header), and a second pass
    /// decodes it again, computing, encoding and handing each batch of chunks to `sink` in order. Holds about one
    /// chunk of samples, `chunksPerBatch` chunks of mel and of output. Bit-identical to `embed(fileAt:)`.
    @discardableResult
    public func embedStreaming(fileAt path: String, channels: ChannelSelection = .average,
                               begin: (EmbeddingsInfo, [String]) throws(VoxEncError) -> Void,
                               sink: (ChunkEmbeddings) throws(VoxEncError) -> Void) throws(VoxEncError) -> EmbeddingsInfo {
        let prepared = try prepare(fileAt: path, channels: channels)
        var info = prepared.info
        try begin(info, prepared.warnings)
        let seconds = try encodeChunks(chunkCount: info.chunkCount, chunks: { body throws(VoxEncError) in
            try forEachChunk(of: prepared, body)
        }, sink: sink)
        info.timings.encoder = seconds.encoder
        info.timings.adapter = seconds.adapter
        info.timings.mel = seconds.mel
        return info
    }

    // MARK: - The two passes every embedding makes

    /// A file after the first pass: what its embedding will be, and the mel maximum the second pass clamps with.
    struct PreparedFile: Sendable {
        let path: String
        /// The encoded bytes, for audio uploaded rather than read from `path` (then only its name in messages).
        var bytes: [UInt8]? = nil
        let channels: ChannelSelection
        var info: EmbeddingsInfo
        let maximum: Float
        /// Damaged-but-readable input, said once (e.g. "data ends mid-frame").
        let warnings: [String]
    }

    /// Pass 1 over a file: decodes it once to find the mel's whole-audio maximum, its length and source facts.
    func prepare(fileAt path: String, channels: ChannelSelection) throws(VoxEncError) -> PreparedFile {
        do {
            return try prepare(path: path, bytes: nil, channels: channels, kind: kind)
        } catch {
            switch error {
            case .embedding(let error): throw error
            case .tooLong: preconditionFailure("no sample limit was given")
            }
        }
    }

    /// Pass 1 over encoded bytes in memory (`name` stands for the path in messages), for `kind`'s output. With
    /// `maximumSamples`, stops reading past that many 16 kHz samples and throws `tooLong(samples:)`.
    func prepare(bytes: [UInt8], name: String, channels: ChannelSelection, kind: EmbeddingKind,
                 maximumSamples: Int? = nil) throws(PrepareError) -> PreparedFile {
        try prepare(path: name, bytes: bytes, channels: channels, kind: kind, maximumSamples: maximumSamples)
    }

    enum PrepareError: Error { case embedding(VoxEncError), tooLong(samples: Int) }

    private func prepare(path: String, bytes: [UInt8]?, channels: ChannelSelection, kind: EmbeddingKind,
                         maximumSamples: Int? = nil) throws(PrepareError) -> PreparedFile {
        let start = now()
        let first: AudioStream
        do { first = try Self.open(path: path, bytes: bytes, channels: channels) } catch { throw .embedding(.audio(error)) }
        let maximum: Float, sampleCount: Int
        var read = 0
        do {
            (maximum, sampleCount) = try maximumLog10(read: { () throws(PrepareError) -> [Float]? in
                let block: [Float]?
                do throws(AudioError) { block = try first.next() } catch { throw .embedding(.audio(error)) }
                read += block?.count ?? 0
                if let maximumSamples, read > maximumSamples { throw .tooLong(samples: read) }
                return block
            })
        }
        let duration = Double(first.sourceFrameCount) / Double(first.info.sampleRate)
        let chunkCount = FrontEndConfiguration.chunkCount(sampleCount: sampleCount)
        let rowsPerChunk = rowsPerChunk(kind), dimension = dimension(kind), frameRate = frameRate(kind)
        var info = EmbeddingsInfo(frameCount: chunkCount * rowsPerChunk, dimension: dimension, kind: kind,
                                  frameRate: frameRate,
                                  validFrameCount: Self.validFrames(duration: duration, rate: frameRate,
                                                                    limit: chunkCount * rowsPerChunk),
                                  durationSeconds: duration, chunkCount: chunkCount,
                                  sourceSampleRate: first.info.sampleRate, sourceChannelCount: first.info.channelCount,
                                  melBinCount: frontEnd.configuration.melBinCount, model: model, timings: Timings(),
                                  precision: configuration.precision, int8FloatLayers: int8FloatLayers)
        info.timings.audioSeconds = duration
        info.timings.decode = now() - start
        return PreparedFile(path: path, bytes: bytes, channels: channels, info: info, maximum: maximum,
                            warnings: first.warnings)
    }

    private static func open(path: String, bytes: [UInt8]?, channels: ChannelSelection) throws(AudioError) -> AudioStream {
        if let bytes { return try AudioStream(bytes: bytes, name: path, channels: channels) }
        return try AudioStream(contentsOf: path, channels: channels)
    }

    /// Pass 2 over a file: decoded again, each chunk's normalised log-mel [M · 3000] handed to `body` in order.
    /// A file that yields other chunks than pass 1 counted (it changed in between) is reported, not trusted.
    func forEachChunk(of prepared: PreparedFile,
                      _ body: (Int, UnsafeBufferPointer<Float>) throws(VoxEncError) -> Void) throws(VoxEncError) {
        let second: AudioStream
        do { second = try Self.open(path: prepared.path, bytes: prepared.bytes, channels: prepared.channels) } catch {
            throw .audio(error)
        }
        let expected = prepared.info.chunkCount
        func changed(_ count: Int) -> VoxEncError {
            .audio(.corrupt(path: prepared.path, reason: "the file changed while it was read (\(expected) chunks, then \(count))"))
        }
        var count = 0
        try forEachNormalisedChunk(maximum: prepared.maximum, read: { () throws(VoxEncError) -> [Float]? in
            do throws(AudioError) { return try second.next() } catch { throw .audio(error) }
        }) { index, mel throws(VoxEncError) in
            guard index < expected else { throw changed(index + 1) }
            count = index + 1
            try body(index, mel)
        }
        guard count == expected else { throw changed(count) }
    }

    /// Pass 2 without the encoder: each chunk's log-mel [M · 3000], clamped with the whole audio's maximum and
    /// scaled, handed to `body` in order (what `encodeChunks` batches; a batch job packs several files' chunks).
    func forEachNormalisedChunk<E: Error>(maximum: Float, read: () throws(E) -> [Float]?,
                                          _ body: (Int, UnsafeBufferPointer<Float>) throws(E) -> Void) throws(E) {
        _ = try frontEnd.forEachLog10Chunk(read: read) { index, values throws(E) in
            frontEnd.normalise(values, maximumLog10: maximum)
            try body(index, UnsafeBufferPointer(values))
        }
    }

    /// Pass 1: the whole audio's largest log10 mel value and its sample count, chunk by chunk from `read`.
    func maximumLog10<E: Error>(read: () throws(E) -> [Float]?) throws(E) -> (Float, Int) {
        var maximum: Float = -.infinity
        let count = try frontEnd.forEachLog10Chunk(read: read) { _, values throws(E) in
            for v in values { maximum = max(maximum, v) }
        }
        return (maximum, count)
    }

    /// Pass 2's encoding: the normalised chunks from `chunks`, encoded `chunksPerBatch` at a time, their rows handed
    /// to `sink` in order. Returns the seconds spent in the mel (decode included), encoder and adapter.
    private func encodeChunks<E: Error>(
        chunkCount: Int,
        chunks: ((Int, UnsafeBufferPointer<Float>) throws(E) -> Void) throws(E) -> Void,
        sink: (ChunkEmbeddings) throws(E) -> Void
    ) throws(E) -> (mel: Double, encoder: Double, adapter: Double) {
        let start = now()
        var batch = ChunkBatch<Int>(capacity: configuration.chunksPerBatch, melBinCount: frontEnd.configuration.melBinCount)
        var encoderSeconds = 0.0, adapterSeconds = 0.0
        try withoutActuallyEscaping(sink) { (sink) throws(E) in
            func flush() throws(E) {
                guard !batch.tags.isEmpty else { return }
                let done = batch.encode(with: self)
                encoderSeconds += done.encoder
                adapterSeconds += done.adapter
                // One value per chunk, whatever the batch: a stream's consumer sees chunks, not batches.
                let width = rowsPerChunk * dimension
                for (position, index) in done.tags.enumerated() {
                    try sink(ChunkEmbeddings(index: index, chunkCount: chunkCount,
                                             values: Array(done.rows[(position * width)..<((position + 1) * width)]),
                                             rowCount: rowsPerChunk, dimension: dimension))
                }
            }
            try chunks { index, values throws(E) in
                batch.append(values, tag: index)
                if batch.isFull { try flush() }
            }
            try flush()
        }
        let total = now() - start
        return (max(0, total - encoderSeconds - adapterSeconds), encoderSeconds, adapterSeconds)
    }

    /// Reads an in-memory signal one chunk's worth of samples at a time (what `forEachLog10Chunk` consumes).
    private static func blocks(of samples: [Float]) -> () -> [Float]? {
        var position = 0
        return {
            guard position < samples.count else { return nil }
            let end = min(samples.count, position + FrontEndConfiguration.chunkSampleCount)
            defer { position = end }
            return Array(samples[position..<end])
        }
    }

    /// ceil(duration · rate), computed in a way that is exact for whole multiples (30 s → 375).
    static func validFrames(duration: Double, rate: Double, limit: Int) -> Int {
        let exact = duration * rate
        let rounded = exact.rounded()
        let frames = abs(exact - rounded) < 1e-9 ? Int(rounded) : Int(exact.rounded(.up))
        return min(max(frames, 0), limit)
    }

    // MARK: - Stages

    /// Samples at 16 kHz → independent [M, 3000] chunks (the mel is computed over the whole audio first).
    public func melChunks(samples: [Float]) -> [MelChunk] {
        frontEnd.chunks(samples)
    }

    /// Mel chunks → encoder states [chunks·T, D], the chunks on the batch axis.
    public func encode(_ chunks: [MelChunk]) -> [Float] {
        let t = encoder.configuration.maxPositions, d = encoder.configuration.modelDimension
        guard !chunks.isEmpty else { return [] }
        precondition(chunks.allSatisfy { $0.melBinCount == encoder.configuration.melBinCount }, "mel bins differ from the model's")
        var output = [Float](repeating: 0, count: chunks.count * t * d)
        let mel = chunks.flatMap(\.values)
        withWorkspace(capacity: chunks.count) { workspace in
            Parallel.withThreads(configuration.threadCount) {
                mel.withUnsafeBufferPointer { mel in
                    output.withUnsafeMutableBufferPointer { out in
                        encoder.encode(mel: mel.baseAddress!, chunkCount: chunks.count, workspace: workspace.encoder,
                                       into: out.baseAddress!)
                    }
                }
            }
        }
        return output
    }

    /// Encoder states [rows, D] (rows a multiple of 4) → adapter output [rows / 4, Dt]. Nil without an adapter.
    public func adapt(_ states: [Float]) -> [Float]? {
        guard let adapter else { return nil }
        let c = adapter.weights.configuration
        let d = encoder.configuration.modelDimension
        let frames = states.count / d
        precondition(states.count % d == 0 && frames % c.stackFactor == 0, "states must be [4k, D]")
        var output = [Float](repeating: 0, count: frames / c.stackFactor * c.outputDimension)
        var scratch = [Float](repeating: 0, count: frames / c.stackFactor * c.outputDimension)
        let quantisation = adapter.quantised.map { _ in
            let shape = adapter.quantisationShape(frames: frames)
            return QuantisationScratch(rows: shape.rows, inputWidth: shape.inputWidth, outputWidth: shape.outputWidth)
        }
        Parallel.withThreads(configuration.threadCount) {
            states.withUnsafeBufferPointer { s in
                scratch.withUnsafeMutableBufferPointer { scratch in
                    output.withUnsafeMutableBufferPointer { out in
                        adapter.apply(encoderStates: s.baseAddress!, frames: frames,
                                      chunkFrames: encoder.configuration.maxPositions, scratch: scratch.baseAddress!,
                                      quantisation: quantisation, into: out.baseAddress!)
                    }
                }
            }
        }
        return output
    }

    /// Embeds chunk after chunk, for long audio: a first pass finds the whole audio's mel maximum (the clamp needs
    /// it), then each batch of `chunksPerBatch` chunks is computed and encoded, and its chunks are yielded one value
    /// each, in order (`embed(waveform:sink:)`). The work runs on a thread of its own (`ChunkPump`): a batch is
    /// computed only when the consumer asks for its first chunk, so nothing runs once the consumer stops iterating. Cancelling the consuming task ends
    /// the sequence; if a batch is being computed, it is finished first and the wait throws `VoxEncError.cancelled`.
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

    // MARK: - Internals

    /// Encodes `chunkCount` chunks of mel [M, 3000] each and writes rowsPerChunk·chunkCount rows to `output`.
    /// Returns the encoder and adapter seconds.
    func run(mel: UnsafePointer<Float>, chunkCount: Int, into output: UnsafeMutablePointer<Float>)
        -> (encoder: Double, adapter: Double) {
        run(mel: mel, chunkCount: chunkCount, kind: kind, into: output)
    }

    /// `run` for `kind`'s output (encoder states from a model with an adapter: `voxenc serve`'s encoder_only).
    func run(mel: UnsafePointer<Float>, chunkCount: Int, kind: EmbeddingKind, into output: UnsafeMutablePointer<Float>)
        -> (encoder: Double, adapter: Double) {
        batchesStarted.add(1, ordering: .relaxed)
        let t = encoder.configuration.maxPositions
        var seconds = (encoder: 0.0, adapter: 0.0)
        withWorkspace(capacity: chunkCount) { workspace in
            Parallel.withThreads(configuration.threadCount) {
                var start = now()
                if let adapter, kind == .adapter {
                    let states = workspace.states(rows: chunkCount * t)
                    encoder.encode(mel: mel, chunkCount: chunkCount, workspace: workspace.encoder, into: states)
                    seconds.encoder = now() - start
                    start = now()
                    adapter.apply(encoderStates: states, frames: chunkCount * t, chunkFrames: t,
                                  scratch: workspace.adapterScratch(rows: chunkCount * t / adapter.weights.configuration.stackFactor,
                                                                    width: adapter.weights.configuration.outputDimension),
                                  quantisation: adapter.quantised == nil ? nil
                                      : workspace.quantisation(adapter.quantisationShape(frames: chunkCount * t)),
                                  into: output)
                    seconds.adapter = now() - start
                } else {
                    encoder.encode(mel: mel, chunkCount: chunkCount, workspace: workspace.encoder, into: output)
                    seconds.encoder = now() - start
                }
            }
        }
        return seconds
    }

    /// Borrows a workspace that holds at least `capacity` chunks (made on first use, then reused).
    private func withWorkspace<R>(capacity: Int, _ body: (WorkspaceBox) -> R) -> R {
        let box: WorkspaceBox = pool.withLock { boxes in
            if let index = boxes.firstIndex(where: { $0.encoder.capacity >= capacity }) {
                return boxes.remove(at: index)
            }
            return WorkspaceBox(configuration: encoder.configuration, capacity: capacity,
                                threads: configuration.threadCount, precision: encoder.precision)
        }
        defer { pool.withLock { $0.append(box) } }
        return body(box)
    }
}

/// Holds a value until it is taken, once (moves ownership into a closure without a capture that outlives the move).
final class Handover<Value>: @unchecked Sendable {
    private var value: Value?
    init(_ value: consuming Value) { self.value = value }
    func take() -> Value {
        defer { value = nil }
        return value.take()!
    }
}

/// A workspace and the buffers around it; owned by one caller at a time (handed out under the pool's lock).
final class WorkspaceBox: @unchecked Sendable {
    let encoder: EncoderWorkspace
    private var statesBuffer = UnsafeMutableBufferPointer<Float>(start: nil, count: 0)
    private var scratchBuffer = UnsafeMutableBufferPointer<Float>(start: nil, count: 0)
    private var adapterQuantisation: QuantisationScratch?

    init(configuration: EncoderConfiguration, capacity: Int, threads: Int, precision: Precision) {
        encoder = EncoderWorkspace(configuration: configuration, capacity: capacity, threads: threads,
                                   precision: precision)
    }

    /// The int8 adapter's buffers: the encoder's when they fit (the encoder is done by then), else made once.
    func quantisation(_ shape: (rows: Int, inputWidth: Int, outputWidth: Int)) -> QuantisationScratch {
        for scratch in [encoder.quantisation, adapterQuantisation].compactMap({ $0 })
        where scratch.fits(rows: shape.rows, inputWidth: shape.inputWidth, outputWidth: shape.outputWidth) {
            return scratch
        }
        let scratch = QuantisationScratch(rows: shape.rows, inputWidth: shape.inputWidth, outputWidth: shape.outputWidth)
        adapterQuantisation = scratch
        return scratch
    }

    deinit {
        statesBuffer.deallocate()
        scratchBuffer.deallocate()
    }

    /// Encoder output [rows, D], the adapter's input.
    func states(rows: Int) -> UnsafeMutablePointer<Float> {
        Self.ensure(&statesBuffer, count: rows * encoder.configuration.modelDimension)
    }

    /// The adapter's hidden activations [rows, Dt].
    func adapterScratch(rows: Int, width: Int) -> UnsafeMutablePointer<Float> {
        Self.ensure(&scratchBuffer, count: rows * width)
    }

    private static func ensure(_ buffer: inout UnsafeMutableBufferPointer<Float>, count: Int) -> UnsafeMutablePointer<Float> {
        if buffer.count < count {
            buffer.deallocate()
            buffer = .allocate(capacity: count)
            buffer.initialize(repeating: 0)
        }
        return buffer.baseAddress!
    }
}
