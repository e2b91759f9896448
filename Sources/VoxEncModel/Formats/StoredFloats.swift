// Little-endian float32 / float16 / bfloat16 bytes → float32, exactly as torch upcasts them (`tensor.float()`).
// Shared by the safetensors and CTranslate2 readers.

enum StoredFloats {
    static func float32(_ source: UnsafeRawPointer, count: Int) -> [Float] {
        [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            #if _endian(little)
            if count > 0 { UnsafeMutableRawPointer(buffer.baseAddress!).copyMemory(from: source, byteCount: 4 * count) }
            #else
            for i in 0..<count {
                buffer[i] = Float(bitPattern: UInt32(littleEndian: source.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))
            }
            #endif
            initialized = count
        }
    }

    static func float16(_ source: UnsafeRawPointer, count: Int) -> [Float] {
        halfWidth(source, count: count, SafeTensors.floatFromHalf)
    }

    static func bfloat16(_ source: UnsafeRawPointer, count: Int) -> [Float] {
        halfWidth(source, count: count, SafeTensors.floatFromBFloat16)
    }

    @inline(__always)
    private static func halfWidth(_ source: UnsafeRawPointer, count: Int, _ convert: (UInt16) -> Float) -> [Float] {
        [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            for i in 0..<count {
                buffer[i] = convert(UInt16(littleEndian: source.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))
            }
            initialized = count
        }
    }
}
