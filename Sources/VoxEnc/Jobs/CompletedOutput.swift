// Whether an output is already complete, for --skip-existing. An .npy output is complete when its sidecar exists,
// parses, and the array's size is exactly what the sidecar's shape needs: the array is renamed into place first and
// the sidecar after it, both atomically, so a worker killed at any moment leaves either both or an array without a
// sidecar (incomplete: redone). A .safetensors output appears in one atomic rename; its header is checked against
// its size. Only headers and sizes are read, never the data.

import Foundation
import VoxEncModel

enum CompletedOutput {
    struct Facts: Sendable, Equatable {
        public var frameCount: Int
        public var dimension: Int
        public var durationSeconds: Double
    }

    /// The output's shape and duration when it is complete; nil when it is missing or incomplete.
    static func facts(at path: String, format: EmbeddingsFormat) -> Facts? {
        switch format {
        case .npy:
            guard let sidecar = FileManager.default.contents(atPath: EmbeddingsFile.sidecarPath(for: path)),
                  let object = try? JSONSerialization.jsonObject(with: sidecar) as? [String: Any],
                  let facts = facts(metadata: object), let shape = object["shape"] as? [Int],
                  let dtype = OutputDType(rawValue: object["dtype"] as? String ?? ""), let descriptor = dtype.numpyDescriptor,
                  let size = fileSize(path) else { return nil }
            let expected = NumpyArray.header(shape: shape, descriptor: descriptor).count + shape.reduce(1, *) * dtype.byteWidth
            return size == expected ? facts : nil
        case .safetensors:
            guard let file = try? SafeTensors(contentsOf: path), let info = file.info("embeddings"),
                  let dimension = info.shape.last,
                  let duration = file.metadata["duration_s"].flatMap(Double.init) else { return nil }
            let frames = file.metadata["frame_count"].flatMap { Int($0) } ?? info.shape[0]
            return Facts(frameCount: frames, dimension: dimension, durationSeconds: duration)
        }
    }

    /// The facts an output's metadata (sidecar, tar member KEY.json) states: rows (frame_count), width, duration.
    static func facts(metadata object: [String: Any]) -> Facts? {
        guard let shape = object["shape"] as? [Int], let dimension = shape.last,
              let duration = (object["duration_s"] as? NSNumber)?.doubleValue else { return nil }
        let frames = (object["frame_count"] as? Int) ?? shape[0]
        return Facts(frameCount: frames, dimension: dimension, durationSeconds: duration)
    }

    private static func fileSize(_ path: String) -> Int? {
        var status = stat()
        guard stat(path, &status) == 0, (status.st_mode & S_IFMT) == S_IFREG else { return nil }
        return Int(status.st_size)
    }
}

#if canImport(Glibc)
import Glibc
#endif
