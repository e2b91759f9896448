// Normalised mel chunks waiting to be encoded together: one encoder call over all their rows. Each chunk carries a
// tag saying whose it is (a chunk index for one file; a file and chunk index when a batch job packs the chunks of
// several files together). A chunk's rows do not depend on what shares its batch (every GEMM runs in chunk-relative
// RowBlocks, attention never crosses chunks), so packing keeps outputs bit-identical on every backend.

import VoxEncAudio

/// Chunks [M, 3000] queued for one encoder batch of up to `capacity` chunks.
struct ChunkBatch<Tag> {
    let capacity: Int
    let melWidth: Int
    private var mel: [Float] = []
    private(set) var tags: [Tag] = []

    init(capacity: Int, melBinCount: Int) {
        self.capacity = max(1, capacity)
        self.melWidth = melBinCount * FrontEndConfiguration.chunkFrameCount
        mel.reserveCapacity(self.capacity * melWidth)
    }

    var count: Int { tags.count }
    var isEmpty: Bool { tags.isEmpty }
    var isFull: Bool { tags.count >= capacity }

    /// Queues one normalised chunk [M · 3000].
    mutating func append(_ chunk: UnsafeBufferPointer<Float>, tag: Tag) {
        precondition(chunk.count == melWidth, "a mel chunk is [M, 3000]")
        mel.append(contentsOf: chunk)
        tags.append(tag)
    }

    /// Encodes the queued chunks and empties the batch. Returns their rows [count · rowsPerChunk, width] in queue
    /// order, the tags in the same order, and the encoder and adapter seconds.
    mutating func encode(with embedder: Embedder, kind: EmbeddingKind? = nil)
        -> (rows: [Float], tags: [Tag], encoder: Double, adapter: Double) {
        let count = tags.count
        guard count > 0 else { return ([], [], 0, 0) }
        let kind = kind ?? embedder.kind
        var rows = [Float](repeating: 0, count: count * embedder.rowsPerChunk(kind) * embedder.dimension(kind))
        let seconds = mel.withUnsafeBufferPointer { mel in
            rows.withUnsafeMutableBufferPointer { out in
                embedder.run(mel: mel.baseAddress!, chunkCount: count, kind: kind, into: out.baseAddress!)
            }
        }
        let done = tags
        mel.removeAll(keepingCapacity: true)
        tags.removeAll(keepingCapacity: true)
        return (rows, done, seconds.encoder, seconds.adapter)
    }
}
