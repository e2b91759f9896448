// The NumPy .npy format, version 1.0, little-endian float32, C order.
// Reference: numpy/lib/format.py (magic "\x93NUMPY", header dict padded with spaces to a multiple of 64 bytes, '\n').

import Foundation

/// A float32 array with its shape, as stored in a `.npy` file.
public struct NumpyArray: Sendable, Equatable {
    public var shape: [Int]
    public var values: [Float]

    public init(shape: [Int], values: [Float]) {
        precondition(shape.reduce(1, *) == values.count, "shape \(shape) does not match \(values.count) values")
        self.shape = shape
        self.values = values
    }

    /// The header bytes for a C-order array of `shape` (float32 unless `descriptor` says otherwise, e.g. "<f2"):
    /// format version 1.0, or 2.0 (4-byte header length) when the header passes 65 535 bytes, as numpy's own writer
    /// does.
    public static func header(shape: [Int], descriptor: String = "<f4") -> Data {
        let dims = shape.count == 1 ? "\(shape[0])," : shape.map(String.init).joined(separator: ", ")
        var dict = "{'descr': '\(descriptor)', 'fortran_order': False, 'shape': (\(dims)), }"
        let dictLength = dict.utf8.count + 1  // + the final newline
        let paddedForVersion1 = (10 + dictLength + 63) / 64 * 64 - 10
        let version: UInt8 = paddedForVersion1 <= 0xFFFF ? 1 : 2
        let prefix = version == 1 ? 10 : 12  // magic (6) + version (2) + header length (2 or 4)
        let total = (prefix + dictLength + 63) / 64 * 64
        dict += String(repeating: " ", count: total - prefix - dictLength) + "\n"
        var data = Data([0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, version, 0])
        let length = dict.utf8.count
        if version == 1 {
            data.append(contentsOf: [UInt8(length & 0xFF), UInt8(length >> 8)])
        } else {
            data.append(contentsOf: [UInt8(length & 0xFF), UInt8((length >> 8) & 0xFF), UInt8((length >> 16) & 0xFF),
                                     UInt8((length >> 24) & 0xFF)])
        }
        data.append(contentsOf: Array(dict.utf8))
        return data
    }

    /// The whole file: header and little-endian data.
    public func encoded() -> Data {
        var data = Self.header(shape: shape)
        values.withUnsafeBufferPointer { data.append(UnsafeBufferPointer(start: UnsafeRawPointer($0.baseAddress!).assumingMemoryBound(to: UInt8.self), count: $0.count * 4)) }
        return data
    }

    /// Parses a `.npy` file holding float32 ('<f4'), or float64 ('<f8') / int16 ('<i2') / int32 ('<i4') converted
    /// to float32. Throws `NumpyFormatError` for anything else.
    public init(data: Data) throws(NumpyFormatError) {
        let bytes = [UInt8](data)
        guard bytes.count >= 10, bytes[0..<6] == [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59] else {
            throw NumpyFormatError(reason: "not a .npy file (bad magic)")
        }
        let major = bytes[6]
        let headerLength: Int
        let headerStart: Int
        switch major {
        case 1:
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
            headerStart = 10
        case 2, 3:
            guard bytes.count >= 12 else { throw NumpyFormatError(reason: "truncated header") }
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
            headerStart = 12
        default:
            throw NumpyFormatError(reason: "unsupported .npy version \(major)")
        }
        guard headerStart + headerLength <= bytes.count,
              let header = String(bytes: bytes[headerStart..<(headerStart + headerLength)], encoding: .ascii) else {
            throw NumpyFormatError(reason: "truncated or non-ASCII header")
        }
        guard !header.contains("'fortran_order': True") else {
            throw NumpyFormatError(reason: "Fortran-order arrays are not supported")
        }
        let descr = try Self.field("descr", in: header)
        let shapeText = try Self.field("shape", in: header)
        let dims = shapeText.trimmingCharacters(in: CharacterSet(charactersIn: "()"))
            .split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        var shape: [Int] = []
        for dim in dims {
            guard let value = Int(dim), value >= 0, value < 1 << 40 else {
                throw NumpyFormatError(reason: "bad shape \(shapeText)")
            }
            shape.append(value)
        }
        var count = 1
        for dim in shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: dim)
            guard !overflow, product < 1 << 40 else { throw NumpyFormatError(reason: "shape too large \(shapeText)") }
            count = product
        }
        let dataStart = headerStart + headerLength
        let itemSize: Int
        switch descr {
        case "'<f4'": itemSize = 4
        case "'<f8'": itemSize = 8
        case "'<i2'": itemSize = 2
        case "'<i4'": itemSize = 4
        default: throw NumpyFormatError(reason: "unsupported dtype \(descr) (expected '<f4')")
        }
        guard bytes.count - dataStart >= count * itemSize else {
            throw NumpyFormatError(reason: "data holds \(bytes.count - dataStart) bytes, shape needs \(count * itemSize)")
        }
        var values = [Float](repeating: 0, count: count)
        bytes.withUnsafeBytes { raw in
            let base = raw.baseAddress! + dataStart
            for i in 0..<count {
                switch descr {
                case "'<f4'": values[i] = Float(bitPattern: UInt32(littleEndian: base.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))
                case "'<f8'": values[i] = Float(Double(bitPattern: UInt64(littleEndian: base.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self))))
                case "'<i2'": values[i] = Float(Int16(littleEndian: base.loadUnaligned(fromByteOffset: 2 * i, as: Int16.self)))
                default: values[i] = Float(Int32(littleEndian: base.loadUnaligned(fromByteOffset: 4 * i, as: Int32.self)))
                }
            }
        }
        self.shape = shape
        self.values = values
    }

    public init(contentsOf path: String) throws(NumpyFormatError) {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw NumpyFormatError(reason: "\(path): cannot read")
        }
        try self.init(data: data)
    }

    static func field(_ name: String, in header: String) throws(NumpyFormatError) -> String {
        guard let keyRange = header.range(of: "'\(name)':") else {
            throw NumpyFormatError(reason: "header lacks '\(name)'")
        }
        let rest = header[keyRange.upperBound...].trimmingCharacters(in: .whitespaces)
        if name == "shape" {
            guard let close = rest.firstIndex(of: ")") else { throw NumpyFormatError(reason: "bad shape") }
            return String(rest[...close])
        }
        guard let comma = rest.firstIndex(of: ",") else { throw NumpyFormatError(reason: "bad header field \(name)") }
        return String(rest[..<comma]).trimmingCharacters(in: .whitespaces)
    }
}

public struct NumpyFormatError: Error, Sendable, Equatable, CustomStringConvertible {
    public var reason: String
    public var description: String { ".npy: \(reason)" }
}

extension NumpyArray {
    /// Streams a float32 array of `shape` to `path` through a temporary file (nothing is left behind on failure).
    public static func write(shape: [Int], values: [Float], to path: String, overwrite: Bool) throws(OutputError) {
        precondition(shape.reduce(1, *) == values.count, "shape does not match the values")
        let writer = try AtomicFileWriter(path: path, overwrite: overwrite)
        try writer.write(header(shape: shape))
        try writer.write(values)
        try writer.commit()
    }
}
