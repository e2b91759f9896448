// What can stop a batch job before any file is embedded: an unreadable manifest, a bad line, duplicate ids, an
// input directory that is not there, a malformed shard. Errors of single files are per-file results instead.

public enum JobError: Error, Sendable, Equatable, CustomStringConvertible {
    case manifestUnreadable(path: String, reason: String)
    /// Line `line` (1-based) of the manifest is not a path nor a JSON object with a string "path".
    case manifestLine(path: String, line: Int, reason: String)
    /// Two entries share an id (ids name outputs and decide shards, so they must be unique).
    case duplicateID(id: String, lines: [Int])
    /// Two ids map to the same output file (e.g. a.wav and a.flac → a.npy).
    case outputCollision(output: String, ids: [String])
    /// An id that would write outside the output directory ("../x") or names nothing.
    case unsafeID(id: String)
    case inputDirectory(path: String, reason: String)
    case invalidShard(text: String, reason: String)

    public var description: String {
        switch self {
        case .manifestUnreadable(let path, let reason): return "\(path): cannot read the manifest: \(reason)"
        case .manifestLine(let path, let line, let reason): return "\(path):\(line): \(reason)"
        case .duplicateID(let id, let lines): return "id \"\(id)\" appears more than once (lines \(lines.map(String.init).joined(separator: ", ")))"
        case .outputCollision(let output, let ids): return "\(output): written by more than one input (\(ids.joined(separator: ", ")))"
        case .unsafeID(let id): return "id \"\(id)\" does not name a file under the output directory"
        case .inputDirectory(let path, let reason): return "\(path): \(reason)"
        case .invalidShard(let text, let reason): return "shard \"\(text)\": \(reason)"
        }
    }

    public var hint: String? {
        switch self {
        case .manifestUnreadable: return "give a file with one audio path per line, or JSON lines {\"id\": …, \"path\": …}; - reads standard input"
        case .manifestLine: return "each line is a path, or a JSON object such as {\"id\": \"spk1/utt1\", \"path\": \"/data/utt1.flac\"}; # starts a comment"
        case .duplicateID: return "give each entry its own \"id\" (JSON lines)"
        case .outputCollision: return "give the inputs distinct ids (JSON lines), or embed them into different --output-dir"
        case .unsafeID: return "ids are relative names such as \"speaker1/utt001\"; .. is not allowed"
        case .inputDirectory: return "check the path"
        case .invalidShard: return "write --shard INDEX/COUNT with 0 ≤ INDEX < COUNT (e.g. 3/8), or --shard auto inside a Slurm array or a Kubernetes Indexed Job"
        }
    }
}
