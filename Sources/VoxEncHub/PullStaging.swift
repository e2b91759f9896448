// Where a pull keeps its work until the model directory is complete: `DIR/.voxenc-pull/`, holding the plan it is
// carrying out (`plan.json`), the files being filled (`NAME.part`, each made at its final size and filled piece by
// piece at the pieces' offsets), and a journal of the pieces that are on disk (`done`: one "TARGET PIECE" line each,
// written after the piece's bytes are synced). A rerun with the same plan skips the pieces in the journal; a rerun
// whose plan differs (another commit) starts over. Only complete, verified files are renamed into DIR.

import Foundation
#if canImport(Glibc)
import Glibc
#endif

final class PullStaging {
    let directory: String
    let path: String
    private(set) var done: Set<String> = []
    private var journal: Int32 = -1

    static let folderName = ".voxenc-pull"

    init(directory: String) {
        self.directory = directory
        path = directory + "/" + Self.folderName
    }

    deinit { if journal >= 0 { close(journal) } }

    func partPath(_ target: DownloadTarget) -> String { path + "/" + target.name.replacingOccurrences(of: "/", with: "%2F") + ".part" }

    /// Opens the staging folder for `plan` (its JSON): keeps the journal when the plan is the same, else starts over.
    /// Returns how many pieces were already done.
    func open(plan: Data) throws(PullError) -> Int {
        let planPath = path + "/plan.json"
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            if let old = FileManager.default.contents(atPath: planPath), old == plan {
                if let text = try? String(contentsOfFile: path + "/done", encoding: .utf8) {
                    // A line cut by a kill has no newline: only whole lines count.
                    let lines = text.split(separator: "\n", omittingEmptySubsequences: true)
                    let whole = text.hasSuffix("\n") ? lines : lines.dropLast()
                    done = Set(whole.map(String.init))
                }
            } else {
                try? FileManager.default.removeItem(atPath: path)
                try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
                try plan.write(to: URL(fileURLWithPath: planPath + ".tmp"))
                _ = rename(planPath + ".tmp", planPath)
                done = []
            }
        } catch {
            throw .cannotWrite(path: path, reason: error.localizedDescription)
        }
        journal = Glibc.open(path + "/done", O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard journal >= 0 else { throw .cannotWrite(path: path + "/done", reason: String(cString: strerror(errno))) }
        return done.count
    }

    /// The part file for `target`, made at its size with the prefix written (kept as it is when resuming).
    func prepare(_ target: DownloadTarget) throws(PullError) -> Int32 {
        let part = partPath(target)
        let fd = Glibc.open(part, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .cannotWrite(path: part, reason: String(cString: strerror(errno))) }
        var info = stat()
        fstat(fd, &info)
        if Int(info.st_size) != target.size {
            guard ftruncate(fd, off_t(target.size)) == 0 else {
                let reason = String(cString: strerror(errno))
                close(fd)
                throw .cannotWrite(path: part, reason: reason)
            }
        }
        if !target.prefix.isEmpty {
            try write(fd, target.prefix, at: 0, path: part)
        }
        return fd
    }

    func write(_ fd: Int32, _ data: Data, at offset: Int, path: String) throws(PullError) {
        let written = data.withUnsafeBytes { bytes -> Int in
            var done = 0
            while done < bytes.count {
                let n = pwrite(fd, bytes.baseAddress! + done, bytes.count - done, off_t(offset + done))
                if n < 0 { if errno == EINTR { continue }; return -1 }
                done += n
            }
            return done
        }
        guard written == data.count else { throw .cannotWrite(path: path, reason: String(cString: strerror(errno))) }
    }

    static func key(target: Int, piece: Int) -> String { "\(target) \(piece)" }

    func isDone(target: Int, piece: Int) -> Bool { done.contains(Self.key(target: target, piece: piece)) }

    /// Records a piece whose bytes are written: syncs the file, then appends the journal line and syncs it.
    func markDone(target: Int, piece: Int, fd: Int32) throws(PullError) {
        guard fdatasync(fd) == 0 else { throw .cannotWrite(path: path, reason: String(cString: strerror(errno))) }
        let line = Self.key(target: target, piece: piece) + "\n"
        let ok = line.withCString { Glibc.write(journal, $0, strlen($0)) } == line.utf8.count
        guard ok, fdatasync(journal) == 0 else {
            throw .cannotWrite(path: path + "/done", reason: String(cString: strerror(errno)))
        }
        done.insert(Self.key(target: target, piece: piece))
    }

    /// Moves the complete part files into the directory (in `order`), then removes the staging folder.
    func commit(_ targets: [DownloadTarget]) throws(PullError) {
        for target in targets {
            let final = directory + "/" + target.name
            let parent = (final as NSString).deletingLastPathComponent
            try? FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
            guard rename(partPath(target), final) == 0 else {
                throw .cannotWrite(path: final, reason: String(cString: strerror(errno)))
            }
        }
        let fd = Glibc.open(directory, O_RDONLY | O_DIRECTORY)
        if fd >= 0 { fsync(fd); close(fd) }
        if journal >= 0 { close(journal); journal = -1 }
        try? FileManager.default.removeItem(atPath: path)
    }
}
