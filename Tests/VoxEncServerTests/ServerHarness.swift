// What the server tests share: a server started in this process on a free loopback port (the real Hummingbird
// server, the real queue and model), AsyncHTTPClient requests, the `voxenc embed` outputs to compare with, and raw
// sockets for clients that go away.

import AsyncHTTPClient
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Logging
import NIOCore
import NIOHTTP1
import ServiceLifecycle
@_spi(Engine) import VoxEnc
import VoxEncModel
import VoxEncAudio
import VoxEncServer
import VoxEncTestSupport

enum Models {
    static let voxtral = Fixtures.path("encoder/voxtral-tiny-hf")
    static let whisper = Fixtures.path("encoder/whisper-tiny-hf")
}

enum Audio {
    /// The committed recordings: 5.8 s 16 kHz WAV, 22.05 kHz stereo FLAC, 37 s 44.1 kHz stereo FLAC (2 chunks).
    static let names = ["speech-16k.wav", "speech-22k-stereo.flac", "speech-44k-stereo-37s.flac"]
    static func path(_ name: String) -> String { Fixtures.path("audio/\(name)") }
    static func bytes(_ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: URL(fileURLWithPath: path(name))))
    }
    static func contentType(_ name: String) -> String { name.hasSuffix(".wav") ? "audio/wav" : "audio/flac" }

    /// `seconds` of a deterministic speech-like 16 kHz mono signal as a 16-bit WAV, in memory.
    static func wav(seconds: Int, seed: Int = 1) throws -> [UInt8] {
        let directory = TemporaryDirectory()
        let path = directory.file("long.wav")
        try TestAudioWriter.write(Signals.speechLike(count: seconds * 16000, seed: seed), channels: 1, sampleRate: 16000,
                                  format: .wavPCM16, to: path)
        return Array(try Data(contentsOf: URL(fileURLWithPath: path)))
    }
}

/// A server on 127.0.0.1 and a free port, in this process; `stop()` shuts it down gracefully.
final class RunningServer: @unchecked Sendable {
    let server: EmbeddingServer
    let port: Int
    private let group: ServiceGroup
    private let task: Task<Void, any Error>

    var base: String { "http://127.0.0.1:\(port)" }
    var queue: EmbeddingQueue { server.queue }

    private init(server: EmbeddingServer, port: Int, group: ServiceGroup, task: Task<Void, any Error>) {
        (self.server, self.port, self.group, self.task) = (server, port, group, task)
    }

    static func start(model: String = Models.voxtral, threads: Int = 2,
                      configure: (inout ServerConfiguration) -> Void = { _ in }) async throws -> RunningServer {
        let embedder = try Embedder(modelDirectory: model, configuration: EmbedderConfiguration(threadCount: threads))
        var configuration = ServerConfiguration(modelName: URL(fileURLWithPath: model).lastPathComponent)
        configuration.port = 0
        configure(&configuration)
        var logger = Logger(label: "voxenc.serve.test")
        logger.logLevel = .warning
        let server = EmbeddingServer(embedder: embedder, configuration: configuration, logger: logger)
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let group = server.serviceGroup(signals: false) { port in continuation.yield(port) }
        let task = Task { try await group.run() }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else { throw HarnessError("the server did not start") }
        return RunningServer(server: server, port: port, group: group, task: task)
    }

    func stop() async throws {
        await group.triggerGracefulShutdown()
        try await task.value
    }
}

struct HarnessError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// One response, read whole.
struct Reply {
    var status: Int
    var headers: HTTPHeaders
    var body: [UInt8]

    var text: String { String(decoding: body, as: UTF8.self) }
    var json: [String: Any]? { (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] }
    /// `{"error": {"code": …}}`'s code.
    var errorCode: String? { (json?["error"] as? [String: Any])?["code"] as? String }
    /// The error body has the documented shape: message, type and code, all strings.
    var isErrorBody: Bool {
        guard let error = json?["error"] as? [String: Any] else { return false }
        return error["message"] is String && error["type"] is String && error["code"] is String
    }
}

enum HTTP {
    /// One client for every test, allowing more connections to one host than the default 8 (16 clients at once).
    static let client: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool = .init(idleTimeout: .seconds(30), concurrentHTTP1ConnectionsPerHostSoftLimit: 64)
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }()

    static func request(_ method: HTTPMethod = .GET, _ url: String, headers: [(String, String)] = [],
                        body: [UInt8]? = nil, streamed: Bool = false) async throws -> Reply {
        var request = HTTPClientRequest(url: url)
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body {
            if streamed {  // chunked transfer encoding, no Content-Length
                let pieces = stride(from: 0, to: body.count, by: 65536).map {
                    ByteBuffer(bytes: body[$0..<min(body.count, $0 + 65536)])
                }
                let stream = AsyncStream<ByteBuffer> { continuation in
                    for piece in pieces { continuation.yield(piece) }
                    continuation.finish()
                }
                request.body = .stream(stream, length: .unknown)
            } else {
                request.body = .bytes(ByteBuffer(bytes: body))
            }
        }
        let response = try await client.execute(request, timeout: .seconds(300))
        let collected = try await response.body.collect(upTo: 1 << 30)
        return Reply(status: Int(response.status.code), headers: response.headers,
                     body: Array(collected.readableBytesView))
    }

    /// POSTs audio to /v1/audio/embeddings: raw with `contentType`, or as the `file` part of a multipart body.
    static func embed(_ base: String, audio: [UInt8], name: String, query: String = "format=npy", multipart: Bool = false,
                      contentType: String = "audio/wav", headers: [(String, String)] = []) async throws -> Reply {
        let url = "\(base)/v1/audio/embeddings?\(query)"
        if multipart {
            let (body, type) = Multipart.body(file: audio, filename: name)
            return try await request(.POST, url, headers: headers + [("Content-Type", type)], body: body)
        }
        return try await request(.POST, url, headers: headers + [("Content-Type", contentType)], body: audio)
    }
}

enum Multipart {
    /// A multipart/form-data body with a `model` field and the `file` part, as OpenAI-style clients send it.
    static func body(file: [UInt8], filename: String, fieldName: String = "file") -> ([UInt8], String) {
        let boundary = "voxenc-test-boundary-7d1f3a"
        var body = Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"model\"\r\n\r\nvoxtral\r\n".utf8)
        body += Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(fieldName)\"; filename=\"\(filename)\"\r\nContent-Type: application/octet-stream\r\n\r\n".utf8)
        body += file
        body += Array("\r\n--\(boundary)--\r\n".utf8)
        return (body, "multipart/form-data; boundary=\(boundary)")
    }
}

/// `voxenc embed` as a user runs it (the binary built beside the tests), in a directory of its own holding the input
/// under `name`, so that the output's "input" metadata is `name`, as the server's is for an upload named so.
enum CLI {
    static var executable: URL { Bundle.main.bundleURL.appendingPathComponent("voxenc") }

    static func embed(_ audio: [UInt8], name: String, model: String = Models.voxtral, format: String = "npy",
                      extra: [String] = []) throws -> [UInt8] {
        let directory = TemporaryDirectory()
        try Data(audio).write(to: URL(fileURLWithPath: directory.file(name)))
        let output = "out.\(format)"
        let process = Process()
        process.executableURL = executable
        process.currentDirectoryURL = URL(fileURLWithPath: directory.path)
        process.arguments = ["embed", name, "--model", model, "-o", output, "--format", format, "--quiet"] + extra
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let message = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw HarnessError("voxenc embed failed: \(String(decoding: message, as: UTF8.self))")
        }
        return Array(try Data(contentsOf: URL(fileURLWithPath: directory.file(output))))
    }
}

/// A TCP client with no HTTP library: sends what it is told, then closes (a client that goes away).
final class RawClient: Sendable {
    let fd: Int32

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else { throw HarnessError("connect: errno \(errno)") }
    }

    func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard sent > 0 else { throw HarnessError("send: errno \(errno)") }
            offset += sent
        }
    }

    func close() { _ = Glibc.close(fd) }

    /// Everything the server sends until it closes the connection; nil when nothing arrives for `seconds` (a
    /// failure the caller records, not a hang).
    func receiveAll(seconds: Int = 300) -> [UInt8]? {
        var timeout = timeval(tv_sec: seconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count == 0 { return received }
            if count < 0 { return nil }
            received += buffer[0..<count]
        }
    }
}

/// An HTTP/1.1 response read off a socket: the status and the body (Content-Length or chunked).
struct RawResponse {
    var status: Int
    var body: [UInt8]

    init?(_ bytes: [UInt8]) {
        let separator: [UInt8] = [13, 10, 13, 10]
        guard let end = (0..<max(0, bytes.count - 3)).first(where: { Array(bytes[$0..<($0 + 4)]) == separator })
        else { return nil }
        let head = String(decoding: bytes[0..<end], as: UTF8.self).split(separator: "\r\n")
        guard let statusLine = head.first, statusLine.split(separator: " ").count >= 2,
              let status = Int(statusLine.split(separator: " ")[1]) else { return nil }
        self.status = status
        let headers = head.dropFirst().map { $0.lowercased() }
        var rest = Array(bytes[(end + 4)...])
        if headers.contains(where: { $0.hasPrefix("transfer-encoding:") && $0.contains("chunked") }) {
            var body: [UInt8] = []
            while let lineEnd = (0..<max(0, rest.count - 1)).first(where: { rest[$0] == 13 && rest[$0 + 1] == 10 }),
                  let size = Int(String(decoding: rest[0..<lineEnd], as: UTF8.self).split(separator: ";")[0], radix: 16),
                  size > 0, rest.count >= lineEnd + 2 + size {
                body += rest[(lineEnd + 2)..<(lineEnd + 2 + size)]
                rest = Array(rest[min(rest.count, lineEnd + 4 + size)...])
            }
            self.body = body
        } else {
            self.body = rest
        }
    }
}

/// Polls `condition` every 5 ms for up to `seconds`.
func eventually(_ seconds: Double = 20, _ condition: () -> Bool) async -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if condition() { return true }
        try? await Task.sleep(nanoseconds: 5_000_000)
    }
    return condition()
}

/// The float32 data of a .npy file (its header skipped).
func npyData(_ bytes: [UInt8]) -> [UInt8] {
    let headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
    return Array(bytes[(10 + headerLength)...])
}

/// Bytes compared as a value: Swift Testing diffs two unequal arrays element by element (minutes for a response of
/// hundreds of kB); this prints a length and a checksum instead.
struct Bytes: Equatable, CustomStringConvertible {
    let value: [UInt8]
    init(_ value: [UInt8]?) { self.value = value ?? [] }
    var description: String {
        var hash: UInt64 = 0xcbf29ce484222325  // FNV-1a
        for byte in value { hash = (hash ^ UInt64(byte)) &* 0x100000001b3 }
        return "\(value.count) bytes, FNV-1a \(String(hash, radix: 16))"
    }
}
