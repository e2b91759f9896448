// What the C ABI's opaque handles and results are on the Swift side (Sources/CVoxEncABI/include/voxenc.h):
// a model handle is a retained ModelHandle, an error a retained ErrorHandle, a result one malloc'd block holding the
// voxenc_result struct and its floats (freed by one free()).

import CVoxEncABI
import Foundation
import VoxEnc

/// A loaded model and the JSON line `voxenc_model_describe` returns (kept for the handle's life).
final class ModelHandle: Sendable {
    let embedder: Embedder
    /// options.dtype and options.pool: how the embed calls' results are written.
    let encoding: OutputEncoding
    let description: CString

    init(_ embedder: Embedder, encoding: OutputEncoding) {
        self.embedder = embedder
        self.encoding = encoding
        let fields: [String: Any] = [
            "name": (embedder.model.path as NSString).lastPathComponent, "kind": embedder.kind.rawValue,
            "width": embedder.dimension, "rows_per_chunk": embedder.rowsPerChunk, "frame_rate": embedder.frameRate,
            "mel_bins": embedder.melBinCount, "precision": embedder.configuration.precision.rawValue,
            "threads": embedder.configuration.threadCount, "has_adapter": embedder.hasAdapter,
            "dtype": encoding.dtype.rawValue, "pool": encoding.pooling.rawValue,
        ]
        description = CString(JSON.line(fields))
    }
}

/// A failure: the CLI's category (its exit status) and line.
final class ErrorHandle: Error, @unchecked Sendable {  // immutable
    let status: voxenc_status
    let message: CString

    init(_ report: ErrorReport) {
        status = voxenc_status(rawValue: UInt32(report.category.exitStatus))
        message = CString(report.line)
    }

    static func usage(_ message: String) -> ErrorHandle {
        ErrorHandle(ErrorReport(message: message, hint: nil, category: .usage))
    }
}

/// A NUL-terminated copy of a string, freed with its owner.
final class CString: @unchecked Sendable {  // immutable after init
    let pointer: UnsafeMutablePointer<CChar>
    init(_ string: String) { pointer = strdup(string)! }
    deinit { free(pointer) }
}

/// Strings that live as long as the program, for voxenc_result's `precision` and `kind`.
enum StaticCString {
    static func of(_ text: StaticString) -> UnsafePointer<CChar> {
        UnsafeRawPointer(text.utf8Start).assumingMemoryBound(to: CChar.self)
    }

    static func precision(_ precision: Precision) -> UnsafePointer<CChar> {
        switch precision {
        case .float32: return of("f32")
        case .bfloat16: return of("bf16")
        case .int8: return of("int8")
        }
    }

    static func dtype(_ dtype: OutputDType) -> UnsafePointer<CChar> {
        switch dtype {
        case .float32: return of("float32")
        case .float16: return of("float16")
        case .bfloat16: return of("bfloat16")
        }
    }

    static func kind(_ kind: EmbeddingKind) -> UnsafePointer<CChar> {
        kind == .adapter ? of("adapter") : of("encoder")
    }
}

enum ResultBlock {
    /// One malloc'd block: the struct, then float32 `values` (64-byte aligned). Nil when memory runs out.
    static func make(_ values: [Float], rows: Int, width: Int, frameRate: Double, validRows: Int, chunks: Int,
                     duration: Double, precision: Precision, kind: UnsafePointer<CChar>) -> UnsafeMutablePointer<voxenc_result>? {
        values.withUnsafeBytes { bytes in
            make(bytes, dtype: .float32, rows: rows, width: width, frameRate: frameRate, validRows: validRows,
                 chunks: chunks, duration: duration, precision: precision, kind: kind)
        }
    }

    /// The same, from elements of `dtype` given as bytes.
    static func make(_ bytes: UnsafeRawBufferPointer, dtype: OutputDType, rows: Int, width: Int, frameRate: Double,
                     validRows: Int, chunks: Int, duration: Double, precision: Precision,
                     kind: UnsafePointer<CChar>) -> UnsafeMutablePointer<voxenc_result>? {
        precondition(bytes.count == rows * width * dtype.byteWidth, "result shape")
        let header = (MemoryLayout<voxenc_result>.stride + 63) / 64 * 64
        guard let block = malloc(header + max(1, bytes.count)) else { return nil }
        let data = block + header
        if bytes.count > 0 { data.copyMemory(from: bytes.baseAddress!, byteCount: bytes.count) }
        let result = block.bindMemory(to: voxenc_result.self, capacity: 1)
        result.initialize(to: voxenc_result(
            data: dtype == .float32 ? UnsafePointer(data.assumingMemoryBound(to: Float.self)) : nil, rows: Int64(rows),
            width: Int64(width), frame_rate: frameRate, valid_rows: Int64(validRows), chunks: Int64(chunks),
            duration_s: duration, precision: StaticCString.precision(precision), kind: kind, values: UnsafeRawPointer(data),
            dtype: StaticCString.dtype(dtype)))
        return result
    }
}

/// A JSON object on one line with sorted keys (the describe and build-info strings).
enum JSON {
    static func line(_ object: [String: Any]) -> String {
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]),
              let text = String(data: data, encoding: .utf8) else { return "{}" }
        return text
    }
}
