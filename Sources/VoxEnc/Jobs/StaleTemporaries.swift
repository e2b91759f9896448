// Hidden temporary files that a killed worker left behind on file systems without O_TMPFILE
// (`.NAME.tmp-XXXXXX`, see AtomicFileWriter). A restarted job removes those of its own outputs only: shards are
// disjoint, so it never touches a file another live worker is writing. Each output directory is listed once.

import Foundation

enum StaleTemporaries {
    /// Removes `.NAME.tmp-XXXXXX` beside each of `outputs` (and beside their sidecars). Returns the files removed.
    @discardableResult
    static func remove(besides outputs: [String], format: EmbeddingsFormat) -> [String] {
        var namesByDirectory: [String: Set<String>] = [:]
        for output in outputs {
            let url = URL(fileURLWithPath: output)
            let directory = url.deletingLastPathComponent().path
            namesByDirectory[directory, default: []].insert(url.lastPathComponent)
            if format == .npy {
                namesByDirectory[directory, default: []].insert(URL(fileURLWithPath: EmbeddingsFile.sidecarPath(for: output)).lastPathComponent)
            }
        }
        var removed: [String] = []
        for (directory, names) in namesByDirectory {
            guard let entries = try? FileManager.default.contentsOfDirectory(atPath: directory) else { continue }
            for entry in entries where entry.hasPrefix(".") {
                guard let name = targetName(ofTemporary: entry), names.contains(name) else { continue }
                let path = directory + "/" + entry
                if unlink(path) == 0 { removed.append(path) }
            }
        }
        return removed
    }

    /// `.a.npy.tmp-Ab12Cd` → `a.npy`; nil for anything else.
    static func targetName(ofTemporary entry: String) -> String? {
        guard entry.hasPrefix("."), let marker = entry.range(of: ".tmp-", options: .backwards) else { return nil }
        let suffix = entry[marker.upperBound...]
        guard suffix.count == 6, suffix.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }) else { return nil }
        let name = entry[entry.index(after: entry.startIndex)..<marker.lowerBound]
        return name.isEmpty ? nil : String(name)
    }
}

#if canImport(Glibc)
import Glibc
#endif
