// The element type of written embeddings: float32 (what the encoder computes), float16 or bfloat16 (half the bytes).
// Narrowing rounds each float32 value to nearest, ties to even, on its bits — the IEEE 754 conversion numpy's
// `astype(np.float16)` makes, and the standard bf16 rounding of ml_dtypes / PyTorch (`Tests/Fixtures/dtype`, made by
// numpy and ml_dtypes, pins both bit for bit). Added error (docs/datasets.md): float16 ≤ 2⁻¹¹ relative for
// |x| ≥ 2⁻¹⁴, bfloat16 ≤ 2⁻⁸; float16 has no value beyond ±65504 (larger values become ±inf, as in numpy).

import VoxEncModel

public enum OutputDType: String, Sendable, CaseIterable {
    case float32, float16, bfloat16

    /// Bytes per element.
    public var byteWidth: Int { self == .float32 ? 4 : 2 }

    /// The .npy `descr`; nil for bfloat16, which numpy has no type for (write safetensors instead).
    public var numpyDescriptor: String? {
        switch self {
        case .float32: return "<f4"
        case .float16: return "<f2"
        case .bfloat16: return nil
        }
    }

    /// The safetensors dtype name.
    public var safetensorsName: String {
        switch self {
        case .float32: return "F32"
        case .float16: return "F16"
        case .bfloat16: return "BF16"
        }
    }

    /// Writes `values` narrowed to this type at `destination` (`values.count · byteWidth` bytes, little-endian).
    public func encode(_ values: UnsafeBufferPointer<Float>, into destination: UnsafeMutableRawPointer) {
        guard let source = values.baseAddress, values.count > 0 else { return }
        switch self {
        case .float32:
            destination.copyMemory(from: source, byteCount: values.count * 4)
        case .float16:  // IEEE 754 convertFormat: nearest, ties to even (CVoxEncKernels: 16 lanes at a time on AVX-512)
            ElementwiseKernels.roundFloat16(source, count: values.count,
                                            into: destination.bindMemory(to: UInt16.self, capacity: values.count))
        case .bfloat16:
            BFloat16GEMM.round(source, rows: 1, columns: values.count, ldx: values.count,
                               into: destination.bindMemory(to: UInt16.self, capacity: values.count), ldy: values.count)
        }
    }

    /// `values` narrowed to this type, as bytes.
    public func encoded(_ values: UnsafeBufferPointer<Float>) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: values.count * byteWidth) { bytes, count in
            encode(values, into: UnsafeMutableRawPointer(bytes.baseAddress!))
            count = values.count * byteWidth
        }
    }
}
