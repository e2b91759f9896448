// The pull-style chunk sequence behind `Embedder.chunkEmbeddings(of:)`: a batch is computed only when it is asked
// for, so nothing is computed (or running inside OpenBLAS) once the consumer stops.

import Foundation
import Synchronization
import Testing
@testable import VoxEnc

@Suite("Chunk pump (one batch per request)")
struct ChunkPumpTests {
    /// Counts the batches a fake producer computed, and whether it has ended.
    final class Log: Sendable {
        let produced = Atomic<Int>(0)
        let ended = Atomic<Bool>(false)
        var producedCount: Int { produced.load(ordering: .sequentiallyConsistent) }
        var hasEnded: Bool { ended.load(ordering: .sequentiallyConsistent) }
    }

    static func chunk(_ index: Int) -> ChunkEmbeddings {
        ChunkEmbeddings(index: index, chunkCount: 1, values: [Float(index)], rowCount: 1, dimension: 1)
    }

    /// A producer of `count` batches that records each one it computes.
    static func stream(count: Int, log: Log, failAfter: Int? = nil) -> AsyncThrowingStream<ChunkEmbeddings, any Error> {
        let pump = ChunkPump { channel in
            defer { log.ended.store(true, ordering: .sequentiallyConsistent) }
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

    static func waitUntilEnded(_ log: Log) async {
        for _ in 0..<2000 where !log.hasEnded { try? await Task.sleep(for: .milliseconds(1)) }
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
        await Self.waitUntilEnded(log)
        #expect(log.hasEnded)
    }

    @Test("breaking out after the first batch: the producer computes no other batch and ends")
    func breakStopsTheProducer() async throws {
        let log = Log()
        for try await _ in Self.stream(count: 100, log: log) { break }
        await Self.waitUntilEnded(log)
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
        let gate = Atomic<Bool>(false)
        let pump = ChunkPump { channel in
            defer { log.ended.store(true, ordering: .sequentiallyConsistent) }
            // A batch that takes until the consumer has been cancelled.
            while !gate.load(ordering: .sequentiallyConsistent) { usleep(1000) }
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
        try await Task.sleep(for: .milliseconds(20))
        consumer.cancel()
        #expect(await consumer.value == "\(VoxEncError.cancelled)")
        gate.store(true, ordering: .sequentiallyConsistent)
        await Self.waitUntilEnded(log)
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
