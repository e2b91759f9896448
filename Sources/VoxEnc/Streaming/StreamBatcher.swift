// Runs the encoder of many live streams on one thread budget, as continuous batching does: the streams waiting when
// a run starts share it (StreamingSession.encode: every kernel call serves blocks of all of them, so each weight is
// read once per run instead of once per stream), and a stream that arrives during a run joins the next one. Runs go
// one at a time on a thread of their own, each on the whole thread budget, so streams never oversubscribe the cores.
// Streams whose steps fall together wait up to `gatherSeconds` for each other, so that they share a run rather than
// queue behind one another. Better still, they need not fall together: a new stream's steps are placed (`offset`)
// where they fall furthest from the running streams' — two live streams started together then run one block each,
// half a step apart, instead of one two-block run that keeps both waiting (a row's latency is the step plus the run
// it waits for). Each stream's rows are the same bits wherever its steps fall.

import Dispatch
import Foundation
import Synchronization
import VoxEncModel

public final class StreamBatcher: Sendable {
    private struct Waiting: @unchecked Sendable {  // a session is touched by its owner or by the run, never both
        let session: StreamingSession
        let scope: StreamingSession.EncodeScope
        let done: CheckedContinuation<Void, Never>
    }

    private let state = Mutex<(waiting: [Waiting], running: Bool, open: Int, statistics: StreamBatcherStatistics)>(
        ([], false, 0, StreamBatcherStatistics()))
    private let queue = DispatchQueue(label: "voxenc.stream-batcher")
    /// How long a run waits for open streams that have not asked yet (nothing when every open stream waits).
    public let gatherSeconds: Double
    /// Each live stream's last step boundary (a run it asked for at one): when (monotonic seconds), and its step
    /// (seconds); and the first boundaries `offset` placed, for streams that have not reached one yet. Forgotten two
    /// steps after (a placed one, once passed).
    private let boundaries = Mutex<(seen: [ObjectIdentifier: (time: Double, period: Double)],
                                    placed: [(time: Double, period: Double)])>(([:], []))

    public init(gatherSeconds: Double = 0.005) { self.gatherSeconds = gatherSeconds }

    /// Opens a place for a stream if fewer than `limit` are open. While more streams are open than waiting, a run
    /// waits up to `gatherSeconds` for them.
    public func admit(limit: Int) -> Bool {
        state.withLock { state in
            guard state.open < limit else { return false }
            state.open += 1
            return true
        }
    }

    /// Gives back a place `admit` opened.
    public func leave() { state.withLock { $0.open -= 1 } }

    /// Totals since the batcher was made.
    public var statistics: StreamBatcherStatistics { state.withLock { $0.statistics } }

    /// Readies `embedder`'s causal model before the first stream, so that no stream waits for it: finds out whether
    /// it can offset its streams (a check of its kernels: CausalEncoderModel.takesOffsets), computes the shared
    /// prefix, and times one stream's run of one default step (after one run that brings the weights in).
    /// Returns the run's seconds (nil when the model cannot offset its streams, or is not causal).
    @discardableResult
    public func prepare(_ embedder: Embedder) -> Double? {
        guard let model = embedder.encoderModel as? any CausalEncoderModel, model.takesOffsets,
              let stream = try? StreamingSession(embedder: embedder) else { return nil }
        let step = [Float](repeating: 0, count: stream.stepTokens * 1280)
        var seconds = 0.0
        for _ in 0..<2 {
            guard (try? stream.appendAudio(step)) != nil else { return nil }
            let start = MonotonicClock.seconds()
            StreamingSession.encode([(stream, .wholeSteps)])
            seconds = MonotonicClock.seconds() - start
        }
        return seconds
    }

    /// The offset (StreamingSession's `offsetTokens`) for a new stream of `embedder`'s causal model with steps of
    /// `stepMilliseconds`, whose audio arrives in real time and whose first `audioSeconds` have just arrived: the
    /// one whose step boundaries fall furthest from those of the streams running now or placed just before (0 when
    /// there are none). Its first boundary is remembered until the stream reaches it.
    public func offset(for embedder: Embedder, stepMilliseconds: Int, audioSeconds: Double) -> Int {
        guard let model = embedder.encoderModel as? any CausalEncoderModel, model.takesOffsets,
              case .causalTokens(_, let left, _) = model.frontEnd.steps,
              stepMilliseconds > 0, stepMilliseconds % 80 == 0 else { return 0 }
        let step = stepMilliseconds / 80, period = Double(stepMilliseconds) / 1000
        let now = MonotonicClock.seconds()
        let audioStart = now - audioSeconds
        // Offset φ's boundaries: stream tokens φ + k·step, i.e. audio token φ + k·step − left complete (and the next
        // token's first 40 samples, which its frames read), at audioStart + that much audio.
        func boundary(_ φ: Int) -> Double {
            audioStart + Double(((φ - left) % step + step) % step * 1280 + 40) / 16_000
        }
        func distance(_ a: Double, _ b: Double) -> Double {
            let x = (a - b).truncatingRemainder(dividingBy: period)
            let y = x < 0 ? x + period : x
            return min(y, period - y)
        }
        return boundaries.withLock { boundaries in
            boundaries.seen = boundaries.seen.filter { now - $0.value.time < 2 * $0.value.period }
            boundaries.placed = boundaries.placed.filter { now < $0.time + 0.1 }
            let others = Array(boundaries.seen.values) + boundaries.placed
            var chosen = 0
            if !others.isEmpty {
                // Apart, always: measured against sharing, taking turns kept the lower p99 at 2 and 3 bf16 streams
                // even where runs overlap (3 streams: 842 ms apart, 4.1 s in mixed groups; AMD EPYC Zen 5, 2
                // threads, docs/live.md).
                let nearest = (0..<step).map { φ in others.map { distance(boundary(φ), $0.time) }.min()! }
                chosen = nearest.indices.max { nearest[$0] < nearest[$1] }!
            }
            boundaries.placed.append((boundary(chosen), period))
            return chosen
        }
    }

    /// Runs the encoder on `session`'s pending tokens of `scope`, in the next run; returns when its rows are ready
    /// to pull. At most one call per session at a time.
    public func encode(_ session: StreamingSession, _ scope: StreamingSession.EncodeScope) async {
        guard session.hasPending(scope) else { return }
        if case .wholeSteps = scope, let target = session.encodeTarget(scope), target > session.leftPadTokens {
            // A boundary the audio reached (the first append's run, of the left pad's rows alone, is not one).
            let boundary = (time: MonotonicClock.seconds(), period: Double(session.stepTokens) * 0.08)
            boundaries.withLock { $0.seen[ObjectIdentifier(session)] = boundary }
        }
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            let start = state.withLock { state -> Bool in
                state.waiting.append(Waiting(session: session, scope: scope, done: done))
                defer { state.running = true }
                return !state.running
            }
            if start { queue.async { self.drain() } }
        }
    }

    /// Takes every waiting stream into a run, until none waits.
    private func drain() {
        while true {
            let deadline = MonotonicClock.seconds() + gatherSeconds
            while MonotonicClock.seconds() < deadline, state.withLock({ !$0.waiting.isEmpty && $0.waiting.count < $0.open }) {
                usleep(200)
            }
            let batch = state.withLock { state -> [Waiting] in
                defer { state.waiting = [] }
                if state.waiting.isEmpty { state.running = false }
                return state.waiting
            }
            if batch.isEmpty { return }
            let start = MonotonicClock.seconds()
            StreamingSession.encode(batch.map { ($0.session, $0.scope) })
            let seconds = MonotonicClock.seconds() - start
            state.withLock { state in
                state.statistics.runs += 1
                state.statistics.streams += batch.count
                state.statistics.sharedRuns += batch.count > 1 ? 1 : 0
                state.statistics.seconds += seconds
            }
            for waiting in batch { waiting.done.resume() }
        }
    }
}

/// What a StreamBatcher has run (`voxenc serve`'s /metrics shows it).
public struct StreamBatcherStatistics: Sendable, Equatable {
    /// Encoder runs.
    public var runs = 0
    /// Streams served, summed over the runs (÷ runs: streams per run).
    public var streams = 0
    /// Runs that served more than one stream.
    public var sharedRuns = 0
    /// Seconds spent in the runs.
    public var seconds = 0.0

    public init() {}
}
