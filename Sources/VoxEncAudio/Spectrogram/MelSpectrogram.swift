// Results of the front end: the whole-audio log-mel and its independent 30 s chunks.

/// Normalised log-mel of one whole audio: [melBinCount, frameCount] row-major, frameCount = 3000·N.
public struct MelSpectrogram: Sendable, Equatable {
    public let melBinCount: Int
    public let frameCount: Int
    /// Row-major [melBinCount, frameCount].
    public let values: [Float]
    /// The largest log10 mel energy of the whole audio (before the clamp); the clamp sits 8 below it.
    public let maximumLog10: Float

    public var chunkCount: Int { frameCount / FrontEndConfiguration.chunkFrameCount }

    /// Value at mel bin `mel`, frame `frame`.
    public subscript(mel: Int, frame: Int) -> Float { values[mel * frameCount + frame] }

    /// Chunk `index`: frames [3000·index, 3000·index + 3000) of every mel bin.
    public func chunk(_ index: Int) -> MelChunk {
        precondition(index >= 0 && index < chunkCount, "chunk index out of range")
        let width = FrontEndConfiguration.chunkFrameCount
        var chunk = [Float](repeating: 0, count: melBinCount * width)
        for m in 0..<melBinCount {
            let from = m * frameCount + index * width
            chunk.replaceSubrange(m * width..<(m + 1) * width, with: values[from..<(from + width)])
        }
        return MelChunk(index: index, melBinCount: melBinCount, values: chunk)
    }

    public var chunks: [MelChunk] { (0..<chunkCount).map(chunk) }
}

/// One encoder input: [melBinCount, 3000] row-major.
public struct MelChunk: Sendable, Equatable {
    /// Position of the chunk in its audio (0-based); chunk k starts at 30·k seconds.
    public let index: Int
    public let melBinCount: Int
    public let values: [Float]
    public var frameCount: Int { FrontEndConfiguration.chunkFrameCount }

    /// A chunk from values computed elsewhere (e.g. a reference front end): [melBinCount, 3000] row-major.
    public init(index: Int, melBinCount: Int, values: [Float]) {
        precondition(values.count == melBinCount * FrontEndConfiguration.chunkFrameCount, "a chunk is [M, 3000]")
        self.index = index
        self.melBinCount = melBinCount
        self.values = values
    }
}
