// The body of a successful POST /v1/audio/embeddings, in the requested format, and the metadata headers.
//   npy          exactly the bytes `voxenc embed FILE -o OUT.npy` writes (header + little-endian float32 rows)
//   safetensors  exactly the bytes `voxenc embed FILE -o OUT.safetensors --format safetensors` writes, its metadata
//                naming the upload (the multipart filename or ?filename=) as "input"
//   json         {"model", "shape", "dtype", "frame_rate_hz", "valid_frame_count", "duration_s", "precision", "kind",
//                 "embedding": base64 of the little-endian elements of dtype, row-major}
// Each in the requested dtype and pooling (?dtype=, ?pool=), the bytes `voxenc embed --dtype --pool` writes.

import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import NIOCore
import VoxEnc

struct EmbeddingResponse {
    let embeddings: Embeddings
    let name: String
    let modelName: String

    func response(format: ResponseFormat, encoding: OutputEncoding) -> Response {
        let info = embeddings.info
        let values = encoding.encoded(embeddings)
        let shape = encoding.shape(info)
        var headers = HTTPFields()
        headers[HTTPField.Name("X-Voxenc-Model")!] = modelName
        headers[HTTPField.Name("X-Voxenc-Kind")!] = info.kind.rawValue
        headers[HTTPField.Name("X-Voxenc-Shape")!] = "\(info.frameCount),\(info.dimension)"
        headers[HTTPField.Name("X-Voxenc-Frame-Rate-Hz")!] = "\(info.frameRate)"
        headers[HTTPField.Name("X-Voxenc-Valid-Frame-Count")!] = "\(info.validFrameCount)"
        headers[HTTPField.Name("X-Voxenc-Duration-S")!] = "\(info.durationSeconds)"
        headers[HTTPField.Name("X-Voxenc-Chunk-Count")!] = "\(info.chunkCount)"
        headers[HTTPField.Name("X-Voxenc-Precision")!] = info.precision.rawValue
        headers[HTTPField.Name("X-Voxenc-Dtype")!] = encoding.dtype.rawValue
        if encoding.pooling != .none { headers[HTTPField.Name("X-Voxenc-Pool")!] = encoding.pooling.rawValue }
        let stem = Self.stem(name)
        let body: ByteBuffer
        switch format {
        case .npy:
            headers[.contentType] = "application/octet-stream"
            headers[.contentDisposition] = "attachment; filename=\"\(stem).npy\""
            body = rawBody(header: NumpyArray.header(shape: shape, descriptor: encoding.dtype.numpyDescriptor ?? "<f4"),
                           values: values)
        case .safetensors:
            headers[.contentType] = "application/octet-stream"
            headers[.contentDisposition] = "attachment; filename=\"\(stem).safetensors\""
            let metadata = EmbeddingsFile.metadata(info, input: name, encoding: encoding)
            body = rawBody(header: SafeTensorsWriter.header(name: "embeddings", shape: shape, dtype: encoding.dtype,
                                                            metadata: metadata), values: values)
        case .json:
            headers[.contentType] = "application/json"
            body = jsonBody(shape: shape, dtype: encoding.dtype, values: values)
        }
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: body))
    }

    /// A header then the encoded elements, as the CLI's writers lay them out.
    private func rawBody(header: Data, values: [UInt8]) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(header.count + values.count)
        buffer.writeBytes(header)
        buffer.writeBytes(values)  // little-endian: x86-64 and arm64
        return buffer
    }

    /// The JSON body (JSONEncoder: doubles written so that they read back as the same value, unlike
    /// JSONSerialization's 15 significant digits).
    private func jsonBody(shape: [Int], dtype: OutputDType, values: [UInt8]) -> ByteBuffer {
        let info = embeddings.info
        let body = JSONBody(
            object: "embedding", model: modelName, kind: info.kind.rawValue, shape: shape,
            dtype: dtype.rawValue, frame_rate_hz: info.frameRate, valid_frame_count: info.validFrameCount,
            duration_s: info.durationSeconds, chunk_count: info.chunkCount, precision: info.precision.rawValue,
            embedding: Data(values).base64EncodedString())
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = (try? encoder.encode(body)) ?? Data("{}".utf8)
        var buffer = ByteBuffer()
        buffer.reserveCapacity(data.count + 1)
        buffer.writeBytes(data)
        buffer.writeInteger(UInt8(0x0A))
        return buffer
    }

    /// The body's fields, named as the API names them (snake_case).
    private struct JSONBody: Encodable {
        var object: String
        var model: String
        var kind: String
        var shape: [Int]
        var dtype: String
        var frame_rate_hz: Double
        var valid_frame_count: Int
        var duration_s: Double
        var chunk_count: Int
        var precision: String
        var embedding: String
    }

    /// "dir/a.wav" → "a" (for Content-Disposition), printable ASCII only.
    static func stem(_ name: String) -> String {
        let last = URL(fileURLWithPath: name).deletingPathExtension().lastPathComponent
        let ascii = last.unicodeScalars.filter { $0.isASCII && $0.value >= 0x20 && $0 != "\"" && $0 != "\\" }
        let result = String(String.UnicodeScalarView(ascii))
        return result.isEmpty ? "embeddings" : result
    }
}
