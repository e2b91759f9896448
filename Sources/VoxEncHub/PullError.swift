// Every way `voxenc pull` can fail, as one typed error: a line naming the repository, file or URL and what went wrong,
// a hint, and a sysexits(3) exit status. The Hub's own error codes (the `X-Error-Code` header huggingface_hub's
// `hf_raise_for_status` reads: RepoNotFound, RevisionNotFound, EntryNotFound, GatedRepo) decide which case a 401, 403
// or 404 is.

/// A failed pull.
public enum PullError: Error, Sendable, Equatable, CustomStringConvertible {
    /// 401 without a usable token (the Hub also answers 401 for a repository that does not exist or is private).
    case unauthorized(repository: String, url: String)
    /// 403 or 401 with X-Error-Code GatedRepo: the repository asks its users to accept its conditions first.
    case gated(repository: String, url: String, page: String)
    /// 403 for another reason (the token lacks the permission).
    case forbidden(repository: String, url: String)
    case repositoryNotFound(repository: String, url: String)
    case revisionNotFound(repository: String, revision: String, url: String)
    case fileNotFound(repository: String, file: String, url: String)
    /// No connection, a connection cut, a time-out or a 5xx, still so after every retry.
    case network(url: String, reason: String, attempts: Int)
    /// The server broke the protocol: a wrong length or Content-Range, a truncated body, a Range ignored, an ETag
    /// or size that does not match, a redirect loop. Retrying does not help; the partial download is kept for a rerun.
    case protocolViolation(url: String, reason: String)
    /// A file's bytes do not hash to the ETag the Hub gave for it.
    case checksumMismatch(file: String, url: String, expected: String, actual: String)
    /// The repository holds no model voxenc reads, or its safetensors header is invalid.
    case notAModel(repository: String, reason: String)
    /// The output directory cannot be created or written.
    case cannotWrite(path: String, reason: String)
    /// Bad command-line values (the endpoint URL, the repository name).
    case usage(String)

    public var description: String {
        switch self {
        case .unauthorized(let repository, let url):
            return "\(repository): 401 Unauthorized from \(url): the repository is private, does not exist, or the token is not valid"
        case .gated(let repository, let url, _):
            return "\(repository): access is gated (\(url)): the repository's conditions have not been accepted for this token"
        case .forbidden(let repository, let url):
            return "\(repository): 403 Forbidden from \(url): the token may not read this repository"
        case .repositoryNotFound(let repository, let url):
            return "\(repository): repository not found (\(url))"
        case .revisionNotFound(let repository, let revision, let url):
            return "\(repository): revision \"\(revision)\" not found (\(url))"
        case .fileNotFound(let repository, let file, let url):
            return "\(repository): file \(file) not found (\(url))"
        case .network(let url, let reason, let attempts):
            return "\(url): \(reason) (\(attempts) attempt\(attempts == 1 ? "" : "s"))"
        case .protocolViolation(let url, let reason):
            return "\(url): the server broke the download protocol: \(reason)"
        case .checksumMismatch(let file, let url, let expected, let actual):
            return "\(file): content does not match its ETag (\(url)): expected \(expected), got \(actual)"
        case .notAModel(let repository, let reason):
            return "\(repository): \(reason)"
        case .cannotWrite(let path, let reason):
            return "\(path): cannot write: \(reason)"
        case .usage(let message):
            return message
        }
    }

    public var hint: String? {
        switch self {
        case .unauthorized:
            return "check the name; for a private repository set HF_TOKEN or write a token to ~/.cache/huggingface/token"
        case .gated(_, _, let page):
            return "open \(page) while logged in, accept the conditions, then pass a token of that account (HF_TOKEN)"
        case .forbidden:
            return "use a token with read access to the repository (HF_TOKEN or ~/.cache/huggingface/token)"
        case .repositoryNotFound:
            return "check the name (OWNER/NAME); a private repository needs a token (HF_TOKEN)"
        case .revisionNotFound:
            return "give a branch, tag or commit that exists with --revision (default: main)"
        case .fileNotFound:
            return "the repository lists a file it does not serve; retry later or pick another --revision"
        case .network:
            return "check the connection or --endpoint / HF_ENDPOINT, then rerun: the pull resumes where it stopped"
        case .protocolViolation, .checksumMismatch:
            return "rerun later, or check the proxy or mirror in between; nothing wrong was kept as final"
        case .notAModel:
            return "voxenc reads Voxtral (Hugging Face or Mistral layout), Voxtral Realtime, Hugging Face Whisper and CTranslate2 Whisper repositories"
        case .cannotWrite:
            return "choose another --dir, or free space or permissions there"
        case .usage:
            return "see `voxenc pull --help`"
        }
    }

    /// "message (hint: …)".
    public var line: String { hint.map { "\(description) (hint: \($0))" } ?? description }

    /// sysexits(3): 77 no permission, 66 not found, 69 unavailable, 76 protocol, 65 data, 73 cannot create, 64 usage.
    public var exitStatus: Int32 {
        switch self {
        case .unauthorized, .gated, .forbidden: return 77
        case .repositoryNotFound, .revisionNotFound, .fileNotFound: return 66
        case .network: return 69
        case .protocolViolation, .checksumMismatch: return 76
        case .notAModel: return 65
        case .cannotWrite: return 73
        case .usage: return 64
        }
    }
}
