// The model-info listing (huggingface_hub `HfApi.model_info(files_metadata=True)`: GET
// /api/models/{repo}/revision/{revision}?blobs=true): the commit the revision points at, and every file with its size
// and the ETag the Hub serves it with — the sha256 of an LFS file, the git blob id of a small one. The commit pins
// every later request (as snapshot_download does), so a branch that moves during a pull cannot mix two versions.

import Foundation

public struct RepositoryListing: Sendable {
    public struct File: Sendable, Equatable {
        public var path: String
        public var size: Int?
        /// LFS sha256 or git blob sha1, lower-case hex.
        public var etag: String?
    }

    /// The commit every request names: the listing's `sha`, else the `X-Repo-Commit` of a first resolve, else the
    /// revision as given (then `pinned` is false and responses' commits are not compared).
    public var commit: String
    public var pinned: Bool
    public var files: [String: File]
    /// Bytes of every file in the repository (what a full download fetches).
    public var totalSize: Int { files.values.reduce(0) { $0 + ($1.size ?? 0) } }

    static func parse(_ data: Data, url: String) throws(PullError) -> RepositoryListing {
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let siblings = object["siblings"] as? [[String: Any]] else {
            throw .protocolViolation(url: url, reason: "the model info is not JSON with a \"siblings\" list")
        }
        let commit = object["sha"] as? String ?? ""
        guard commit.allSatisfy({ $0.isHexDigit }) else {
            throw .protocolViolation(url: url, reason: "the commit \"\(commit)\" is not hexadecimal")
        }
        var files: [String: File] = [:]
        for sibling in siblings {
            guard let path = sibling["rfilename"] as? String else { continue }
            let lfs = sibling["lfs"] as? [String: Any]
            let size = (lfs?["size"] as? Int) ?? (sibling["size"] as? Int)
            let etag = (lfs?["sha256"] as? String) ?? (sibling["blobId"] as? String)
            files[path] = File(path: path, size: size, etag: etag?.lowercased())
        }
        return RepositoryListing(commit: commit.lowercased(), pinned: !commit.isEmpty, files: files)
    }
}

/// An ETag as huggingface_hub compares it: quotes and a weak `W/` prefix removed, lower-cased.
func normalizedETag(_ value: String?) -> String? {
    guard var text = value?.trimmingCharacters(in: .whitespaces), !text.isEmpty else { return nil }
    if text.hasPrefix("W/") { text.removeFirst(2) }
    return text.trimmingCharacters(in: CharacterSet(charactersIn: "\"")).lowercased()
}
