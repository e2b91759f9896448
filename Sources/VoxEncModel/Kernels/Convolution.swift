// Conv1d(kernel 3, padding 1, stride 1 or 2) as im2col + one GEMM, time-major output.
// Reference: torch.nn.Conv1d (cross-correlation, zero padding): y[o, t] = b[o] + Σ_i Σ_k W[o, i, k]·x[i, s·t + k − 1].
// Weights are stored [out, 3, in] (ConvolutionWeights), so row t of the im2col matrix is three contiguous input
// frames: [x(s·t − 1) | x(s·t) | x(s·t + 1)], each `in` wide, zeros outside [0, T).

public enum Convolution {
    /// input [Tin, in] (time-major) → output [Tout, out], Tout = (Tin − 1) / stride + 1, one chunk. `kernel` is the
    /// convolution as a Linear layer over im2col rows (ConvolutionWeights.linear); its GEMM runs in the chunk's fixed
    /// row blocks. `columns` is scratch of at least Tout · 3 · in floats. Cost: 2·Tout·out·3·in flops.
    public static func apply(_ kernel: LinearKernel, input: UnsafePointer<Float>, channels: Int, stride: Int,
                             frames inputFrames: Int, columns: UnsafeMutablePointer<Float>,
                             into output: UnsafeMutablePointer<Float>) {
        let taps = ConvolutionWeights.taps
        let outputFrames = (inputFrames - 1) / stride + 1
        let rowWidth = taps * channels
        for t in 0..<outputFrames {
            let row = columns + t * rowWidth
            for k in 0..<taps {
                let source = stride * t + k - 1
                let target = row + k * channels
                if source >= 0 && source < inputFrames {
                    target.update(from: input + source * channels, count: channels)
                } else {
                    target.update(repeating: 0, count: channels)
                }
            }
        }
        kernel.apply(input: columns, rows: outputFrames, rowsPerChunk: outputFrames, into: output)
    }
}

extension ConvolutionWeights {
    /// The convolution as a Linear layer over im2col rows: weight [out, 3·in] (the stored [out, 3, in]), bias [out].
    public var linear: LinearWeights {
        LinearWeights(weight: weight, bias: bias, outputCount: outputChannels, inputCount: Self.taps * inputChannels)
    }
}
