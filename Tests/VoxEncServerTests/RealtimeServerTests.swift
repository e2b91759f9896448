// The WebSocket at /v1/realtime against a real server on loopback and a real WebSocket client (HummingbirdWSClient):
// the speech fixture appended in random pieces, rows out as embedding.delta events, equal bit for bit to the Swift
// stream (and so to `voxenc embed`); error events for bad input; the API key; a non-causal model refused.

import Foundation
import HummingbirdWSClient
import Logging
import Testing
@_spi(Engine) import VoxEnc
import VoxEncTestSupport

@Suite("Realtime WebSocket", .serialized, .timeLimit(.minutes(2)))  // a lost close fails the test, never hangs CI
struct RealtimeServerTests {
    static let model = Fixtures.path("realtime/realtime-tiny-hf")

    /// The events a client got, in order, after sending `events` (each a JSON object) one by one.
    static func exchange(port: Int, headers: [String: String] = [:], _ events: [[String: Any]]) async throws -> [[String: Any]] {
        var configuration = WebSocketClientConfiguration()
        configuration.maxFrameSize = 1 << 24
        for (name, value) in headers { configuration.additionalHeaders[.init(name)!] = value }
        // Each event as text, with what to read after it: nothing (an append), one answer, or up to embedding.done.
        let plan: [(text: String, read: Int)] = try events.map { event in
            let type = event["type"] as? String
            let final = type == "input_audio_buffer.commit" && (event["final"] as? Bool ?? true)
            let read = final ? 2 : (type != "input_audio_buffer.append" || event["expect"] != nil ? 1 : 0)
            var sent = event
            sent["expect"] = nil
            return (String(decoding: try JSONSerialization.data(withJSONObject: sent), as: UTF8.self), read)
        }
        let received = Received()
        var logger = Logger(label: "voxenc.realtime.test")
        logger.logLevel = .warning
        try await WebSocketClient.connect(url: "ws://127.0.0.1:\(port)/v1/realtime", configuration: configuration,
                                          logger: logger) { inbound, outbound, _ in
            var messages = inbound.messages(maxSize: 1 << 24).makeAsyncIterator()
            func next() async throws -> [String: Any]? {
                guard let message = try await messages.next(), case .text(let text) = message else { return nil }
                let event = try JSONSerialization.jsonObject(with: Data(text.utf8)) as! [String: Any]
                received.append(event)
                return event
            }
            guard let first = try await next(), first["type"] as? String == "session.created" else { return }
            for (text, read) in plan {
                try await outbound.write(.text(text))
                // Appends get deltas only sometimes (read later, in order); the final commit ends with
                // embedding.done (or an error); other events answer once.
                if read == 2 {
                    while let got = try await next(), got["type"] as? String != "embedding.done" {
                        if got["type"] as? String == "error" { break }
                    }
                } else if read == 1 {
                    while let got = try await next(), got["type"] as? String == "embedding.delta" {}
                }
            }
            try await outbound.close(.normalClosure, reason: nil)
        }
        return received.events
    }

    final class Received: @unchecked Sendable {
        private let lock = NSLock()
        private var list: [[String: Any]] = []
        func append(_ event: [String: Any]) { lock.withLock { list.append(event) } }
        var events: [[String: Any]] { lock.withLock { list } }
    }

    static func pcm16(_ samples: ArraySlice<Int16>) -> String {
        var data = Data()
        for s in samples { withUnsafeBytes(of: s.littleEndian) { data.append(contentsOf: $0) } }
        return data.base64EncodedString()
    }

    /// The speech fixture's 16-bit samples (its WAV data chunk).
    static func speech() throws -> [Int16] {
        let bytes = try Data(contentsOf: URL(fileURLWithPath: Fixtures.path("audio/speech-16k.wav")))
        let data = bytes.range(of: Data("data".utf8))!
        let start = data.upperBound + 4
        return stride(from: start, to: bytes.count - 1, by: 2).map { Int16(littleEndian: bytes[$0...$0 + 1].withUnsafeBytes { $0.loadUnaligned(as: Int16.self) }) }
    }

    static func rows(_ events: [[String: Any]]) -> (values: [Float], indexes: [Int]) {
        var values: [Float] = [], indexes: [Int] = []
        for event in events where event["type"] as? String == "embedding.delta" {
            indexes.append(event["index"] as! Int)
            let data = Data(base64Encoded: event["embedding"] as! String)!
            values += data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        }
        return (values, indexes)
    }

    @Test("random pieces over the WebSocket = the Swift stream = voxenc embed, bit for bit; deltas in order")
    func streamedEqualsOffline() async throws {
        let server = try await RunningServer.start(model: Self.model)
        let samples = try Self.speech()
        var generator = SeededGenerator(seed: 11)
        var events: [[String: Any]] = [["type": "session.update", "session": ["step_ms": 160]]]
        var position = 0
        while position < samples.count {
            let size = min(samples.count - position, Int(generator.next() % 4000) + 1)
            events.append(["type": "input_audio_buffer.append", "audio": Self.pcm16(samples[position..<(position + size)])])
            position += size
        }
        events.append(["type": "input_audio_buffer.commit", "final": true])
        let got = try await Self.exchange(port: server.port, events)
        try await server.stop()

        let embedder = try Embedder(modelDirectory: Self.model, configuration: .init(threadCount: 2))
        let offline = try embedder.embed(fileAt: Fixtures.path("audio/speech-16k.wav")).values
        let (values, indexes) = Self.rows(got)
        #expect(values == offline, "\(Discrepancy(values, offline))")
        var expected = 0
        for (i, index) in indexes.enumerated() {
            #expect(index == expected, "delta \(i) starts at row \(index), expected \(expected)")
            expected = index + (got.filter { $0["type"] as? String == "embedding.delta" }[i]["rows"] as! Int)
        }
        let done = got.last { $0["type"] as? String == "embedding.done" }
        #expect(done?["rows"] as? Int == 122 && done?["leading_pad_rows"] as? Int == 32 && done?["audio_rows"] as? Int == 73)
        // After the final commit the audio's last rows come first, in a delta of their own ending at row 32 + 73
        // (a 160 ms step ends at even rows only), then the right pad's.
        let deltas = got.filter { $0["type"] as? String == "embedding.delta" }
        let ends = deltas.map { ($0["index"] as! Int) + ($0["rows"] as! Int) }
        #expect(ends.contains(105) && ends.last == 122, "delta ends \(ends)")
        #expect(got.contains { $0["type"] as? String == "session.updated" })
    }

    @Test("a ping is answered while the encoder runs: its pong comes before the rows of the append sent just before it")
    func pingDuringEncode() async throws {
        let server = try await RunningServer.start(model: Self.model)
        let speech = try Self.speech()
        let audio = Array((0..<(60 * 16_000 / speech.count + 1)).flatMap { _ in speech }.prefix(60 * 16_000))  // 60 s
        let append = try JSONSerialization.data(withJSONObject: ["type": "input_audio_buffer.append",
                                                                 "audio": Self.pcm16(audio[...])])
        let seen: [String] = try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                do {
                    let socket = try RawWebSocket(port: server.port, path: "/v1/realtime")
                    var seen: [String] = []
                    func type(_ frame: RawWebSocket.Frame) -> String {
                        if frame.opcode == RawWebSocket.pong { return "pong " + frame.text }
                        let event = (try? JSONSerialization.jsonObject(with: Data(frame.payload))) as? [String: Any]
                        return event?["type"] as? String ?? "opcode \(frame.opcode)"
                    }
                    let first = type(try socket.next())
                    guard first == "session.created" else { throw RawWebSocket.Failure("first event \(first)") }
                    // The append and the ping in one write: the server holds both before the encoder starts.
                    try socket.send(RawWebSocket.frame(RawWebSocket.text, Array(append))
                                    + RawWebSocket.frame(RawWebSocket.ping, Array("keepalive".utf8)))
                    while !(seen.contains("pong keepalive") && seen.contains("embedding.delta")) {
                        seen.append(type(try socket.next()))
                        if seen.last == "error" { break }
                    }
                    try socket.send(RawWebSocket.frame(RawWebSocket.close, [0x03, 0xE8]))  // 1000: normal closure
                    continuation.resume(returning: seen)
                } catch {
                    continuation.resume(throwing: error)
                }
            }
        }
        try await server.stop()
        #expect(seen.first == "pong keepalive", "frames after the append and the ping: \(seen)")
    }

    @Test("two clients at once (other audio): each gets its own stream's bits; /metrics counts the live runs")
    func concurrentClients() async throws {
        let server = try await RunningServer.start(model: Self.model)
        let speech = try Self.speech()
        let inputs: [[Int16]] = [speech, speech.reversed().map { $0 / 2 }]
        func events(_ samples: [Int16], seed: UInt64) -> [[String: Any]] {
            var generator = SeededGenerator(seed: seed)
            var events: [[String: Any]] = [], position = 0
            while position < samples.count {
                let size = min(samples.count - position, Int(generator.next() % 3000) + 1)
                events.append(["type": "input_audio_buffer.append", "audio": Self.pcm16(samples[position..<(position + size)])])
                position += size
            }
            return events + [["type": "input_audio_buffer.commit", "final": true]]
        }
        let port = server.port
        async let first = Self.exchange(port: port, events(inputs[0], seed: 21))
        async let second = Self.exchange(port: port, events(inputs[1], seed: 22))
        let got = try await [first, second]
        let metrics = try await HTTP.request(.GET, "\(server.base)/metrics").text
        try await server.stop()

        let embedder = try Embedder(modelDirectory: Self.model, configuration: .init(threadCount: 2))
        for (i, samples) in inputs.enumerated() {
            let offline = try embedder.embed(samples: samples.map { Float($0) / 32768 }, sampleRate: 16_000).values
            let values = Self.rows(got[i]).values
            #expect(values == offline, "client \(i): \(Discrepancy(values, offline))")
        }
        func counter(_ name: String) -> Double? {
            metrics.split(separator: "\n").first { $0.hasPrefix(name + " ") }.flatMap { Double($0.split(separator: " ")[1]) }
        }
        let runs = try #require(counter("voxenc_live_encoder_runs_total"), "\(metrics)")
        let streams = try #require(counter("voxenc_live_encoder_run_streams_total"))
        #expect(runs > 0 && streams >= runs && streams <= 2 * runs, "runs \(runs), streams served \(streams)")
    }

    @Test("bad events get error events and the stream goes on; a non-causal model and a wrong key are refused")
    func errors() async throws {
        let server = try await RunningServer.start(model: Self.model) { $0.apiKey = "sesame" }
        let samples = try Self.speech()
        let got = try await Self.exchange(port: server.port, headers: ["Authorization": "Bearer sesame"], [
            ["type": "bogus"],
            ["type": "input_audio_buffer.append", "audio": "!!!", "expect": true],
            ["type": "input_audio_buffer.append", "audio": Data([1, 2, 3]).base64EncodedString(), "expect": true],
            ["type": "input_audio_buffer.commit"],
            ["type": "session.update", "session": ["step_ms": 100]],
            ["type": "input_audio_buffer.append", "audio": Self.pcm16(samples[0..<16000])],  // 43 kB: over 16 kB frames
            ["type": "session.update", "session": ["step_ms": 480]],
            ["type": "input_audio_buffer.commit", "final": true],
        ])
        let codes = got.filter { $0["type"] as? String == "error" }.compactMap { $0["code"] as? String }
        #expect(codes == ["unknown_event", "invalid_audio", "invalid_audio", "invalid_state", "invalid_request", "invalid_state"],
                "\(codes)")
        #expect(got.contains { $0["type"] as? String == "embedding.done" }, "the stream finished after the errors")
        // Without the key: no upgrade (the server answers the handshake with an HTTP error).
        await #expect(throws: (any Error).self) { _ = try await Self.exchange(port: server.port, []) }
        try await server.stop()

        // A model that cannot stream: refused before the upgrade, as HTTP 400 with its code; a WebSocket client's
        // handshake fails.
        let offline = try await RunningServer.start(model: Fixtures.path("encoder/voxtral-tiny-hf"))
        let refused = try await HTTP.request(.GET, "\(offline.base)/v1/realtime")
        #expect(refused.status == 400 && refused.errorCode == "model_not_streaming" && refused.isErrorBody, "\(refused.text)")
        var configuration = WebSocketClientConfiguration()
        configuration.maxFrameSize = 1 << 20
        await #expect(throws: (any Error).self) {
            try await WebSocketClient.connect(url: "ws://127.0.0.1:\(offline.port)/v1/realtime", configuration: configuration,
                                              logger: Logger(label: "t")) { _, _, _ in }
        }
        try await offline.stop()
    }
}
