// Writes (and independently reads) safetensors files for the loader and CLI tests, including deliberately broken ones:
// the header can be edited as a JSON object, replaced by raw text, given a wrong length, or the file truncated.
// The reader here is deliberately separate from `SafeTensors` (JSONSerialization + Data slicing), so fixture edits do
// not depend on the code under test.

import Foundation

/// One tensor as raw bytes.
public struct RawTensor {
    public var name: String
    public var dtype: String
    public var shape: [Int]
    public var bytes: [UInt8]

    public init(name: String, dtype: String, shape: [Int], bytes: [UInt8]) {
        self.name = name
        self.dtype = dtype
        self.shape = shape
        self.bytes = bytes
    }

    public static func f32(_ name: String, _ shape: [Int], _ values: [Float]) -> RawTensor {
        RawTensor(name: name, dtype: "F32", shape: shape, bytes: values.flatMap { littleEndian($0.bitPattern) })
    }
    public static func bits16(_ name: String, dtype: String, _ shape: [Int], _ bits: [UInt16]) -> RawTensor {
        RawTensor(name: name, dtype: dtype, shape: shape, bytes: bits.flatMap { littleEndian($0) })
    }

    /// The F32 values (for editing fixtures).
    public var floats: [Float] {
        precondition(dtype == "F32")
        return stride(from: 0, to: bytes.count, by: 4).map { i in
            Float(bitPattern: UInt32(bytes[i]) | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2]) << 16 | UInt32(bytes[i + 3]) << 24)
        }
    }
}

public func littleEndian<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
    (0..<(T.bitWidth / 8)).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) }
}

public enum SafeTensorsFileBuilder {
    /// The header object: entries in order with consecutive data_offsets, plus `__metadata__`.
    public static func header(for tensors: [RawTensor], metadata: [String: String]? = ["format": "pt"]) -> [String: Any] {
        var header: [String: Any] = [:]
        var offset = 0
        for tensor in tensors {
            header[tensor.name] = ["dtype": tensor.dtype, "shape": tensor.shape, "data_offsets": [offset, offset + tensor.bytes.count]]
            offset += tensor.bytes.count
        }
        if let metadata { header["__metadata__"] = metadata }
        return header
    }

    /// Writes `tensors` to `path`. `editHeader` changes the JSON object before it is serialised; `headerText` replaces
    /// the JSON text entirely; `headerLength` overrides the 8-byte length field; `truncatedTo` cuts the file.
    public static func write(_ tensors: [RawTensor], to path: String, metadata: [String: String]? = ["format": "pt"],
                      editHeader: ((inout [String: Any]) -> Void)? = nil, headerText: String? = nil,
                      headerLength: UInt64? = nil, truncatedTo: Int? = nil) throws {
        var object = header(for: tensors, metadata: metadata)
        editHeader?(&object)
        var json = try headerText.map { Array($0.utf8) }
            ?? Array(JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]))
        while json.count % 8 != 0 { json.append(UInt8(ascii: " ")) }  // the format allows trailing spaces
        var file = littleEndian(headerLength ?? UInt64(json.count)) + json
        for tensor in tensors { file += tensor.bytes }
        if let truncatedTo { file = Array(file.prefix(truncatedTo)) }
        guard FileManager.default.createFile(atPath: path, contents: Data(file)) else {
            throw CocoaError(.fileWriteUnknown)
        }
    }

    /// Every tensor of a well-formed file, in data order.
    public static func read(_ path: String) throws -> (tensors: [RawTensor], metadata: [String: String]?) {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        let length = data.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        let header = try JSONSerialization.jsonObject(with: data.subdata(in: 8..<(8 + length))) as! [String: Any]
        var tensors: [(Int, RawTensor)] = []
        for (name, value) in header where name != "__metadata__" {
            let entry = value as! [String: Any]
            let offsets = entry["data_offsets"] as! [Int]
            let bytes = [UInt8](data.subdata(in: (8 + length + offsets[0])..<(8 + length + offsets[1])))
            tensors.append((offsets[0], RawTensor(name: name, dtype: entry["dtype"] as! String, shape: entry["shape"] as! [Int], bytes: bytes)))
        }
        return (tensors.sorted { $0.0 < $1.0 }.map(\.1), header["__metadata__"] as? [String: String])
    }

    /// Copies a fixture directory's files (not symlinks) into `destination`.
    public static func copyDirectory(_ source: String, to destination: String, skipping: Set<String> = []) throws {
        try FileManager.default.createDirectory(atPath: destination, withIntermediateDirectories: true)
        for name in try FileManager.default.contentsOfDirectory(atPath: source) where !skipping.contains(name) {
            try FileManager.default.copyItem(atPath: source + "/" + name, toPath: destination + "/" + name)
        }
    }

    /// Rewrites a JSON file through `edit`.
    public static func editJSON(_ path: String, _ edit: (inout [String: Any]) -> Void) throws {
        var object = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as! [String: Any]
        edit(&object)
        try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]).write(to: URL(fileURLWithPath: path))
    }
}
