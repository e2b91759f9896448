// The SHA-256 behind ModelDescription.digest (libcrypto), against the FIPS 180-4 / NIST example vectors and against
// the hand-written oracle from the standard (ReferenceSHA256) on odd lengths and odd update pieces.

import Testing
@_spi(Testing) import VoxEncModel
import VoxEncTestSupport

@Suite("SHA-256")
struct SHA256Tests {
    func hex(_ text: String) -> String { SHA256.hex(Array(text.utf8).withUnsafeBytes { SHA256.hash($0) }) }

    @Test("NIST example vectors: empty, abc, the 448- and 896-bit messages, a million a's")
    func knownVectors() {
        #expect(hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")
                == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        #expect(hex("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu")
                == "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1")
        #expect(hex(String(repeating: "a", count: 1_000_000))
                == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test("incremental updates in odd pieces equal one update")
    func incremental() {
        let message = (0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        let whole = message.withUnsafeBytes { SHA256.hash($0) }
        for piece in [1, 3, 63, 64, 65, 200] {
            var hasher = SHA256()
            var start = 0
            while start < message.count {
                let end = min(start + piece, message.count)
                hasher.update(Array(message[start..<end]))
                start = end
            }
            #expect(hasher.finalize() == whole, "pieces of \(piece)")
        }
    }

    @Test("equals the oracle written from the standard on every length 0 … 300 and on 1 MB, whole and in pieces")
    func againstTheOracle() {
        let message = Signals.lcgUniform(count: 1 << 20, seed: 99).map { UInt8(truncatingIfNeeded: Int(($0 + 0.5) * 256)) }
        for length in Array(0...300) + [4095, 4096, 4097, message.count] {
            let prefix = Array(message[0..<length])
            let fast = prefix.withUnsafeBytes { SHA256.hash($0) }
            let oracle = prefix.withUnsafeBytes { ReferenceSHA256.hash($0) }
            #expect(fast == oracle, "length \(length)")
        }
        var pieces = SHA256()
        var start = 0, piece = 1
        while start < message.count {
            let end = min(start + piece, message.count)
            pieces.update(Array(message[start..<end]))
            start = end
            piece = piece * 3 % 1021 + 1  // 1, 4, 13, 40, … odd sizes across block boundaries
        }
        #expect(pieces.finalize() == message.withUnsafeBytes { ReferenceSHA256.hash($0) })
    }
}
