// The list of files of a batch job: a manifest (one path per line, or JSON lines with "id" and "path"; blank lines
// and lines starting with # are skipped; "-" reads standard input) or an input directory listed in sorted order.
// Relative paths are relative to the current directory, as on the command line.

import Foundation

public struct ManifestEntry: Sendable, Equatable {
    public var id: String
    public var path: String
}

public enum Manifest {
    /// Reads the manifest at `path` ("-": standard input).
    public static func read(path: String) throws(JobError) -> [ManifestEntry] {
        let data: Data
        if path == "-" {
            data = FileHandle.standardInput.readDataToEndOfFile()
        } else {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                throw .manifestUnreadable(path: path, reason: "no such file")
            }
            guard !isDirectory.boolValue else { throw .manifestUnreadable(path: path, reason: "it is a directory") }
            guard let contents = FileManager.default.contents(atPath: path) else {
                throw .manifestUnreadable(path: path, reason: "permission denied or I/O error")
            }
            data = contents
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw .manifestUnreadable(path: path, reason: "not UTF-8 text")
        }
        return try parse(text, path: path == "-" ? "<stdin>" : path)
    }

    /// Parses manifest text; `path` names it in errors.
    public static func parse(_ text: String, path: String) throws(JobError) -> [ManifestEntry] {
        var entries: [ManifestEntry] = []
        var lineOfID: [String: Int] = [:]
        // "\r\n" is one Character in Swift: split on newline characters, not on "\n".
        for (offset, rawLine) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            let line = rawLine.trimmingCharacters(in: .whitespacesAndNewlines)
            let number = offset + 1
            if line.isEmpty || line.hasPrefix("#") { continue }
            let entry: ManifestEntry
            if line.hasPrefix("{") {
                guard let object = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any] else {
                    throw .manifestLine(path: path, line: number, reason: "not a JSON object")
                }
                guard let filePath = object["path"] as? String, !filePath.isEmpty else {
                    throw .manifestLine(path: path, line: number, reason: "the JSON object has no string \"path\"")
                }
                if let id = object["id"], !(id is String) {
                    throw .manifestLine(path: path, line: number, reason: "\"id\" must be a string")
                }
                let id = object["id"] as? String ?? filePath
                guard !id.isEmpty else { throw .manifestLine(path: path, line: number, reason: "\"id\" is empty") }
                entry = ManifestEntry(id: id, path: filePath)
            } else {
                entry = ManifestEntry(id: line, path: line)
            }
            if let earlier = lineOfID[entry.id] { throw .duplicateID(id: entry.id, lines: [earlier, number]) }
            lineOfID[entry.id] = number
            entries.append(entry)
        }
        return entries
    }

    /// The audio files under `directory` (by extension, hidden files skipped), sorted, ids relative to it.
    public static func list(directory: String, recursive: Bool) throws(JobError) -> [ManifestEntry] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) else {
            throw .inputDirectory(path: directory, reason: "no such directory")
        }
        guard isDirectory.boolValue else { throw .inputDirectory(path: directory, reason: "not a directory") }
        let base = URL(fileURLWithPath: directory)
        var relatives: [String] = []
        if recursive {
            guard let walker = FileManager.default.enumerator(at: base, includingPropertiesForKeys: [.isRegularFileKey],
                                                              options: [.skipsHiddenFiles]) else {
                throw .inputDirectory(path: directory, reason: "cannot list it")
            }
            let prefix = base.standardizedFileURL.path + "/"
            for case let url as URL in walker {
                guard (try? url.resourceValues(forKeys: [.isRegularFileKey]))?.isRegularFile == true,
                      JobItem.audioExtensions.contains(url.pathExtension.lowercased()) else { continue }
                let full = url.standardizedFileURL.path
                relatives.append(full.hasPrefix(prefix) ? String(full.dropFirst(prefix.count)) : url.lastPathComponent)
            }
        } else {
            let names: [String]
            do { names = try FileManager.default.contentsOfDirectory(atPath: directory) } catch {
                throw .inputDirectory(path: directory, reason: "cannot list it (permission denied?)")
            }
            for name in names where !name.hasPrefix(".") {
                var isSubdirectory: ObjCBool = false
                guard JobItem.audioExtensions.contains(URL(fileURLWithPath: name).pathExtension.lowercased()),
                      FileManager.default.fileExists(atPath: base.appendingPathComponent(name).path, isDirectory: &isSubdirectory),
                      !isSubdirectory.boolValue else { continue }
                relatives.append(name)
            }
        }
        let prefix = directory.hasSuffix("/") ? directory : directory + "/"
        return relatives.sorted().map { ManifestEntry(id: $0, path: prefix + $0) }
    }
}
