// Conv1d(kernel 3, padding 1, stride 1 or 2) as im2col + one GEMM, time-major output.
// Reference: torch.nn.Conv1d (cross-correlation, zero padding): y[o, t] = b[o] + Σ_i Σ_k W[o, i, k]·x[i, s·t + k − 1].
// Weights are stored [out, 3, in] (ConvolutionWeights), so row t of the im2col matrix is three contiguous input
// frames: [x(s·t − 1) | x(s·t) | x(s·t + 1)], each `in` wide, zeros outside [0, T).

public enum Convolution {
    /// input [Tin, in] (time-major) → output [Tout, out], Tout = (Tin − 1) / stride + 1.
    /// `columns` is scratch of at least Tout · 3 · in floats. Cost: 2·Tout·out·3·in flops.
    public static func apply(_ weights: ConvolutionWeights, gemm: FloatGEMM, input: UnsafePointer<Float>, frames inputFrames: Int,
                             columns: UnsafeMutablePointer<Float>, into output: UnsafeMutablePointer<Float>) {
        let channels = weights.inputChannels
        let taps = ConvolutionWeights.taps
        let outputFrames = (inputFrames - 1) / weights.stride + 1
        let rowWidth = taps * channels
        for t in 0..<outputFrames {
            let row = columns + t * rowWidth
            for k in 0..<taps {
                let source = weights.stride * t + k - 1
                let target = row + k * channels
                if source >= 0 && source < inputFrames {
                    target.update(from: input + source * channels, count: channels)
                } else {
                    target.update(repeating: 0, count: channels)
                }
            }
        }
        weights.weight.withUnsafeBufferPointer { w in
            // One chunk: fixed row blocks of its output frames (RowBlocks), whatever the threads.
            gemm.multiplyTransposedInBlocks(columns, w.baseAddress!, into: output,
                                            blocks: RowBlocks(rows: outputFrames, rowsPerChunk: outputFrames),
                                            n: weights.outputChannels, k: rowWidth)
        }
        weights.bias.withUnsafeBufferPointer { b in
            Linear.addRowVector(b.baseAddress!, to: output, rows: outputFrames, columns: weights.outputChannels)
        }
    }
}
