// Outputs appear whole or not at all. On Linux the data goes to an unnamed file in the target's directory
// (open(2) with O_TMPFILE), is flushed to disk, then given its name by linkat(2): a process killed before that
// leaves nothing at all on disk, and without overwrite the link fails if the name exists (no clobbering race). With
// overwrite, the file is linked under a hidden temporary name and renamed over the target (rename(2) is atomic).
// File systems without O_TMPFILE (NFS, some FUSE) get a hidden named temporary file (`.NAME.tmp-XXXXXX`) instead;
// on any error it is removed, but a SIGKILL leaves it behind (a batch job with --skip-existing removes those).

#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// Why an output could not be written.
public enum OutputError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file cannot be created: missing or unwritable directory, the path is a directory, …
    case cannotCreate(path: String, reason: String)
    /// Writing failed midway (disk full, file-size limit, I/O error). Nothing was left behind.
    case writeFailed(path: String, reason: String)
    /// The output exists and overwriting was not asked for.
    case exists(path: String)
    /// The output path names a directory.
    case isDirectory(path: String)
    /// The output path names a device, FIFO or socket: the rename would put a regular file in its place.
    case notARegularFile(path: String)

    public var path: String {
        switch self {
        case .cannotCreate(let path, _), .writeFailed(let path, _), .exists(let path), .isDirectory(let path),
             .notARegularFile(let path):
            return path
        }
    }

    public var description: String {
        switch self {
        case .cannotCreate(let path, let reason): return "\(path): cannot create output: \(reason)"
        case .writeFailed(let path, let reason): return "\(path): writing the output failed: \(reason); nothing was written"
        case .exists(let path): return "\(path): output exists"
        case .isDirectory(let path): return "\(path): cannot create output: it is a directory"
        case .notARegularFile(let path):
            return "\(path): cannot create output: not a regular file (a device, FIFO or socket); outputs are written to a "
                + "temporary file and renamed into place"
        }
    }

    public var hint: String? {
        switch self {
        case .exists: return "pass --force to overwrite it"
        case .writeFailed: return "check free disk space and file-size limits"
        case .cannotCreate: return "check that the directory exists and is writable"
        case .isDirectory: return "name a file inside it (or, for embed, pass the directory as --output-dir)"
        case .notARegularFile: return "write to a regular file, then copy it where it should go"
        }
    }
}

/// Writes one file through a temporary name. Call `write` any number of times, then `commit`; dropping the writer
/// without `commit` (or any error) removes the temporary file.
public final class AtomicFileWriter: OutputSink {
    public let path: String
    let overwrite: Bool
    /// The hidden named temporary file (`DIR/.NAME.tmp-XXXXXX`) the data goes to until `commit`; nil while the data
    /// sits in an unnamed O_TMPFILE file, which no signal or kill can leave behind.
    public private(set) var temporaryPath: String?
    private var descriptor: Int32
    private var committed = false
    /// Where `temporaryPath` is registered for `removeTemporaryFiles()`, until commit or abandon.
    private var registration: Int?

    /// - Parameter overwrite: replace an existing file; otherwise an existing `path` is an error.
    public init(path: String, overwrite: Bool) throws(OutputError) {
        self.path = path
        self.overwrite = overwrite
        try Self.checkTarget(path, overwrite: overwrite)
        let url = URL(fileURLWithPath: path)
        let directory = url.deletingLastPathComponent().path
        let name = url.lastPathComponent
        if Self.canNameUnnamedFiles {
            let fd = open(directory, Self.unnamedFileFlags | O_WRONLY | O_CLOEXEC, 0o644)
            if fd >= 0 {
                fchmod(fd, 0o644)
                self.descriptor = fd
                self.temporaryPath = nil
                return
            }
        }
        // mkstemp's recipe, with the name registered before the file exists, so that a signal arriving at any point
        // finds it (TemporaryFileRegistry).
        for _ in 0..<100 {
            let suffix = String((0..<6).map { _ in Self.nameLetters.randomElement()! })
            let candidate = "\(directory)/.\(name).tmp-\(suffix)"
            let registration = TemporaryFileRegistry.register(candidate)
            let fd = open(candidate, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
            if fd >= 0 {
                fchmod(fd, 0o644)  // whatever the umask, as a regular output
                self.descriptor = fd
                self.temporaryPath = candidate
                self.registration = registration
                return
            }
            let code = errno
            if let registration { TemporaryFileRegistry.release(registration) }
            if code != EEXIST { throw .cannotCreate(path: path, reason: String(cString: strerror(code))) }
        }
        throw .cannotCreate(path: path, reason: "no free temporary name in \(directory)")
    }

    deinit {
        if !committed { abandon() }
    }

    /// Whether `path` can receive an output, checked before any work is done: its directory must exist, and an
    /// existing `path` must be a regular file (replaced only when `overwrite`). A directory, a device (`/dev/full`,
    /// `/dev/stdout`), a FIFO or a socket is refused: the rename would put a regular file in its place.
    public static func checkTarget(_ path: String, overwrite: Bool) throws(OutputError) {
        var status = stat()
        if stat(path, &status) == 0 {
            switch status.st_mode & S_IFMT {
            case S_IFDIR: throw .isDirectory(path: path)
            case S_IFREG: if !overwrite { throw .exists(path: path) }
            default: throw .notARegularFile(path: path)
            }
        }
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        guard stat(directory, &status) == 0 else {
            throw .cannotCreate(path: path, reason: "\(directory): \(String(cString: strerror(errno)))")
        }
        guard (status.st_mode & S_IFMT) == S_IFDIR else {
            throw .cannotCreate(path: path, reason: "\(directory) is not a directory")
        }
    }

    /// Appends raw bytes.
    public func write(_ bytes: UnsafeRawBufferPointer) throws(OutputError) {
        let code = writeAll(descriptor, bytes)
        if code != 0 {
            abandon()
            throw .writeFailed(path: path, reason: String(cString: strerror(code)))
        }
    }

    public func write(_ data: Data) throws(OutputError) {
        try (self as any OutputSink).write(data)  // OutputSink's copy
    }

    public func write(_ values: [Float]) throws(OutputError) {
        // float32 little-endian: the in-memory layout on every platform this builds for.
        var failure: OutputError?
        values.withUnsafeBytes { raw in
            do throws(OutputError) { try write(raw) } catch { failure = error }
        }
        if let failure { throw failure }
    }

    /// Flushes to disk and gives the file its name.
    public func commit() throws(OutputError) {
        guard !committed else { return }
        if fsync(descriptor) != 0 {
            let reason = String(cString: strerror(errno))
            abandon()
            throw .writeFailed(path: path, reason: reason)
        }
        if temporaryPath == nil {
            try name(unnamed: descriptor)  // closes the descriptor
        } else {
            if close(descriptor) != 0 {
                let reason = String(cString: strerror(errno))
                descriptor = -1
                abandon()
                throw .writeFailed(path: path, reason: reason)
            }
            descriptor = -1
        }
        if let temporaryPath, rename(temporaryPath, path) != 0 {
            let reason = String(cString: strerror(errno))
            abandon()
            throw .cannotCreate(path: path, reason: reason)
        }
        committed = true
        unregister()
    }

    /// Gives the unnamed file its name: directly (fails if the name exists), or, to overwrite, under a hidden
    /// temporary name that `commit` renames over the target.
    private func name(unnamed fd: Int32) throws(OutputError) {
        let source = "/proc/self/fd/\(fd)"
        defer { close(fd); descriptor = -1 }
        if !overwrite {
            guard linkat(AT_FDCWD, source, AT_FDCWD, path, AT_SYMLINK_FOLLOW) == 0 else {
                let code = errno
                if code == EEXIST { committed = true; throw .exists(path: path) }
                committed = true
                throw .cannotCreate(path: path, reason: String(cString: strerror(code)))
            }
            return
        }
        let url = URL(fileURLWithPath: path)
        let directory = url.deletingLastPathComponent().path
        for _ in 0..<100 {
            let suffix = String((0..<6).map { _ in Self.nameLetters.randomElement()! })
            let candidate = "\(directory)/.\(url.lastPathComponent).tmp-\(suffix)"
            let registration = TemporaryFileRegistry.register(candidate)  // before the name exists, as in init
            if linkat(AT_FDCWD, source, AT_FDCWD, candidate, AT_SYMLINK_FOLLOW) == 0 {
                temporaryPath = candidate
                self.registration = registration
                return
            }
            let code = errno
            if let registration { TemporaryFileRegistry.release(registration) }
            errno = code
            if code != EEXIST { break }
        }
        let reason = String(cString: strerror(errno))
        committed = true
        throw .cannotCreate(path: path, reason: reason)
    }

    /// The six characters after `.tmp-` (mkstemp's alphabet).
    private static let nameLetters = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")

    /// O_TMPFILE (__O_TMPFILE | O_DIRECTORY; Glibc's module does not export it without _GNU_SOURCE).
    private static let unnamedFileFlags: Int32 = 0o20000000 | O_DIRECTORY

    /// linkat(2) names an O_TMPFILE file through /proc/self/fd; without /proc, use named temporaries.
    private static let canNameUnnamedFiles: Bool = access("/proc/self/fd", X_OK) == 0

    /// Removes the temporary file. Idempotent.
    private func abandon() {
        if descriptor >= 0 { close(descriptor); descriptor = -1 }
        if let temporaryPath { unlink(temporaryPath) }
        committed = true  // nothing left to clean up
        unregister()
    }

    private func unregister() {
        if let registration { TemporaryFileRegistry.release(registration) }
        registration = nil
    }

    /// Writes `data` to `path` atomically in one call.
    public static func write(_ data: Data, to path: String, overwrite: Bool) throws(OutputError) {
        let writer = try AtomicFileWriter(path: path, overwrite: overwrite)
        try writer.write(data)
        try writer.commit()
    }
}
