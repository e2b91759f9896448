// Which model directory to use: --model, else $VOXENC_MODEL, else the default installed by
// Weights/tools/install_models.py (Weights/models/whisper-tiny.en), found beside the executable's checkout or in
// the current directory.

import Foundation
import VoxEnc

enum ModelLocator {
    static let defaultModelName = "whisper-tiny.en"

    struct Resolved {
        var path: String
        /// True when neither --model nor $VOXENC_MODEL chose it.
        var isInstalledDefault: Bool
    }

    static func resolve(_ option: String?) throws -> Resolved {
        if let option, !option.isEmpty { return Resolved(path: option, isInstalledDefault: false) }
        if let environment = ProcessInfo.processInfo.environment["VOXENC_MODEL"], !environment.isEmpty {
            return Resolved(path: environment, isInstalledDefault: false)
        }
        for root in searchRoots() {
            let candidate = root.appendingPathComponent("Weights/models/\(defaultModelName)")
            if FileManager.default.fileExists(atPath: candidate.appendingPathComponent("model.bin").path) {
                return Resolved(path: candidate.path, isInstalledDefault: true)
            }
        }
        throw VoxEncError.noModel
    }

    /// The current directory, then the executable's directory and its parents (…/.build/release/voxenc → checkout).
    static func searchRoots() -> [URL] {
        var roots = [URL(fileURLWithPath: FileManager.default.currentDirectoryPath)]
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<4 {
            roots.append(directory)
            directory = directory.deletingLastPathComponent()
        }
        return roots
    }
}
