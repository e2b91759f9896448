// Writing embeddings: .npy [rows, width] (float32, or float16 with --dtype; [width] with --pool mean) + a JSON sidecar
// (NAME.json), or one safetensors file with the tensor "embeddings" (F32, F16 or BF16) and the same metadata in
// __metadata__; or both as members of a tar shard (TarShardWriter). Each file is written atomically (temporary + rename);
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
    public static func metadata(_ embeddings: EmbeddingsInfo, input: String?,
                                encoding: OutputEncoding = .float32Rows) -> [String: Any] {
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
            "shape": encoding.shape(embeddings),
            "dtype": encoding.dtype.rawValue,
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
        if encoding.pooling != .none {  // one vector: the mean of the valid_frame_count rows that cover the audio
            metadata["pool"] = encoding.pooling.rawValue
        }
        if let input { metadata["input"] = input }
        return metadata
    }

    /// Writes `embeddings` to `path` (.npy + sidecar, or .safetensors). Returns the files written.
    @discardableResult
    public static func write(_ embeddings: Embeddings, to path: String, format: EmbeddingsFormat, input: String?,
                             encoding: OutputEncoding = .float32Rows, overwrite: Bool) throws(OutputError) -> [String] {
        let writer = try Writer(path: path, format: format, info: embeddings.info, input: input, encoding: encoding,
                                overwrite: overwrite)
        try embeddings.values.withUnsafeBufferPointer { values throws(OutputError) in try writer.append(values) }
        return try writer.finish()
    }

    /// The array's header: .npy (dtype and shape) or safetensors (the tensor "embeddings" and the metadata).
    static func header(format: EmbeddingsFormat, shape: [Int], dtype: OutputDType, metadata: [String: Any]) -> Data {
        switch format {
        case .npy: return NumpyArray.header(shape: shape, descriptor: dtype.numpyDescriptor ?? "<f4")
        case .safetensors: return SafeTensorsWriter.header(name: "embeddings", shape: shape, dtype: dtype, metadata: metadata)
        }
    }

    /// The sidecar's text: the metadata as pretty-printed JSON with sorted keys, and a newline.
    static func sidecarText(_ metadata: [String: Any]) -> Data {
        let json = (try? JSONSerialization.data(withJSONObject: metadata, options: [.prettyPrinted, .sortedKeys])) ?? Data()
        return json + Data("\n".utf8)
    }

    /// Streams one output: the header first (the shape is known before encoding), then rows as chunks are encoded
    /// (narrowed to the dtype, or summed for the mean), then an atomic rename, then the sidecar — or, into a tar
    /// shard, the array to an unnamed scratch file and both members appended whole at the end. Dropped before
    /// `finish`, it leaves nothing behind.
    @_spi(Engine) public final class Writer {
        enum Destination {
            /// `path` (+ its sidecar for .npy), each renamed into place.
            case file
            /// Members KEY.<format> and KEY.json of a tar shard.
            case shard(TarShardWriter, key: String)
        }

        /// The output file, or `TAR:KEY.EXT` for a shard member.
        let path: String
        let format: EmbeddingsFormat
        let encoding: OutputEncoding
        let metadata: [String: Any]
        let destination: Destination
        /// Where the array goes: the output's temporary file, or a scratch file for a shard member.
        let file: any OutputSink
        /// The .npy format's JSON sidecar, written to its temporary file up front and renamed after the array.
        let sidecar: AtomicFileWriter?
        /// With `.mean`: the running sum of the valid rows.
        var pool: MeanPool?
        let expectedFloats: Int
        var writtenFloats = 0

        /// Whether `path` (and, for .npy, its sidecar) can be written; see `AtomicFileWriter.checkTarget`. Callers
        /// check before decoding, so that a bad output path fails at once rather than after a long first pass.
        public static func checkTargets(path: String, format: EmbeddingsFormat, overwrite: Bool) throws(OutputError) {
            try AtomicFileWriter.checkTarget(path, overwrite: overwrite)
            if format == .npy { try AtomicFileWriter.checkTarget(sidecarPath(for: path), overwrite: overwrite) }
        }

        /// An output file at `path`.
        @_spi(Engine) public convenience init(path: String, format: EmbeddingsFormat, info: EmbeddingsInfo, input: String?,
                    encoding: OutputEncoding = .float32Rows, overwrite: Bool) throws(OutputError) {
            try Self.checkTargets(path: path, format: format, overwrite: overwrite)
            let file = try AtomicFileWriter(path: path, overwrite: overwrite)
            // The sidecar's temporary file now (so that it cannot fail after the array is in place), its text at the end.
            let sidecar = format == .npy ? try AtomicFileWriter(path: sidecarPath(for: path), overwrite: overwrite) : nil
            try self.init(path: path, destination: .file, file: file, sidecar: sidecar, format: format, info: info,
                          input: input, encoding: encoding)
        }

        /// Members `key.<format>` and `key.json` of `shard`, appended when the output is complete.
        @_spi(Engine) public convenience init(shard: TarShardWriter, key: String, format: EmbeddingsFormat, info: EmbeddingsInfo, input: String?,
             encoding: OutputEncoding) throws(OutputError) {
            try self.init(path: shard.path + ":" + key + "." + format.fileExtension, destination: .shard(shard, key: key),
                          file: try ScratchFile(besides: shard.path), sidecar: nil, format: format, info: info,
                          input: input, encoding: encoding)
        }

        private init(path: String, destination: Destination, file: any OutputSink, sidecar: AtomicFileWriter?,
                     format: EmbeddingsFormat, info: EmbeddingsInfo, input: String?,
                     encoding: OutputEncoding) throws(OutputError) {
            self.path = path
            self.destination = destination
            self.format = format
            self.encoding = encoding
            self.metadata = EmbeddingsFile.metadata(info, input: input, encoding: encoding)
            self.expectedFloats = info.frameCount * info.dimension
            self.file = file
            self.sidecar = sidecar
            self.pool = encoding.pooling == .mean ? MeanPool(info: info) : nil
            try file.write(EmbeddingsFile.header(format: format, shape: encoding.shape(info), dtype: encoding.dtype,
                                                 metadata: metadata))
        }

        public func append(_ values: [Float]) throws(OutputError) {
            try values.withUnsafeBufferPointer { values throws(OutputError) in try append(values) }
        }

        /// Appends rows [n, width] from a buffer (a slice of a batch that holds several files' chunks).
        public func append(_ values: UnsafeBufferPointer<Float>) throws(OutputError) {
            precondition(writtenFloats + values.count <= expectedFloats, "more rows than the header announced")
            writtenFloats += values.count
            if pool != nil {
                pool!.add(values)
            } else {
                try write(values)
            }
        }

        /// The values narrowed to the dtype, to the array's file (float32 as it is, with no copy).
        private func write(_ values: UnsafeBufferPointer<Float>) throws(OutputError) {
            if encoding.dtype == .float32 {
                try file.write(UnsafeRawBufferPointer(values))
            } else {
                try file.write(encoding.dtype.encoded(values))
            }
        }

        /// Every row the header announced has been appended.
        public var isFull: Bool { writtenFloats == expectedFloats }

        /// Commits the output (and writes the sidecar for .npy, or appends the members to the shard). Returns the
        /// files written.
        public func finish() throws(OutputError) -> [String] {
            precondition(writtenFloats == expectedFloats, "fewer rows than the header announced")
            if let pool {
                let mean = pool.mean
                try mean.withUnsafeBufferPointer { mean throws(OutputError) in try write(mean) }
            }
            switch destination {
            case .shard(let shard, let key):
                try shard.append(key: key, array: (format.fileExtension, file as! ScratchFile),
                                 sidecar: EmbeddingsFile.sidecarText(metadata))
                return [path]
            case .file:
                let file = self.file as! AtomicFileWriter
                guard let sidecar else {
                    try file.commit()
                    return [path]
                }
                try sidecar.write(EmbeddingsFile.sidecarText(metadata))
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
        try writer.write(header(name: name, shape: shape, dtype: .float32, metadata: metadata))
        try writer.write(values)
        try writer.commit()
    }

    /// The 8-byte length and the JSON header (padded so that the data starts 8-byte aligned) of a file holding one
    /// tensor of `shape` and `dtype`.
    public static func header(name: String, shape: [Int], dtype: OutputDType = .float32, metadata: [String: Any]) -> Data {
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
        let byteCount = shape.reduce(1, *) * dtype.byteWidth
        let header: [String: Any] = [
            "__metadata__": stringMetadata,
            name: ["dtype": dtype.safetensorsName, "shape": shape, "data_offsets": [0, byteCount]],
        ]
        var json = (try? JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])) ?? Data("{}".utf8)
        while json.count % 8 != 0 { json.append(0x20) }  // data starts 8-byte aligned
        var length = UInt64(json.count).littleEndian
        return Data(bytes: &length, count: 8) + json
    }
}
