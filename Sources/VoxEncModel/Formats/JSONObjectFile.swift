// A model directory's JSON config file read as one JSON object, with the errors every family reports for it.

import Foundation

enum JSONObjectFile {
    /// The object in `path`; `invalidConfiguration` when the file is not valid JSON or not an object.
    static func read(_ path: String) throws(ModelError) -> [String: Any] {
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            throw .invalidConfiguration(path: path, reason: "not valid JSON")
        }
        guard let config = object as? [String: Any] else {
            throw .invalidConfiguration(path: path, reason: "not a JSON object")
        }
        return config
    }
}
