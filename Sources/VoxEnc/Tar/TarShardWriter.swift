// One output shard: a tar of KEY.npy (or KEY.safetensors) + KEY.json members in WebDataset naming, written under the
// same kill-safety contract as single files. While it is written the shard is NAME.partial (locked with flock, so a
// second worker on the same shard is refused); each sample's two members are appended whole, array first; a rerun
// with --skip-existing reads the partial's headers, truncates it after the last complete sample (work is lost only for
// the sample in progress) and continues; the finished shard gets its end-of-archive blocks, is flushed to disk and
// renamed to NAME, which marks it complete. Python's tarfile and webdataset read it as it is.

#if canImport(Glibc)
import Glibc
#endif
import Foundation

public final class TarShardWriter {
    /// The finished shard's path.
    public let path: String
    /// Where it is written until finished.
    public var partialPath: String { Self.partialPath(for: path) }
    private let descriptor: Int32
    /// Offset just past the last complete sample.
    private var end: Int
    /// The samples already in the shard when it was opened (a resumed partial): key → its metadata.
    public let resumed: [String: [String: Any]]
    private var finished = false

    public static func partialPath(for path: String) -> String { path + ".partial" }

    /// Opens NAME.partial: resumed when `resume` and it exists, else started empty. An existing partial that is
    /// neither resumed nor `overwrite`n is an error, as is a finished NAME without `overwrite`.
    public init(path: String, resume: Bool, overwrite: Bool) throws(VoxEncError) {
        self.path = path
        let partial = Self.partialPath(for: path)
        try Self.checkTarget(path, resume: resume, overwrite: overwrite)
        let existed = access(partial, F_OK) == 0
        let fd = open(partial, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .output(.cannotCreate(path: partial, reason: String(cString: strerror(errno)))) }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            throw .tar(.busy(path: partial))
        }
        descriptor = fd
        var samples: [String: [String: Any]] = [:]
        var end = 0
        if existed && resume, let archive = try? TarArchive(contentsOf: partial) {
            (samples, end) = Self.completeSamples(archive)
        }
        guard ftruncate(fd, off_t(end)) == 0, lseek(fd, off_t(end), SEEK_SET) == off_t(end) else {
            close(fd)
            throw .output(.writeFailed(path: partial, reason: String(cString: strerror(errno))))
        }
        self.end = end
        resumed = samples
    }

    deinit { if descriptor >= 0 { close(descriptor) } }

    /// Whether the shard at `path` can be opened so, checked before any work (the model's load, a first pass): its
    /// directory must exist, a finished shard needs `overwrite`, a partial one `resume` or `overwrite`.
    public static func checkTarget(_ path: String, resume: Bool, overwrite: Bool) throws(VoxEncError) {
        let partial = partialPath(for: path)
        do throws(OutputError) {
            try AtomicFileWriter.checkTarget(path, overwrite: overwrite)
            try AtomicFileWriter.checkTarget(partial, overwrite: true)
        } catch { throw .output(error) }
        if access(partial, F_OK) == 0 && !resume && !overwrite { throw .tar(.partialExists(path: partial)) }
    }

    /// The complete samples at the start of `archive` (an array member, then KEY.json whose text parses) and the
    /// offset just past the last of them.
    static func completeSamples(_ archive: TarArchive) -> ([String: [String: Any]], Int) {
        var samples: [String: [String: Any]] = [:]
        var end = 0
        var arrayKey: String?
        for member in archive.members {
            guard member.end <= archive.fileSize else { break }  // cut short: the sample in progress
            let (key, ext) = TarArchive.keyAndExtension(of: member.name)
            if ext == "json", key == arrayKey, let bytes = try? archive.bytes(of: member),
               let metadata = (try? JSONSerialization.jsonObject(with: Data(bytes))) as? [String: Any] {
                samples[key] = metadata
                end = member.end
                arrayKey = nil
            } else if ext != "json" && arrayKey == nil {
                arrayKey = key
            } else {
                break  // anything else is not what this writer appends: keep what came before
            }
        }
        return (samples, end)
    }

    /// Appends one sample whole: KEY.EXT (the array's bytes from `array.scratch`) and KEY.json (`sidecar`). On a
    /// failure the shard is cut back to the previous sample.
    func append(key: String, array: (extension: String, scratch: ScratchFile), sidecar: Data) throws(OutputError) {
        precondition(!finished, "the shard is finished")
        do throws(OutputError) {
            try write(TarHeader.encode(name: key + "." + array.extension, size: array.scratch.size))
            try array.scratch.copy(to: descriptor, targetPath: partialPath)
            try write(TarHeader.padding(array.scratch.size))
            try write(TarHeader.encode(name: key + ".json", size: sidecar.count))
            try write([UInt8](sidecar) + TarHeader.padding(sidecar.count))
        } catch {
            _ = ftruncate(descriptor, off_t(end))
            _ = lseek(descriptor, off_t(end), SEEK_SET)
            throw error
        }
        end = Int(lseek(descriptor, 0, SEEK_CUR))
    }

    /// Ends the archive (two zero blocks), flushes it to disk and renames it to `path`: the shard is complete.
    public func finish() throws(OutputError) {
        guard !finished else { return }
        try write([UInt8](repeating: 0, count: 2 * TarHeader.blockSize))
        guard fsync(descriptor) == 0 else { throw .writeFailed(path: partialPath, reason: String(cString: strerror(errno))) }
        guard rename(partialPath, path) == 0 else { throw .cannotCreate(path: path, reason: String(cString: strerror(errno))) }
        finished = true
    }

    private func write(_ bytes: [UInt8]) throws(OutputError) {
        let code = bytes.withUnsafeBytes { writeAll(descriptor, $0) }
        guard code == 0 else { throw .writeFailed(path: partialPath, reason: String(cString: strerror(code))) }
    }

    /// The samples of a finished shard (key → metadata), or nil when `path` is not one.
    public static func finishedSamples(at path: String) -> [String: [String: Any]]? {
        guard let archive = try? TarArchive(contentsOf: path), archive.damage == nil else { return nil }
        return completeSamples(archive).0
    }

    /// The WebDataset key of an id: its relative stem ("spk1/utt1.flac" → "spk1/utt1"), with any other "." of the
    /// last component made "_" (WebDataset splits a name at the first dot of its last component).
    public static func key(for id: String) throws(JobError) -> String {
        let stem = try JobItem.relativeStem(of: id)
        let slash = stem.lastIndex(of: "/").map { stem.index(after: $0) } ?? stem.startIndex
        return String(stem[..<slash]) + stem[slash...].replacingOccurrences(of: ".", with: "_")
    }
}
