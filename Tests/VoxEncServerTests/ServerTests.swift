// `voxenc serve`'s routes over real loopback HTTP (Hummingbird server in this process, AsyncHTTPClient), each
// response compared with what `voxenc embed` writes for the same file.

import AsyncHTTPClient
import Foundation
import NIOHTTP1
import Testing
@_spi(Engine) import VoxEnc
import VoxEncModel
import VoxEncAudio
@testable import VoxEncServer
import VoxEncTestSupport

@Suite("voxenc serve: routes over loopback HTTP", .serialized)
struct ServerTests {
    // MARK: - Exact outputs

    @Test("npy (raw and multipart), safetensors and json bodies equal `voxenc embed` of the same file, bit for bit")
    func formatsEqualTheCLI() async throws {
        let server = try await RunningServer.start()
        for name in Audio.names {
            let audio = try Audio.bytes(name)
            let npy = try CLI.embed(audio, name: name)
            let safetensors = try CLI.embed(audio, name: name, format: "safetensors")

            let raw = try await HTTP.embed(server.base, audio: audio, name: name, contentType: Audio.contentType(name))
            #expect(raw.status == 200, "\(name): \(raw.text)")
            #expect(Bytes(raw.body) == Bytes(npy), "\(name): raw upload, format=npy")
            #expect(raw.headers["Content-Type"].first == "application/octet-stream")

            let multipart = try await HTTP.embed(server.base, audio: audio, name: name, multipart: true)
            #expect(Bytes(multipart.body) == Bytes(npy), "\(name): multipart upload, format=npy")

            // The metadata names the input: the multipart filename, or ?filename= for a raw upload.
            let st = try await HTTP.embed(server.base, audio: audio, name: name, query: "format=safetensors", multipart: true)
            #expect(st.status == 200)
            #expect(Bytes(st.body) == Bytes(safetensors), "\(name): multipart upload, format=safetensors")
            let stRaw = try await HTTP.embed(server.base, audio: audio, name: name,
                                             query: "format=safetensors&filename=\(name)", contentType: "application/octet-stream")
            #expect(Bytes(stRaw.body) == Bytes(safetensors), "\(name): raw upload, format=safetensors&filename=")

            let json = try await HTTP.embed(server.base, audio: audio, name: name, query: "")  // json is the default
            #expect(json.status == 200)
            #expect(json.headers["Content-Type"].first == "application/json")
            let object = try #require(json.json)
            let array = try NumpyArray(data: Data(npy))
            #expect(object["shape"] as? [Int] == array.shape)
            #expect(object["model"] as? String == "voxtral-tiny-hf")
            #expect(object["frame_rate_hz"] as? Double == 12.5)
            #expect(object["precision"] as? String == "f32")
            let base64 = try #require(object["embedding"] as? String)
            #expect(Bytes(Array(try #require(Data(base64Encoded: base64)))) == Bytes(npyData(npy)), "\(name): json embedding")
            let sidecar = try NumpyArray(data: Data(npy))
            #expect(raw.headers["X-Voxenc-Shape"].first == "\(sidecar.shape[0]),\(sidecar.shape[1])")
            #expect(Int(raw.headers["X-Voxenc-Valid-Frame-Count"].first ?? "") == object["valid_frame_count"] as? Int)
            // Read off the text: Foundation's JSONSerialization parses doubles to 15 digits on Linux.
            let duration = json.text.firstMatch(of: /"duration_s":([0-9.eE+-]+)/).map { Double(String($0.1)) }
            #expect(Double(raw.headers["X-Voxenc-Duration-S"].first ?? "") == duration)
        }
        try await server.stop()
    }

    @Test("encoder_only=true equals `voxenc embed --encoder-only`; a Whisper model equals the CLI too")
    func encoderOnlyAndWhisper() async throws {
        let name = "speech-44k-stereo-37s.flac"
        let audio = try Audio.bytes(name)
        let voxtral = try await RunningServer.start()
        let states = try await HTTP.embed(voxtral.base, audio: audio, name: name, query: "format=npy&encoder_only=true",
                                          contentType: "audio/flac")
        #expect(states.status == 200)
        #expect(states.headers["X-Voxenc-Kind"].first == "encoder")
        #expect(Bytes(states.body) == Bytes(try CLI.embed(audio, name: name, extra: ["--encoder-only"])))
        // The adapter's output still comes out right after an encoder-only batch.
        let adapter = try await HTTP.embed(voxtral.base, audio: audio, name: name, contentType: "audio/flac")
        #expect(Bytes(adapter.body) == Bytes(try CLI.embed(audio, name: name)))
        try await voxtral.stop()

        let whisper = try await RunningServer.start(model: Models.whisper)
        let reply = try await HTTP.embed(whisper.base, audio: audio, name: name, query: "format=npy", multipart: true)
        #expect(reply.status == 200)
        #expect(Bytes(reply.body) == Bytes(try CLI.embed(audio, name: name, model: Models.whisper)))
        try await whisper.stop()
    }

    @Test("dtype=float16|bfloat16 and pool=mean equal `voxenc embed --dtype --pool`; bfloat16 as npy is a 400")
    func dtypesAndPooling() async throws {
        let name = "speech-44k-stereo-37s.flac"
        let audio = try Audio.bytes(name)
        let server = try await RunningServer.start()
        for (query, format, extra) in [("format=npy&dtype=float16", "npy", ["--dtype", "float16"]),
                                       ("format=npy&pool=mean", "npy", ["--pool", "mean"]),
                                       ("format=npy&pool=mean&dtype=float16", "npy", ["--pool", "mean", "--dtype", "float16"])] {
            let reply = try await HTTP.embed(server.base, audio: audio, name: name, query: query, contentType: "audio/flac")
            #expect(reply.status == 200, "\(query)")
            #expect(Bytes(reply.body) == Bytes(try CLI.embed(audio, name: name, format: format, extra: extra)), "\(query)")
        }
        let brain = try await HTTP.embed(server.base, audio: audio, name: name, query: "format=safetensors&dtype=bfloat16",
                                         multipart: true)
        #expect(brain.headers["X-Voxenc-Dtype"].first == "bfloat16")
        #expect(Bytes(brain.body) == Bytes(try CLI.embed(audio, name: name, format: "safetensors",
                                                         extra: ["--dtype", "bfloat16"])))
        let refused = try await HTTP.embed(server.base, audio: audio, name: name, query: "format=npy&dtype=bfloat16",
                                           contentType: "audio/flac")
        #expect(refused.status == 400 && refused.text.contains("safetensors"))
        try await server.stop()
    }

    // MARK: - Concurrency and cross-request batching

    @Test("16 concurrent clients, every format (json, npy, safetensors): each response is the CLI's output bit for bit, and their chunks shared encoder batches")
    func sixteenConcurrentClients() async throws {
        let server = try await RunningServer.start()
        let formats = ["npy", "safetensors", "json"]
        var expected: [String: [UInt8]] = [:]  // "name format" → the CLI's file (json: the npy's float32 data)
        var audio: [String: [UInt8]] = [:]
        for name in Audio.names {
            audio[name] = try Audio.bytes(name)
            let npy = try CLI.embed(audio[name]!, name: name)
            expected["\(name) npy"] = npy
            expected["\(name) safetensors"] = try CLI.embed(audio[name]!, name: name, format: "safetensors")
            expected["\(name) json"] = npyData(npy)
        }
        // Line the requests up (the worker holds), so that they are all queued when it starts: batches must mix them.
        server.queue.pause()
        let replies = try await withThrowingTaskGroup(of: (String, Reply).self) { group in
            for client in 0..<16 {
                let name = Audio.names[client % Audio.names.count]
                let format = formats[(client / 3) % formats.count]  // with the name: all 9 pairs among the first 9 clients
                let bytes = audio[name]!
                group.addTask {
                    // The safetensors metadata names the input: a raw upload gives the name as ?filename=.
                    let query = "format=\(format)" + (format == "safetensors" && client % 2 == 1 ? "&filename=\(name)" : "")
                    return ("\(name) \(format)", try await HTTP.embed(server.base, audio: bytes, name: name, query: query,
                                                          multipart: client % 2 == 0, contentType: Audio.contentType(name)))
                }
            }
            #expect(await eventually { server.queue.currentStatistics.waiting == 16 })
            server.queue.resume()
            var replies: [(String, Reply)] = []
            for try await reply in group { replies.append(reply) }
            return replies
        }
        #expect(Set(replies.map { $0.0.split(separator: " ").last! }) == Set(formats.map { Substring($0) }))
        #expect(replies.count == 16)
        for (key, reply) in replies {
            #expect(reply.status == 200, "\(reply.text)")
            if key.hasSuffix(" json") {
                let base64 = reply.json?["embedding"] as? String ?? ""
                #expect(Bytes(Array(Data(base64Encoded: base64) ?? Data())) == Bytes(expected[key]), "\(key)")
            } else {
                #expect(Bytes(reply.body) == Bytes(expected[key]), "\(key)")
            }
        }
        let statistics = server.queue.currentStatistics
        #expect(statistics.completed == 16)
        #expect(statistics.sharedBatches >= 1, "\(statistics)")
        // 16 requests of 1, 1 and 2 chunks: 21 chunks; in batches of 2 with sharing, 11 batches (without, 16).
        #expect(statistics.chunks == 21)
        #expect(statistics.batches < 16, "\(statistics)")
        try await server.stop()
    }

    // MARK: - Errors

    @Test("bad uploads get 400/415 JSON errors naming the upload, never a 500; the server stays up")
    func badInput() async throws {
        let server = try await RunningServer.start()
        let garbage = Array("this is not audio at all, just text pretending".utf8)
        let cases: [(String, [UInt8], String, String, Int, String)] = [
            ("garbage", garbage, "audio/wav", "format=npy", 400, "invalid_audio"),
            ("empty", [], "audio/wav", "format=npy", 400, "invalid_audio"),
            ("text/plain", garbage, "text/plain", "format=npy", 415, "unsupported_media_type"),
            ("application/json", Array("{}".utf8), "application/json", "", 415, "unsupported_media_type"),
            ("truncated WAV header", Array(try Audio.bytes("speech-16k.wav").prefix(30)), "audio/wav", "", 400, "invalid_audio"),
            ("bad format", try Audio.bytes("speech-16k.wav"), "audio/wav", "format=mp4", 400, "invalid_format"),
            ("bad encoder_only", try Audio.bytes("speech-16k.wav"), "audio/wav", "encoder_only=maybe", 400, "invalid_request"),
            ("channel out of range", try Audio.bytes("speech-16k.wav"), "audio/wav", "channel=3", 400, "invalid_request"),
            ("multipart without boundary", garbage, "multipart/form-data", "", 400, "invalid_multipart"),
        ]
        for (label, body, type, query, status, code) in cases {
            let reply = try await HTTP.request(.POST, "\(server.base)/v1/audio/embeddings?\(query)",
                                               headers: [("Content-Type", type)], body: body)
            #expect(reply.status == status, "\(label): \(reply.text)")
            #expect(reply.errorCode == code, "\(label): \(reply.text)")
            #expect(reply.isErrorBody, "\(label)")
            #expect(reply.headers["Content-Type"].first == "application/json", "\(label)")
        }
        // The CLI's one-line message, naming the upload (the multipart filename).
        let (body, type) = Multipart.body(file: garbage, filename: "notes.wav")
        let named = try await HTTP.request(.POST, "\(server.base)/v1/audio/embeddings", headers: [("Content-Type", type)], body: body)
        #expect(named.status == 400)
        let message = (named.json?["error"] as? [String: Any])?["message"] as? String ?? ""
        #expect(message.hasPrefix("notes.wav: unreadable or corrupt audio"), "\(message)")
        let (noFile, noFileType) = Multipart.body(file: garbage, filename: "a.wav", fieldName: "audio")
        let missing = try await HTTP.request(.POST, "\(server.base)/v1/audio/embeddings", headers: [("Content-Type", noFileType)], body: noFile)
        #expect(missing.status == 400 && missing.errorCode == "missing_file", "\(missing.text)")

        let notFound = try await HTTP.request(.GET, "\(server.base)/v2/nothing")
        #expect(notFound.status == 404 && notFound.isErrorBody)
        let health = try await HTTP.request(.GET, "\(server.base)/healthz")
        #expect(health.status == 200)
        #expect(server.queue.currentStatistics.inFlight == 0)
        try await server.stop()
    }

    @Test("a key set: /v1 needs `Authorization: Bearer KEY` (401 otherwise); health and metrics stay open")
    func bearerKey() async throws {
        let server = try await RunningServer.start { $0.apiKey = "s3cret-key" }
        let audio = try Audio.bytes("speech-16k.wav")
        let none = try await HTTP.embed(server.base, audio: audio, name: "a.wav")
        #expect(none.status == 401 && none.errorCode == "invalid_api_key" && none.isErrorBody)
        #expect(none.headers["WWW-Authenticate"].first == "Bearer")
        let wrong = try await HTTP.embed(server.base, audio: audio, name: "a.wav", headers: [("Authorization", "Bearer s3cret-kez")])
        #expect(wrong.status == 401)
        let models = try await HTTP.request(.GET, "\(server.base)/v1/models")
        #expect(models.status == 401)
        let right = try await HTTP.embed(server.base, audio: audio, name: "a.wav", headers: [("Authorization", "Bearer s3cret-key")])
        #expect(right.status == 200)
        #expect(try await HTTP.request(.GET, "\(server.base)/healthz").status == 200)
        #expect(try await HTTP.request(.GET, "\(server.base)/metrics").status == 200)
        try await server.stop()
    }

    @Test("413: an upload over the cap (with Content-Length, and chunked), audio over --max-audio-seconds")
    func limits() async throws {
        let server = try await RunningServer.start {
            $0.maxUploadBytes = 400_000
            $0.maxAudioSeconds = 30
        }
        let long = try Audio.bytes("speech-44k-stereo-37s.flac")  // 869 kB, 37 s
        let declared = try await HTTP.embed(server.base, audio: long, name: "a.flac", contentType: "audio/flac")
        #expect(declared.status == 413 && declared.errorCode == "payload_too_large", "\(declared.text)")
        let chunked = try await HTTP.request(.POST, "\(server.base)/v1/audio/embeddings",
                                             headers: [("Content-Type", "audio/flac")], body: long, streamed: true)
        #expect(chunked.status == 413 && chunked.errorCode == "payload_too_large", "\(chunked.text)")

        let tooLongAudio = try Audio.wav(seconds: 12, seed: 3)  // 384 kB, 12 s: under both limits here
        let ok = try await HTTP.embed(server.base, audio: tooLongAudio, name: "a.wav")
        #expect(ok.status == 200)
        try await server.stop()

        let short = try await RunningServer.start { $0.maxAudioSeconds = 10 }
        let reply = try await HTTP.embed(short.base, audio: tooLongAudio, name: "twelve.wav", multipart: true)
        #expect(reply.status == 413 && reply.errorCode == "audio_too_long", "\(reply.text)")
        #expect(reply.text.contains("twelve.wav: audio longer than 10 s"))
        #expect(try await HTTP.embed(short.base, audio: try Audio.bytes("speech-16k.wav"), name: "a.wav").status == 200)
        try await short.stop()
    }

    @Test("503 + Retry-After when the queue is full; /readyz says so; room again → 200")
    func queueFull() async throws {
        let server = try await RunningServer.start { $0.maxQueue = 1 }
        let audio = try Audio.bytes("speech-16k.wav")
        let held = try server.queue.reserve()  // the only place
        let busy = try await HTTP.embed(server.base, audio: audio, name: "a.wav")
        #expect(busy.status == 503 && busy.errorCode == "queue_full" && busy.isErrorBody, "\(busy.text)")
        #expect(busy.headers["Retry-After"].first == "1")
        let ready = try await HTTP.request(.GET, "\(server.base)/readyz")
        #expect(ready.status == 503 && ready.headers["Retry-After"].first == "1")
        #expect(try await HTTP.request(.GET, "\(server.base)/healthz").status == 200)
        held.release()
        #expect(try await HTTP.request(.GET, "\(server.base)/readyz").status == 200)
        #expect(try await HTTP.embed(server.base, audio: audio, name: "a.wav").status == 200)
        try await server.stop()
    }

    // MARK: - Clients that go away

    @Test("a client that disconnects mid-upload frees its place; the server stays up")
    func disconnectMidUpload() async throws {
        let server = try await RunningServer.start()
        let client = try RawClient(port: server.port)
        try client.send(Array("POST /v1/audio/embeddings?format=npy HTTP/1.1\r\nHost: x\r\nContent-Type: audio/wav\r\nContent-Length: 5000000\r\n\r\n".utf8))
        try client.send([UInt8](repeating: 1, count: 100_000))
        #expect(await eventually { server.queue.currentStatistics.inFlight == 1 })
        client.close()
        #expect(await eventually { server.queue.currentStatistics.inFlight == 0 })
        #expect(server.queue.currentStatistics.completed == 0)
        let reply = try await HTTP.embed(server.base, audio: try Audio.bytes("speech-16k.wav"), name: "a.wav")
        #expect(reply.status == 200)
        try await server.stop()
    }

    @Test("a client that disconnects mid-encode cancels its remaining chunks; one waiting leaves the queue")
    func disconnectMidEncode() async throws {
        let server = try await RunningServer.start(threads: 1)
        let long = try Audio.wav(seconds: 1200)  // 40 chunks
        func request(_ audio: [UInt8]) -> [UInt8] {
            Array("POST /v1/audio/embeddings?format=npy HTTP/1.1\r\nHost: x\r\nContent-Type: audio/wav\r\nContent-Length: \(audio.count)\r\n\r\n".utf8) + audio
        }
        let encoding = try RawClient(port: server.port)
        try encoding.send(request(long))
        #expect(await eventually { server.queue.currentStatistics.chunks >= 1 })  // its first batch is done
        let waiting = try RawClient(port: server.port)
        try waiting.send(request(try Audio.bytes("speech-16k.wav")))
        #expect(await eventually { server.queue.currentStatistics.waiting == 1 })
        waiting.close()
        encoding.close()
        #expect(await eventually { server.queue.currentStatistics.inFlight == 0 })
        let statistics = server.queue.currentStatistics
        #expect(statistics.cancelled == 2, "\(statistics)")
        #expect(statistics.completed == 0)
        #expect(statistics.chunks < 40, "the remaining chunks were dropped: \(statistics)")
        let reply = try await HTTP.embed(server.base, audio: try Audio.bytes("speech-16k.wav"), name: "a.wav")
        #expect(reply.status == 200)
        try await server.stop()
    }

    // MARK: - Other routes

    @Test("/v1/models, /healthz, /readyz and /metrics (requests by status, queue depth, audio seconds, chunks, latency)")
    func otherRoutes() async throws {
        let server = try await RunningServer.start()
        let models = try await HTTP.request(.GET, "\(server.base)/v1/models")
        let model = try #require((models.json?["data"] as? [[String: Any]])?.first)
        #expect(model["id"] as? String == "voxtral-tiny-hf")
        #expect(model["dimension"] as? Int == 96)
        #expect(try await HTTP.request(.GET, "\(server.base)/healthz").json?["status"] as? String == "ok")
        #expect(try await HTTP.request(.GET, "\(server.base)/readyz").json?["status"] as? String == "ready")
        _ = try await HTTP.embed(server.base, audio: try Audio.bytes("speech-16k.wav"), name: "a.wav")
        _ = try await HTTP.embed(server.base, audio: [1, 2, 3], name: "b.wav")
        let metrics = try await HTTP.request(.GET, "\(server.base)/metrics")
        #expect(metrics.status == 200)
        let text = metrics.text
        for line in [
            #"voxenc_http_requests_total{route="/v1/audio/embeddings",status="200"} 1"#,
            #"voxenc_http_requests_total{route="/v1/audio/embeddings",status="400"} 1"#,
            #"voxenc_http_errors_total{route="/v1/audio/embeddings",status="400"} 1"#,
            "voxenc_queue_depth 0", "voxenc_chunks_total 1", "voxenc_encoder_batches_total 1",
            #"voxenc_http_request_duration_seconds_count{route="/v1/audio/embeddings"} 2"#,
        ] {
            #expect(text.contains(line), "\(line) in\n\(text)")
        }
        #expect(text.contains("voxenc_audio_seconds_total 5.8"), "\(text)")
        try await server.stop()
    }
}
