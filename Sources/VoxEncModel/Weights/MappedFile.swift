// A whole file mapped read-only (mmap), unmapped when released. Shared by the safetensors and model.bin readers:
// pages are read only when touched, so a 55 GB checkpoint costs what its audio tensors cost.

#if canImport(Glibc)
import Glibc
#endif

final class MappedFile: @unchecked Sendable {  // immutable; the mapping is read-only
    let path: String
    /// The mapping; nil for an empty file (nothing to map).
    private let mapping: UnsafeMutableRawPointer?
    let byteCount: Int

    /// The first byte. Only for non-empty files: the readers check the size first.
    var base: UnsafeMutableRawPointer { mapping! }

    /// Throws `missingFile` (no such file), `notARegularFile` (a directory, a device, …), or `ioError` (unreadable,
    /// mmap failed).
    init(path: String) throws(ModelError) {
        self.path = path
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            let code = errno
            if code == ENOENT { throw .missingFile(path: path) }
            throw .ioError(path: path, reason: String(cString: strerror(code)))
        }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else {
            throw .ioError(path: path, reason: String(cString: strerror(errno)))
        }
        guard (status.st_mode & S_IFMT) == S_IFREG else { throw .notARegularFile(path: path) }
        let size = Int(status.st_size)
        self.byteCount = size
        if size == 0 {
            mapping = nil
            return
        }
        guard let base = mmap(nil, size, PROT_READ, MAP_PRIVATE, descriptor, 0), Int(bitPattern: base) != -1 else {
            throw .ioError(path: path, reason: "mmap: " + String(cString: strerror(errno)))
        }
        mapping = base
    }

    deinit { if let mapping { munmap(mapping, byteCount) } }
}
