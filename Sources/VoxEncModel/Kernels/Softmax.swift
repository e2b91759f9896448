// Softmax's row pass (attention applies the denominator). The loop is C (CVoxEncKernels, voxenc_kernels.h), one copy
// per instruction set chosen at run time (ElementwiseKernels.instructionSet).
// Reference: torch softmax.

import CVoxEncKernels

public enum Softmax {
    /// x ← exp(x − max(x)) in place; returns Σ exp(x − max), the softmax's denominator, which the caller applies
    /// (attention divides its [R, Dh] output instead of the [R, T] probabilities). Cephes expf; sums in 8 lanes
    /// (voxenc_softmax_exponentiate_row).
    @inline(__always)
    public static func exponentiateRow(_ row: UnsafeMutablePointer<Float>, width: Int) -> Float {
        voxenc_softmax_exponentiate_row(row, width)
    }

    /// The same pass with the exponentials rounded to bf16 into `rounded` [width] (which may alias `row`) instead
    /// of written back; the same sum. One pass for bf16 attention's probabilities.
    @inline(__always)
    public static func exponentiateRow(_ row: UnsafeMutablePointer<Float>, width: Int,
                                       roundingInto rounded: UnsafeMutablePointer<UInt16>) -> Float {
        voxenc_softmax_exponentiate_row_bf16(row, width, rounded)
    }
}
