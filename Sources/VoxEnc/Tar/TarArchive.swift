// The index of a tar archive: each regular member's name, where its data starts and its size, read from the headers
// alone (the data is never read, nor extracted). Used for input shards (--input-tar: audio members decoded from
// memory) and to resume an output shard. Reading stops at the end-of-archive blocks, or at the first damage, which
// `damage` records: the members before it are listed.

#if canImport(Glibc)
import Glibc
#endif
import Foundation

public struct TarArchive: Sendable {
    public struct Member: Sendable, Hashable {
        public var name: String
        /// Offset of the data in the archive.
        public var offset: Int
        public var size: Int
        /// Offset just past the data's padding: where the next header starts.
        public var end: Int { offset + TarHeader.paddedSize(size) }

        /// Its bytes, read from the archive at `path`; throws when the archive holds fewer than its size.
        public func bytes(inArchive path: String) throws(TarError) -> [UInt8] {
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { throw .unreadable(path: path, reason: String(cString: strerror(errno))) }
            defer { close(fd) }
            var status = stat()
            let available = fstat(fd, &status) == 0 ? max(0, min(size, Int(status.st_size) - offset)) : 0
            guard available == size else { throw .truncatedMember(path: path, member: name, size: size, available: available) }
            var data = [UInt8](repeating: 0, count: size)
            guard TarArchive.read(fd, into: &data, at: offset) else {
                throw .unreadable(path: path, reason: "reading \(name) failed: \(String(cString: strerror(errno)))")
            }
            return data
        }
    }

    public let path: String
    public let members: [Member]
    /// Why reading stopped before the end-of-archive marker (nil: the archive ended well, or at end of file after
    /// whole members).
    public let damage: TarError?
    /// The archive's size in bytes.
    public let fileSize: Int

    /// Reads the headers of the archive at `path`.
    public init(contentsOf path: String) throws(TarError) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .unreadable(path: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        var status = stat()
        guard fstat(fd, &status) == 0, (status.st_mode & S_IFMT) == S_IFREG else {
            throw .unreadable(path: path, reason: "not a regular file")
        }
        self.path = path
        fileSize = Int(status.st_size)
        var members: [Member] = []
        var damage: TarError?
        var offset = 0
        var pending: [String: String] = [:]  // pax records for the next member
        var block = [UInt8](repeating: 0, count: TarHeader.blockSize)
        scan: while offset + TarHeader.blockSize <= fileSize {
            guard Self.read(fd, into: &block, at: offset) else {
                damage = .unreadable(path: path, reason: "read failed at byte \(offset)")
                break
            }
            let fields: TarHeader.Fields
            do {
                guard let parsed = try TarHeader.parse(block[...]) else { break scan }  // end of archive
                fields = parsed
            } catch {
                damage = .damaged(path: path, offset: offset, reason: error.reason)
                break
            }
            let size = Int(pending["size"] ?? "") ?? fields.size
            let dataOffset = offset + TarHeader.blockSize
            switch fields.type {
            case UInt8(ascii: "x"), UInt8(ascii: "L"):  // pax extended header / GNU long name: applies to the next
                guard dataOffset + size <= fileSize, size < 1 << 20 else {
                    damage = .damaged(path: path, offset: offset, reason: "extended header cut short")
                    break scan
                }
                var data = [UInt8](repeating: 0, count: size)
                _ = Self.read(fd, into: &data, at: dataOffset)
                if fields.type == UInt8(ascii: "x") {
                    pending.merge(TarHeader.paxRecords(data)) { $1 }
                } else {
                    pending["path"] = String(decoding: data.prefix { $0 != 0 }, as: UTF8.self)
                }
                offset = dataOffset + TarHeader.paddedSize(size)
                continue
            case UInt8(ascii: "0"), 0, UInt8(ascii: "7"):
                members.append(Member(name: pending["path"] ?? fields.name, offset: dataOffset, size: size))
            default:
                break  // directories, links, global headers: not members with data of their own
            }
            pending = [:]
            offset = dataOffset + TarHeader.paddedSize(size)
        }
        self.members = members
        self.damage = damage
    }

    /// The member's bytes; throws when the archive holds fewer than its size.
    public func bytes(of member: Member) throws(TarError) -> [UInt8] { try member.bytes(inArchive: path) }

    /// pread until `buffer` is full; false on an error or a short file.
    static func read(_ fd: Int32, into buffer: inout [UInt8], at offset: Int) -> Bool {
        var done = 0
        while done < buffer.count {
            let count = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + done, $0.count - done, off_t(offset + done)) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { return false }
            done += count
        }
        return true
    }

    /// WebDataset's split of a member name: the key is the path up to the first "." of its last component, the
    /// extension the rest ("spk1/utt1.flac" → ("spk1/utt1", "flac"); "a/b.seg.wav" → ("a/b", "seg.wav")).
    public static func keyAndExtension(of name: String) -> (key: String, extension: String) {
        let slash = name.lastIndex(of: "/").map { name.index(after: $0) } ?? name.startIndex
        guard let dot = name[slash...].firstIndex(of: ".") else { return (name, "") }
        return (String(name[..<dot]), String(name[name.index(after: dot)...]))
    }
}
