// The Whisper positional table, emulating torch's float32 computation.
// Reference: transformers models/whisper/modeling_whisper.py `sinusoids` (= openai/whisper model.py `sinusoids`):
//   log_timescale_increment = log(10000) / (channels // 2 - 1)          (a Python float64)
//   inv_timescales = exp(-log_timescale_increment * arange(channels // 2))  (float32 tensor ops)
//   scaled_time = arange(length).view(-1, 1) * inv_timescales.view(1, -1)   (float32)
//   cat([sin(scaled_time), cos(scaled_time)], dim=1)                       (halves concatenated, not interleaved)
// SPEC.md §2.2: float32 vs float64 construction differs by up to 1.6e-4, so the float32 steps are mirrored here.

import Foundation

public enum Sinusoids {
    /// [length, channels] row-major: row t = [sin(t·inv_i) for i < channels/2 | cos(t·inv_i) for i < channels/2].
    public static func table(length: Int, channels: Int) -> [Float] {
        precondition(channels % 2 == 0 && channels >= 4, "channels must be even and ≥ 4")
        let half = channels / 2
        let increment = Foundation.log(10000.0) / Double(half - 1)
        // torch: (-increment) * arange(half) → the float64 scalar times an int64 arange promotes to float32.
        let inverse = (0..<half).map { Foundation.exp(Float(-increment) * Float($0)) }
        var table = [Float](repeating: 0, count: length * channels)
        for t in 0..<length {
            for i in 0..<half {
                let angle = Float(t) * inverse[i]
                table[t * channels + i] = Foundation.sin(angle)
                table[t * channels + half + i] = Foundation.cos(angle)
            }
        }
        return table
    }
}
