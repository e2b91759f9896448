// What can go wrong with a tar: an input archive that is not one or is damaged, a member whose bytes are cut short, a
// shard another process is writing, a partial shard left by an earlier run. Each names the archive (and the member).

public enum TarError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The archive's header at `offset` is not a tar header: members after it cannot be found.
    case damaged(path: String, offset: Int, reason: String)
    /// The member's data runs past the end of the archive.
    case truncatedMember(path: String, member: String, size: Int, available: Int)
    /// The archive cannot be opened or read.
    case unreadable(path: String, reason: String)
    /// Another process holds the shard's lock (two workers given the same shard).
    case busy(path: String)
    /// Two audio members share a WebDataset key (a sample holds one audio; keys name the outputs).
    case duplicateKey(key: String, members: [String])
    /// --skip-existing on a finished shard that lacks this key: the input failed in the run that wrote the shard.
    case absentFromFinishedShard(path: String, key: String)
    /// An earlier run left `path` unfinished and neither resuming nor restarting was asked for.
    case partialExists(path: String)

    public var path: String {
        switch self {
        case .damaged(let path, _, _), .truncatedMember(let path, _, _, _), .unreadable(let path, _), .busy(let path),
             .partialExists(let path), .absentFromFinishedShard(let path, _):
            return path
        case .duplicateKey(_, let members): return members.first ?? ""
        }
    }

    public var description: String {
        switch self {
        case .damaged(let path, let offset, let reason): return "\(path): damaged tar at byte \(offset): \(reason); the members after it cannot be read"
        case .truncatedMember(let path, let member, let size, let available):
            return "\(path):\(member): member cut short: \(size) bytes announced, \(available) in the archive"
        case .unreadable(let path, let reason): return "\(path): cannot read the tar: \(reason)"
        case .busy(let path): return "\(path): another voxenc process is writing this shard"
        case .duplicateKey(let key, let members): return "key \"\(key)\" names more than one audio member (\(members.joined(separator: ", ")))"
        case .absentFromFinishedShard(let path, let key): return "\(path): the finished shard has no sample \"\(key)\" (it failed in the run that wrote the shard)"
        case .partialExists(let path): return "\(path): an unfinished shard from an earlier run is there"
        }
    }

    public var hint: String? {
        switch self {
        case .damaged, .truncatedMember: return "re-create the archive (tar cf, or webdataset's TarWriter); members before the damage are embedded"
        case .unreadable: return "check the path and its permissions"
        case .busy: return "give each worker its own --shard (or --output-tar)"
        case .duplicateKey: return "give each sample one audio member and each key one sample across the tars"
        case .absentFromFinishedShard: return "its error is in that run's JSON lines; --force rewrites the whole shard"
        case .partialExists: return "pass --skip-existing to resume it (complete members are kept), or --force to start it over"
        }
    }
}
