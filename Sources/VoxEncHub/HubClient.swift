// HTTP for `voxenc pull`, on AsyncHTTPClient: GET with an optional Range, the Hub's redirects followed by hand (the
// X-Repo-Commit / X-Linked-* headers are on the Hub's own 302, and the token is not sent to the file host a redirect
// leads to, as huggingface_hub does), the status turned into a PullError, and retries with exponential backoff for
// what may pass (no connection, a cut, a time-out, 429, 5xx; Retry-After honoured).

import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import VoxEnc

/// A response whose head is read and whose body is not yet.
struct HubResponse {
    var status: Int
    /// The final response's headers.
    var headers: HTTPHeaders
    /// The first value of each header along the redirect chain, the Hub's own response first (lower-cased names).
    var chainHeaders: [String: String]
    var body: HTTPClientResponse.Body
    /// The URL that answered.
    var finalURL: String

    func header(_ name: String) -> String? { chainHeaders[name.lowercased()] }
}

/// What a request is for, to name the right thing in an error.
enum HubRequestSubject: Sendable {
    case listing
    case file(String)
}

/// A failure worth another attempt.
struct RetryableFailure: Error {
    var reason: String
    /// Seconds the server asked to wait (Retry-After).
    var retryAfter: Double? = nil
    /// A body that ended early (the last attempt's kind decides the final error).
    var truncated = false
}

public final class HubClient: Sendable {
    let repository: HubRepository
    let http: HTTPClient
    /// Attempts per request, the first included.
    let attempts: Int
    /// The first wait; doubled each retry, at most 30 s.
    let backoff: Double
    let userAgent = "voxenc/\(VoxEncVersion.string)"

    public init(repository: HubRepository, attempts: Int = 5, backoff: Double = 1) {
        self.repository = repository
        self.attempts = max(1, attempts)
        self.backoff = backoff
        var configuration = HTTPClient.Configuration(redirectConfiguration: .disallow,
                                                     timeout: .init(connect: .seconds(15), read: .seconds(60)))
        configuration.decompression = .disabled
        // A refused connection is one failed attempt (our retries and backoff), not 15 s of the pool retrying it.
        configuration.connectionPool.retryConnectionEstablishment = false
        http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    public func shutdown() async {
        try? await http.shutdown()
    }

    /// Runs `body` until it succeeds, a PullError is thrown, or the attempts are spent.
    func withRetries<T>(_ url: String, _ body: () async throws -> T) async throws(PullError) -> T {
        var last = RetryableFailure(reason: "no attempt")
        for attempt in 1...attempts {
            do {
                return try await body()
            } catch let error as PullError {
                throw error
            } catch let failure as RetryableFailure {
                last = failure
            } catch {
                last = RetryableFailure(reason: Self.describe(error))
            }
            if attempt < attempts {
                let wait = min(30, last.retryAfter ?? backoff * Double(1 << (attempt - 1)))
                try? await Task.sleep(nanoseconds: UInt64(wait * 1e9))
            }
        }
        if last.truncated { throw .protocolViolation(url: url, reason: "\(last.reason), on each of \(attempts) attempts") }
        throw .network(url: url, reason: last.reason, attempts: attempts)
    }

    /// GET `url` (Range `range` when given), following redirects; throws a PullError for a final 4xx and a
    /// RetryableFailure for 429, 5xx and transport errors. The caller reads the body.
    func get(_ url: String, range: Range<Int>? = nil, subject: HubRequestSubject) async throws -> HubResponse {
        var current = url
        var chain: [String: String] = [:]
        let origin = URL(string: url).map(Self.origin)
        for _ in 0..<10 {
            var request = HTTPClientRequest(url: current)
            request.method = .GET
            request.headers.add(name: "User-Agent", value: userAgent)
            request.headers.add(name: "Accept-Encoding", value: "identity")
            if let range { request.headers.add(name: "Range", value: "bytes=\(range.lowerBound)-\(range.upperBound - 1)") }
            // The token goes to the endpoint's own origin only, never to the file host it redirects to.
            if let token = repository.token, let here = URL(string: current), Self.origin(here) == origin {
                request.headers.add(name: "Authorization", value: "Bearer \(token)")
            }
            let response: HTTPClientResponse
            do {
                response = try await http.execute(request, timeout: .hours(6))
            } catch {
                throw RetryableFailure(reason: Self.describe(error))
            }
            for (name, value) in response.headers where chain[name.lowercased()] == nil {
                chain[name.lowercased()] = value
            }
            let status = Int(response.status.code)
            if [301, 302, 303, 307, 308].contains(status) {
                guard let location = response.headers.first(name: "Location"),
                      let next = URL(string: location, relativeTo: URL(string: current))?.absoluteURL else {
                    throw PullError.protocolViolation(url: current, reason: "redirect \(status) without a usable Location")
                }
                _ = try? await response.body.collect(upTo: 1 << 20)
                current = next.absoluteString
                continue
            }
            if (200..<300).contains(status) {
                return HubResponse(status: status, headers: response.headers, chainHeaders: chain, body: response.body,
                                   finalURL: current)
            }
            let errorCode = response.headers.first(name: "X-Error-Code") ?? ""
            _ = try? await response.body.collect(upTo: 1 << 20)
            throw try failure(status: status, errorCode: errorCode, url: current, subject: subject,
                              retryAfter: response.headers.first(name: "Retry-After").flatMap(Double.init))
        }
        throw PullError.protocolViolation(url: url, reason: "more than 10 redirects")
    }

    /// A final non-2xx status as an error: PullError for what retrying cannot fix, RetryableFailure otherwise.
    private func failure(status: Int, errorCode: String, url: String, subject: HubRequestSubject,
                         retryAfter: Double?) throws -> any Error {
        let repo = repository.id
        switch status {
        case 401, 403:
            if errorCode == "GatedRepo" { return PullError.gated(repository: repo, url: url, page: repository.pageURL) }
            return status == 401 ? PullError.unauthorized(repository: repo, url: url)
                                 : PullError.forbidden(repository: repo, url: url)
        case 404:
            switch (errorCode, subject) {
            case ("RevisionNotFound", _): return PullError.revisionNotFound(repository: repo, revision: repository.revision, url: url)
            case ("RepoNotFound", _), (_, .listing): return PullError.repositoryNotFound(repository: repo, url: url)
            case (_, .file(let file)): return PullError.fileNotFound(repository: repo, file: file, url: url)
            }
        case 429, 500...599:
            return RetryableFailure(reason: "HTTP \(status)", retryAfter: retryAfter)
        case 416:
            return PullError.protocolViolation(url: url, reason: "416 Range Not Satisfiable for a range inside the file")
        default:
            return PullError.protocolViolation(url: url, reason: "unexpected HTTP status \(status)")
        }
    }

    static func origin(_ url: URL) -> String {
        "\(url.scheme?.lowercased() ?? "")://\(url.host?.lowercased() ?? ""):\(url.port ?? (url.scheme == "https" ? 443 : 80))"
    }

    static func describe(_ error: any Error) -> String {
        if let error = error as? HTTPClientError {
            switch error {
            case .connectTimeout: return "connection timed out"
            case .readTimeout: return "no data for 60 s (read timed out)"
            case .remoteConnectionClosed: return "the server closed the connection"
            default: return "\(error)"
            }
        }
        let text = String(describing: error)
        if text.contains("connectionRefused") || text.contains("Connection refused") { return "connection refused" }
        if text.contains("CERTIFICATE_VERIFY_FAILED") {
            return "TLS: the server's certificate is not trusted here (CERTIFICATE_VERIFY_FAILED; the CA bundle is /etc/ssl/certs/ca-certificates.crt)"
        }
        return text
    }
}

/// Reads a response body into `sink` (in arrival order) and checks its length: exactly `expected` bytes.
extension HubResponse {
    func read(expected: Int, into sink: (ByteBuffer) throws -> Void) async throws {
        if let length = headers.first(name: "Content-Length"), Int(length) != expected {
            throw PullError.protocolViolation(url: finalURL, reason: "Content-Length \(length), expected \(expected) bytes")
        }
        var received = 0
        do {
            for try await buffer in body {
                received += buffer.readableBytes
                if received > expected {
                    throw PullError.protocolViolation(url: finalURL, reason: "more than the \(expected) bytes asked for")
                }
                try sink(buffer)
            }
        } catch let error as PullError {
            throw error   // from the checks above or the sink (a write that failed): final
        } catch {
            throw RetryableFailure(reason: "the response ended after \(received) of \(expected) bytes (\(HubClient.describe(error)))",
                                   truncated: true)
        }
        guard received == expected else {
            throw RetryableFailure(reason: "the response ended after \(received) of \(expected) bytes", truncated: true)
        }
    }

    /// The whole body of a response whose length is known (a header read): exactly `expected` bytes.
    func data(expected: Int) async throws -> Data {
        var data = Data(capacity: expected)
        try await read(expected: expected) { buffer in data.append(contentsOf: buffer.readableBytesView) }
        return data
    }
}

extension HubResponse {
    /// The whole body when its length is not known in advance (the listing), at most `limit` bytes.
    func readAll(limit: Int) async throws -> Data {
        var data = Data()
        do {
            for try await buffer in body {
                data.append(contentsOf: buffer.readableBytesView)
                if data.count > limit {
                    throw PullError.protocolViolation(url: finalURL, reason: "the response is larger than \(limit) bytes")
                }
            }
        } catch let error as PullError {
            throw error
        } catch {
            throw RetryableFailure(reason: "the response ended early (\(HubClient.describe(error)))", truncated: true)
        }
        if let length = headers.first(name: "Content-Length"), Int(length) != data.count {
            throw RetryableFailure(reason: "the response ended after \(data.count) of \(length) bytes", truncated: true)
        }
        return data
    }

    /// `bytes FIRST-LAST/TOTAL` → (FIRST..<LAST+1, TOTAL).
    func contentRange() -> (range: Range<Int>, total: Int)? {
        guard let value = headers.first(name: "Content-Range"), value.hasPrefix("bytes ") else { return nil }
        let parts = value.dropFirst(6).split(separator: "/")
        guard parts.count == 2, let total = Int(parts[1]) else { return nil }
        let bounds = parts[0].split(separator: "-")
        guard bounds.count == 2, let first = Int(bounds[0]), let last = Int(bounds[1]), first <= last else { return nil }
        return (first..<(last + 1), total)
    }
}
