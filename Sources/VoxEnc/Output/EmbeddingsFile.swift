// Writing embeddings: float32 .npy [rows, width] + a JSON sidecar (NAME.json), or one safetensors file with the
// tensor "embeddings" and the same metadata in __metadata__. Each file is written atomically (temporary + rename);
// the sidecar is renamed into place after the array (and the array removed if that fails), so a complete sidecar
// means a complete output.

import Foundation
import VoxEncModel

public enum EmbeddingsFormat: String, Sendable, CaseIterable {
    case npy, safetensors

    public var fileExtension: String { rawValue }
}

public enum EmbeddingsFile {
    /// The metadata every output carries (sidecar JSON or safetensors __metadata__).
    public static func metadata(_ embeddings: EmbeddingsInfo, input: String?) -> [String: Any] {
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
            "precision": embeddings.precision.rawValue,
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
        if let layers = embeddings.int8FloatLayers { metadata["int8_float_layers"] = layers }
        if embeddings.leadingPadFrameCount > 0 {  // a causal model: the padded sequence as the model sees it
            metadata["leading_pad_frame_count"] = embeddings.leadingPadFrameCount
            metadata["audio_frames"] = [embeddings.leadingPadFrameCount,
                                        embeddings.leadingPadFrameCount + embeddings.validFrameCount]
        }
        if let input { metadata["input"] = input }
        return metadata
    }

    /// Writes `embeddings` to `path` (.npy + sidecar, or .safetensors). Returns the files written.
    @discardableResult
    public static func write(_ embeddings: Embeddings, to path: String, format: EmbeddingsFormat, input: String?,
                             overwrite: Bool) throws(OutputError) -> [String] {
        let writer = try Writer(path: path, format: format, info: embeddings.info, input: input, overwrite: overwrite)
        try writer.append(embeddings.values)
        return try writer.finish()
    }

    /// Streams one output: the header first (the shape is known before encoding), then rows as chunks are encoded,
    /// then an atomic rename, then the sidecar. Dropped before `finish`, it leaves nothing behind.
    final class Writer {
        let path: String
        let format: EmbeddingsFormat
        let metadata: [String: Any]
        let file: AtomicFileWriter
        /// The .npy format's JSON sidecar, written to its temporary file up front and renamed after the array.
        let sidecar: AtomicFileWriter?
        let expectedFloats: Int
        var writtenFloats = 0

        /// Whether `path` (and, for .npy, its sidecar) can be written; see `AtomicFileWriter.checkTarget`. Callers
        /// check before decoding, so that a bad output path fails at once rather than after a long first pass.
        public static func checkTargets(path: String, format: EmbeddingsFormat, overwrite: Bool) throws(OutputError) {
            try AtomicFileWriter.checkTarget(path, overwrite: overwrite)
            if format == .npy { try AtomicFileWriter.checkTarget(sidecarPath(for: path), overwrite: overwrite) }
        }

        public init(path: String, format: EmbeddingsFormat, info: EmbeddingsInfo, input: String?,
                    overwrite: Bool) throws(OutputError) {
            self.path = path
            self.format = format
            self.metadata = EmbeddingsFile.metadata(info, input: input)
            self.expectedFloats = info.frameCount * info.dimension
            try Self.checkTargets(path: path, format: format, overwrite: overwrite)
            file = try AtomicFileWriter(path: path, overwrite: overwrite)
            let shape = [info.frameCount, info.dimension]
            switch format {
            case .npy: try file.write(NumpyArray.header(shape: shape))
            case .safetensors: try file.write(SafeTensorsWriter.header(name: "embeddings", shape: shape, metadata: metadata))
            }
            // The sidecar's temporary file now (so that it cannot fail after the array is in place), its text at the end.
            sidecar = format == .npy ? try AtomicFileWriter(path: sidecarPath(for: path), overwrite: overwrite) : nil
        }

        public func append(_ values: [Float]) throws(OutputError) {
            precondition(writtenFloats + values.count <= expectedFloats, "more rows than the header announced")
            try file.write(values)
            writtenFloats += values.count
        }

        /// Appends rows [n, width] from a buffer (a slice of a batch that holds several files' chunks).
        public func append(_ values: UnsafeBufferPointer<Float>) throws(OutputError) {
            precondition(writtenFloats + values.count <= expectedFloats, "more rows than the header announced")
            try file.write(UnsafeRawBufferPointer(values))
            writtenFloats += values.count
        }

        /// Every row the header announced has been appended.
        public var isFull: Bool { writtenFloats == expectedFloats }

        /// Commits the output (and writes the sidecar for .npy). Returns the files written.
        public func finish() throws(OutputError) -> [String] {
            precondition(writtenFloats == expectedFloats, "fewer rows than the header announced")
            guard let sidecar else {
                try file.commit()
                return [path]
            }
            let json = (try? JSONSerialization.data(withJSONObject: metadata, options: [.prettyPrinted, .sortedKeys])) ?? Data()
            try sidecar.write(json + Data("\n".utf8))
            try file.commit()
            do {
                try sidecar.commit()
            } catch {
                unlink(path)  // an array without its sidecar is not an output
                throw error
            }
            return [path, sidecar.path]
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
        let writer = try AtomicFileWriter(path: path, overwrite: overwrite)
        try writer.write(header(name: name, shape: shape, metadata: metadata))
        try writer.write(values)
        try writer.commit()
    }

    /// The 8-byte length and the JSON header (padded so that the data starts 8-byte aligned) of a file holding one
    /// float32 tensor of `shape`.
    public static func header(name: String, shape: [Int], metadata: [String: Any]) -> Data {
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
        let byteCount = shape.reduce(1, *) * 4
        let header: [String: Any] = [
            "__metadata__": stringMetadata,
            name: ["dtype": "F32", "shape": shape, "data_offsets": [0, byteCount]],
        ]
        var json = (try? JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])) ?? Data("{}".utf8)
        while json.count % 8 != 0 { json.append(0x20) }  // data starts 8-byte aligned
        var length = UInt64(json.count).littleEndian
        return Data(bytes: &length, count: 8) + json
    }
}
