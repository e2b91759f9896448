// Turns the push-style `Embedder.embed(waveform:sink:)` into a pull-style sequence, one value per request.
//
// The first version ran the producer as a detached task that kept encoding after the consumer stopped, until the
// batch in flight ended. A program (or test process) that returned from main meanwhile exited with a thread inside
// cblas_sgemm while OpenBLAS was being torn down: SIGSEGV at exit (seen under the thread sanitizer). Here the producer
// runs on its own thread and computes the next batch only once the consumer has asked for it; between requests it is
// parked on a condition variable, never inside a kernel. When the sequence is released (the consumer broke out of its
// loop) or the consuming task is cancelled, the producer is woken, its sink throws `.cancelled`, and it ends.

import Foundation

/// Shared by the consumer side (`ChunkPump`) and the producer thread.
final class ChunkPumpChannel: @unchecked Sendable {  // every field is guarded by `condition`
    private let condition = NSCondition()
    private var waiting: CheckedContinuation<ChunkEmbeddings?, any Error>?
    private var requested = false
    private var stopped = false
    private var started = false
    /// Set once the producer has ended: nil after the last chunk, or its error.
    private var ending: Result<Void, any Error>?

    /// Consumer: the next chunk (its batch computed on request); nil after the last one.
    func request(start: () -> Void) async throws -> ChunkEmbeddings? {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<ChunkEmbeddings?, any Error>) in
            condition.lock()
            defer { condition.unlock() }
            if let ending {
                self.ending = .success(())  // an error is reported once; later requests see the end
                continuation.resume(with: ending.map { _ in nil })
                return
            }
            if stopped {
                continuation.resume(throwing: VoxEncError.cancelled)
                return
            }
            waiting = continuation
            requested = true
            if !started {
                started = true
                start()
            }
            condition.signal()
        }
    }

    /// Consumer: no more requests (the sequence was released, or the consuming task cancelled).
    func stop() {
        condition.lock()
        stopped = true
        let continuation = waiting
        waiting = nil
        condition.signal()
        condition.unlock()
        continuation?.resume(throwing: VoxEncError.cancelled)
    }

    /// Producer: hands `chunk` to the waiting request, then parks until the next request. Throws `.cancelled` when
    /// the consumer has stopped.
    func deliver(_ chunk: ChunkEmbeddings) throws(VoxEncError) {
        condition.lock()
        let continuation = waiting
        waiting = nil
        requested = false
        condition.unlock()
        continuation?.resume(returning: chunk)
        try awaitRequest()
    }

    /// Producer: parks until a request arrives. Throws `.cancelled` when the consumer has stopped.
    func awaitRequest() throws(VoxEncError) {
        condition.lock()
        while !requested && !stopped { condition.wait() }
        let stop = stopped
        condition.unlock()
        if stop { throw .cancelled }
    }

    /// Producer: the end, after the last chunk (`.success`) or with an error.
    func finish(_ result: Result<Void, any Error>) {
        condition.lock()
        let continuation = waiting
        waiting = nil
        if continuation == nil { ending = result } else { ending = .success(()) }
        condition.unlock()
        continuation?.resume(with: result.map { _ in nil })
    }
}

/// The consumer's handle: releasing it (with the stream that captures it) stops the producer.
final class ChunkPump: Sendable {
    private let channel = ChunkPumpChannel()
    private let produce: @Sendable (ChunkPumpChannel) -> Void

    /// `produce` runs once, on a thread of its own, when the first batch is requested; it calls
    /// `channel.deliver(_:)` for each batch and `channel.finish(_:)` at the end.
    init(produce: @escaping @Sendable (ChunkPumpChannel) -> Void) {
        self.produce = produce
    }

    deinit { channel.stop() }

    func next() async throws -> ChunkEmbeddings? {
        try await withTaskCancellationHandler {
            try await channel.request { [channel, produce] in
                let thread = Thread { produce(channel) }
                thread.name = "voxenc chunk producer"
                thread.start()
            }
        } onCancel: {
            channel.stop()
        }
    }
}
