// The result of embedding one audio: a value with its shape and metadata.

import VoxEncModel

public struct Embeddings: Sendable {
    /// Row-major [frameCount, dimension].
    public var values: [Float]
    public var info: EmbeddingsInfo

    public var frameCount: Int { info.frameCount }
    public var dimension: Int { info.dimension }
    public var kind: EmbeddingKind { info.kind }
    public var frameRate: Double { info.frameRate }
    public var validFrameCount: Int { info.validFrameCount }
    public var durationSeconds: Double { info.durationSeconds }
    public var chunkCount: Int { info.chunkCount }
    public var sourceSampleRate: Int { info.sourceSampleRate }
    public var sourceChannelCount: Int { info.sourceChannelCount }
    public var melBinCount: Int { info.melBinCount }
    public var model: ModelDescription { info.model }
    public var precision: Precision { info.precision }
    public var int8FloatLayers: Int? { info.int8FloatLayers }
    public var timings: Timings {
        get { info.timings }
        set { info.timings = newValue }
    }

    /// Row `frame`.
    public subscript(frame frame: Int) -> ArraySlice<Float> {
        values[(frame * dimension)..<((frame + 1) * dimension)]
    }

    /// Rows of chunk `index`.
    public func rows(ofChunk index: Int) -> Range<Int> {
        let perChunk = frameCount / max(1, chunkCount)
        return (index * perChunk)..<((index + 1) * perChunk)
    }
}

/// Everything about an embedding but its values: shape, rates, counts, source and model. Known before the first
/// chunk is encoded, so streamed outputs can write their header first.
public struct EmbeddingsInfo: Sendable {
    public var frameCount: Int
    public var dimension: Int
    public var kind: EmbeddingKind
    /// Rows per second of audio (Whisper: 12.5 Hz adapter, 50 Hz encoder).
    public var frameRate: Double
    /// Rows that cover real audio: ceil(duration · frameRate). The rows after them embed the zero padding of the
    /// last chunk, which the reference keeps (frameCount = 375·N or 1500·N).
    public var validFrameCount: Int
    public var durationSeconds: Double
    public var chunkCount: Int
    /// Seconds of audio per chunk (the model's step; Whisper: 30).
    public var stepSeconds: Double
    /// Source audio facts.
    public var sourceSampleRate: Int
    public var sourceChannelCount: Int
    public var melBinCount: Int
    public var model: ModelDescription
    public var timings: Timings
    /// The arithmetic of the large GEMMs that made these values (f32 or int8; docs/precision.md).
    public var precision: Precision = .float32
    /// With int8: the encoder layers that ran in float32 (the first ones); nil with f32.
    public var int8FloatLayers: Int? = nil
    /// Rows before the audio: a causal model's silent left pad (Voxtral Realtime: 32 tokens), 0 for chunked models.
    /// The audio's rows are leadingPadFrameCount ..< leadingPadFrameCount + validFrameCount.
    public var leadingPadFrameCount: Int = 0
}

/// The rows of one chunk (the model's step), yielded in order.
public struct ChunkEmbeddings: Sendable {
    /// The chunk these rows belong to (0-based, in order).
    public var index: Int
    public var chunkCount: Int
    /// [rows, dimension].
    public var values: [Float]
    public var rowCount: Int
    public var dimension: Int
    /// Seconds from the start of the audio to the chunk's first row.
    public var startSeconds: Double

    public init(index: Int, chunkCount: Int, values: [Float], rowCount: Int, dimension: Int, startSeconds: Double) {
        self.index = index
        self.chunkCount = chunkCount
        self.values = values
        self.rowCount = rowCount
        self.dimension = dimension
        self.startSeconds = startSeconds
    }
}
