// Row-parallel loops for the GEMM row blocks and the element-wise kernels (softmax, GELU, LayerNorm, bias adds).
// Rows are split into contiguous ranges, and each row is computed exactly as in a serial loop: results do not
// depend on the thread count.
//
// The thread budget belongs to the call, not the process: `withThreads(n) { … }` binds it for the synchronous work
// started inside, on the calling thread (a C thread-local: binding allocates nothing, unlike a task-local value),
// so two Embedders with different budgets, or tests running in parallel, never change each other's splits. Code
// outside any binding runs on one thread.

import CVoxEncKernels
import Dispatch

public enum Parallel {
    /// The budget of the current call (1 outside `withThreads`). Inside `forEachRange`'s body it is 1, so nested
    /// loops run serially on their worker: threads never outnumber the budget.
    public static var threadCount: Int { max(1, Int(voxenc_thread_budget())) }

    /// Runs `body` with a budget of `threads` threads for every kernel it calls on this thread (the previous budget
    /// is restored after). `body` must not suspend: the budget stays with the thread.
    @inline(__always)
    public static func withThreads<R, E: Error>(_ threads: Int, _ body: () throws(E) -> R) throws(E) -> R {
        let previous = voxenc_thread_budget()
        voxenc_set_thread_budget(Int32(max(1, threads)))
        defer { voxenc_set_thread_budget(previous) }
        return try body()
    }

    /// Calls `body(range)` on disjoint ranges covering 0..<count, on up to `threadCount` threads.
    /// Small jobs (count < minimumPerThread · 2) run on the calling thread.
    @inline(__always)
    public static func forEachRange(_ count: Int, minimumPerThread: Int = 1, _ body: (Range<Int>) -> Void) {
        let threads = min(threadCount, count / max(1, minimumPerThread))
        if threads <= 1 {
            body(0..<count)
            return
        }
        withoutActuallyEscaping(body) { body in
            let box = UncheckedSendable(body)
            DispatchQueue.concurrentPerform(iterations: threads) { index in
                let start = count * index / threads, end = count * (index + 1) / threads
                // One of the iterations runs on the calling thread: bind 1 there too, so nested loops stay serial.
                let previous = voxenc_thread_budget()
                voxenc_set_thread_budget(1)
                box.value(start..<end)
                voxenc_set_thread_budget(previous)
            }
        }
    }
}

/// Moves a value the caller knows to be safe across threads (pointers into disjoint rows).
public struct UncheckedSendable<Value>: @unchecked Sendable {
    public let value: Value
    public init(_ value: Value) { self.value = value }
}
