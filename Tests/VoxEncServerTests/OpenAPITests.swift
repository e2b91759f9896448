// docs/openapi.yaml against the server: the same routes, every status and error code the server gives documented,
// the documented bodies' required fields present in real responses.

import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging
import NIOCore
import NIOEmbedded
import Testing
@_spi(Engine) import VoxEnc
import VoxEncModel
import VoxEncAudio
@testable import VoxEncServer
import VoxEncTestSupport
import Yams

@Suite("docs/openapi.yaml against the running server", .serialized)
struct OpenAPITests {
    static func document() throws -> [String: Any] {
        let text = try String(contentsOf: Fixtures.repositoryRoot.appendingPathComponent("docs/openapi.yaml"), encoding: .utf8)
        return try #require(try Yams.load(yaml: text) as? [String: Any])
    }

    static func operations(_ document: [String: Any]) -> [String: [String: Any]] {
        var result: [String: [String: Any]] = [:]
        for (path, item) in document["paths"] as? [String: Any] ?? [:] {
            for (method, operation) in item as? [String: Any] ?? [:] {
                result["\(method.uppercased()) \(path)"] = operation as? [String: Any]
            }
        }
        return result
    }

    static func statuses(_ operation: [String: Any]?) -> Set<Int> {
        Set((operation?["responses"] as? [String: Any] ?? [:]).keys.compactMap { Int($0) })
    }

    static func schema(_ document: [String: Any], _ name: String) -> [String: Any] {
        ((document["components"] as? [String: Any])?["schemas"] as? [String: Any])?[name] as? [String: Any] ?? [:]
    }

    @Test("the documented operations are exactly the server's routes")
    func sameRoutes() async throws {
        let document = try Self.document()
        let server = try await RunningServer.start()
        let routes = Set(server.server.makeRouter().routes.map { "\($0.method.rawValue) \($0.path)" })
        #expect(Set(Self.operations(document).keys) == routes)
        let table = Set(EmbeddingServer.routeMethods.flatMap { path, methods in methods.map { "\($0) \(path)" } })
        #expect(table == routes, "EmbeddingServer.routeMethods (405 and Allow) against the router")
        // Another method on a documented path: 405 with Allow, as an error body.
        let trace = try await HTTP.request(.DELETE, "\(server.base)/v1/models")
        #expect(trace.status == 405 && trace.errorCode == "method_not_allowed" && trace.isErrorBody, "\(trace.text)")
        #expect(trace.headers["Allow"].first == "GET")
        try await server.stop()
    }

    @Test("every status and error code the server gives is documented for its operation; bodies have the documented fields")
    func statusesAndBodies() async throws {
        let document = try Self.document()
        let operations = Self.operations(document)
        let embedding = operations["POST /v1/audio/embeddings"]
        let errorCodes = Set((((Self.schema(document, "Error")["properties"] as? [String: Any])?["error"] as? [String: Any])?["properties"]
            as? [String: Any])?["code"].flatMap { ($0 as? [String: Any])?["enum"] as? [String] } ?? [])
        #expect(!errorCodes.isEmpty)
        let parameters = Set((embedding?["parameters"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String })
        #expect(parameters == ["format", "encoder_only", "channel", "filename", "dtype", "pool"])

        let server = try await RunningServer.start {
            $0.apiKey = "k"
            $0.maxAudioSeconds = 10
            $0.maxUploadBytes = 600_000
            $0.maxQueue = 2
        }
        let auth = [("Authorization", "Bearer k")]
        let speech = try Audio.bytes("speech-16k.wav")
        var observed: [(String, Reply)] = []
        func embed(_ body: [UInt8], _ type: String, _ query: String = "", _ headers: [(String, String)] = auth) async throws {
            observed.append(("POST /v1/audio/embeddings", try await HTTP.request(
                .POST, "\(server.base)/v1/audio/embeddings?\(query)", headers: headers + [("Content-Type", type)], body: body)))
        }
        try await embed(speech, "audio/wav")
        try await embed(speech, "audio/wav", "format=npy")
        try await embed(speech, "audio/wav", "format=safetensors")
        try await embed(speech, "audio/wav", "", [])
        try await embed(Array("garbage".utf8), "audio/wav")
        try await embed(speech, "audio/wav", "format=xml")
        try await embed(speech, "text/plain")
        try await embed(try Audio.wav(seconds: 12), "audio/wav")
        try await embed(try Audio.bytes("speech-44k-stereo-37s.flac"), "audio/flac")
        let held = (try server.queue.reserve(), try server.queue.reserve())
        try await embed(speech, "audio/wav")
        observed.append(("GET /readyz", try await HTTP.request(.GET, "\(server.base)/readyz")))
        held.0.release()
        held.1.release()
        for path in ["/healthz", "/readyz", "/metrics"] {
            observed.append(("GET \(path)", try await HTTP.request(.GET, "\(server.base)\(path)")))
        }
        observed.append(("GET /v1/models", try await HTTP.request(.GET, "\(server.base)/v1/models", headers: auth)))
        observed.append(("GET /v1/models", try await HTTP.request(.GET, "\(server.base)/v1/models")))

        var seen: Set<String> = []
        for (operation, reply) in observed {
            #expect(Self.statuses(operations[operation]).contains(reply.status), "\(operation) → \(reply.status) undocumented")
            seen.insert("\(operation) \(reply.status)")
            if reply.status >= 400 {
                #expect(reply.isErrorBody, "\(operation) \(reply.status): \(reply.text)")
                #expect(errorCodes.contains(reply.errorCode ?? ""), "\(reply.errorCode ?? "none") undocumented")
            }
        }
        // Every documented status of the embeddings route was produced above (500: by internalError below).
        for status in Self.statuses(embedding) where status != 500 {
            #expect(seen.contains("POST /v1/audio/embeddings \(status)"), "documented \(status) never seen")
        }
        // The documented required fields are in the real bodies.
        let json = try #require(observed[0].1.json)
        let required = Set(Self.schema(document, "Embedding")["required"] as? [String] ?? [])
        #expect(required == Set(json.keys), "Embedding schema vs a real body")
        let model = try #require(((observed.first { $0.0 == "GET /v1/models" && $0.1.status == 200 })?.1.json?["data"] as? [[String: Any]])?.first)
        for key in Self.schema(document, "Model")["required"] as? [String] ?? [] {
            #expect(model[key] != nil, "Model.\(key)")
        }
        // An undocumented route is a JSON 404.
        let missing = try await HTTP.request(.GET, "\(server.base)/v1/embeddings")
        #expect(missing.status == 404 && errorCodes.contains(missing.errorCode ?? ""))
        try await server.stop()
    }

    @Test("a failure no route foresaw is a documented JSON 500 (internal_error), and every operation documents 500")
    func internalError() async throws {
        let document = try Self.document()
        for (name, operation) in Self.operations(document) {
            #expect(Self.statuses(operation).contains(500), "\(name) does not document 500")
        }
        let errorCodes = (((Self.schema(document, "Error")["properties"] as? [String: Any])?["error"] as? [String: Any])?["properties"]
            as? [String: Any])?["code"].flatMap { ($0 as? [String: Any])?["enum"] as? [String] } ?? []
        #expect(errorCodes.contains("internal_error") && errorCodes.contains("io_error"))
        // Provoke it: the server's own middleware (the one makeRouter installs around every route) around a handler
        // that throws an error nothing maps, as a bug would.
        struct Unforeseen: Error {}
        let middleware = ErrorAndMetricsMiddleware(metrics: ServerMetrics(), logger: Logger(label: "voxenc.test"))
        let context = ServeContext(source: .init(channel: EmbeddedChannel(), logger: Logger(label: "voxenc.test")))
        let request = Request(head: .init(method: .post, scheme: "http", authority: "localhost", path: "/v1/audio/embeddings"),
                              body: .init(buffer: ByteBuffer()))
        let response = try await middleware.handle(request, context: context) { _, _ in throw Unforeseen() }
        #expect(response.status.code == 500)
        #expect(response.headers[.contentType]?.hasPrefix("application/json") == true, "\(response.headers)")
        // And an I/O failure of the library maps to 500 too (the only ErrorReport categories that do).
        #expect(HTTPStatusMapping.status(for: .ioError).code == 500 && HTTPStatusMapping.code(for: .ioError) == "io_error")
    }
}
