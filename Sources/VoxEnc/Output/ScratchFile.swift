// A file with no name, for bytes that become part of another file later: a tar shard member is streamed here while
// its rows are encoded (memory stays independent of the audio's duration), then copied into the shard whole. It lives
// in the shard's directory (the same file system) as an O_TMPFILE file, or a named file unlinked at once; either way
// nothing of it is left on disk once it is closed, even after a SIGKILL.

#if canImport(Glibc)
import Glibc
#endif
import Foundation

final class ScratchFile: OutputSink {
    let descriptor: Int32
    /// Bytes written so far.
    private(set) var size = 0
    /// The output it serves, for messages.
    let path: String

    /// A scratch file in the directory of `path`.
    init(besides path: String) throws(OutputError) {
        self.path = path
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        var fd = open(directory, 0o20000000 | O_DIRECTORY | O_RDWR | O_CLOEXEC, 0o600)  // O_TMPFILE
        if fd < 0 {
            var template = Array("\(directory)/.voxenc-scratch-XXXXXX".utf8CString)
            fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
            if fd >= 0 { template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) } }
        }
        guard fd >= 0 else { throw .cannotCreate(path: path, reason: String(cString: strerror(errno))) }
        descriptor = fd
    }

    deinit { close(descriptor) }

    func write(_ bytes: UnsafeRawBufferPointer) throws(OutputError) {
        let code = writeAll(descriptor, bytes)
        guard code == 0 else { throw .writeFailed(path: path, reason: String(cString: strerror(code))) }
        size += bytes.count
    }

    /// Copies every byte written to `target` at its current offset.
    func copy(to target: Int32, targetPath: String) throws(OutputError) {
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        var offset = 0
        while offset < size {
            let count = buffer.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress!, min($0.count, size - offset), off_t(offset)) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { throw .writeFailed(path: targetPath, reason: "reading back \(path): \(String(cString: strerror(errno)))") }
            let code = buffer.withUnsafeBytes { writeAll(target, UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
            guard code == 0 else { throw .writeFailed(path: targetPath, reason: String(cString: strerror(code))) }
            offset += count
        }
    }
}
