// An encoded audio file held in memory (an upload, a blob from a database), read by libsndfile through its virtual
// I/O callbacks (sf_open_virtual), so that decoding from memory needs no temporary file.

import CSndFile
#if canImport(Glibc)
import Glibc
#endif

/// The bytes and a read position: libsndfile's virtual file. One reader at a time (owned by one AudioFile).
final class EncodedBytes {
    let bytes: [UInt8]
    private var position = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    /// sf_open_virtual over these bytes; nil when libsndfile cannot open them (sf_strerror(nil) says why).
    /// The returned handle reads this object: it must outlive the handle.
    func open(_ info: inout SF_INFO) -> OpaquePointer? {
        var io = SF_VIRTUAL_IO(
            get_filelen: { user in EncodedBytes.from(user).length },
            seek: { offset, whence, user in EncodedBytes.from(user).seek(offset, whence) },
            read: { buffer, count, user in EncodedBytes.from(user).read(into: buffer, count) },
            write: { _, _, _ in 0 },  // read-only
            tell: { user in sf_count_t(EncodedBytes.from(user).position) })
        return sf_open_virtual(&io, Int32(SFM_READ), &info, Unmanaged.passUnretained(self).toOpaque())
    }

    private static func from(_ user: UnsafeMutableRawPointer?) -> EncodedBytes {
        Unmanaged<EncodedBytes>.fromOpaque(user!).takeUnretainedValue()
    }

    private var length: sf_count_t { sf_count_t(bytes.count) }

    /// fseek's contract; a position outside the bytes is refused (-1), as a real file refuses a negative one.
    private func seek(_ offset: sf_count_t, _ whence: Int32) -> sf_count_t {
        let base: Int
        switch whence {
        case SEEK_SET: base = 0
        case SEEK_CUR: base = position
        case SEEK_END: base = bytes.count
        default: return -1
        }
        let (target, overflow) = base.addingReportingOverflow(Int(offset))
        guard !overflow, target >= 0, target <= bytes.count else { return -1 }
        position = target
        return sf_count_t(position)
    }

    private func read(into buffer: UnsafeMutableRawPointer?, _ count: sf_count_t) -> sf_count_t {
        guard let buffer, count > 0 else { return 0 }
        let n = min(Int(count), bytes.count - position)
        guard n > 0 else { return 0 }
        bytes.withUnsafeBytes { source in
            buffer.copyMemory(from: source.baseAddress! + position, byteCount: n)
        }
        position += n
        return sf_count_t(n)
    }
}
