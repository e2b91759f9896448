// MappedFile's page release: after a tensor is read, its pages leave the process's resident set (what keeps a
// checkpoint from being resident beside its float32 copy during a load). Measured from /proc/self/smaps, the
// kernel's own count of the mapping's resident pages.

import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import VoxEncModel
import VoxEncTestSupport

@Suite("Mapped checkpoint files")
struct MappedFileTests {
    /// Resident kB of the mapping that contains `address`, from /proc/self/smaps ("Rss:" of its block).
    static func residentKilobytes(of address: UnsafeMutableRawPointer) throws -> Int? {
        // /proc files report a size of 0: read to the end rather than by the size.
        guard let handle = FileHandle(forReadingAtPath: "/proc/self/smaps") else { return nil }
        defer { try? handle.close() }
        let text = String(decoding: handle.readDataToEndOfFile(), as: UTF8.self)
        let target = UInt(bitPattern: address)
        var inside = false
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            if let range = fields.first, range.contains("-"), !range.hasSuffix(":") {
                let bounds = range.split(separator: "-").compactMap { UInt($0, radix: 16) }
                inside = bounds.count == 2 && bounds[0] <= target && target < bounds[1]
            } else if inside, fields.first == "Rss:", fields.count >= 2 {
                return Int(fields[1])
            }
        }
        return nil
    }

    @Test("releasePages drops the touched pages of a range from the resident set, and the bytes read back the same",
          .enabled(if: FileManager.default.fileExists(atPath: "/proc/self/smaps"), "needs Linux's /proc/self/smaps"))
    func releasePages() throws {
        let directory = TemporaryDirectory()
        let path = directory.file("mapped.bin")
        let page = sysconf(Int32(_SC_PAGESIZE))  // 4 KiB on x86-64; 16 or 64 KiB on some arm64 kernels
        try #require(page > 0 && (8 << 20) % page == 0)
        let size = 8 << 20
        let bytes = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 2_654_435_761 >> 13) }
        #expect(FileManager.default.createFile(atPath: path, contents: Data(bytes)))
        let file = try MappedFile(path: path)
        var sum = 0
        for offset in stride(from: 0, to: size, by: page) { sum &+= Int(file.base.load(fromByteOffset: offset, as: UInt8.self)) }
        let touched = try #require(try Self.residentKilobytes(of: file.base))
        #expect(touched >= 7 * 1024, "all 8 MB were read: \(touched) kB resident")

        file.releasePages(100..<(size - 100))  // partial first and last pages stay
        let released = try #require(try Self.residentKilobytes(of: file.base))
        #expect(released <= 2 * page / 1024, "after the release: \(released) kB resident (at most the two edge pages of \(page) B)")

        var again = 0
        for offset in stride(from: 0, to: size, by: page) { again &+= Int(file.base.load(fromByteOffset: offset, as: UInt8.self)) }
        #expect(again == sum, "pages read back from the file after the release")
    }
}
