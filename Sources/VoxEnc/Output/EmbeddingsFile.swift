// Writing embeddings: float32 .npy [rows, width] + a JSON sidecar (NAME.json), or one safetensors file with the
// tensor "embeddings" and the same metadata in __metadata__. Each file is written atomically (temporary + rename);
// the sidecar is written after the array, so a complete sidecar means a complete output.

import Foundation
import VoxEncModel

public enum EmbeddingsFormat: String, Sendable, CaseIterable {
    case npy, safetensors

    public var fileExtension: String { rawValue }
}

public enum EmbeddingsFile {
    /// The metadata every output carries (sidecar JSON or safetensors __metadata__).
    public static func metadata(_ embeddings: Embeddings, input: String?) -> [String: Any] {
        let model = embeddings.model
        var modelInfo: [String: Any] = [
            "path": model.path, "layout": model.layout.rawValue, "digest_sha256": model.digest,
            "stored_dtype": model.storedDType, "parameter_count": model.parameterCount,
            "n_mels": model.encoder.melBinCount, "d_model": model.encoder.modelDimension,
            "layers": model.encoder.layerCount, "heads": model.encoder.headCount,
            "ffn": model.encoder.feedForwardDimension,
        ]
        if let adapter = model.adapter {
            modelInfo["adapter_stack"] = adapter.stackFactor
            modelInfo["adapter_output"] = adapter.outputDimension
        }
        var metadata: [String: Any] = [
            "kind": embeddings.kind.rawValue,
            "shape": [embeddings.frameCount, embeddings.dimension],
            "dtype": "float32",
            "frame_rate_hz": embeddings.frameRate,
            "frame_count": embeddings.frameCount,
            "valid_frame_count": embeddings.validFrameCount,
            "duration_s": embeddings.durationSeconds,
            "chunk_count": embeddings.chunkCount,
            "rows_per_chunk": embeddings.chunkCount > 0 ? embeddings.frameCount / embeddings.chunkCount : 0,
            "sample_rate": 16000,
            "source_sample_rate": embeddings.sourceSampleRate,
            "source_channels": embeddings.sourceChannelCount,
            "n_mels": embeddings.melBinCount,
            "model": modelInfo,
            "voxenc_version": VoxEncVersion.string,
        ]
        if let input { metadata["input"] = input }
        return metadata
    }

    /// Writes `embeddings` to `path` (.npy + sidecar, or .safetensors). Returns the files written.
    @discardableResult
    public static func write(_ embeddings: Embeddings, to path: String, format: EmbeddingsFormat, input: String?,
                             overwrite: Bool) throws(OutputError) -> [String] {
        let metadata = metadata(embeddings, input: input)
        switch format {
        case .npy:
            let sidecar = sidecarPath(for: path)
            if !overwrite && FileManager.default.fileExists(atPath: sidecar) { throw .exists(path: sidecar) }
            try NumpyArray.write(shape: [embeddings.frameCount, embeddings.dimension], values: embeddings.values,
                                 to: path, overwrite: overwrite)
            let json = (try? JSONSerialization.data(withJSONObject: metadata, options: [.prettyPrinted, .sortedKeys])) ?? Data()
            try AtomicFileWriter.write(json + Data("\n".utf8), to: sidecar, overwrite: true)
            return [path, sidecar]
        case .safetensors:
            try SafeTensorsWriter.write(name: "embeddings", shape: [embeddings.frameCount, embeddings.dimension],
                                        values: embeddings.values, metadata: metadata, to: path, overwrite: overwrite)
            return [path]
        }
    }

    /// NAME.npy → NAME.json.
    public static func sidecarPath(for path: String) -> String {
        URL(fileURLWithPath: path).deletingPathExtension().path + ".json"
    }
}

/// One float32 tensor in a safetensors file (format: 8-byte little-endian header length, JSON header, data).
public enum SafeTensorsWriter {
    public static func write(name: String, shape: [Int], values: [Float], metadata: [String: Any], to path: String,
                             overwrite: Bool) throws(OutputError) {
        // __metadata__ values must be strings: nested values are JSON-encoded.
        var stringMetadata: [String: String] = [:]
        for (key, value) in metadata {
            if let string = value as? String { stringMetadata[key] = string }
            else if JSONSerialization.isValidJSONObject([value]),
                    let data = try? JSONSerialization.data(withJSONObject: [value], options: [.sortedKeys]),
                    let text = String(data: data, encoding: .utf8) {
                stringMetadata[key] = String(text.dropFirst().dropLast())
            } else {
                stringMetadata[key] = "\(value)"
            }
        }
        let header: [String: Any] = [
            "__metadata__": stringMetadata,
            name: ["dtype": "F32", "shape": shape, "data_offsets": [0, values.count * 4]],
        ]
        var json = (try? JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])) ?? Data("{}".utf8)
        while json.count % 8 != 0 { json.append(0x20) }  // data starts 8-byte aligned
        var length = UInt64(json.count).littleEndian
        let writer = try AtomicFileWriter(path: path, overwrite: overwrite)
        try writer.write(Data(bytes: &length, count: 8))
        try writer.write(json)
        try writer.write(values)
        try writer.commit()
    }
}
