// One file of a batch job: its id (names the output and decides the shard), where its audio is, where its
// embedding goes. Ids are stable strings the user controls (JSON-lines manifests) or the input path as given.

public struct JobItem: Sendable, Hashable {
    /// Stable identity: the shard is a hash of it, results carry it, and under --output-dir it names the output.
    public var id: String
    /// The audio file.
    public var input: String
    /// The output file (.npy, beside it the .json sidecar; or .safetensors).
    public var output: String

    public init(id: String, input: String, output: String) {
        self.id = id
        self.input = input
        self.output = output
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
        var components: [Substring] = []
        for component in id.split(separator: "/", omittingEmptySubsequences: true) where component != "." {
            guard component != ".." else { throw .unsafeID(id: id) }
            components.append(component)
        }
        guard var last = components.popLast().map(String.init) else { throw .unsafeID(id: id) }
        // Strip an audio extension only: "utt.001" keeps its dot.
        if let dot = last.lastIndex(of: "."), dot != last.startIndex,
           audioExtensions.contains(last[last.index(after: dot)...].lowercased()) {
            last = String(last[..<dot])
        }
        let relative = (components.map(String.init) + [last + "." + format.fileExtension]).joined(separator: "/")
        let directory = outputDirectory.hasSuffix("/") ? String(outputDirectory.dropLast()) : outputDirectory
        return JobItem(id: id, input: input, output: directory + "/" + relative)
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
