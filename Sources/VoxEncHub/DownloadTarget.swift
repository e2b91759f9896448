// One local file a pull makes, as byte pieces fetched with Range requests: a file fetched whole (configs,
// CTranslate2's model.bin) is pieces of itself at the same offsets; a sliced safetensors file is its new header
// (written locally) followed by the kept tensors' bytes, each piece a contiguous run of a source file. Pieces are at
// most `pieceSize` bytes, the unit of resumption.

import Foundation

/// A contiguous byte run of a repository file, written at `destination` in the local file.
struct Piece: Sendable, Equatable, Codable {
    var source: String
    var sourceStart: Int
    var count: Int
    var destination: Int
    var sourceRange: Range<Int> { sourceStart..<(sourceStart + count) }
}

/// What a repository file is known to be, from the listing and the header read (Content-Range total, X-Linked-Etag).
struct SourceFile: Sendable, Equatable, Codable {
    var path: String
    var size: Int
    /// LFS sha256 or git blob id, when the Hub gave one.
    var etag: String?
}

struct DownloadTarget: Sendable, Equatable, Codable {
    /// Name in the model directory.
    var name: String
    var size: Int
    /// Bytes at offset 0 written locally (a sliced file's header), not fetched.
    var prefix: Data
    var pieces: [Piece]
    /// A whole file's ETag, checked against its bytes once they are all here; nil for a sliced file.
    var wholeETag: String?
    /// Tensors a sliced file holds (for the summary).
    var tensorCount: Int = 0

    /// 16 MiB; VOXENC_PULL_PIECE_BYTES sets another (≥ 4096), for tests that kill a pull between pieces.
    static let pieceSize = ProcessInfo.processInfo.environment["VOXENC_PULL_PIECE_BYTES"].flatMap { Int($0) }
        .map { max(4096, $0) } ?? 16 << 20

    /// A file fetched whole.
    static func whole(_ file: SourceFile) -> DownloadTarget {
        var pieces: [Piece] = []
        var offset = 0
        while offset < file.size {
            let count = min(pieceSize, file.size - offset)
            pieces.append(Piece(source: file.path, sourceStart: offset, count: count, destination: offset))
            offset += count
        }
        return DownloadTarget(name: file.path, size: file.size, prefix: Data(), pieces: pieces, wholeETag: file.etag)
    }

    /// Bytes fetched over the network for this file.
    var fetchedSize: Int { pieces.reduce(0) { $0 + $1.count } }
}
