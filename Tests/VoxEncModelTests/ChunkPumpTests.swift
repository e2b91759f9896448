// The pull-style chunk sequence behind `Embedder.chunkEmbeddings(of:)`: a batch is computed only when it is asked
// for, so nothing is computed (or running inside OpenBLAS) once the consumer stops. Every wait is on an event (the
// producer's end, its start), never a sleep; the suite's time limit turns a lost event into a failure, not a hang.

import Foundation
import Synchronization
import Testing
@_spi(Engine) @testable import VoxEnc
import VoxEncModel
import VoxEncAudio

@Suite("Chunk pump (one batch per request)", .timeLimit(.minutes(1)))
struct ChunkPumpTests {
    /// Counts the batches a fake producer computed, and signals its end.
    final class Log: Sendable {
        let produced = Atomic<Int>(0)
        let ended = Atomic<Bool>(false)
        private let endings = AsyncStream<Void>.makeStream()
        var producedCount: Int { produced.load(ordering: .sequentiallyConsistent) }
        var hasEnded: Bool { ended.load(ordering: .sequentiallyConsistent) }

        /// Producer: it has ended.
        func end() {
            ended.store(true, ordering: .sequentiallyConsistent)
            endings.continuation.yield()
            endings.continuation.finish()
        }

        /// Consumer: returns once the producer has ended (at once if it already has).
        func waitUntilEnded() async {
            for await _ in endings.stream { break }
        }
    }

    static func chunk(_ index: Int) -> ChunkEmbeddings {
        ChunkEmbeddings(index: index, chunkCount: 1, values: [Float(index)], rowCount: 1, dimension: 1, startSeconds: 0)
    }

    /// A producer of `count` batches that records each one it computes.
    static func stream(count: Int, log: Log, failAfter: Int? = nil) -> AsyncThrowingStream<ChunkEmbeddings, any Error> {
        let pump = ChunkPump { channel in
            defer { log.end() }
            do {
                for index in 0..<count {
                    if let failAfter, index == failAfter { throw VoxEncError.noModel }
                    log.produced.add(1, ordering: .sequentiallyConsistent)
                    try channel.deliver(chunk(index))
                }
                channel.finish(.success(()))
            } catch {
                channel.finish(.failure(error))
            }
        }
        return AsyncThrowingStream(unfolding: { try await pump.next() })
    }

    @Test("all batches in order, then nil; nothing computed ahead of a request")
    func wholeSequence() async throws {
        let log = Log()
        var seen: [Int] = []
        for try await chunk in Self.stream(count: 5, log: log) {
            seen.append(chunk.index)
            #expect(log.producedCount == seen.count)  // none ahead
        }
        #expect(seen == [0, 1, 2, 3, 4])
        await log.waitUntilEnded()
        #expect(log.hasEnded)
    }

    @Test("breaking out after the first batch: the producer computes no other batch and ends")
    func breakStopsTheProducer() async throws {
        let log = Log()
        for try await _ in Self.stream(count: 100, log: log) { break }
        await log.waitUntilEnded()
        #expect(log.hasEnded)
        #expect(log.producedCount == 1)
    }

    @Test("cancelling the consuming task between batches ends the sequence; no batch is computed after it")
    func cancellationBetweenBatches() async throws {
        let log = Log()
        let stream = Self.stream(count: 100, log: log)
        let consumer = Task { () -> Int in
            var count = 0
            for try await _ in stream {
                count += 1
                if count == 2 { withUnsafeCurrentTask { $0?.cancel() } }
            }
            return count
        }
        #expect(try await consumer.value == 2)
        #expect(log.producedCount == 2)
    }

    @Test("cancelling the consuming task while it waits for a batch throws VoxEncError.cancelled")
    func cancellationWhileWaiting() async throws {
        let log = Log()
        let started = Log()  // its end() = the producer has started: the consumer is waiting for batch 0
        let gate = DispatchSemaphore(value: 0)
        let pump = ChunkPump { channel in
            defer { log.end() }
            started.end()
            // A batch that takes until the consumer has been cancelled.
            gate.wait()
            do { try channel.deliver(Self.chunk(0)) } catch { channel.finish(.failure(error)) }
        }
        let stream = AsyncThrowingStream(unfolding: { try await pump.next() })
        let consumer = Task { () -> String in
            do {
                for try await _ in stream { return "a chunk" }
                return "the end"
            } catch {
                return "\(error)"
            }
        }
        await started.waitUntilEnded()
        consumer.cancel()
        #expect(await consumer.value == "\(VoxEncError.cancelled)")
        gate.signal()
        await log.waitUntilEnded()
        #expect(log.hasEnded)
    }

    @Test("a producer's error reaches the consumer once, then the sequence ends")
    func errorPropagates() async throws {
        let log = Log()
        var seen = 0
        var failure: (any Error)?
        let stream = Self.stream(count: 5, log: log, failAfter: 2)
        do {
            for try await _ in stream { seen += 1 }
        } catch {
            failure = error
        }
        #expect(seen == 2)
        #expect(failure is VoxEncError)
    }
}
