// Shared by the fuzz targets: the library's readers take paths, so the input bytes go to a per-process file,
// rewritten for every input, in $VOXENC_FUZZ_TMPDIR (run.sh makes one in /dev/shm and removes it afterwards), else in
// /dev/shm (memory-backed), else in $TMPDIR.

#if canImport(Glibc)
import Glibc
#endif

enum FuzzInput {
    private static let directory: String = {
        if let chosen = getenv("VOXENC_FUZZ_TMPDIR") { return String(cString: chosen) }
        var status = stat()
        return stat("/dev/shm", &status) == 0 && (status.st_mode & S_IFMT) == S_IFDIR
            ? "/dev/shm" : (getenv("TMPDIR").map { String(cString: $0) } ?? "/tmp")
    }()

    /// Writes the input to `voxenc-fuzz-<pid>.<suffix>` and returns the path. Any earlier mapping of the file must
    /// be released first (each target releases its reader before returning).
    static func write(_ data: UnsafePointer<UInt8>, _ size: Int, suffix: String) -> String {
        let path = "\(directory)/voxenc-fuzz-\(getpid()).\(suffix)"
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { fatalError("fuzz harness: cannot create \(path): errno \(errno)") }
        var written = 0
        while written < size {
            let count = Glibc.write(descriptor, data + written, size - written)
            guard count > 0 else { fatalError("fuzz harness: cannot write \(path): errno \(errno)") }
            written += count
        }
        close(descriptor)
        return path
    }

    /// Fails the run with a message libFuzzer reports as a crash (a broken invariant, not a thrown error).
    static func violated(_ message: @autoclosure () -> String, file: StaticString = #file, line: UInt = #line) -> Never {
        fatalError("fuzz invariant violated: \(message())", file: file, line: line)
    }
}
