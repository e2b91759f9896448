// The one batch loop: mel steps from any number of owners (a file's chunks, a batch job's files, a server's
// requests) wait here until `capacity` of them can be encoded together, in one encoder call over all their rows;
// each flush hands the rows back, owner by owner, with each step's share of the batch's seconds. A step's rows do
// not depend on what shares its batch (every GEMM runs in step-relative RowBlocks, attention never crosses steps),
// so packing keeps outputs bit-identical on every backend. Used by Embedder, EmbeddingJob, EmbeddingQueue and, through
// Embedder, the C ABI.

/// Steps queued for one encoder batch of up to `capacity` steps of `kind`'s output.
struct BatchEncoder<Owner> {
    let embedder: Embedder
    let kind: EmbeddingKind
    let capacity: Int
    let output: OutputGeometry
    private let melWidth: Int
    private var mel: [Float] = []
    private var entries: [(owner: Owner, step: Int)] = []

    init(embedder: Embedder, kind: EmbeddingKind? = nil) {
        self.embedder = embedder
        self.kind = embedder.resolvedKind(kind)
        capacity = embedder.configuration.chunksPerBatch
        output = embedder.output(self.kind)
        melWidth = embedder.frontEnd.configuration.melBinCount * embedder.encoderModel.frontEnd.melFramesPerStep
        mel.reserveCapacity(capacity * melWidth)
    }

    var isEmpty: Bool { entries.isEmpty }

    /// Queues one normalised step [M · frames] of `owner`; encodes the batch once it is full.
    mutating func append<E: Error>(_ step: UnsafeBufferPointer<Float>, owner: Owner, index: Int,
                                   deliver: (EncodedBatch<Owner>) throws(E) -> Void) throws(E) {
        precondition(step.count == melWidth, "a mel step is [M, frames per step]")
        mel.append(contentsOf: step)
        entries.append((owner, index))
        if entries.count >= capacity { try flush(deliver: deliver) }
    }

    /// Encodes the queued steps (if any), empties the batch and hands the rows to `deliver`.
    mutating func flush<E: Error>(deliver: (EncodedBatch<Owner>) throws(E) -> Void) throws(E) {
        let count = entries.count
        guard count > 0 else { return }
        var rows = [Float](repeating: 0, count: count * output.valuesPerStep)
        let seconds = mel.withUnsafeBufferPointer { mel in
            rows.withUnsafeMutableBufferPointer { out in
                embedder.encode(mel: mel.baseAddress!, steps: count, kind: kind, into: out.baseAddress!)
            }
        }
        let done = EncodedBatch(rows: rows, entries: entries, valuesPerStep: output.valuesPerStep,
                                encoderSeconds: seconds.encoder, adapterSeconds: seconds.adapter)
        mel.removeAll(keepingCapacity: true)
        entries.removeAll(keepingCapacity: true)
        try deliver(done)
    }
}

/// One encoder batch's rows, step by step in queue order.
struct EncodedBatch<Owner> {
    let rows: [Float]
    /// Whose each step is, and its index among its owner's steps.
    let entries: [(owner: Owner, step: Int)]
    let valuesPerStep: Int
    let encoderSeconds: Double
    let adapterSeconds: Double

    /// Each step's share of the batch's time: every step of a batch costs the same.
    var encoderShare: Double { encoderSeconds / Double(entries.count) }
    var adapterShare: Double { adapterSeconds / Double(entries.count) }

    /// The rows of the step at `position` [rowsPerStep · width].
    func values(at position: Int) -> ArraySlice<Float> {
        rows[(position * valuesPerStep)..<((position + 1) * valuesPerStep)]
    }
}
