// The gated MLP's activation: silu(gate) · up.
// Reference: transformers VoxtralRealtimeMLP.forward, down(act_fn(gate(x)) * up(x)), act_fn = ACT2FN["silu"]
// = nn.functional.silu, x / (1 + exp(−x)) (x · sigmoid(x)).
// Letters: R rows, F feed-forward width.

import Foundation

public enum SwiGLU {
    /// gateUp [R, 2F] (gate | up per row) → output [R, F], output = silu(gate) · up.
    public static func apply(_ gateUp: UnsafePointer<Float>, rows: Int, width: Int,
                             into output: UnsafeMutablePointer<Float>) {
        let pointers = UncheckedSendable((gateUp, output))
        Parallel.forEachRange(rows, minimumPerThread: 4) { range in
            let (gateUp, output) = pointers.value
            for r in range {
                let gate = gateUp + r * 2 * width, up = gate + width, y = output + r * width
                for i in 0..<width {
                    let g = gate[i]
                    let silu = g / (1 + expf(-g))
                    y[i] = silu * up[i]
                }
            }
        }
    }
}
