// Element-wise exact-erf GELU. The loop is C (CVoxEncKernels, voxenc_kernels.h), one copy per instruction set chosen
// at run time (ElementwiseKernels.instructionSet); rows are split across threads here.
// Reference: transformers ACT2FN["gelu"] = nn.functional.gelu (approximate="none").

import CVoxEncKernels

public enum GELU {
    /// x ← x · ½ · (1 + erf(x / √2)) in place over `count` values (PyTorch's CPU GeluKernel, approximate="none"):
    /// PyTorch's vectorised erf on blocks of 16, libm erff on the last count mod 16 (voxenc_gelu).
    public static func applyInPlace(_ x: UnsafeMutablePointer<Float>, count: Int) {
        let lanes = 16  // threads split on whole blocks, so each value takes the path a serial call gives it
        let vectorCount = count / lanes
        Parallel.forEachRange(vectorCount, minimumPerThread: 4096) { range in
            voxenc_gelu(x + range.lowerBound * lanes, range.count * lanes)
        }
        voxenc_gelu(x + vectorCount * lanes, count - vectorCount * lanes)
    }

    /// x[r, :] ← GELU(x[r, :] + b) over [rows, columns]: a Linear layer's bias fused with its activation (one pass
    /// over the fc1 output instead of two). The sum is rounded to float32 first, as addmm then gelu do.
    /// A nil bias is GELU alone.
    public static func applyInPlace(_ x: UnsafeMutablePointer<Float>, rows: Int, columns: Int,
                                    addingBias bias: UnsafePointer<Float>?) {
        guard let bias else { return applyInPlace(x, count: rows * columns) }
        Parallel.forEachRange(rows, minimumPerThread: 16) { range in
            voxenc_gelu_bias_rows(x + range.lowerBound * columns, range.count, columns, bias)
        }
    }
}
