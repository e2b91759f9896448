// The gated MLP's activation: silu(gate) · up.
// Reference: transformers VoxtralRealtimeMLP.forward, down(act_fn(gate(x)) * up(x)), act_fn = ACT2FN["silu"]
// = nn.functional.silu, x / (1 + exp(−x)) (x · sigmoid(x)); exp as the vector Cephes expf (CVoxEncKernels
// voxenc_swiglu_rows; its float64 oracle: ElementwiseKernelTests).
// Letters: R rows, F feed-forward width.

import CVoxEncKernels

public enum SwiGLU {
    /// gateUp [R, 2F] (gate | up per row) → output [R, F], output = silu(gate) · up.
    public static func apply(_ gateUp: UnsafePointer<Float>, rows: Int, width: Int,
                             into output: UnsafeMutablePointer<Float>) {
        let pointers = UncheckedSendable((gateUp, output))
        Parallel.forEachRange(rows, minimumPerThread: 4) { range in
            let (gateUp, output) = pointers.value
            voxenc_swiglu_rows(gateUp + range.lowerBound * 2 * width, range.count, width,
                               output + range.lowerBound * width)
        }
    }
}
