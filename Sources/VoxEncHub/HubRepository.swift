// Where a repository lives and how to ask for it, as huggingface_hub does: the endpoint (`--endpoint`, else
// HF_ENDPOINT, else https://huggingface.co), the token (HF_TOKEN, else the token file: HF_TOKEN_PATH, else
// $HF_HOME/token, HF_HOME defaulting to $XDG_CACHE_HOME/huggingface or ~/.cache/huggingface), and the URLs
// (constants.py HUGGINGFACE_CO_URL_TEMPLATE `{endpoint}/{repo_id}/resolve/{revision}/{filename}` with the revision
// quoted whole, hf_api.py model_info `{endpoint}/api/models/{repo_id}/revision/{revision}`).

import Foundation

public struct HubRepository: Sendable, Equatable {
    /// Scheme, host and optional path prefix, without a trailing slash.
    public var endpoint: String
    /// OWNER/NAME.
    public var id: String
    /// Branch, tag or commit as asked ("main" when none was).
    public var revision: String
    /// Whether a revision was asked for: the listing is then `/revision/{revision}`'s, else the plain one's (as
    /// huggingface_hub's `model_info(revision=None)` asks).
    public var revisionGiven: Bool
    public var token: String?

    public static let defaultEndpoint = "https://huggingface.co"

    public init(id: String, revision: String? = nil, endpoint: String? = nil, token: String? = nil,
                environment: [String: String] = ProcessInfo.processInfo.environment) throws(PullError) {
        let parts = id.split(separator: "/", omittingEmptySubsequences: false)
        let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-_."))
        guard parts.count == 2, parts.allSatisfy({ !$0.isEmpty && $0 != "." && $0 != ".."
                && String($0).unicodeScalars.allSatisfy(allowed.contains) }) else {
            throw .usage("\"\(id)\" is not a repository name: expected OWNER/NAME (letters, digits, - _ .)")
        }
        guard revision?.isEmpty != true else { throw .usage("--revision is empty") }
        var base = endpoint ?? environment["HF_ENDPOINT"].flatMap { $0.isEmpty ? nil : $0 } ?? Self.defaultEndpoint
        while base.hasSuffix("/") { base.removeLast() }
        guard let url = URL(string: base), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https",
              url.host != nil else {
            throw .usage("\"\(base)\" is not an http(s) URL (from \(endpoint != nil ? "--endpoint" : "HF_ENDPOINT"))")
        }
        self.endpoint = base
        self.id = id
        self.revision = revision ?? "main"
        revisionGiven = revision != nil
        self.token = token ?? Self.token(environment: environment)
    }

    /// HF_TOKEN, else the first line of the token file, else nil.
    static func token(environment: [String: String]) -> String? {
        if let token = environment["HF_TOKEN"]?.trimmingCharacters(in: .whitespacesAndNewlines), !token.isEmpty {
            return token
        }
        let home = environment["HOME"] ?? NSHomeDirectory()
        let hfHome = environment["HF_HOME"]
            ?? ((environment["XDG_CACHE_HOME"] ?? home + "/.cache") + "/huggingface")
        let path = environment["HF_TOKEN_PATH"] ?? hfHome + "/token"
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        let token = text.trimmingCharacters(in: .whitespacesAndNewlines)
        return token.isEmpty ? nil : token
    }

    /// The revision as one path segment (huggingface_hub: quote(revision, safe="")), so `refs/pr/1` stays one.
    static func quoteSegment(_ text: String) -> String {
        let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
        return text.addingPercentEncoding(withAllowedCharacters: unreserved) ?? text
    }

    /// A file's path, each segment quoted (huggingface_hub: quote(filename), "/" kept).
    static func quotePath(_ path: String) -> String {
        path.split(separator: "/", omittingEmptySubsequences: false).map { quoteSegment(String($0)) }.joined(separator: "/")
    }

    /// `{endpoint}/{repo}/resolve/{revision}/{file}` at `revision` (a commit once the listing gave one).
    public func resolveURL(_ file: String, revision: String? = nil) -> String {
        "\(endpoint)/\(id)/resolve/\(Self.quoteSegment(revision ?? self.revision))/\(Self.quotePath(file))"
    }

    /// `{endpoint}/api/models/{repo}[/revision/{revision}]?blobs=true`: the listing with sizes and LFS sha256s.
    public var modelInfoURL: String {
        revisionGiven ? modelInfoURL(revision: revision) : "\(endpoint)/api/models/\(id)?blobs=true"
    }

    /// The listing at `revision`: `{endpoint}/api/models/{repo}/revision/{revision}?blobs=true`.
    public func modelInfoURL(revision: String) -> String {
        "\(endpoint)/api/models/\(id)/revision/\(Self.quoteSegment(revision))?blobs=true"
    }

    /// The repository's page, where a gated repository's conditions are accepted.
    public var pageURL: String { "\(endpoint)/\(id)" }
}
