// How embeddings are written, on every interface (CLI files and tars, HTTP bodies, the C ABI, Python): the element
// type and the pooling. The defaults (float32 rows) are the encoder's values as they are.

import Foundation

public struct OutputEncoding: Sendable, Equatable {
    public var dtype: OutputDType
    public var pooling: Pooling

    public init(dtype: OutputDType = .float32, pooling: Pooling = .none) {
        self.dtype = dtype
        self.pooling = pooling
    }

    public static let float32Rows = OutputEncoding()

    /// The written array's shape: [rows, width], or [width] when pooled.
    public func shape(_ info: EmbeddingsInfo) -> [Int] {
        pooling == .mean ? [info.dimension] : [info.frameCount, info.dimension]
    }

    /// Bytes of the written array's data.
    public func byteCount(_ info: EmbeddingsInfo) -> Int { shape(info).reduce(1, *) * dtype.byteWidth }

    /// Refuses a pairing the format cannot hold: bfloat16 in .npy (numpy has no bfloat16 type).
    public func check(format: EmbeddingsFormat) throws(OutputEncodingError) {
        if format == .npy && dtype.numpyDescriptor == nil { throw .noNumpyType(dtype) }
    }

    /// The written values of a whole embedding (pooled if asked, narrowed to the dtype), as bytes.
    public func encoded(_ embeddings: Embeddings) -> [UInt8] {
        let values: [Float]
        if pooling == .mean {
            var pool = MeanPool(info: embeddings.info)
            embeddings.values.withUnsafeBufferPointer { pool.add($0) }
            values = pool.mean
        } else {
            values = embeddings.values
        }
        return values.withUnsafeBufferPointer { dtype.encoded($0) }
    }
}

/// An output encoding the requested format cannot carry.
public enum OutputEncodingError: Error, Sendable, Equatable, CustomStringConvertible {
    case noNumpyType(OutputDType)

    public var description: String {
        switch self {
        case .noNumpyType(let dtype): return "\(dtype.rawValue) cannot be written as .npy: numpy has no \(dtype.rawValue) type"
        }
    }

    public var hint: String? {
        switch self {
        case .noNumpyType: return "write safetensors (--format safetensors, format=safetensors), which carries BF16, or choose float16"
        }
    }
}
