// A read-only, memory-mapped safetensors file.
// Reference: the safetensors format (huggingface/safetensors README "Format": 8-byte little-endian header length N,
// N bytes of JSON {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {str: str}}, then the data area;
// offsets are relative to the data area) and its validation (safetensors/src/tensor.rs `Metadata::validate`).
// Upcasts to float32 follow torch exactly: c10/util/BFloat16.h (bf16 bits << 16) and c10/util/Half.h
// (`fp16_ieee_to_fp32_value`: exact, subnormals normalised, Inf/NaN keep sign and payload).
//
// The whole file is mapped, but only the header and the tensors asked for are read: a Voxtral checkpoint is 9–55 GB
// and its audio tensors are ≈ 1.3 GB, so the rest is never paged in.

import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public final class SafeTensors: @unchecked Sendable {  // immutable after init; the mapping is read-only
    /// Element types of the safetensors format. F32, F16 and BF16 load; the others are recognised so that asking
    /// for one reports `unsupportedDType` instead of a corrupt header.
    public enum DType: String, Sendable, Codable, CaseIterable {
        case bool = "BOOL", u8 = "U8", i8 = "I8", f8E5M2 = "F8_E5M2", f8E4M3 = "F8_E4M3", f8E8M0 = "F8_E8M0"
        case i16 = "I16", u16 = "U16", f16 = "F16", bf16 = "BF16"
        case i32 = "I32", u32 = "U32", f32 = "F32", f64 = "F64", i64 = "I64", u64 = "U64", c64 = "C64"
        case f4 = "F4", f6E2M3 = "F6_E2M3", f6E3M2 = "F6_E3M2"

        /// Bits per element (sub-byte types pack several elements per byte).
        public var bitCount: Int {
            switch self {
            case .f4: return 4
            case .f6E2M3, .f6E3M2: return 6
            case .bool, .u8, .i8, .f8E5M2, .f8E4M3, .f8E8M0: return 8
            case .i16, .u16, .f16, .bf16: return 16
            case .i32, .u32, .f32: return 32
            case .f64, .i64, .u64, .c64: return 64
            }
        }

        /// Whether `floats(_:)` converts it.
        public var isLoadable: Bool { self == .f32 || self == .f16 || self == .bf16 }
    }

    /// One header entry, validated.
    public struct TensorInfo: Sendable, Equatable {
        public var dtype: DType
        public var shape: [Int]
        /// Byte range inside the data area (the header's `data_offsets`).
        public var dataOffsets: Range<Int>
        public var elementCount: Int { shape.reduce(1, *) }
    }

    /// Header lengths above this are refused (the format's own parser caps it at 100 MB as well).
    public static let maxHeaderByteCount = 100_000_000

    public let path: String
    /// `__metadata__` (e.g. `{"format": "pt"}`), empty when absent.
    public let metadata: [String: String]
    /// Every tensor in the file, sorted.
    public let tensorNames: [String]
    private let entries: [String: TensorInfo]
    private let file: MappedFile
    private let dataStart: Int

    /// Maps `path` and validates its header. Throws `missingFile`, `ioError` or `invalidHeader`.
    public init(contentsOf path: String) throws(ModelError) {
        self.path = path
        let file = try MappedFile(path: path)
        let size = file.byteCount
        guard size >= 8 else {
            throw .invalidHeader(path: path, reason: "the file is \(size) bytes, shorter than the 8-byte header length")
        }
        let base = file.base

        let headerLength = UInt64(littleEndian: base.loadUnaligned(as: UInt64.self))
        guard headerLength <= UInt64(Self.maxHeaderByteCount) else {
            throw .invalidHeader(path: path, reason: "header length \(headerLength) exceeds \(Self.maxHeaderByteCount) bytes")
        }
        guard headerLength <= UInt64(size - 8) else {
            throw .invalidHeader(path: path, reason: "header length \(headerLength) runs past the end of the \(size)-byte file")
        }
        let header = Data(bytes: base + 8, count: Int(headerLength))
        let dataStart = 8 + Int(headerLength)
        let parsed = try Self.parse(header: header, dataByteCount: size - dataStart, path: path)

        self.metadata = parsed.metadata
        self.entries = parsed.entries
        self.tensorNames = parsed.entries.keys.sorted()
        self.dataStart = dataStart
        self.file = file
    }

    public func info(_ name: String) -> TensorInfo? { entries[name] }

    /// The tensor converted to float32 exactly as torch upcasts it (`tensor.to(torch.float32)`), row-major.
    /// Reads only this tensor's bytes.
    public func floats(_ name: String) throws(ModelError) -> [Float] {
        guard let info = entries[name] else { throw .missingTensor(path: path, tensor: name) }
        let source = UnsafeRawPointer(file.base + dataStart + info.dataOffsets.lowerBound)
        let count = info.elementCount
        switch info.dtype {
        case .f32: return StoredFloats.float32(source, count: count)
        case .bf16: return StoredFloats.bfloat16(source, count: count)
        case .f16: return StoredFloats.float16(source, count: count)
        default:
            throw .unsupportedDType(path: path, tensor: name, dtype: info.dtype.rawValue)
        }
    }

    /// Calls `body` with the tensor's stored bytes (inside the mapping; valid only during the call).
    public func withRawBytes<Result>(_ name: String, _ body: (UnsafeRawBufferPointer) -> Result) throws(ModelError) -> Result {
        guard let info = entries[name] else { throw .missingTensor(path: path, tensor: name) }
        return body(UnsafeRawBufferPointer(start: file.base + dataStart + info.dataOffsets.lowerBound, count: info.dataOffsets.count))
    }

    /// Drops the tensor's pages from the resident set (`MappedFile.releasePages`) once it has been read.
    public func releaseStoredBytes(_ name: String) {
        guard let info = entries[name] else { return }
        file.releasePages((dataStart + info.dataOffsets.lowerBound)..<(dataStart + info.dataOffsets.upperBound))
    }

    /// bfloat16 → float32: the 16 bits are the high half of the float (c10 `detail::f32_from_bits`).
    @inline(__always)
    public static func floatFromBFloat16(_ bits: UInt16) -> Float {
        Float(bitPattern: UInt32(bits) << 16)
    }

    /// IEEE binary16 → float32, exact (c10 `fp16_ieee_to_fp32_value`): subnormals become normal floats,
    /// Inf/NaN keep their sign and payload (shifted into the float's mantissa).
    @inline(__always)
    public static func floatFromHalf(_ bits: UInt16) -> Float {
        let sign = UInt32(bits & 0x8000) << 16
        let exponent = UInt32(bits >> 10) & 0x1F
        let mantissa = UInt32(bits & 0x03FF)
        if exponent == 0x1F { return Float(bitPattern: sign | 0x7F80_0000 | mantissa << 13) }
        if exponent != 0 { return Float(bitPattern: sign | (exponent + 112) << 23 | mantissa << 13) }  // bias 15 → 127
        let magnitude = Float(mantissa) * 0x1p-24  // zero or subnormal: mantissa · 2⁻²⁴, exact in float32
        return sign != 0 ? -magnitude : magnitude
    }

    // MARK: - Header

    /// Validates a header read from elsewhere (`voxenc pull` reads it with an HTTP Range request): `header` is the
    /// JSON after the 8-byte length, `dataByteCount` the size of the data area after it; `path` names it in errors.
    public static func validateHeader(_ header: Data, dataByteCount: Int, path: String) throws(ModelError)
        -> (metadata: [String: String], tensors: [String: TensorInfo]) {
        let parsed = try parse(header: header, dataByteCount: dataByteCount, path: path)
        return (parsed.metadata, parsed.entries)
    }

    private struct DynamicKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    /// Numbers are decoded as Double and checked integral afterwards: Foundation's JSONDecoder on Linux reports a
    /// non-integer where an Int is expected as "not valid JSON" with no location. Offsets stay exact below 2⁵³.
    private struct RawEntry: Decodable {
        var dtype: String
        var shape: [Double]
        var offsets: [Double]
        enum CodingKeys: String, CodingKey { case dtype, shape, offsets = "data_offsets" }
    }

    private struct RawHeader: Decodable {
        var metadata: [String: String] = [:]
        var entries: [(String, RawEntry)] = []
        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: DynamicKey.self)
            for key in container.allKeys {
                if key.stringValue == "__metadata__" {
                    metadata = try container.decode([String: String].self, forKey: key)
                } else {
                    entries.append((key.stringValue, try container.decode(RawEntry.self, forKey: key)))
                }
            }
        }
    }

    private static func parse(header: Data, dataByteCount: Int, path: String) throws(ModelError)
        -> (metadata: [String: String], entries: [String: TensorInfo]) {
        guard header.first == UInt8(ascii: "{") else {
            throw .invalidHeader(path: path, reason: "the header is not a JSON object")
        }
        let raw: RawHeader
        do {
            raw = try JSONDecoder().decode(RawHeader.self, from: header)
        } catch let error as DecodingError {
            throw .invalidHeader(path: path, reason: describe(error))
        } catch {
            throw .invalidHeader(path: path, reason: "\(error)")
        }

        var entries: [String: TensorInfo] = [:]
        for (name, entry) in raw.entries.sorted(by: { $0.0 < $1.0 }) {  // deterministic: the first bad name, sorted
            guard let dtype = DType(rawValue: entry.dtype) else {
                throw .invalidHeader(path: path, reason: "tensor \(name): unknown dtype \"\(entry.dtype)\"")
            }
            let integers = { (values: [Double]) in values.compactMap { $0 < 0x1p53 ? Int(exactly: $0) : nil } }
            let shape = integers(entry.shape), offsets = integers(entry.offsets)
            guard shape.count == entry.shape.count else {
                throw .invalidHeader(path: path, reason: "tensor \(name): shape \(entry.shape) is not a list of integers")
            }
            guard offsets.count == entry.offsets.count else {
                throw .invalidHeader(path: path, reason: "tensor \(name): data_offsets \(entry.offsets) are not integers")
            }
            var elementCount = 1
            for dimension in shape {
                let (product, overflow) = elementCount.multipliedReportingOverflow(by: dimension)
                guard dimension >= 0, !overflow else {
                    throw .invalidHeader(path: path, reason: "tensor \(name): invalid shape \(shape)")
                }
                elementCount = product
            }
            guard offsets.count == 2, offsets[0] >= 0, offsets[0] <= offsets[1] else {
                throw .invalidHeader(path: path, reason: "tensor \(name): invalid data_offsets \(offsets)")
            }
            guard offsets[1] <= dataByteCount else {
                throw .invalidHeader(path: path, reason: "tensor \(name): data_offsets \(offsets) run past the "
                                     + "end of the \(dataByteCount)-byte data area")
            }
            let (bitCount, overflow) = elementCount.multipliedReportingOverflow(by: dtype.bitCount)
            let byteCount = offsets[1] - offsets[0]
            guard !overflow, bitCount % 8 == 0, bitCount / 8 == byteCount else {
                let needed = overflow ? "too many" : bitCount % 8 == 0 ? "\(bitCount / 8)" : "\(bitCount)/8"
                throw .invalidHeader(path: path, reason: "tensor \(name): \(dtype.rawValue) \(shape) needs \(needed) "
                                     + "bytes, data_offsets give \(byteCount)")
            }
            entries[name] = TensorInfo(dtype: dtype, shape: shape, dataOffsets: offsets[0]..<offsets[1])
        }

        // No two tensors may share bytes (the format's own validator demands contiguous, disjoint ranges).
        let ordered = entries.filter { !$0.value.dataOffsets.isEmpty }
            .sorted { ($0.value.dataOffsets.lowerBound, $0.key) < ($1.value.dataOffsets.lowerBound, $1.key) }
        for (previous, next) in zip(ordered, ordered.dropFirst())
        where next.value.dataOffsets.lowerBound < previous.value.dataOffsets.upperBound {
            throw .invalidHeader(path: path, reason: "tensors \(previous.key) and \(next.key) overlap")
        }
        return (raw.metadata, entries)
    }

    private static func describe(_ error: DecodingError) -> String {
        func location(_ path: [any CodingKey]) -> String {
            guard let first = path.first else { return "the header" }
            let rest = path.dropFirst().map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
            return (first.stringValue == "__metadata__" ? "__metadata__" : "tensor \(first.stringValue)") + rest
        }
        switch error {
        case .dataCorrupted(let context):
            return "\(location(context.codingPath)): not valid JSON (\(context.debugDescription))"
        case .keyNotFound(let key, let context):
            return "\(location(context.codingPath)): missing \"\(key.stringValue)\""
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            return "\(location(context.codingPath)): \(context.debugDescription)"
        @unknown default:
            return "\(error)"
        }
    }
}
