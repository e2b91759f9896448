// GET /v1/realtime: one WebSocket connection, one live stream at a time through the served model, which must be
// causal (Voxtral Realtime). Shaped like vLLM's realtime API (vllm/entrypoints/speech_to_text/realtime/protocol.py),
// with embeddings where vLLM sends text:
//   client → server  {"type": "session.update", "session": {"step_ms": 480, "encoder_only": false}}   (before audio)
//                    {"type": "input_audio_buffer.append", "audio": "<base64 PCM16 LE, 16 kHz mono>"}
//                    {"type": "input_audio_buffer.commit", "final": true}   (final false: run the pending tokens now)
//   server → client  {"type": "session.created", "id", "created", "model", "width", "frame_rate_hz", …}
//                    {"type": "session.updated", "session": {…}}
//                    {"type": "embedding.delta", "index": first row, "rows", "width", "embedding": "<base64 f32 LE>"}
//                    {"type": "embedding.done", "rows", "leading_pad_rows", "audio_rows", "width", "frame_rate_hz"}
//                    {"type": "error", "error": "<message (hint)>", "code": "…"}
// After embedding.done the next append starts a new stream. Bad input gets an error event and the stream is left as
// it was; the connection stays open. The encoder runs off the event loop on the server's StreamBatcher: streams due
// at the same time share a run (each weight read once for all), each run on the server's thread budget. Frames are
// read ahead of the events being handled (up to `readAhead` messages), so a ping is answered while the encoder runs,
// and a keepalive client is not dropped by a busy server. docs/live.md.

import AsyncAlgorithms
import Foundation
import HummingbirdWebSocket
import Logging
import NIOCore
import VoxEnc

struct RealtimeEndpoint {
    let server: EmbeddingServer
    let outbound: WebSocketOutboundWriter
    let logger: Logger
    /// Messages read before their turn: reading is what answers pings (swift-websocket replies while its inbound
    /// stream is iterated), so it must not wait for the encoder. Bounded: a client sending faster than the encoder
    /// runs is held back by TCP, and the memory it can take is this many messages.
    static let readAhead = 4

    /// The stream's settings (session.update) and the stream itself, created on the first append.
    final class State: @unchecked Sendable {  // touched by one connection's handler, and by a batcher run in turn
        var stepMilliseconds = 480
        var encoderOnly = false
        var stream: StreamingSession?
    }

    /// An error event: a message (with its hint) and a code.
    struct Refusal: Error {
        var message: String
        var code: String

        init(_ message: String, code: String) {
            self.message = message
            self.code = code
        }

        init(_ error: any Error) {
            let report = ErrorReport(error)
            message = report.line
            code = HTTPStatusMapping.code(for: report.category)
        }
    }

    func run(_ inbound: WebSocketInboundStream) async throws {
        let embedder = server.queue.embedder
        guard server.streams.admit(limit: server.configuration.maxLiveStreams) else {
            try await send(["type": "error", "error": "too many live streams (\(server.configuration.maxLiveStreams)); try again later",
                            "code": "server_busy"])
            try await outbound.close(.policyViolation, reason: "too many live streams")
            return
        }
        defer { server.streams.leave() }
        let state = State()
        try await send([
            "type": "session.created", "id": "sess_" + UUID().uuidString.lowercased(),
            "created": Int(Date().timeIntervalSince1970), "model": server.configuration.modelName,
            "width": embedder.output.width, "frame_rate_hz": embedder.output.rowsPerSecond,
            "session": ["step_ms": state.stepMilliseconds, "encoder_only": false],
        ])
        // A message may carry up to the upload limit (base64 of PCM16: 4 bytes per 3).
        for try await message in inbound.messages(maxSize: server.configuration.maxUploadBytes)
            .buffer(policy: .bounded(Self.readAhead)) {
            do {
                guard case .text(let text) = message else {
                    throw Refusal("binary messages are not events: send JSON text (input_audio_buffer.append carries "
                                  + "base64 audio)", code: "invalid_event")
                }
                try await handle(text, state: state)
            } catch let refusal as Refusal {
                try await send(["type": "error", "error": refusal.message, "code": refusal.code])
            }
        }
    }

    private func handle(_ text: String, state: State) async throws {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any],
              let type = object["type"] as? String else {
            throw Refusal("not a JSON event with a \"type\"", code: "invalid_event")
        }
        switch type {
        case "session.update":
            guard state.stream == nil else {
                throw Refusal("session.update after audio: settings apply from the next stream (after commit)",
                              code: "invalid_state")
            }
            let session = object["session"] as? [String: Any] ?? [:]
            if let step = session["step_ms"] {
                guard let ms = step as? Int, ms > 0, ms % 80 == 0 else {
                    throw Refusal("session.step_ms must be a positive multiple of 80", code: "invalid_request")
                }
                state.stepMilliseconds = ms
            }
            if let encoderOnly = session["encoder_only"] {
                guard let flag = encoderOnly as? Bool else {
                    throw Refusal("session.encoder_only must be true or false", code: "invalid_request")
                }
                state.encoderOnly = flag
            }
            let output = server.queue.embedder.output(state.encoderOnly ? .encoder : .adapter)
            try await send(["type": "session.updated", "width": output.width, "frame_rate_hz": output.rowsPerSecond,
                            "session": ["step_ms": state.stepMilliseconds, "encoder_only": state.encoderOnly]])
        case "input_audio_buffer.append":
            guard let audio = object["audio"] as? String, let bytes = Data(base64Encoded: audio) else {
                throw Refusal("input_audio_buffer.append needs \"audio\": base64 PCM16 LE, 16 kHz mono", code: "invalid_audio")
            }
            guard bytes.count % 2 == 0 else {
                throw Refusal("the audio is \(bytes.count) bytes: PCM16 takes 2 bytes per sample", code: "invalid_audio")
            }
            let samples = bytes.withUnsafeBytes { raw in
                (0..<(raw.count / 2)).map { Float(Int16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * $0, as: Int16.self))) / 32768 }
            }
            let stream = try open(state, firstAppend: samples.count)
            let limit = server.configuration.maxAudioSeconds
            if Double(stream.audioSampleCount + samples.count) / 16_000 > limit {  // refused whole: the stream is unchanged
                throw Refusal(String(format: "the stream would reach %.1f s of audio, over the server's limit of %.0f s "
                                     + "(hint: commit this stream and open another)",
                                     Double(stream.audioSampleCount + samples.count) / 16_000, limit),
                              code: "audio_too_long")
            }
            do { try samples.withUnsafeBufferPointer { try stream.appendAudio($0) } } catch { throw Refusal(error) }
            await server.streams.encode(stream, .wholeSteps)
            try await delta(stream)
        case "input_audio_buffer.commit":
            guard let stream = state.stream else {
                throw Refusal("commit with no audio appended", code: "invalid_state")
            }
            if object["final"] as? Bool ?? true {
                do { try stream.endAudio() } catch { throw Refusal(error) }
                // The audio's last rows first (one block's run), then the right pad's (several blocks).
                await server.streams.encode(stream, .audio)
                try await delta(stream)
                await server.streams.encode(stream, .everything)
                try await delta(stream)
                state.stream = nil
                try await send(["type": "embedding.done", "rows": stream.rowsPulled, "leading_pad_rows": stream.leadingPadRows,
                                "audio_rows": stream.audioRows, "width": stream.width,
                                "frame_rate_hz": stream.embedder.output(stream.kind).rowsPerSecond])
            } else {
                await server.streams.encode(stream, .everything)
                try await delta(stream)
            }
        default:
            throw Refusal("unknown event type \"\(type)\" (session.update, input_audio_buffer.append, "
                          + "input_audio_buffer.commit)", code: "unknown_event")
        }
    }

    /// The stream, made on the first append (of `firstAppend` samples, the audio since the stream began) with the
    /// session's settings, its steps placed between the running streams' (StreamBatcher.offset).
    private func open(_ state: State, firstAppend: Int) throws -> StreamingSession {
        if let stream = state.stream { return stream }
        do {
            let embedder = server.queue.embedder
            let offset = server.streams.offset(for: embedder, stepMilliseconds: state.stepMilliseconds,
                                               audioSeconds: Double(firstAppend) / 16_000)
            let stream = try StreamingSession(embedder: embedder, stepMilliseconds: state.stepMilliseconds,
                                              kind: state.encoderOnly ? .encoder : .adapter, offsetTokens: offset)
            state.stream = stream
            return stream
        } catch { throw Refusal(error) }
    }

    /// The rows the stream has ready, as one embedding.delta (nothing when none).
    private func delta(_ stream: StreamingSession) async throws {
        let first = stream.rowsPulled
        let rows = stream.pull()
        guard !rows.isEmpty else { return }
        let data = rows.withUnsafeBufferPointer { buffer in
            Data(buffer: UnsafeBufferPointer(start: buffer.baseAddress, count: buffer.count))  // little-endian x86-64
        }
        try await send(["type": "embedding.delta", "index": first, "rows": rows.count / stream.width,
                        "width": stream.width, "embedding": data.base64EncodedString()])
    }

    private func send(_ event: [String: Any]) async throws {
        let data = try JSONSerialization.data(withJSONObject: event, options: [.sortedKeys, .withoutEscapingSlashes])
        try await outbound.write(.text(String(decoding: data, as: UTF8.self)))
    }
}
