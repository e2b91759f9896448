// EmbeddingQueue (what `voxenc serve` runs on), without HTTP: requests from many tasks share encoder batches and
// each result equals a single-file embedding bit for bit; the queue's limits, errors, cancellation and shutdown.

import Foundation
import Testing
@_spi(Engine) @testable import VoxEnc
import VoxEncModel
import VoxEncAudio
import VoxEncTestSupport

// Every wait is bounded: a poll gives up with a recorded failure after a minute, and each test has a time limit,
// past which Swift Testing fails it and cancels its requests (a lost request fails CI instead of hanging it).
@Suite("Embedding queue (cross-request batching)", .serialized, .timeLimit(.minutes(5)))
struct EmbeddingQueueTests {
    struct TimedOut: Error, CustomStringConvertible {
        var description: String
    }

    /// Polls `condition` every 2 ms until it holds; after `seconds`, a recorded failure (thrown), not a hang.
    static func waitUntil(_ what: String, seconds: Double = 60, sourceLocation: SourceLocation = #_sourceLocation,
                          _ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(seconds)
        while !condition() {
            guard ContinuousClock.now < deadline else {
                Issue.record("timed out after \(seconds) s waiting until \(what)", sourceLocation: sourceLocation)
                throw TimedOut(description: "timed out waiting until \(what)")
            }
            try await Task.sleep(nanoseconds: 2_000_000)
        }
    }

    static let voxtral = Fixtures.path("encoder/voxtral-tiny-hf")
    static let files = ["speech-16k.wav", "speech-22k-stereo.flac", "speech-44k-stereo-37s.flac"]

    static func bytes(_ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: URL(fileURLWithPath: Fixtures.path("audio/\(name)"))))
    }

    /// Compared as a checksum and a length, not element by element (a diff of two unequal large arrays is slow).
    static func same(_ a: [Float], _ b: [Float]) -> Bool {
        a.count == b.count && a.withUnsafeBytes { x in b.withUnsafeBytes { y in x.elementsEqual(y) } }
    }

    @Test("9 requests queued at once: shared batches, each result bit-identical to embed(fileAt:), at 2 and 3 chunks per batch, adapter and encoder states mixed")
    func sharedBatchesAreExact() async throws {
        for chunksPerBatch in [2, 3] {
            let embedder = try Embedder(modelDirectory: Self.voxtral,
                                        configuration: EmbedderConfiguration(threadCount: 2, chunksPerBatch: chunksPerBatch))
            var expected: [String: [Float]] = [:]
            var states: [String: [Float]] = [:]
            let encoderOnly = try Embedder(modelDirectory: Self.voxtral,
                                           configuration: EmbedderConfiguration(threadCount: 1, chunksPerBatch: 1, kind: .encoder))
            for name in Self.files {
                expected[name] = try embedder.embed(fileAt: Fixtures.path("audio/\(name)")).values
                states[name] = try encoderOnly.embed(fileAt: Fixtures.path("audio/\(name)")).values
            }
            let queue = EmbeddingQueue(embedder: embedder, capacity: 16)
            queue.pause()
            let results = try await withThrowingTaskGroup(of: (String, EmbeddingKind, Embeddings).self) { group in
                for i in 0..<9 {
                    let name = Self.files[i % 3], audio = try Self.bytes(name)
                    let kind: EmbeddingKind = i == 4 ? .encoder : .adapter
                    group.addTask { (name, kind, try await queue.embed(bytes: audio, name: name, kind: kind)) }
                }
                try await Self.waitUntil("9 requests wait") { queue.currentStatistics.waiting >= 9 }
                queue.resume()
                var results: [(String, EmbeddingKind, Embeddings)] = []
                for try await result in group { results.append(result) }
                return results
            }
            for (name, kind, result) in results {
                #expect(result.kind == kind)
                #expect(Self.same(result.values, kind == .encoder ? states[name]! : expected[name]!),
                        "\(name) \(kind) at \(chunksPerBatch) chunks per batch")
            }
            let statistics = queue.currentStatistics
            #expect(statistics.completed == 9 && statistics.chunks == 12)
            #expect(statistics.sharedBatches >= 2, "\(statistics)")
            queue.shutdown()
        }
    }

    @Test("limits and errors: full, too long, undecodable (the library's error), after shutdown")
    func limitsAndErrors() async throws {
        let embedder = try Embedder(modelDirectory: Self.voxtral, configuration: EmbedderConfiguration(threadCount: 1))
        let queue = EmbeddingQueue(embedder: embedder, capacity: 1, maximumAudioSeconds: 10)
        let held = try queue.reserve()
        #expect(throws: EmbeddingQueueError.self) { _ = try queue.reserve() }
        #expect(!queue.hasRoom)
        held.release()
        #expect(queue.hasRoom)
        let long = try Self.bytes("speech-44k-stereo-37s.flac"), speech = try Self.bytes("speech-16k.wav")
        do throws(EmbeddingQueueError) {
            _ = try await queue.embed(bytes: long, name: "long.flac")
            Issue.record("37 s audio passed a 10 s limit")
        } catch {
            guard case .tooLong(let name, let limit) = error else { Issue.record("\(error)"); return }
            #expect(name == "long.flac" && limit == 10)
        }
        do throws(EmbeddingQueueError) {
            _ = try await queue.embed(bytes: Array("not audio".utf8), name: "notes.wav")
            Issue.record("text decoded as audio")
        } catch {
            guard case .embedding(let inner) = error else { Issue.record("\(error)"); return }
            #expect(ErrorReport(inner).category == .dataError)
            #expect(inner.description.hasPrefix("notes.wav: "))
        }
        let ok = try await queue.embed(bytes: try Self.bytes("speech-16k.wav"), name: "a.wav")
        #expect(ok.frameCount == 375)
        #expect(queue.currentStatistics.inFlight == 0)
        queue.shutdown()
        do throws(EmbeddingQueueError) {
            _ = try await queue.embed(bytes: speech, name: "a.wav")
            Issue.record("a request after shutdown was taken")
        } catch {
            guard case .shuttingDown = error else { Issue.record("\(error)"); return }
        }
    }

    @Test("a cancelled task: waiting → leaves the queue; the others finish; shutdown waits for admitted requests")
    func cancellationAndShutdown() async throws {
        let embedder = try Embedder(modelDirectory: Self.voxtral, configuration: EmbedderConfiguration(threadCount: 1))
        let queue = EmbeddingQueue(embedder: embedder, capacity: 8)
        let audio = try Self.bytes("speech-16k.wav")
        queue.pause()
        let cancelled = Task { try await queue.embed(bytes: audio, name: "a.wav") }
        let kept = Task { try await queue.embed(bytes: audio, name: "b.wav") }
        try await Self.waitUntil("2 requests wait") { queue.currentStatistics.waiting >= 2 }
        cancelled.cancel()
        await #expect(throws: EmbeddingQueueError.self) { _ = try await cancelled.value }
        #expect(queue.currentStatistics.waiting == 1 && queue.currentStatistics.cancelled == 1)
        // shutdown() lets the admitted request finish although the worker is held.
        let stopping = Task.detached { queue.shutdown() }
        let result = try await kept.value
        #expect(result.frameCount == 375)
        await stopping.value
        #expect(queue.currentStatistics.completed == 1)
    }
}
