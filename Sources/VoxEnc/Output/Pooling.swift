// What a call returns per audio: every row (`none`, the default) or one vector, the mean of the rows that cover the
// audio (`mean`): never the zero padding of the last chunk, nor a causal model's silent left pad. The sum runs in
// float64 in row order and is divided once, then rounded to float32 (and to the output dtype after that).

public enum Pooling: String, Sendable, CaseIterable {
    case none, mean
}

/// The running mean of the valid rows of one output, fed rows in order as they are encoded.
struct MeanPool {
    let width: Int
    /// The rows that cover the audio: [first, first + count).
    let validRows: Range<Int>
    private var sums: [Double]
    private var row = 0

    init(info: EmbeddingsInfo) {
        width = info.dimension
        validRows = info.leadingPadFrameCount..<(info.leadingPadFrameCount + info.validFrameCount)
        sums = [Double](repeating: 0, count: info.dimension)
    }

    /// Adds rows [n, width] (the next n rows of the output).
    mutating func add(_ rows: UnsafeBufferPointer<Float>) {
        precondition(rows.count % width == 0, "whole rows")
        for r in 0..<(rows.count / width) {
            defer { row += 1 }
            guard validRows.contains(row) else { continue }
            let base = r * width
            for i in 0..<width { sums[i] += Double(rows[base + i]) }
        }
    }

    /// The mean [width] in float32 (zeros when no row covers audio).
    var mean: [Float] {
        let count = Double(validRows.count)
        return sums.map { count > 0 ? Float($0 / count) : 0 }
    }
}
