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

    /// Drops the whole pages inside bytes `range` from this process's resident set (MADV_DONTNEED; the kernel's page
    /// cache may keep them, and a later read maps them back). The loader calls it once a tensor is converted and
    /// hashed: otherwise the mapped checkpoint stays resident beside its float32 copy (Voxtral Mini: +1.3 GB at load).
    func releasePages(_ range: Range<Int>) {
        guard let mapping else { return }
        let page = Self.pageSize
        let start = (range.lowerBound + page - 1) / page * page, end = min(range.upperBound, byteCount) / page * page
        guard end > start else { return }
        _ = madvise(mapping + start, end - start, MADV_DONTNEED)  // advisory: a failure only costs memory
    }

    private static let pageSize = max(1, Int(sysconf(Int32(_SC_PAGESIZE))))

    deinit { if let mapping { munmap(mapping, byteCount) } }
}
