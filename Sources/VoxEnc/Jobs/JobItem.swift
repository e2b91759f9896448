// One file of a batch job: its id (names the output and decides the shard), where its audio is, where its
// embedding goes. Ids are stable strings the user controls (JSON-lines manifests) or the input path as given.

public struct JobItem: Sendable, Hashable {
    /// Stable identity: the shard is a hash of it, results carry it, and under --output-dir it names the output.
    public var id: String
    /// The audio file.
    public var input: String
    /// The output file (.npy, beside it the .json sidecar; or .safetensors).
    public var output: String

    /// Where the audio is when it is a member of a tar (--input-tar): read into memory and decoded from there;
    /// `input` is then `ARCHIVE:MEMBER`.
    public var tarMember: TarMemberSource?

    public init(id: String, input: String, output: String, tarMember: TarMemberSource? = nil) {
        self.id = id
        self.input = input
        self.output = output
        self.tarMember = tarMember
    }

    /// Extensions of the audio files a directory listing picks up. M4A/AAC/MP4 are included so that they are
    /// reported as unsupported rather than silently left out.
    public static let audioExtensions: Set<String> = [
        "wav", "wave", "flac", "ogg", "oga", "opus", "mp3", "aif", "aiff", "aifc", "au", "snd", "w64", "rf64", "caf",
        "m4a", "mp4", "aac",
    ]

    /// An item whose output mirrors its id under `outputDirectory` (`spk1/utt1.flac` → `DIR/spk1/utt1.npy`), or sits
    /// beside the input when there is no output directory.
    public static func mirrored(id: String, input: String, outputDirectory: String?,
                                format: EmbeddingsFormat) throws(JobError) -> JobItem {
        guard let outputDirectory else {
            return JobItem(id: id, input: input, output: replacingExtension(of: input, with: format.fileExtension))
        }
        let relative = try relativeStem(of: id) + "." + format.fileExtension
        let directory = outputDirectory.hasSuffix("/") ? String(outputDirectory.dropLast()) : outputDirectory
        return JobItem(id: id, input: input, output: directory + "/" + relative)
    }

    /// The relative output name of an id without extension: its "/" components ("." dropped, ".." refused), an audio
    /// extension stripped from the last ("spk1/utt1.flac" → "spk1/utt1"; "utt.001" keeps its dot).
    public static func relativeStem(of id: String) throws(JobError) -> String {
        var components: [Substring] = []
        for component in id.split(separator: "/", omittingEmptySubsequences: true) where component != "." {
            guard component != ".." else { throw .unsafeID(id: id) }
            components.append(component)
        }
        guard var last = components.popLast().map(String.init) else { throw .unsafeID(id: id) }
        if let dot = last.lastIndex(of: "."), dot != last.startIndex,
           audioExtensions.contains(last[last.index(after: dot)...].lowercased()) {
            last = String(last[..<dot])
        }
        return (components.map(String.init) + [last]).joined(separator: "/")
    }

    /// `a/b.wav` → `a/b.npy` (the extension replaced, or added when there is none); relative paths stay relative.
    public static func replacingExtension(of path: String, with fileExtension: String) -> String {
        let nameStart = path.lastIndex(of: "/").map { path.index(after: $0) } ?? path.startIndex
        if let dot = path[nameStart...].lastIndex(of: "."), dot != nameStart {
            return path[..<dot] + "." + fileExtension
        }
        return path + "." + fileExtension
    }

    /// Throws when two items would write the same output.
    public static func checkDistinctOutputs(_ items: [JobItem]) throws(JobError) {
        var seen: [String: String] = [:]
        for item in items {
            if let other = seen[item.output] { throw .outputCollision(output: item.output, ids: [other, item.id]) }
            seen[item.output] = item.id
        }
    }
}

/// An audio member of an input tar.
public struct TarMemberSource: Sendable, Hashable {
    public var archive: String
    public var member: TarArchive.Member

    public init(archive: String, member: TarArchive.Member) {
        self.archive = archive
        self.member = member
    }
}
