// What a request to POST /v1/audio/embeddings asks for: the upload (raw audio bytes, or the `file` part of a
// multipart/form-data body), the output format and options from the query.

import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import MultipartKit
import NIOCore
import NIOHTTP1
import VoxEnc

/// How the audio arrives, from the Content-Type.
enum UploadEncoding: Equatable {
    /// The audio file's bytes are the body (audio/*, application/octet-stream, application/ogg, or no Content-Type).
    case raw
    /// multipart/form-data with a `file` part (OpenAI-style clients).
    case multipart(boundary: String)

    /// Throws 415 for any other type, 400 for multipart without a boundary.
    init(contentType: String?) throws(APIError) {
        guard let contentType, !contentType.trimmingCharacters(in: .whitespaces).isEmpty else {
            self = .raw
            return
        }
        let parts = contentType.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
        let mediaType = parts.first?.lowercased() ?? ""
        if mediaType.hasPrefix("audio/") && mediaType.count > "audio/".count || mediaType == "application/octet-stream"
            || mediaType == "application/ogg" {
            self = .raw
            return
        }
        guard mediaType == "multipart/form-data" else { throw .unsupportedMediaType(contentType) }
        for parameter in parts.dropFirst() {
            guard let equals = parameter.firstIndex(of: "=") else { continue }
            let name = parameter[..<equals].trimmingCharacters(in: .whitespaces).lowercased()
            var value = parameter[parameter.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            if value.count >= 2 && value.hasPrefix("\"") && value.hasSuffix("\"") { value = String(value.dropFirst().dropLast()) }
            if name == "boundary" && !value.isEmpty && value.count <= 70 {
                self = .multipart(boundary: value)
                return
            }
        }
        throw .badRequest("multipart/form-data without a boundary parameter", code: "invalid_multipart")
    }
}

/// The audio of one request and the name that stands for its path (messages, the safetensors metadata's "input").
struct Upload {
    var bytes: [UInt8]
    var name: String

    /// The default name of a raw upload without `?filename=`.
    static let defaultName = "upload"

    /// The `file` part of a multipart body: its bytes and filename.
    static func multipart(_ body: ByteBuffer, boundary: String) throws(APIError) -> Upload {
        let parser = MultipartParser(boundary: boundary)
        var parts: [(headers: HTTPHeaders, body: ByteBuffer)] = []
        var headers = HTTPHeaders()
        var partBody = ByteBuffer()
        parser.onHeader = { name, value in headers.add(name: name, value: value) }
        parser.onBody = { chunk in partBody.writeBuffer(&chunk) }
        parser.onPartComplete = {
            parts.append((headers, partBody))
            headers = HTTPHeaders()
            partBody = ByteBuffer()
        }
        do { try parser.execute(body) } catch {
            throw .badRequest("malformed multipart/form-data body (\(error))", code: "invalid_multipart")
        }
        for part in parts {
            guard let disposition = part.headers.first(name: "Content-Disposition") else { continue }
            let parameters = Self.dispositionParameters(disposition)
            guard parameters["name"] == "file" else { continue }
            let filename = parameters["filename"].map(Self.safeName) ?? defaultName
            return Upload(bytes: Array(part.body.readableBytesView), name: filename.isEmpty ? defaultName : filename)
        }
        throw .badRequest("multipart/form-data body without a `file` part", code: "missing_file")
    }

    /// `form-data; name="file"; filename="a.wav"` → ["name": "file", "filename": "a.wav"].
    static func dispositionParameters(_ header: String) -> [String: String] {
        var result: [String: String] = [:]
        for item in header.split(separator: ";").dropFirst() {
            guard let equals = item.firstIndex(of: "=") else { continue }
            let key = item[..<equals].trimmingCharacters(in: .whitespaces).lowercased()
            var value = item[item.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            if value.count >= 2 && value.hasPrefix("\"") && value.hasSuffix("\"") { value = String(value.dropFirst().dropLast()) }
            result[key] = value
        }
        return result
    }

    /// A client's file name as it may appear in messages and metadata: its last path component, printable ASCII
    /// and UTF-8 letters only, at most 200 characters.
    static func safeName(_ name: String) -> String {
        let last = name.split(whereSeparator: { $0 == "/" || $0 == "\\" }).last.map(String.init) ?? ""
        let cleaned = last.unicodeScalars.filter { $0.value >= 0x20 && $0.value != 0x7F && $0 != "\"" }
        return String(String.UnicodeScalarView(cleaned).prefix(200))
    }
}

/// The response body's format (`?format=`).
enum ResponseFormat: String, CaseIterable {
    case json, npy, safetensors

    init(query: Substring?) throws(APIError) {
        guard let query else {
            self = .json
            return
        }
        guard let format = ResponseFormat(rawValue: String(query)) else {
            throw .badRequest("format must be json, npy or safetensors, not \(query)", code: "invalid_format")
        }
        self = format
    }
}

/// The options of a request, from its query string.
struct EmbeddingOptions {
    var format: ResponseFormat
    var encoderOnly: Bool
    var channels: ChannelSelection
    /// `?filename=`: the name of a raw upload (multipart uploads carry their own).
    var filename: String?
    /// `?dtype=` and `?pool=`: the element type and pooling of the returned array, as `voxenc embed --dtype --pool`.
    var encoding: OutputEncoding

    init(query: FlatDictionary<Substring, Substring>) throws(APIError) {
        format = try ResponseFormat(query: query["format"])
        switch query["encoder_only"].map({ $0.lowercased() }) {
        case nil, "false", "0": encoderOnly = false
        case "true", "1", "": encoderOnly = true
        case let value?:
            throw .badRequest("encoder_only must be true or false, not \(value)", code: "invalid_request")
        }
        if let channel = query["channel"] {
            guard let index = Int(channel), index >= 0 else {
                throw .badRequest("channel must be an integer ≥ 0, not \(channel)", code: "invalid_request")
            }
            channels = .channel(index)
        } else {
            channels = .average
        }
        filename = query["filename"].map { Upload.safeName(String($0)) }.flatMap { $0.isEmpty ? nil : $0 }
        encoding = OutputEncoding()
        if let value = query["dtype"] {
            guard let dtype = OutputDType(rawValue: String(value)) else {
                throw .badRequest("dtype must be float32, float16 or bfloat16, not \(value)", code: "invalid_request")
            }
            encoding.dtype = dtype
        }
        if let value = query["pool"] {
            guard let pooling = Pooling(rawValue: String(value)) else {
                throw .badRequest("pool must be none or mean, not \(value)", code: "invalid_request")
            }
            encoding.pooling = pooling
        }
        if format == .npy {
            do { try encoding.check(format: .npy) } catch {
                throw .badRequest("\(error.description) (hint: \(error.hint ?? ""))", code: "invalid_request")
            }
        }
    }
}
