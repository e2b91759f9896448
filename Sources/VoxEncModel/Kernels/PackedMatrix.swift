// A Linear layer's weight matrix packed once for oneDNN's matmul primitive (CVoxEncMatmul), float32 or bf16
// operands; the products with it run single-threaded on the calling thread, like every GEMM call here.

#if VOXENC_ONEDNN
import CVoxEncMatmul
#endif

/// The operand type of a packed product (float32 accumulation and output either way).
public enum PackedOperands: Sendable, Equatable {
    case float32
    /// bf16: weights rounded to nearest even once when packed, activations on every call.
    case bfloat16
    /// u8 activations × s8 weights, summed exactly in int32 (int8: QuantisedLinear quantises and dequantises).
    case unsigned8Signed8
}

public enum PackingError: Error, Equatable, CustomStringConvertible {
    case unavailable(String)
    public var description: String {
        switch self {
        case .unavailable(let reason): return reason
        }
    }
}

/// W [n, k] (a Linear's [out, in]) in oneDNN's blocked layout. Immutable once made; products may run concurrently.
public final class PackedMatrix: @unchecked Sendable {
    public let outputCount: Int
    public let inputCount: Int
    public let operands: PackedOperands
    #if VOXENC_ONEDNN
    private let handle: OpaquePointer
    #endif

    /// Packs `weight` [n, k] for products of about `typicalRows` rows (the layout oneDNN picks for that shape).
    public convenience init(weight: UnsafePointer<Float>, outputCount n: Int, inputCount k: Int,
                            operands: PackedOperands, typicalRows: Int = RowBlocks.targetRows) throws(PackingError) {
        precondition(operands != .unsigned8Signed8, "int8 weights come quantised: init(quantised:)")
        try self.init(raw: UnsafeRawPointer(weight), outputCount: n, inputCount: k, operands: operands,
                      typicalRows: typicalRows)
    }

    /// Packs quantised weights q [n, k] for u8 × s8 products.
    public convenience init(quantised weight: UnsafePointer<Int8>, outputCount n: Int, inputCount k: Int,
                            typicalRows: Int = RowBlocks.targetRows) throws(PackingError) {
        try self.init(raw: UnsafeRawPointer(weight), outputCount: n, inputCount: k, operands: .unsigned8Signed8,
                      typicalRows: typicalRows)
    }

    private init(raw weight: UnsafeRawPointer, outputCount n: Int, inputCount k: Int, operands: PackedOperands,
                 typicalRows: Int) throws(PackingError) {
        outputCount = n
        inputCount = k
        self.operands = operands
        #if VOXENC_ONEDNN
        var message = [CChar](repeating: 0, count: 256)
        let type: voxenc_matmul_type = switch operands {
        case .float32: VOXENC_MATMUL_F32
        case .bfloat16: VOXENC_MATMUL_BF16
        case .unsigned8Signed8: VOXENC_MATMUL_U8S8
        }
        guard let handle = voxenc_packed_create(weight, Int64(n), Int64(k), type, Int64(typicalRows), &message,
                                                message.count) else {
            throw .unavailable(String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        self.handle = handle
        #else
        throw .unavailable("this build has no oneDNN")
        #endif
    }

    deinit {
        #if VOXENC_ONEDNN
        voxenc_packed_free(handle)
        #endif
    }

    /// Bytes of packed weights.
    public var byteCount: Int {
        #if VOXENC_ONEDNN
        return voxenc_packed_bytes(handle)
        #else
        return 0
        #endif
    }

    /// oneDNN's implementation ("brg:avx512_core", "brg:avx512_core_amx_bf16", …).
    public var implementation: String {
        #if VOXENC_ONEDNN
        return String(cString: voxenc_packed_implementation(handle))
        #else
        return "none"
        #endif
    }

    /// C[m, n] = A[m, k] · Wᵀ, or C += … when `accumulate`. Cost: 2·m·n·k flops.
    @inline(__always)
    public func multiply(_ a: UnsafePointer<Float>, rows m: Int, lda: Int? = nil, into c: UnsafeMutablePointer<Float>,
                         ldc: Int? = nil, accumulate: Bool = false) {
        #if VOXENC_ONEDNN
        let status = voxenc_packed_multiply(handle, a, Int64(m), Int64(lda ?? inputCount), c, Int64(ldc ?? outputCount),
                                            accumulate ? 1 : 0)
        precondition(status == 0, "oneDNN matmul failed (status \(status)) for [\(m), \(inputCount)] × [\(outputCount), \(inputCount)]ᵀ")
        #endif
    }

    /// C[m, n] = A[m, k] · Wᵀ for `.bfloat16` with A already rounded (`BFloat16GEMM.round`, dense: rows k apart):
    /// the primitive and the bits `multiply` gives for the float32 rows, without rounding them again.
    @inline(__always)
    public func multiplyRounded(_ a: UnsafePointer<UInt16>, rows m: Int, into c: UnsafeMutablePointer<Float>,
                                ldc: Int) {
        #if VOXENC_ONEDNN
        let status = voxenc_packed_multiply_rounded(handle, a, Int64(m), c, Int64(ldc), 0)
        precondition(status == 0, "oneDNN bf16 matmul failed (status \(status)) for [\(m), \(inputCount)] × [\(outputCount), \(inputCount)]ᵀ")
        #endif
    }

    /// C[m, n] = A[m, k] · qᵀ in int32, A unsigned 8-bit (`.unsigned8Signed8` only). Exact: integer sums.
    @inline(__always)
    public func multiplyIntegers(_ a: UnsafePointer<UInt8>, rows m: Int, lda: Int, into c: UnsafeMutablePointer<Int32>,
                                 ldc: Int) {
        #if VOXENC_ONEDNN
        let status = voxenc_packed_multiply(handle, a, Int64(m), Int64(lda), c, Int64(ldc), 0)
        precondition(status == 0, "oneDNN u8×s8 matmul failed (status \(status)) for [\(m), \(inputCount)] × [\(outputCount), \(inputCount)]ᵀ")
        #endif
    }

    /// `multiply` over fixed row blocks (RowBlocks), the blocks spread over the call's thread budget: each chunk's
    /// rows are computed by the same calls whatever the batch and the threads.
    public func multiplyInBlocks(_ a: UnsafePointer<Float>, blocks: RowBlocks, into c: UnsafeMutablePointer<Float>,
                                 accumulate: Bool = false) {
        let pointers = UncheckedSendable((a, c))
        let k = inputCount, n = outputCount
        Parallel.forEachRange(blocks.count) { range in
            let (a, c) = pointers.value
            for index in range {
                let rows = blocks[index]
                multiply(a + rows.lowerBound * k, rows: rows.count, into: c + rows.lowerBound * n, accumulate: accumulate)
            }
        }
    }
}
