// Around every route: errors as JSON (never Hummingbird's empty 500), requests counted by status, latency timed;
// on /v1: the bearer key.

import Foundation
import Hummingbird
import Logging
import NIOCore

struct ErrorAndMetricsMiddleware: RouterMiddleware {
    typealias Context = ServeContext
    let metrics: ServerMetrics
    let logger: Logger

    func handle(_ request: Request, context: ServeContext,
                next: (Request, ServeContext) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        let route = Self.route(request.uri.path)
        var response: Response
        do {
            response = try await next(request, context)
        } catch let error as APIError {
            response = try error.response(from: request, context: context)
        } catch let error as ClientGone {
            logger.debug("client went away", metadata: ["path": "\(request.uri.path)", "reason": "\(error.reason)"])
            response = try APIError.from(.cancelled, retryAfter: 1).response(from: request, context: context)
        } catch let error as any HTTPResponseError {
            response = try Self.apiError(error, request: request).response(from: request, context: context)
        } catch {
            // A failed connection (the client went away) or a bug: logged, answered with a JSON 500 if anyone listens.
            logger.warning("request failed", metadata: ["path": "\(request.uri.path)", "error": "\(error)"])
            response = try APIError.internalError("internal error: \(error)").response(from: request, context: context)
        }
        let elapsed = ContinuousClock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        metrics.record(route: route, status: response.status.code, seconds: seconds)
        if response.status.code >= 500 || response.status.code == 413 {
            logger.info("\(request.method) \(request.uri.path) → \(response.status.code)")
        }
        return response
    }

    /// Hummingbird's own errors (no route, wrong method, body too large) as the API's JSON errors.
    static func apiError(_ error: any HTTPResponseError, request: Request) -> APIError {
        switch error.status {
        case .notFound:
            // A known path with another method: 405 and the methods it takes.
            if let methods = EmbeddingServer.routeMethods[request.uri.path] {
                var error = APIError.methodNotAllowed(request.method.rawValue, request.uri.path)
                error.headers["Allow"] = methods.joined(separator: ", ")
                return error
            }
            return .notFound(request.uri.path)
        case .methodNotAllowed: return .methodNotAllowed(request.method.rawValue, request.uri.path)
        case .contentTooLarge:
            return APIError(status: .contentTooLarge, message: "upload too large", type: "invalid_request_error",
                            code: "payload_too_large")
        default:
            let status = error.status
            return APIError(status: status, message: status.reasonPhrase,
                            type: status.code < 500 ? "invalid_request_error" : "server_error",
                            code: status.reasonPhrase.lowercased().replacingOccurrences(of: " ", with: "_"))
        }
    }

    /// The label for metrics: the known routes, everything else "other" (bounded label values).
    static func route(_ path: String) -> String {
        switch path {
        case "/v1/audio/embeddings", "/v1/models", "/healthz", "/readyz", "/metrics": return path
        default: return "other"
        }
    }
}

/// `Authorization: Bearer <key>` on every route of its group, when a key is set; compared in constant time.
struct BearerAuthMiddleware: RouterMiddleware {
    typealias Context = ServeContext
    let key: String?

    func handle(_ request: Request, context: ServeContext,
                next: (Request, ServeContext) async throws -> Response) async throws -> Response {
        guard let key else { return try await next(request, context) }
        guard let header = request.headers[.authorization], header.count > 7,
              header.prefix(7).lowercased() == "bearer ",
              Self.constantTimeEqual(Array(header.dropFirst(7).utf8), Array(key.utf8)) else {
            throw APIError.unauthorized()
        }
        return try await next(request, context)
    }

    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var difference = UInt8(a.count == b.count ? 0 : 1)
        for i in 0..<max(a.count, b.count) {
            difference |= (i < a.count ? a[i] : 0) ^ (i < b.count ? b[i] : 0)
        }
        return difference == 0
    }
}

/// Notices a client that closes its connection while its request is being read or embedded: a channel handler at
/// the front of the pipeline that sees the input close (the server allows half-closed connections, so a client's
/// FIN arrives as an event, not as the channel closing) or the channel go inactive.
final class DisconnectWatcher: ChannelInboundHandler, RemovableChannelHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    private let lock = NSLock()
    private var disconnected = false
    private var action: (@Sendable () -> Void)?
    let name = "voxenc.disconnect.\(UInt64.random(in: 0...UInt64.max))"

    func install(on channel: any Channel) async {
        let this = self
        try? await channel.eventLoop.submit {
            try channel.pipeline.syncOperations.addHandler(this, name: this.name, position: .first)
        }.get()
        if !channel.isActive { markDisconnected() }
    }

    func uninstall(from channel: any Channel) {
        let name = self.name
        channel.eventLoop.execute {
            _ = channel.pipeline.syncOperations.removeHandler(name: name)
        }
        lock.withLock { action = nil }
    }

    /// Runs `action` once when the client goes away (at once if it has already).
    func onDisconnect(_ action: @escaping @Sendable () -> Void) {
        let now: Bool = lock.withLock {
            if disconnected { return true }
            self.action = action
            return false
        }
        if now { action() }
    }

    private func markDisconnected() {
        let action: (@Sendable () -> Void)? = lock.withLock {
            disconnected = true
            defer { self.action = nil }
            return self.action
        }
        action?()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        context.fireChannelRead(data)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, case .inputClosed = event { markDisconnected() }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        markDisconnected()
        context.fireChannelInactive()
    }
}
