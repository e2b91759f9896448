// A real HTTP server on loopback that speaks the Hugging Face Hub's download protocol (Tests/hub/hub_server.py: its
// docstring lists what it reproduces, from huggingface_hub's code and the Hub's docs: resolve/{revision}/{file} with
// 302s to a file host on another origin, X-Repo-Commit, X-Linked-Size, X-Linked-Etag, Range and 206, the model-info
// listing, the Hub's X-Error-Code answers, gated and private repositories; and, on request, the ways a server lies),
// serving the repositories Tests/hub/make_repos.py builds from the committed fixtures.

import Foundation
#if canImport(Glibc)
import Glibc
#endif
import VoxEncTestSupport

final class LoopbackHub {
    /// The repositories, built once per test process.
    static let root: String = {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("voxenc-hub-\(getpid())").path
        let make = Process()
        make.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        make.arguments = ["python3", script("make_repos.py"), root]
        try! make.run()
        make.waitUntilExit()
        precondition(make.terminationStatus == 0, "make_repos.py failed")
        return root
    }()

    static func script(_ name: String) -> String {
        Fixtures.repositoryRoot.appendingPathComponent("Tests/hub/" + name).path
    }

    let process: Process
    let port: Int
    let stats: String
    var endpoint: String { "http://127.0.0.1:\(port)" }

    /// Starts a server; `options` are hub_server.py's (--fault, --throttle, --token, --fail-first, …).
    init(_ options: [String] = []) throws {
        stats = FileManager.default.temporaryDirectory.appendingPathComponent("voxenc-hub-stats-\(UUID().uuidString)").path
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", Self.script("hub_server.py"), "--root", Self.root, "--stats", stats,
                             "--lifetime", "300"] + options
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        var line = Data()
        while let byte = try out.fileHandleForReading.read(upToCount: 1), !byte.isEmpty, byte != Data("\n".utf8) {
            line += byte
        }
        guard let port = Int(String(decoding: line, as: UTF8.self)) else {
            process.terminate()
            throw CocoaError(.fileReadCorruptFile)
        }
        self.port = port
    }

    deinit { stop() }

    func stop() {
        if process.isRunning { kill(process.processIdentifier, SIGKILL); process.waitUntilExit() }
        try? FileManager.default.removeItem(atPath: stats)
    }

    struct Served { var path: String; var range: String?; var status: Int; var bytes: Int }

    /// Every response so far.
    func served() -> [Served] {
        guard let text = try? String(contentsOfFile: stats, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { line in
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else { return nil }
            return Served(path: object["path"] as? String ?? "", range: object["range"] as? String,
                          status: object["status"] as? Int ?? 0, bytes: object["bytes"] as? Int ?? 0)
        }
    }

    /// Body bytes sent so far.
    var bytesServed: Int { served().reduce(0) { $0 + $1.bytes } }

    /// A repository's folder (its full, unsliced files).
    static func repository(_ id: String) -> String { root + "/" + id }

    /// Bytes of every file of a repository.
    static func repositoryBytes(_ id: String) -> Int {
        let folder = repository(id)
        let names = FileManager.default.enumerator(atPath: folder)?.allObjects as? [String] ?? []
        return names.reduce(0) { total, name in
            total + ((try? FileManager.default.attributesOfItem(atPath: folder + "/" + name)[.size] as? Int) ?? 0)
        }
    }
}
