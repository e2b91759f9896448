// The two digests the Hub's ETags are: SHA-256 of an LFS file's bytes, and the git blob id (SHA-1 of
// "blob {size}\0" + bytes) of a file stored in git. OpenSSL's libcrypto (EVP).

import CCrypto
import Foundation

struct ContentDigest {
    enum Kind { case sha256, gitBlob }
    let kind: Kind
    private let context: OpaquePointer

    /// The digest an ETag names (64 hex digits: SHA-256, 40: git blob), or nil for another kind of ETag.
    init?(etag: String, size: Int) {
        switch etag.count {
        case 64: kind = .sha256
        case 40: kind = .gitBlob
        default: return nil
        }
        guard let context = EVP_MD_CTX_new() else { return nil }
        self.context = context
        EVP_DigestInit_ex(context, kind == .sha256 ? EVP_sha256() : EVP_sha1(), nil)
        if kind == .gitBlob {
            let prefix = Array("blob \(size)\0".utf8)
            prefix.withUnsafeBytes { _ = EVP_DigestUpdate(context, $0.baseAddress, $0.count) }
        }
    }

    func update(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
        EVP_DigestUpdate(context, base, bytes.count)
    }

    /// Lower-case hex; frees the context.
    func finish() -> String {
        var digest = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        EVP_DigestFinal_ex(context, &digest, &length)
        EVP_MD_CTX_free(context)
        return digest.prefix(Int(length)).map { String(format: "%02x", $0) }.joined()
    }

    /// The digest of the file at `path` (read in 4 MiB blocks).
    static func of(file path: String, etag: String, size: Int) -> String? {
        guard let digest = ContentDigest(etag: etag, size: size), let handle = FileHandle(forReadingAtPath: path) else {
            return nil
        }
        defer { try? handle.close() }
        while let block = try? handle.read(upToCount: 4 << 20), !block.isEmpty {
            block.withUnsafeBytes { digest.update($0) }
        }
        return digest.finish()
    }
}
