// One member header of a POSIX ustar archive (512 bytes), written and read. Long names use the ustar prefix field
// or a pax extended header ("path"), and sizes past 8 GiB GNU's base-256 field, as Python's tarfile, GNU tar and
// webdataset read them. Written headers are reproducible: mode 0644, owner 0, mtime 0.
// Reference: POSIX.1-2017 pax "ustar Interchange Format" and "pax Extended Header"; CPython Lib/tarfile.py.

import Foundation

enum TarHeader {
    static let blockSize = 512

    /// The header blocks of a regular-file member `name` of `size` bytes (a pax header first when the name does not
    /// fit ustar's fields).
    static func encode(name: String, size: Int) -> [UInt8] {
        let bytes = Array(name.utf8)
        if let (prefix, rest) = split(bytes) { return block(name: rest, prefix: prefix, size: size, type: UInt8(ascii: "0")) }
        // pax: "LEN path=NAME\n", LEN counting itself.
        var record = ""
        var length = bytes.count + 8
        while true {
            record = "\(length) path=\(name)\n"
            if record.utf8.count == length { break }
            length = record.utf8.count
        }
        let data = Array(record.utf8)
        return block(name: Array("././@PaxHeader".utf8), prefix: [], size: data.count, type: UInt8(ascii: "x"))
            + data + padding(data.count)
            + block(name: Array(bytes.suffix(100)), prefix: [], size: size, type: UInt8(ascii: "0"))
    }

    /// Zero bytes that fill `size` up to a whole block.
    static func padding(_ size: Int) -> [UInt8] { [UInt8](repeating: 0, count: (blockSize - size % blockSize) % blockSize) }

    /// `size` rounded up to whole blocks.
    static func paddedSize(_ size: Int) -> Int { (size + blockSize - 1) / blockSize * blockSize }

    /// (prefix, name) for ustar: the name alone when ≤ 100 bytes, else split at a "/" with prefix ≤ 155 bytes.
    private static func split(_ name: [UInt8]) -> ([UInt8], [UInt8])? {
        if name.count <= 100 { return ([], name) }
        for cut in (0..<name.count).reversed() where name[cut] == UInt8(ascii: "/") {
            let prefix = Array(name[..<cut]), rest = Array(name[(cut + 1)...])
            if prefix.count <= 155 && rest.count <= 100 && !rest.isEmpty { return (prefix, rest) }
        }
        return nil
    }

    private static func block(name: [UInt8], prefix: [UInt8], size: Int, type: UInt8) -> [UInt8] {
        var header = [UInt8](repeating: 0, count: blockSize)
        func put(_ bytes: [UInt8], at offset: Int) { header.replaceSubrange(offset..<(offset + bytes.count), with: bytes) }
        func octal(_ value: Int, width: Int) -> [UInt8] {  // width − 1 digits and a NUL
            Array(String(value, radix: 8).leftPadded(to: width - 1).utf8) + [0]
        }
        put(name, at: 0)
        put(octal(0o644, width: 8), at: 100)
        put(octal(0, width: 8), at: 108)
        put(octal(0, width: 8), at: 116)
        if size < 0o77777777777 {
            put(octal(size, width: 12), at: 124)
        } else {  // base-256: 0x80 then the size big-endian
            put([0x80] + [UInt8](repeating: 0, count: 3) + (0..<8).map { UInt8(truncatingIfNeeded: size >> (8 * (7 - $0))) }, at: 124)
        }
        put(octal(0, width: 12), at: 136)
        header[156] = type
        put(Array("ustar".utf8) + [0], at: 257)
        put(Array("00".utf8), at: 263)
        put(prefix, at: 345)
        put([UInt8](repeating: 0x20, count: 8), at: 148)
        let sum = header.reduce(0) { $0 + Int($1) }
        put(Array(String(sum, radix: 8).leftPadded(to: 6).utf8) + [0, 0x20], at: 148)
        return header
    }

    /// A parsed header block.
    struct Fields {
        var name: String
        var size: Int
        var type: UInt8
    }

    /// Parses one header block; nil for the all-zero block that ends an archive. Throws the reason it is not a header.
    static func parse(_ block: ArraySlice<UInt8>) throws(TarHeaderProblem) -> Fields? {
        precondition(block.count == blockSize)
        let b = Array(block)
        if b.allSatisfy({ $0 == 0 }) { return nil }
        guard let stored = number(b[148..<156]) else { throw TarHeaderProblem(reason: "no checksum (not a tar header)") }
        var unsigned = 0, signed = 0
        for (i, byte) in b.enumerated() {
            let value = (148..<156).contains(i) ? 0x20 : byte
            unsigned += Int(value)
            signed += Int(Int8(bitPattern: value))
        }
        guard stored == unsigned || stored == signed else { throw TarHeaderProblem(reason: "bad header checksum (not a tar header, or damaged)") }
        guard let size = number(b[124..<136]), size >= 0 else { throw TarHeaderProblem(reason: "bad size field") }
        var name = text(b[0..<100])
        if b[257..<262].elementsEqual("ustar".utf8) {
            let prefix = text(b[345..<500])
            if !prefix.isEmpty { name = prefix + "/" + name }
        }
        return Fields(name: name, size: size, type: b[156])
    }

    /// An octal field (NUL or space terminated), or a base-256 one (high bit set).
    private static func number(_ field: ArraySlice<UInt8>) -> Int? {
        if let first = field.first, first & 0x80 != 0 {
            return field.dropFirst().reduce(Int(first & 0x7F)) { ($0 << 8) | Int($1) }
        }
        let trimmed = String(decoding: field.drop { $0 == 0x20 }.prefix { $0 != 0 && $0 != 0x20 }, as: UTF8.self)
        return trimmed.isEmpty ? 0 : Int(trimmed, radix: 8)
    }

    private static func text(_ field: ArraySlice<UInt8>) -> String {
        String(decoding: field.prefix { $0 != 0 }, as: UTF8.self)
    }

    /// The records of a pax extended header's data ("LEN key=value\n" …).
    static func paxRecords(_ data: [UInt8]) -> [String: String] {
        var records: [String: String] = [:]
        var rest = data[...]
        while let space = rest.firstIndex(of: 0x20), let length = Int(String(decoding: rest[..<space], as: UTF8.self)),
              length > 0, rest.count >= length {
            let record = rest.prefix(length).dropFirst(space - rest.startIndex + 1).dropLast()
            if let equals = record.firstIndex(of: UInt8(ascii: "=")) {
                records[String(decoding: record[..<equals], as: UTF8.self)] = String(decoding: record[(equals + 1)...], as: UTF8.self)
            }
            rest = rest.dropFirst(length)
        }
        return records
    }
}

struct TarHeaderProblem: Error {
    var reason: String
}

private extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
