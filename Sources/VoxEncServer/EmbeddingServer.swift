// `voxenc serve`: an HTTP service over one loaded model (docs/serve.md, docs/openapi.yaml).
//
//   POST /v1/audio/embeddings   audio → embeddings (json | npy | safetensors), raw body or multipart `file`
//   GET  /v1/models             the served model
//   GET  /healthz               live;  GET /readyz: model loaded and the queue has room
//   GET  /metrics               Prometheus
//   GET  /v1/realtime           WebSocket: live audio in, rows out as they become final (causal models; RealtimeEndpoint)
//
// Hummingbird 2 on SwiftNIO serves HTTP; requests wait in `EmbeddingQueue`, whose one worker thread packs the chunks
// of concurrent requests into shared encoder batches. swift-service-lifecycle runs the server and the queue: on
// SIGTERM/SIGINT the server stops accepting, finishes the requests in flight, then the queue stops; exit 0.

import Foundation
import Hummingbird
import HummingbirdWebSocket
import Logging
import NIOCore
import ServiceLifecycle
import VoxEnc

/// The settings of `voxenc serve`.
public struct ServerConfiguration: Sendable {
    public var host = "127.0.0.1"
    /// 0 picks a free port (tests); the port bound is reported to `onRunning`.
    public var port = 8080
    /// Uploads larger than this are refused with 413 (read up to it, never further).
    public var maxUploadBytes = 100 << 20
    /// Audio longer than this is refused with 413 (decoding stops there).
    public var maxAudioSeconds: Double = 3600
    /// Requests admitted at once (reading their upload, waiting, or being embedded); more get 503 + Retry-After.
    public var maxQueue = 64
    /// When set, /v1/* requests need `Authorization: Bearer <key>`.
    public var apiKey: String?
    /// The model's name in responses and /v1/models (default: the model directory's last component).
    public var modelName: String
    /// Seconds a 503 asks the client to wait.
    public var retryAfterSeconds = 1
    /// Live WebSocket streams at once (each holds its key/value rings: docs/live.md); more get an error event.
    public var maxLiveStreams = 4

    public init(modelName: String) { self.modelName = modelName }
}

/// The request context: Hummingbird's, plus the connection (to notice a client that goes away) and the WebSocket
/// handler an upgrade hands over.
public struct ServeContext: RequestContext, WebSocketRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let channel: any Channel
    public let webSocket: WebSocketHandlerReference<ServeContext>

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
        webSocket = .init()
    }
}

public final class EmbeddingServer: Sendable {
    public let queue: EmbeddingQueue
    public let configuration: ServerConfiguration
    let metrics = ServerMetrics()
    let logger: Logger
    /// The live streams of /v1/realtime: their places (maxLiveStreams) and their shared encoder runs.
    let streams = StreamBatcher()

    public init(embedder: Embedder, configuration: ServerConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
        queue = EmbeddingQueue(embedder: embedder, capacity: configuration.maxQueue,
                               maximumAudioSeconds: configuration.maxAudioSeconds)
        if let seconds = streams.prepare(embedder) {
            logger.info("live streams: one stream's step runs in \(String(format: "%.3f", seconds)) s; live streams take turns")
        } else if embedder.isCausal {
            logger.info("live streams share runs: this GEMM route does not keep a row's bits when its block moves")
        }
    }

    /// Runs until SIGTERM or SIGINT (with `signals`), or until the task is cancelled; `onRunning` gets the port.
    /// Graceful: the listener closes, requests in flight finish, then the queue's worker stops.
    public func run(signals: Bool = true, onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        let group = serviceGroup(signals: signals, onRunning: onRunning)
        try await group.run()
    }

    /// The server and the queue as services, the queue stopped last (a group shuts services down in reverse order).
    public func serviceGroup(signals: Bool, onRunning: @escaping @Sendable (Int) async -> Void) -> ServiceGroup {
        ServiceGroup(configuration: .init(
            services: [.init(service: QueueService(queue: queue)), .init(service: application(onRunning: onRunning))],
            gracefulShutdownSignals: signals ? [.sigterm, .sigint] : [],
            logger: logger))
    }

    func application(onRunning: @escaping @Sendable (Int) async -> Void) -> some ApplicationProtocol {
        Application(
            router: makeRouter(),
            // A frame may carry a whole append event (base64 audio), up to the upload limit.
            server: .http1WebSocketUpgrade(webSocketRouter: makeWebSocketRouter(), configuration: .init(
                ws: .init(maxFrameSize: min(configuration.maxUploadBytes, Int(Int32.max))))),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port),
                                 serverName: "voxenc/\(VoxEncVersion.string)"),
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? 0) },
            logger: logger)
    }

    /// The methods of each path (a request with another method gets 405 and `Allow`); checked against the router.
    static let routeMethods: [String: [String]] = [
        "/v1/audio/embeddings": ["POST"], "/v1/models": ["GET"], "/healthz": ["GET"], "/readyz": ["GET"],
        "/metrics": ["GET"], "/v1/realtime": ["GET"],
    ]

    /// Every route (`routes` lists them: docs/openapi.yaml is checked against it).
    func makeRouter() -> Router<ServeContext> {
        let router = Router(context: ServeContext.self)
        router.middlewares.add(ErrorAndMetricsMiddleware(metrics: metrics, logger: logger))
        router.get("/healthz") { _, _ in Self.json(["status": "ok"]) }
        router.get("/readyz") { [queue] _, _ in
            guard queue.hasRoom else {
                throw APIError(status: .serviceUnavailable, message: "not ready: the queue is full",
                               type: "server_error", code: "queue_full",
                               headers: ["Retry-After": String(self.configuration.retryAfterSeconds)])
            }
            return Self.json(["status": "ready"])
        }
        router.get("/metrics") { [metrics, queue, streams] _, _ in
            var headers = HTTPFields()
            headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
            let text = metrics.scrape(queue.currentStatistics, streams: streams.statistics)
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
        }
        let v1 = router.group("v1").add(middleware: BearerAuthMiddleware(key: configuration.apiKey))
        v1.get("models") { _, _ in self.models() }
        v1.post("audio/embeddings") { request, context in try await self.embed(request, context: context) }
        v1.get("realtime") { _, _ -> Response in  // reached only without a WebSocket upgrade
            let embedder = self.queue.embedder
            guard embedder.isCausal else {  // refused before any upgrade (makeWebSocketRouter)
                let error = StreamError.notCausal(model: self.configuration.modelName, family: embedder.familyName)
                throw APIError(status: .badRequest, message: ErrorReport(VoxEncError.stream(error)).line,
                               type: "invalid_request_error", code: "model_not_streaming")
            }
            throw APIError(status: .upgradeRequired, message: "/v1/realtime is a WebSocket: connect with an Upgrade: websocket request",
                           type: "invalid_request_error", code: "upgrade_required", headers: ["Upgrade": "websocket"])
        }
        return router
    }

    /// The WebSocket upgrades: /v1/realtime, behind the same API key, when the served model is causal. A request this
    /// router does not upgrade (a wrong key, another path, a model that cannot stream) goes on to the HTTP router,
    /// which answers it (401, 404, 400 `model_not_streaming`, 426).
    func makeWebSocketRouter() -> Router<ServeContext> {
        let router = Router(context: ServeContext.self)
        let causal = queue.embedder.isCausal
        router.group("v1").add(middleware: BearerAuthMiddleware(key: configuration.apiKey))
            .ws("realtime", shouldUpgrade: { _, _ in causal ? .upgrade([:]) : .dontUpgrade }) { inbound, outbound, context in
                try await RealtimeEndpoint(server: self, outbound: outbound, logger: context.logger).run(inbound)
            }
        return router
    }

    // MARK: - Routes

    func models() -> Response {
        let embedder = queue.embedder
        var model: [String: Any] = [
            "id": configuration.modelName, "object": "model", "owned_by": "voxenc",
            "kind": embedder.kind.rawValue, "dimension": embedder.dimension,
            "frame_rate_hz": embedder.frameRate, "precision": embedder.configuration.precision.rawValue,
            "layout": embedder.model.layout.rawValue, "digest_sha256": embedder.model.digest,
            "n_mels": embedder.model.encoder.melBinCount, "d_model": embedder.model.encoder.modelDimension,
        ]
        if embedder.hasAdapter {
            model["encoder_dimension"] = embedder.model.encoder.modelDimension
        }
        return Self.json(["object": "list", "data": [model]])
    }

    func embed(_ request: Request, context: ServeContext) async throws -> Response {
        let options = try EmbeddingOptions(query: request.uri.queryParameters)
        let encoding = try UploadEncoding(contentType: request.headers[.contentType])
        let limit = configuration.maxUploadBytes
        if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > limit {
            throw APIError.uploadTooLarge(limitBytes: limit)
        }
        let reservation: EmbeddingQueue.Reservation
        do { reservation = try queue.reserve() } catch {
            throw APIError.from(error, retryAfter: configuration.retryAfterSeconds)
        }
        defer { reservation.release() }  // a no-op once the queue has it

        // A client that goes away (mid-upload or mid-encode) cancels its request: its chunks are dropped.
        let watcher = DisconnectWatcher()
        await watcher.install(on: context.channel)
        defer { watcher.uninstall(from: context.channel) }

        var body = request.body
        let collected: ByteBuffer
        do { collected = try await body.collect(upTo: limit) } catch {
            if Self.isTooLarge(error) { throw APIError.uploadTooLarge(limitBytes: limit) }
            throw ClientGone(reason: "\(error)")  // the connection failed: nobody to answer
        }
        let upload: Upload
        switch encoding {
        case .raw: upload = Upload(bytes: Array(collected.readableBytesView), name: options.filename ?? Upload.defaultName)
        case .multipart(let boundary): upload = try Upload.multipart(collected, boundary: boundary)
        }

        let queue = self.queue
        let task = Task { () throws(EmbeddingQueueError) -> Embeddings in
            try await queue.embed(bytes: upload.bytes, name: upload.name, channels: options.channels,
                                  kind: options.encoderOnly ? .encoder : nil, reservation: reservation)
        }
        watcher.onDisconnect { task.cancel() }
        let embeddings: Embeddings
        switch await withTaskCancellationHandler(operation: { await task.result }, onCancel: { task.cancel() }) {
        case .success(let value): embeddings = value
        case .failure(let error):
            throw APIError.from(error as? EmbeddingQueueError ?? .cancelled, retryAfter: configuration.retryAfterSeconds)
        }
        return EmbeddingResponse(embeddings: embeddings, name: upload.name, modelName: configuration.modelName)
            .response(format: options.format, encoding: options.encoding)
    }

    static func isTooLarge(_ error: any Error) -> Bool {
        if error is NIOTooManyBytesError { return true }
        if let error = error as? any HTTPResponseError, error.status == .contentTooLarge { return true }
        return false
    }

    static func json(_ object: [String: Any]) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]))
            ?? Data("{}".utf8)
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: Array(data) + [0x0A])))
    }
}

/// Stops the queue after the server has stopped (services shut down in reverse order).
struct QueueService: Service {
    let queue: EmbeddingQueue

    func run() async throws {
        try? await gracefulShutdown()
        let queue = self.queue
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            Thread.detachNewThread {  // shutdown() blocks until the worker has stopped
                queue.shutdown()
                continuation.resume()
            }
        }
    }
}

/// The client closed its connection before its request was read: logged at debug level, counted as 499.
struct ClientGone: Error {
    var reason: String
}
