// Root-mean-square normalisation of each row, with a weight and no bias or mean.
// Reference: transformers VoxtralRealtimeRMSNorm (= T5LayerNorm): in float32,
//   variance = mean(x²); y = weight · (x · rsqrt(variance + eps)).
// The mean of squares is summed in float64 (torch sums in float32 lanes; the difference is within float rounding).
// Letters: R rows, D width.

public enum RMSNorm {
    /// output[r, :] = weight · input[r, :] / sqrt(mean(input[r, :]²) + eps), rows split across the call's threads.
    public static func apply(_ input: UnsafePointer<Float>, rows: Int, width: Int, weight: [Float], epsilon: Float,
                             into output: UnsafeMutablePointer<Float>) {
        precondition(weight.count == width, "RMSNorm weight of \(weight.count) for rows of \(width)")
        let pointers = UncheckedSendable((input, output))
        weight.withUnsafeBufferPointer { w in
            let w = UncheckedSendable(w.baseAddress!)
            Parallel.forEachRange(rows, minimumPerThread: 16) { range in
                let (input, output) = pointers.value
                for r in range {
                    let x = input + r * width, y = output + r * width
                    var sum: Double = 0
                    for i in 0..<width { sum += Double(x[i]) * Double(x[i]) }
                    let variance = Float(sum / Double(width))
                    let scale = 1 / (variance + epsilon).squareRoot()
                    for i in 0..<width { y[i] = w.value[i] * (x[i] * scale) }
                }
            }
        }
    }
}
