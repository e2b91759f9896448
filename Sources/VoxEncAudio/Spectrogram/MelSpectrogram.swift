// Results of the front end: the whole-audio log-mel and its independent chunks (Whisper: 3000 frames, 30 s).

/// Normalised log-mel of one whole audio: [melBinCount, frameCount] row-major, frameCount = framesPerChunk·N.
public struct MelSpectrogram: Sendable, Equatable {
    public let melBinCount: Int
    public let frameCount: Int
    /// Frames per chunk (FrontEndConfiguration.framesPerChunk).
    public let framesPerChunk: Int
    /// Row-major [melBinCount, frameCount].
    public let values: [Float]
    /// The largest log10 mel energy of the whole audio (before the clamp); the clamp sits 8 below it.
    public let maximumLog10: Float

    public var chunkCount: Int { frameCount / framesPerChunk }

    /// Value at mel bin `mel`, frame `frame`.
    public subscript(mel: Int, frame: Int) -> Float { values[mel * frameCount + frame] }

    /// Chunk `index`: frames [w·index, w·index + w) of every mel bin, w = framesPerChunk.
    public func chunk(_ index: Int) -> MelChunk {
        precondition(index >= 0 && index < chunkCount, "chunk index out of range")
        let width = framesPerChunk
        var chunk = [Float](repeating: 0, count: melBinCount * width)
        for m in 0..<melBinCount {
            let from = m * frameCount + index * width
            chunk.replaceSubrange(m * width..<(m + 1) * width, with: values[from..<(from + width)])
        }
        return MelChunk(index: index, melBinCount: melBinCount, values: chunk)
    }

    public var chunks: [MelChunk] { (0..<chunkCount).map(chunk) }
}

/// One encoder input: [melBinCount, frameCount] row-major (Whisper: [M, 3000]).
public struct MelChunk: Sendable, Equatable {
    /// Position of the chunk in its audio (0-based); chunk k starts at k chunk lengths (Whisper: 30·k seconds).
    public let index: Int
    public let melBinCount: Int
    public let values: [Float]
    public var frameCount: Int { values.count / melBinCount }

    /// A chunk from values computed elsewhere (e.g. a reference front end): [melBinCount, frames] row-major.
    public init(index: Int, melBinCount: Int, values: [Float]) {
        precondition(melBinCount > 0 && !values.isEmpty && values.count % melBinCount == 0, "a chunk is [M, frames]")
        self.index = index
        self.melBinCount = melBinCount
        self.values = values
    }
}
