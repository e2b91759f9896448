// Runs the encoder of many live streams on one thread budget, as continuous batching does: the streams waiting when
// a run starts share it (StreamingSession.encode: every kernel call serves blocks of all of them, so each weight is
// read once per run instead of once per stream), and a stream that arrives during a run joins the next one. Runs go
// one at a time on a thread of their own, each on the whole thread budget, so streams never oversubscribe the cores.
// Streams whose steps fall together (the usual case: 480 ms steps from a common start) wait up to `gatherSeconds`
// for each other, so that they share a run rather than queue behind one another.

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

    /// Runs the encoder on `session`'s pending tokens of `scope`, in the next run; returns when its rows are ready
    /// to pull. At most one call per session at a time.
    public func encode(_ session: StreamingSession, _ scope: StreamingSession.EncodeScope) async {
        guard session.hasPending(scope) else { return }
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
