// float32 → float16 / bfloat16 against numpy's and ml_dtypes' own conversions: Tests/Fixtures/dtype holds ~37 000
// float32 bit patterns (every exponent, each format's halfway points and their neighbours, float16's subnormals and
// overflow, random patterns) and what `astype(np.float16)` and `astype(ml_dtypes.bfloat16)` made of them
// (Weights/tools/make_dtype_fixtures.py). Every pattern must give the reference's bits.

import Foundation
import Testing
import VoxEnc
import VoxEncTestSupport

@Suite("Output dtypes round as numpy and ml_dtypes do")
struct OutputDTypeTests {
    static func load<T: FixedWidthInteger>(_ name: String, as: T.Type) throws -> [T] {
        let data = try Data(contentsOf: URL(fileURLWithPath: Fixtures.path("dtype/" + name)))
        return data.withUnsafeBytes { raw in (0..<(data.count / MemoryLayout<T>.size)).map {
            T(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * MemoryLayout<T>.size, as: T.self)) } }
    }

    @Test("every fixture pattern gives the reference's bits", arguments: [OutputDType.float16, .bfloat16])
    func roundsAsTheReference(dtype: OutputDType) throws {
        let inputs = try Self.load("float32.u32", as: UInt32.self).map { Float(bitPattern: $0) }
        let expected = try Self.load(dtype == .float16 ? "float16.u16" : "bfloat16.u16", as: UInt16.self)
        #expect(inputs.count == expected.count && inputs.count > 30_000)
        let bytes = inputs.withUnsafeBufferPointer { dtype.encoded($0) }
        let got = (0..<inputs.count).map { UInt16(bytes[2 * $0]) | UInt16(bytes[2 * $0 + 1]) << 8 }
        let wrong = (0..<inputs.count).filter { got[$0] != expected[$0] }
        #expect(wrong.isEmpty, "\(wrong.count) of \(inputs.count) differ; first: \(wrong.prefix(5).map { String(format: "%08x → %04x, reference %04x", inputs[$0].bitPattern, got[$0], expected[$0]) })")
    }

    @Test("float32 is written as it is")
    func float32IsIdentity() {
        let values: [Float] = [1, -0.0, .infinity, 3.14159, .leastNonzeroMagnitude]
        let bytes = values.withUnsafeBufferPointer { OutputDType.float32.encoded($0) }
        #expect(bytes == values.withUnsafeBytes { Array($0) })
    }
}
