// Many callers, one encoder: requests (encoded audio in memory) wait in a bounded queue, one worker thread takes them
// in order and packs the chunks of consecutive requests into shared encoder batches of `chunksPerBatch` — what a
// batch job does with the files of a manifest (EmbeddingJob), for requests that arrive while it runs. A partial batch
// waits for the next request's chunks while one is queued, and is encoded at once when none is. Each request's rows
// equal a single-file run bit for bit (BatchEncoder: a chunk's rows never depend on what shares its batch).
//
// Threads: the worker is the only thread that decodes or encodes, with the Embedder's budget (`threadCount`) for its
// kernels; callers only wait. Memory: each admitted request holds its encoded bytes and, once started, its output;
// the worker holds one request's current chunk of samples and one batch of mel.

import Foundation
import VoxEncAudio

/// Why `EmbeddingQueue` did not return an embedding.
public enum EmbeddingQueueError: Error, Sendable, CustomStringConvertible {
    /// The audio could not be embedded (undecodable, no samples, …): the library's own error, for `ErrorReport`.
    case embedding(VoxEncError)
    /// The audio is longer than the queue's limit.
    case tooLong(name: String, limitSeconds: Double)
    /// `capacity` requests are already admitted.
    case full(capacity: Int)
    /// The queue is shutting down and takes no new requests.
    case shuttingDown
    /// The caller cancelled (its remaining chunks were dropped).
    case cancelled

    public var description: String {
        switch self {
        case .embedding(let error): return error.description
        case .tooLong(let name, let limit):
            return "\(name): audio longer than \(Self.seconds(limit)) s, the limit of this server"
        case .full(let capacity): return "the queue is full (\(capacity) requests); try again later"
        case .shuttingDown: return "the server is shutting down"
        case .cancelled: return "cancelled"
        }
    }

    private static func seconds(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(value)
    }
}

/// Counters since the queue was made (for metrics).
public struct EmbeddingQueueStatistics: Sendable, Equatable {
    /// Requests admitted and not yet finished (waiting, or being embedded).
    public var inFlight = 0
    /// Requests admitted and not yet started.
    public var waiting = 0
    public var completed = 0
    public var failed = 0
    public var cancelled = 0
    /// Encoder batches run, and the chunks they held (chunks / batches: how full batches are).
    public var batches = 0
    public var chunks = 0
    /// Batches that held chunks of more than one request.
    public var sharedBatches = 0
    /// Seconds of audio embedded (completed requests).
    public var audioSeconds = 0.0

    public init() {}
}

/// Call `shutdown()` when done: the worker thread holds the queue until then.
public final class EmbeddingQueue: @unchecked Sendable {  // mutable state is guarded by `condition`
    public let embedder: Embedder
    /// Requests admitted at once (waiting + being embedded); more are refused with `.full`.
    public let capacity: Int
    /// The longest audio accepted, in seconds (nil: any).
    public let maximumAudioSeconds: Double?

    /// One request, from admission to its result.
    final class Request: @unchecked Sendable {  // guarded by the queue's condition
        let id: Int
        let bytes: [UInt8]
        let name: String
        let channels: ChannelSelection
        let kind: EmbeddingKind
        var continuation: CheckedContinuation<Embeddings, any Error>?
        var result: Result<Embeddings, EmbeddingQueueError>?
        var cancelled = false
        // Worker-only, while it runs:
        var info: EmbeddingsInfo?
        var values: [Float] = []
        var chunksDone = 0

        init(id: Int, bytes: [UInt8], name: String, channels: ChannelSelection, kind: EmbeddingKind) {
            (self.id, self.bytes, self.name, self.channels, self.kind) = (id, bytes, name, channels, kind)
        }
    }

    private let condition = NSCondition()
    private var waiting: [Request] = []
    private var admitted = 0
    private var nextID = 0
    private var stopping = false
    private var stopped = false
    private var statistics = EmbeddingQueueStatistics()
    private var worker: Thread?

    /// - Parameters:
    ///   - capacity: requests admitted at once; a request beyond it gets `.full` at once (a server's 503).
    ///   - maximumAudioSeconds: audio past this length is refused with `.tooLong` (decoding stops there).
    public init(embedder: Embedder, capacity: Int, maximumAudioSeconds: Double? = nil) {
        self.embedder = embedder
        self.capacity = max(1, capacity)
        self.maximumAudioSeconds = maximumAudioSeconds
        let thread = Thread { self.work() }  // runs until `shutdown()`
        thread.name = "voxenc encoder"
        thread.stackSize = 8 << 20
        worker = thread
        thread.start()
    }

    public var currentStatistics: EmbeddingQueueStatistics {
        condition.lock()
        defer { condition.unlock() }
        var snapshot = statistics
        snapshot.inFlight = admitted
        snapshot.waiting = waiting.count
        return snapshot
    }

    /// Whether a request would be admitted now.
    public var hasRoom: Bool {
        condition.lock()
        defer { condition.unlock() }
        return !stopping && admitted < capacity
    }

    // MARK: - Admission

    /// Takes a place, or throws `.full` / `.shuttingDown`.
    public func reserve() throws(EmbeddingQueueError) -> Reservation {
        condition.lock()
        defer { condition.unlock() }
        if stopping { throw .shuttingDown }
        if admitted >= capacity { throw .full(capacity: capacity) }
        admitted += 1
        return Reservation(queue: self)
    }

    func releasePlace() {
        condition.lock()
        admitted -= 1
        condition.broadcast()
        condition.unlock()
    }

    // MARK: - Embedding

    /// Embeds encoded audio held in memory (`name` stands for its path in messages and the output's metadata), in
    /// the place `reservation` holds. Cancelling the calling task drops the request's remaining chunks and throws
    /// `.cancelled`.
    public func embed(bytes: [UInt8], name: String, channels: ChannelSelection = .average, kind: EmbeddingKind? = nil,
                      reservation: Reservation) async throws(EmbeddingQueueError) -> Embeddings {
        guard reservation.take() else { preconditionFailure("a reservation is used once") }
        let request = try enqueue(bytes: bytes, name: name, channels: channels, kind: embedder.resolvedKind(kind))
        do {
            return try await withTaskCancellationHandler {
                try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Embeddings, any Error>) in
                    attach(continuation, to: request)
                }
            } onCancel: {
                cancel(request)
            }
        } catch let error as EmbeddingQueueError {
            throw error
        } catch {
            throw .cancelled
        }
    }

    private func enqueue(bytes: [UInt8], name: String, channels: ChannelSelection,
                         kind: EmbeddingKind) throws(EmbeddingQueueError) -> Request {
        condition.lock()
        defer { condition.unlock() }
        if stopped {
            admitted -= 1
            throw .shuttingDown
        }
        nextID += 1
        let request = Request(id: nextID, bytes: bytes, name: name, channels: channels, kind: kind)
        waiting.append(request)
        condition.signal()
        return request
    }

    private func attach(_ continuation: CheckedContinuation<Embeddings, any Error>, to request: Request) {
        condition.lock()
        if let result = request.result {
            condition.unlock()
            continuation.resume(with: result.mapError { $0 as any Error })
        } else {
            request.continuation = continuation
            condition.unlock()
        }
    }

    /// Convenience: reserve and embed in one call.
    public func embed(bytes: [UInt8], name: String, channels: ChannelSelection = .average,
                      kind: EmbeddingKind? = nil) async throws(EmbeddingQueueError) -> Embeddings {
        let reservation = try reserve()
        return try await embed(bytes: bytes, name: name, channels: channels, kind: kind, reservation: reservation)
    }

    private func cancel(_ request: Request) {
        condition.lock()
        request.cancelled = true
        if let index = waiting.firstIndex(where: { $0 === request }) {  // not started: leaves now
            waiting.remove(at: index)
            let continuation = finishLocked(request, .failure(.cancelled))
            condition.unlock()
            continuation?.resume(throwing: EmbeddingQueueError.cancelled)
            return
        }
        condition.unlock()  // started: the worker drops its chunks at the next one
    }

    /// Records the result and frees the request's place; returns the continuation to resume (outside the lock).
    private func finishLocked(_ request: Request, _ result: Result<Embeddings, EmbeddingQueueError>)
        -> CheckedContinuation<Embeddings, any Error>? {
        guard request.result == nil else { return nil }
        request.result = result
        admitted -= 1
        condition.broadcast()
        switch result {
        case .success(let embeddings):
            statistics.completed += 1
            statistics.audioSeconds += embeddings.durationSeconds
        case .failure(.cancelled): statistics.cancelled += 1
        case .failure: statistics.failed += 1
        }
        request.values = []
        let continuation = request.continuation
        request.continuation = nil
        return continuation
    }

    private func finish(_ request: Request, _ result: Result<Embeddings, EmbeddingQueueError>) {
        condition.lock()
        let continuation = finishLocked(request, result)
        condition.unlock()
        continuation?.resume(with: result.mapError { $0 as any Error })
    }

    private func isCancelled(_ request: Request) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        return request.cancelled
    }

    // MARK: - Holding the worker

    private var paused = false

    /// Holds the worker before its next request (the one in progress finishes): requests queue up meanwhile. Tests
    /// use it to line requests up deterministically; an operator could to drain a machine.
    public func pause() {
        condition.lock()
        paused = true
        condition.unlock()
    }

    /// Lets the worker take requests again.
    public func resume() {
        condition.lock()
        paused = false
        condition.broadcast()
        condition.unlock()
    }

    // MARK: - Shutdown

    /// Refuses new requests, lets the admitted ones finish (places reserved for uploads still being read included),
    /// then stops the worker. Returns when it has stopped.
    public func shutdown() {
        condition.lock()
        stopping = true
        condition.broadcast()
        while !stopped && worker != nil && Thread.current !== worker { condition.wait() }
        condition.unlock()
    }

    // MARK: - The worker

    private func work() {
        var batch = BatchEncoder<Request>(embedder: embedder)
        let maximumSamples = maximumAudioSeconds.map { Int(($0 * Double(FrontEndConfiguration.sampleRate)).rounded(.up)) }

        /// Copies each encoded chunk's rows into its request's output; completes the requests that are whole.
        func deliver(_ done: EncodedBatch<Request>) {
            condition.lock()
            statistics.batches += 1
            statistics.chunks += done.entries.count
            if Set(done.entries.map { ObjectIdentifier($0.owner) }).count > 1 { statistics.sharedBatches += 1 }
            condition.unlock()
            for (position, entry) in done.entries.enumerated() {
                let request = entry.owner
                guard request.result == nil, !isCancelled(request), var info = request.info else {
                    if request.result == nil { finish(request, .failure(.cancelled)) }
                    continue
                }
                let width = done.valuesPerStep
                request.values.replaceSubrange((entry.step * width)..<((entry.step + 1) * width), with: done.values(at: position))
                request.chunksDone += 1
                info.timings.encoder += done.encoderShare
                info.timings.adapter += done.adapterShare
                request.info = info
                if request.chunksDone == info.chunkCount { complete(request) }
            }
        }
        func flush() { batch.flush(deliver: deliver) }

        func complete(_ request: Request) {
            guard let info = request.info else { return }
            let values = request.values
            request.values = []
            finish(request, .success(Embeddings(values: values, info: info)))
        }

        while true {
            condition.lock()
            while (waiting.isEmpty || (paused && !stopping)) && !(stopping && admitted == 0) { condition.wait() }
            if waiting.isEmpty {  // stopping, and nothing admitted is left
                condition.unlock()
                break
            }
            let request = waiting.removeFirst()
            condition.unlock()

            run(request)
            // A partial batch waits for the next request's chunks only while one is queued.
            condition.lock()
            let idle = waiting.isEmpty
            condition.unlock()
            if idle { flush() }
        }
        flush()
        condition.lock()
        stopped = true
        condition.broadcast()
        condition.unlock()

        func run(_ request: Request) {
            let prepared: PreparedAudio
            do {
                prepared = try embedder.prepare(bytes: request.bytes, name: request.name, channels: request.channels, kind: request.kind,
                                                maximumSamples: maximumSamples)
            } catch {
                switch error {
                case .embedding(let error): finish(request, .failure(.embedding(error)))
                case .tooLong: finish(request, .failure(.tooLong(name: request.name, limitSeconds: maximumAudioSeconds ?? 0)))
                }
                return
            }
            request.info = prepared.info
            request.values = [Float](repeating: 0, count: prepared.info.frameCount * prepared.info.dimension)
            if prepared.info.chunkCount == 0 {
                complete(request)
                return
            }
            if embedder.encoderModel.frontEnd.isCausal {
                // A causal model streams each request through its own run state: no shared batches.
                var values: [Float] = []
                values.reserveCapacity(request.values.count)
                do throws(VoxEncError) {
                    let seconds = try embedder.encodeSteps(of: prepared) { (chunk: ChunkEmbeddings) throws(VoxEncError) in
                        if isCancelled(request) { throw .cancelled }
                        values += chunk.values
                    }
                    request.info?.timings.encoder += seconds.encoder
                    request.info?.timings.adapter += seconds.adapter
                    request.values = values
                    complete(request)
                } catch {
                    finish(request, .failure(error.isCancellation ? .cancelled : .embedding(error)))
                }
                return
            }
            if request.kind != batch.kind {
                flush()
                batch = BatchEncoder(embedder: embedder, kind: request.kind)
            }
            do throws(VoxEncError) {
                let source = try MelSource(spectrogram: embedder.frontEnd, prepared: prepared)
                while let step = try source.next() {
                    if isCancelled(request) { throw .cancelled }
                    batch.append(step.mel, owner: request, index: step.index, deliver: deliver)
                }
            } catch {
                // Chunks already queued are skipped when their batch runs (the result is set here).
                finish(request, .failure(error.isCancellation ? .cancelled : .embedding(error)))
            }
        }
    }
}

extension VoxEncError {
    var isCancellation: Bool {
        if case .cancelled = self { return true }
        return false
    }
}
