// The real `voxenc serve` process: options, signals, exit status.

import AsyncHTTPClient
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing
@_spi(Engine) import VoxEnc
import VoxEncModel
import VoxEncAudio
import VoxEncTestSupport

/// `voxenc serve … --port 0`, its stderr in a file; the port read off its "listening on" line.
final class ServeProcess {
    let process = Process()
    let directory = TemporaryDirectory()
    var port = 0
    var stderrPath: String { directory.file("stderr.txt") }
    var stderr: String { (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "" }
    var base: String { "http://127.0.0.1:\(port)" }

    init(_ arguments: [String]) throws {
        process.executableURL = CLI.executable
        process.arguments = ["serve", "--port", "0"] + arguments
        _ = FileManager.default.createFile(atPath: stderrPath, contents: nil)
        process.standardError = FileHandle(forWritingAtPath: stderrPath)
        process.standardOutput = FileHandle.nullDevice
        try process.run()
    }

    /// Waits for "voxenc: listening on http://127.0.0.1:PORT"; false if the process ended first.
    func waitUntilListening(seconds: Double = 60) async -> Bool {
        let found = await eventually(seconds) {
            if let match = stderr.firstMatch(of: /listening on http:\/\/127\.0\.0\.1:([0-9]+)/) {
                port = Int(match.1) ?? 0
                return true
            }
            return !process.isRunning
        }
        return found && port > 0
    }

    func waitForExit(seconds: Double = 60) async -> Int32? {
        guard await eventually(seconds, { !process.isRunning }) else { return nil }
        return process.terminationStatus
    }

    deinit {
        if process.isRunning { process.terminate() }
    }
}

@Suite("voxenc serve: the real process", .serialized)
struct ServeProcessTests {
    @Test("SIGTERM under load: 8 requests admitted and mid-upload; each finishes after the listener closed, with the right bytes, then exit 0 and the port closes")
    func sigtermUnderLoad() async throws {
        let server = try ServeProcess(["--model", Models.voxtral, "--threads", "1", "--max-queue", "16"])
        #expect(await server.waitUntilListening(), "\(server.stderr)")
        let audio = try Audio.wav(seconds: 300, seed: 5)  // 10 chunks each
        let expected = try CLI.embed(audio, name: "long.wav")
        let clients = 8, pid = server.process.processIdentifier
        // Each client sends its request but the last bytes of the body: the server admits it (its place is reserved
        // when the upload starts) and cannot finish it, so all 8 are in flight at SIGTERM whatever the machine's
        // speed — no race between admitting the eighth and finishing the first.
        let head = Array(("POST /v1/audio/embeddings?format=npy HTTP/1.1\r\nHost: x\r\nContent-Type: audio/wav\r\n"
            + "Content-Length: \(audio.count)\r\nConnection: close\r\n\r\n").utf8)
        let heldBack = 4096
        var connections: [RawClient] = []
        defer { for connection in connections { connection.close() } }
        for _ in 0..<clients {
            let connection = try RawClient(port: server.port)
            try connection.send(head + audio.dropLast(heldBack))
            connections.append(connection)
        }
        // The server's own report: every request admitted (`voxenc_queue_depth` counts reading, queued and encoding).
        var admitted = false
        let deadline = ContinuousClock.now + .seconds(120)
        while !admitted && ContinuousClock.now < deadline {
            let metrics = try await HTTP.request(.GET, "\(server.base)/metrics")
            admitted = metrics.text.contains("voxenc_queue_depth \(clients).0") || metrics.text.contains("voxenc_queue_depth \(clients)\n")
            if !admitted { try await Task.sleep(nanoseconds: 5_000_000) }
        }
        #expect(admitted, "the \(clients) requests were admitted before SIGTERM")
        kill(pid, SIGTERM)
        // Shutdown has begun when the listener refuses new connections; the admitted requests are still open.
        let listenerClosed = await eventually(60) { (try? RawClient(port: server.port)).map { $0.close(); return false } ?? true }
        #expect(listenerClosed, "the listener closed after SIGTERM")
        for connection in connections { try connection.send(Array(audio.suffix(heldBack))) }
        for (index, connection) in connections.enumerated() {
            let bytes = await Task.detached { connection.receiveAll() }.value
            let reply = bytes.flatMap(RawResponse.init)
            #expect(reply?.status == 200, "request \(index): \(String(decoding: (bytes ?? []).prefix(400), as: UTF8.self))")
            #expect(Bytes(reply?.body) == Bytes(expected), "request \(index)")
        }
        let status = await server.waitForExit()
        #expect(status == 0, "\(server.stderr)")
        #expect(server.process.terminationReason == .exit)
        #expect(server.stderr.contains("voxenc: stopped"))
        await #expect(throws: (any Error).self) {
            _ = try await HTTP.request(.GET, "\(server.base)/healthz")
        }
    }

    @Test("SIGINT when idle: exit 0")
    func sigintIdle() async throws {
        let server = try ServeProcess(["--model", Models.whisper])
        #expect(await server.waitUntilListening(), "\(server.stderr)")
        #expect(try await HTTP.request(.GET, "\(server.base)/healthz").status == 200)
        kill(server.process.processIdentifier, SIGINT)
        #expect(await server.waitForExit() == 0, "\(server.stderr)")
    }

    @Test("--max-upload-mb, --max-audio-seconds and --api-key-file reach the server")
    func options() async throws {
        let keyFile = TemporaryDirectory()
        try "k-123\n".write(toFile: keyFile.file("key"), atomically: true, encoding: .utf8)
        let server = try ServeProcess(["--model", Models.voxtral, "--max-upload-mb", "1", "--max-audio-seconds", "20",
                                       "--api-key-file", keyFile.file("key")])
        #expect(await server.waitUntilListening(), "\(server.stderr)")
        let auth = [("Authorization", "Bearer k-123")]
        let big = try Audio.wav(seconds: 40)  // 1.28 MB
        let upload = try await HTTP.embed(server.base, audio: big, name: "a.wav", headers: auth)
        #expect(upload.status == 413 && upload.errorCode == "payload_too_large", "\(upload.text)")
        let long = try await HTTP.embed(server.base, audio: try Audio.wav(seconds: 25), name: "a.wav", headers: auth)
        #expect(long.status == 413 && long.errorCode == "audio_too_long", "\(long.text)")
        let unauthorised = try await HTTP.embed(server.base, audio: try Audio.bytes("speech-16k.wav"), name: "a.wav")
        #expect(unauthorised.status == 401)
        let ok = try await HTTP.embed(server.base, audio: try Audio.bytes("speech-16k.wav"), name: "a.wav", headers: auth)
        #expect(ok.status == 200)
        server.process.terminate()
        #expect(await server.waitForExit() == 0)
    }

    @Test("bad options and a missing model or key file exit with the CLI's codes and one line")
    func badOptions() async throws {
        for (arguments, code, text) in [
            (["--port", "70000"], Int32(64), "--port"),
            (["--max-queue", "0"], 64, "--max-queue"),
            (["--model", "/no/such/model"], 66, "/no/such/model"),
            (["--model", Models.voxtral, "--api-key-file", "/no/such/key"], 66, "/no/such/key"),
        ] {
            let server = try ServeProcess(arguments)
            let status = await server.waitForExit()
            #expect(status == code, "\(arguments): \(server.stderr)")
            #expect(server.stderr.hasPrefix("voxenc: error: ") && server.stderr.contains(text), "\(server.stderr)")
        }
    }
}
