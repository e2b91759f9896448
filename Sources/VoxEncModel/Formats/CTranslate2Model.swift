// A read-only, memory-mapped CTranslate2 `model.bin` (the format of faster-whisper model directories).
// Reference: how CTranslate2 writes it (python/ctranslate2/specs/model_spec.py `ModelSpec._serialize`, binary
// version 6 since ctranslate2 3.x) and reads it (src/models/model.cc `Model::load`). Integers little-endian:
//
//   u32 binary version                                   (1…6; this reader takes the same range as CTranslate2 4.x)
//   version ≥ 2: string spec name (e.g. "WhisperSpec"), u32 spec revision (Whisper: 3)
//   u32 variable count, then per variable, sorted by name:
//     string name ("encoder/layer_0/self_attention/linear_0/weight"), u8 rank, rank × u32 dimensions,
//     version ≥ 4: u8 dtype id (0 float32, 1 int8, 2 int16, 3 int32, 4 float16, 5 bfloat16), u32 byte count
//     version < 4: u8 item size (4 float32, 2 int16, 1 int8), u32 element count
//     the data, row-major, unaligned
//   version ≥ 3: u32 alias count, then per alias: string alias, string target
//     (`_alias_variables` stores a variable equal to an alphabetically earlier one once, e.g. Whisper's
//     decoder/projection/weight → decoder/embeddings/weight; the alias also covers the target's `_scale`)
//   string = u16 byte count including a terminating NUL, then the bytes.
//
// Rank-0 variables are attributes (Whisper: `encoder/num_heads`, int16). Quantized weights carry a float32
// `<name>_scale` (model_spec.py `_quantize`): int8 one scale per output row (a conv weight's [out, in, k] is one row
// per output channel), int16 one scalar; CTranslate2 dequantizes `Float(q) · (1 / scale)` (src/ops/dequantize_cpu.cc),
// and so does `floats(_:)`, bit for bit. Every length is checked against the file before it is used: a damaged file
// gives `invalidModelBinary`, never a crash or a read outside the mapping.

import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public final class CTranslate2Model: @unchecked Sendable {  // immutable after init; the mapping is read-only
    /// CTranslate2's DataType enum (include/ctranslate2/types.h), in file id order.
    public enum DType: UInt8, Sendable, CaseIterable {
        case float32 = 0, int8 = 1, int16 = 2, int32 = 3, float16 = 4, bfloat16 = 5

        public var byteCount: Int {
            switch self {
            case .int8: return 1
            case .int16, .float16, .bfloat16: return 2
            case .float32, .int32: return 4
            }
        }

        /// The safetensors spelling, used in digests and messages ("F32", "I8", …).
        public var label: String {
            switch self {
            case .float32: return "F32"
            case .int8: return "I8"
            case .int16: return "I16"
            case .int32: return "I32"
            case .float16: return "F16"
            case .bfloat16: return "BF16"
            }
        }

        /// Converted to float32 by `floats(_:)` (int8 and int16 through their scale).
        public var isLoadable: Bool { self != .int32 }
        public var isQuantized: Bool { self == .int8 || self == .int16 }
        var isFloat: Bool { self == .float32 || self == .float16 || self == .bfloat16 }
    }

    /// One stored variable, validated.
    public struct Variable: Sendable, Equatable {
        public var dtype: DType
        /// Empty for a scalar attribute.
        public var shape: [Int]
        /// Where its bytes are inside the file.
        public var byteRange: Range<Int>
        public var elementCount: Int { shape.reduce(1, *) }
    }

    /// The binary versions CTranslate2 itself reads (4.x: `current_binary_version = 6`).
    public static let supportedBinaryVersions: ClosedRange<Int> = 1...6
    /// Caps that no real model comes near (Whisper large-v3: 1 200 variables, rank ≤ 3), so that a damaged count
    /// fails fast instead of allocating.
    public static let maxVariableCount = 1 << 20
    public static let maxRank = 8

    public let path: String
    public let binaryVersion: Int
    /// "WhisperSpec", …; empty for binary version 1 (which had no spec name).
    public let specName: String
    public let specRevision: Int
    /// The stored variables, sorted.
    public let variableNames: [String]
    /// Alias → the stored variable it names (chains resolved).
    public let aliases: [String: String]
    private let variables: [String: Variable]
    private let file: MappedFile

    /// Maps `path` and validates the whole header (every variable's name, shape, dtype and byte range; the aliases).
    /// Throws `missingFile`, `ioError`, `unsupportedFormatVersion` or `invalidModelBinary`.
    public init(contentsOf path: String) throws(ModelError) {
        self.path = path
        let file = try MappedFile(path: path)
        let size = file.byteCount
        guard size >= 4 else {
            throw .invalidModelBinary(path: path, reason: "the file is \(size) bytes, shorter than the 4-byte version")
        }
        let base = file.base

        let header = try Self.parse(UnsafeRawBufferPointer(start: base, count: size), path: path)
        binaryVersion = header.version
        specName = header.spec
        specRevision = header.revision
        variables = header.variables
        variableNames = header.variables.keys.sorted()
        aliases = header.aliases
        self.file = file
    }


    /// Variables and aliases, sorted.
    public var allNames: [String] { (variableNames + aliases.keys).sorted() }

    /// The stored variable `name` denotes (itself, or an alias's target); nil when absent.
    public func resolve(_ name: String) -> String? {
        variables[name] != nil ? name : aliases[name]
    }

    public func variable(_ name: String) -> Variable? {
        resolve(name).flatMap { variables[$0] }
    }

    /// The quantization scale of a quantized variable (CTranslate2 looks up `<name>_scale`, through aliases).
    public func scaleName(of name: String) -> String? {
        guard let stored = resolve(name) else { return nil }
        return resolve(stored + "_scale") ?? resolve(name + "_scale")
    }

    /// The variable as float32, row-major: float16 / bfloat16 upcast exactly (as `SafeTensors.floats`), int8 and
    /// int16 dequantized with their scale exactly as CTranslate2 does. Reads only this variable (and its scale).
    public func floats(_ name: String) throws(ModelError) -> [Float] {
        guard let stored = resolve(name), let variable = variables[stored] else {
            throw .missingTensor(path: path, tensor: name)
        }
        let source = UnsafeRawPointer(file.base + variable.byteRange.lowerBound)
        let count = variable.elementCount
        switch variable.dtype {
        case .float32: return StoredFloats.float32(source, count: count)
        case .float16: return StoredFloats.float16(source, count: count)
        case .bfloat16: return StoredFloats.bfloat16(source, count: count)
        case .int8, .int16:
            let scales = try self.scales(of: name, stored: stored, variable: variable)
            let rowLength = scales.count == 0 ? 0 : count / scales.count
            let isInt8 = variable.dtype == .int8
            return [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
                for row in 0..<scales.count {
                    let reciprocal = 1 / scales[row]  // src/ops/dequantize_cpu.cc: r_scale = 1.f / scale
                    for i in (row * rowLength)..<((row + 1) * rowLength) {
                        let q = isInt8 ? Float(source.load(fromByteOffset: i, as: Int8.self))
                            : Float(Int16(littleEndian: source.loadUnaligned(fromByteOffset: 2 * i, as: Int16.self)))
                        buffer[i] = q * reciprocal
                    }
                }
                initialized = count
            }
        case .int32:
            throw .unsupportedDType(path: path, tensor: name, dtype: variable.dtype.label)
        }
    }

    /// A scalar integer attribute (e.g. `encoder/num_heads`), nil when absent. Throws `invalidModelBinary` when it
    /// is not an integer scalar.
    public func integer(_ name: String) throws(ModelError) -> Int? {
        guard let stored = resolve(name), let variable = variables[stored] else { return nil }
        let source = UnsafeRawPointer(file.base + variable.byteRange.lowerBound)
        guard variable.elementCount == 1, variable.shape.count <= 1 else {
            throw .invalidModelBinary(path: path, reason: "\(name) should be a scalar, but has shape \(variable.shape)")
        }
        switch variable.dtype {
        case .int8: return Int(source.load(as: Int8.self))
        case .int16: return Int(Int16(littleEndian: source.loadUnaligned(as: Int16.self)))
        case .int32: return Int(Int32(littleEndian: source.loadUnaligned(as: Int32.self)))
        default:
            throw .invalidModelBinary(path: path, reason: "\(name) should be an integer, but is \(variable.dtype.label)")
        }
    }

    /// Calls `body` with the variable's stored bytes (inside the mapping; valid only during the call).
    public func withRawBytes<Result>(_ name: String, _ body: (UnsafeRawBufferPointer) -> Result) throws(ModelError) -> Result {
        guard let variable = variable(name) else { throw .missingTensor(path: path, tensor: name) }
        return body(UnsafeRawBufferPointer(start: file.base + variable.byteRange.lowerBound, count: variable.byteRange.count))
    }

    /// Drops the variable's pages from the resident set (`MappedFile.releasePages`) once it has been read.
    public func releaseStoredBytes(_ name: String) {
        guard let variable = variable(name) else { return }
        file.releasePages(variable.byteRange)
    }

    /// One scale per row (int8: `[rows]`; int16: a scalar, repeated here as one row of everything).
    private func scales(of name: String, stored: String, variable: Variable) throws(ModelError) -> [Float] {
        guard let scaleName = scaleName(of: name), let scale = self.variable(scaleName) else {
            throw .missingTensor(path: path, tensor: stored + "_scale")
        }
        guard scale.dtype.isFloat else {
            throw .invalidModelBinary(path: path, reason: "\(scaleName) is \(scale.dtype.label), expected a float scale")
        }
        let count = variable.elementCount
        let rows = variable.shape.first ?? 1
        let values = try floats(scaleName)
        if values.count == 1 { return count == 0 ? [] : values }
        guard values.count == rows, rows > 0, count % rows == 0 else {
            throw .invalidModelBinary(path: path, reason: "\(scaleName) has \(values.count) values; \(stored) \(variable.shape) "
                                      + "needs 1 or \(rows) (one per row)")
        }
        return values
    }

    // MARK: - Header

    private struct Header {
        var version: Int
        var spec: String
        var revision: Int
        var variables: [String: Variable]
        var aliases: [String: String]
    }

    /// A bounds-checked reader over the mapping; every failure names the offset and what was being read.
    private struct Cursor {
        let bytes: UnsafeRawBufferPointer
        let path: String
        var offset = 0
        /// What is being read, for messages ("variable 12 (encoder/conv1/weight)").
        var context = "the header"

        var remaining: Int { bytes.count - offset }

        func truncated(_ what: String, _ size: Int) -> ModelError {
            .invalidModelBinary(path: path, reason: "truncated: \(context): \(what) of \(size) bytes at offset \(offset) "
                                + "runs past the end of the \(bytes.count)-byte file")
        }

        mutating func skip(_ count: Int, _ what: String) throws(ModelError) -> Range<Int> {
            guard count >= 0, count <= remaining else { throw truncated(what, count) }
            defer { offset += count }
            return offset..<(offset + count)
        }

        mutating func u8(_ what: String) throws(ModelError) -> UInt8 {
            guard remaining >= 1 else { throw truncated(what, 1) }
            defer { offset += 1 }
            return bytes[offset]
        }

        mutating func u16(_ what: String) throws(ModelError) -> Int {
            guard remaining >= 2 else { throw truncated(what, 2) }
            defer { offset += 2 }
            return Int(UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt16.self)))
        }

        mutating func u32(_ what: String) throws(ModelError) -> Int {
            guard remaining >= 4 else { throw truncated(what, 4) }
            defer { offset += 4 }
            return Int(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self)))
        }

        /// u16 length (NUL included), then the bytes; the string ends at the first NUL, as `std::string(c_str)` does.
        mutating func string(_ what: String) throws(ModelError) -> String {
            let start = offset
            let length = try u16("the length of \(what)")
            let range = try skip(length, what)
            guard let nul = bytes[range].firstIndex(of: 0) else {
                throw .invalidModelBinary(path: path, reason: "\(context): \(what) at offset \(start) is not NUL-terminated")
            }
            guard let text = String(validating: bytes[range.lowerBound..<nul], as: UTF8.self) else {
                throw .invalidModelBinary(path: path, reason: "\(context): \(what) at offset \(start) is not UTF-8")
            }
            return text
        }
    }

    private static func parse(_ bytes: UnsafeRawBufferPointer, path: String) throws(ModelError) -> Header {
        var cursor = Cursor(bytes: bytes, path: path)
        let version = try cursor.u32("the binary version")
        guard supportedBinaryVersions.contains(version) else {
            throw .unsupportedFormatVersion(path: path, version: version)
        }
        var spec = "", revision = 1
        if version >= 2 {
            spec = try cursor.string("the spec name")
            revision = try cursor.u32("the spec revision")
        }

        // The smallest variable record: 3-byte name, rank 0, dtype, 4-byte length, no data.
        let count = try cursor.u32("the variable count")
        guard count <= maxVariableCount, count <= cursor.remaining / 9 else {
            throw .invalidModelBinary(path: path, reason: "\(count) variables cannot fit in the \(cursor.remaining) bytes left "
                                      + "after the header at offset \(cursor.offset)")
        }
        var variables: [String: Variable] = [:]
        variables.reserveCapacity(count)
        for index in 0..<count {
            cursor.context = "variable \(index) of \(count)"
            let name = try cursor.string("the name")
            guard !name.isEmpty else { throw .invalidModelBinary(path: path, reason: "\(cursor.context) has an empty name") }
            cursor.context += " (\(name))"
            let rank = Int(try cursor.u8("the rank"))
            guard rank <= maxRank else {
                throw .invalidModelBinary(path: path, reason: "\(cursor.context): rank \(rank) exceeds \(maxRank)")
            }
            var shape: [Int] = []
            var elementCount = 1
            for _ in 0..<rank {
                let dimension = try cursor.u32("a dimension")
                let (product, overflow) = elementCount.multipliedReportingOverflow(by: dimension)
                guard !overflow, product <= Int(Int32.max) * 8 else {
                    throw .invalidModelBinary(path: path, reason: "\(cursor.context): implausible shape \(shape + [dimension])")
                }
                elementCount = product
                shape.append(dimension)
            }
            let dtype: DType
            let byteCount: Int
            if version >= 4 {
                let id = try cursor.u8("the dtype id")
                guard let known = DType(rawValue: id) else {
                    throw .invalidModelBinary(path: path, reason: "\(cursor.context): unknown dtype id \(id) "
                                              + "(known: 0 float32, 1 int8, 2 int16, 3 int32, 4 float16, 5 bfloat16)")
                }
                dtype = known
                byteCount = try cursor.u32("the byte count")
            } else {
                // Before version 4 the item size stood for the type (model.cc `get_dtype_from_item_size`).
                let itemSize = try cursor.u8("the item size")
                switch itemSize {
                case 4: dtype = .float32
                case 2: dtype = .int16
                case 1: dtype = .int8
                default:
                    throw .invalidModelBinary(path: path, reason: "\(cursor.context): unknown item size \(itemSize) (known: 4, 2, 1)")
                }
                byteCount = try cursor.u32("the element count") * Int(itemSize)
            }
            guard byteCount == elementCount * dtype.byteCount else {
                throw .invalidModelBinary(path: path, reason: "\(cursor.context): \(dtype.label) \(shape) needs "
                                          + "\(elementCount * dtype.byteCount) bytes, the file gives \(byteCount)")
            }
            let range = try cursor.skip(byteCount, "the data")
            guard variables[name] == nil else {
                throw .invalidModelBinary(path: path, reason: "\(cursor.context): the name appears twice")
            }
            variables[name] = Variable(dtype: dtype, shape: shape, byteRange: range)
        }

        var aliases: [String: String] = [:]
        if version >= 3 {
            cursor.context = "the aliases"
            let aliasCount = try cursor.u32("the alias count")
            guard aliasCount <= maxVariableCount, aliasCount <= cursor.remaining / 6 else {
                throw .invalidModelBinary(path: path, reason: "\(aliasCount) aliases cannot fit in the \(cursor.remaining) "
                                          + "bytes left at offset \(cursor.offset)")
            }
            for index in 0..<aliasCount {
                cursor.context = "alias \(index) of \(aliasCount)"
                let alias = try cursor.string("the alias")
                let target = try cursor.string("the target")
                // As Model::register_variable_alias: an alias to nothing is ignored, and never replaces a name.
                guard variables[alias] == nil, aliases[alias] == nil,
                      let stored = variables[target] != nil ? target : aliases[target] else { continue }
                aliases[alias] = stored
            }
        }
        // Anything after the aliases is ignored, as CTranslate2 does.
        return Header(version: version, spec: spec, revision: revision, variables: variables, aliases: aliases)
    }
}
