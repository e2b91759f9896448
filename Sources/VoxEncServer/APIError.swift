// Every error the service returns: `{"error": {"message", "type", "code"}}` with an HTTP status. Errors of the
// library are classified once, by `ErrorReport` (the CLI's exit codes, the C ABI's statuses); `HTTPStatusMapping`
// turns its categories into statuses here, beside the server's own errors (auth, limits, queue, media type).

import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import VoxEnc

/// An error response. Thrown from a handler, Hummingbird writes it as the JSON body with its status and headers.
public struct APIError: Error, HTTPResponseError, Sendable, Equatable {
    public var status: HTTPResponse.Status
    public var message: String
    /// OpenAI-style class: invalid_request_error, authentication_error, rate_limit_error (overload), server_error.
    public var type: String
    /// Machine-readable: invalid_audio, audio_too_long, payload_too_large, unsupported_media_type, queue_full, …
    public var code: String
    public var headers: [String: String] = [:]

    public init(status: HTTPResponse.Status, message: String, type: String, code: String,
                headers: [String: String] = [:]) {
        (self.status, self.message, self.type, self.code, self.headers) = (status, message, type, code, headers)
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var fields = HTTPFields()
        fields[.contentType] = "application/json"
        for (name, value) in headers {
            if let name = HTTPField.Name(name) { fields[name] = value }
        }
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }

    /// `{"error": {"code": …, "message": …, "type": …}}` and a newline.
    public var body: [UInt8] {
        let object: [String: Any] = ["error": ["message": message, "type": type, "code": code]]
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]))
            ?? Data("{\"error\":{\"message\":\"error\",\"type\":\"server_error\",\"code\":\"internal\"}}".utf8)
        return Array(data) + [0x0A]
    }

    // MARK: - The server's own errors

    static func unauthorized() -> APIError {
        APIError(status: .unauthorized, message: "missing or wrong API key (send: Authorization: Bearer KEY)",
                 type: "authentication_error", code: "invalid_api_key", headers: ["WWW-Authenticate": "Bearer"])
    }

    static func unsupportedMediaType(_ contentType: String) -> APIError {
        APIError(status: .unsupportedMediaType,
                 message: "unsupported Content-Type \(contentType): send the audio file's bytes as audio/* or "
                     + "application/octet-stream, or multipart/form-data with a `file` part",
                 type: "invalid_request_error", code: "unsupported_media_type")
    }

    static func uploadTooLarge(limitBytes: Int) -> APIError {
        APIError(status: .contentTooLarge,
                 message: "upload larger than \(limitBytes / (1 << 20)) MB, the limit of this server (--max-upload-mb)",
                 type: "invalid_request_error", code: "payload_too_large")
    }

    static func queueFull(capacity: Int, retryAfter: Int) -> APIError {
        APIError(status: .serviceUnavailable,
                 message: "the server is busy (\(capacity) requests in progress, --max-queue); retry after \(retryAfter) s",
                 type: "server_error", code: "queue_full", headers: ["Retry-After": String(retryAfter)])
    }

    static func shuttingDown() -> APIError {
        APIError(status: .serviceUnavailable, message: "the server is shutting down", type: "server_error",
                 code: "shutting_down", headers: ["Retry-After": "1", "Connection": "close"])
    }

    static func badRequest(_ message: String, code: String) -> APIError {
        APIError(status: .badRequest, message: message, type: "invalid_request_error", code: code)
    }

    static func notFound(_ path: String) -> APIError {
        APIError(status: .notFound, message: "no route \(path) (see docs/openapi.yaml)", type: "invalid_request_error",
                 code: "not_found")
    }

    static func methodNotAllowed(_ method: String, _ path: String) -> APIError {
        APIError(status: .methodNotAllowed, message: "\(method) is not allowed on \(path)", type: "invalid_request_error",
                 code: "method_not_allowed")
    }

    static func internalError(_ message: String) -> APIError {
        APIError(status: .internalServerError, message: message, type: "server_error", code: "internal_error")
    }

    // MARK: - The library's errors

    /// An error of the embedding queue: the library's own errors through `ErrorReport`, and the queue's limits.
    static func from(_ error: EmbeddingQueueError, retryAfter: Int) -> APIError {
        switch error {
        case .embedding(let inner):
            let report = ErrorReport(inner)
            return APIError(status: HTTPStatusMapping.status(for: report.category), message: report.line,
                            type: HTTPStatusMapping.type(for: report.category),
                            code: HTTPStatusMapping.code(for: report.category))
        case .tooLong:
            return APIError(status: .contentTooLarge, message: error.description + " (--max-audio-seconds)",
                            type: "invalid_request_error", code: "audio_too_long")
        case .full(let capacity): return queueFull(capacity: capacity, retryAfter: retryAfter)
        case .shuttingDown: return shuttingDown()
        case .cancelled:
            // Only a client that has gone away is cancelled: nobody reads this.
            return APIError(status: .init(code: 499, reasonPhrase: "Client Closed Request"), message: "cancelled",
                            type: "invalid_request_error", code: "cancelled")
        }
    }
}

/// ErrorReport's categories as HTTP statuses. Bad or missing input is the client's (4xx); only a failure of the
/// server itself (an I/O error, a cause from outside the library) is a 500.
public enum HTTPStatusMapping {
    public static func status(for category: ErrorCategory) -> HTTPResponse.Status {
        switch category {
        case .dataError, .noInput, .usage: return .badRequest
        case .cannotCreate, .ioError, .other: return .internalServerError
        }
    }

    static func type(for category: ErrorCategory) -> String {
        status(for: category) == .badRequest ? "invalid_request_error" : "server_error"
    }

    static func code(for category: ErrorCategory) -> String {
        switch category {
        case .dataError, .noInput: return "invalid_audio"
        case .usage: return "invalid_request"
        case .cannotCreate, .ioError: return "io_error"
        case .other: return "internal_error"
        }
    }
}
