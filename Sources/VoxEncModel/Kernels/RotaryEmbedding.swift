// Rotary position embedding in the rotate_half (GPT-NeoX) layout, on absolute positions.
// Reference: transformers VoxtralRealtimeRotaryEmbedding.compute_default_rope_parameters and forward,
// apply_rotary_pos_emb (modeling_voxtral_realtime.py, 5.25):
//   inv_freq[i] = 1 / θ^(2i / Dh) (float32), freqs = p · inv_freq (float32), emb = [freqs | freqs],
//   x ← x·cos(emb) + rotate_half(x)·sin(emb), rotate_half(x) = [−x₂ | x₁].
// θ comes from the checkpoint (Voxtral Realtime: 1e6), never a default. Positions grow without bound in a stream
// (180 000 after an hour), so cos and sin are taken of the float32 product, as torch does.
// Letters: H heads, Dh head width (even).

#if canImport(Glibc)
import Glibc
#endif

public struct RotaryEmbedding: Sendable {
    public let headWidth: Int
    public let theta: Double
    /// [Dh / 2] inverse frequencies, float32 as torch computes them.
    let inverseFrequencies: [Float]

    public init(headWidth: Int, theta: Double) {
        precondition(headWidth % 2 == 0, "RoPE needs an even head width")
        self.headWidth = headWidth
        self.theta = theta
        // torch: 1.0 / (base ** (arange(0, Dh, 2).float() / Dh)): the exponent rounded to float32, the power and
        // the reciprocal in float32.
        inverseFrequencies = (0..<(headWidth / 2)).map { i in
            let exponent = Float(2 * i) / Float(headWidth)
            let power = Float(pow(theta, Double(exponent)))
            return 1 / power
        }
    }

    /// The cos and sin of position `position`, [Dh / 2] each (the second half of emb repeats the first).
    public func angles(position: Int, cos cosines: UnsafeMutablePointer<Float>, sin sines: UnsafeMutablePointer<Float>) {
        let p = Float(position)
        for i in 0..<(headWidth / 2) {
            let angle = p * inverseFrequencies[i]
            cosines[i] = cosf(angle)
            sines[i] = sinf(angle)
        }
    }

    /// Rotates the `heads` heads of one row in place (q or k of one position), given its `angles`.
    @inline(__always)
    public func rotate(_ row: UnsafeMutablePointer<Float>, heads: Int, cos cosines: UnsafePointer<Float>,
                       sin sines: UnsafePointer<Float>) {
        let half = headWidth / 2
        for h in 0..<heads {
            let x = row + h * headWidth
            for i in 0..<half {
                let (x1, x2) = (x[i], x[i + half])
                // q·cos + rotate_half(q)·sin, each product rounded, then summed (torch's two mul and one add).
                x[i] = x1 * cosines[i] + (-x2) * sines[i]
                x[i + half] = x2 * cosines[i] + x1 * sines[i]
            }
        }
    }
}
