// Row-parallel loops for the element-wise kernels (softmax, GELU, LayerNorm, bias adds). They run between GEMMs,
// when OpenBLAS's threads are idle, with the same thread budget (GEMM.threadCount): threads never exceed the cores.
// Rows are split into contiguous ranges, and each row is computed exactly as in a serial loop: results do not
// depend on the thread count.

import Dispatch
import Synchronization

public enum Parallel {
    /// The thread budget (GEMM.threadCount sets it). Atomic: embedders may be made while others run.
    public static var threadCount: Int {
        get { budget.load(ordering: .relaxed) }
        set { budget.store(max(1, newValue), ordering: .relaxed) }
    }
    private static let budget = Atomic<Int>(1)

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
                box.value(start..<end)
            }
        }
    }
}

/// Moves a value the caller knows to be safe across threads (pointers into disjoint rows).
public struct UncheckedSendable<Value>: @unchecked Sendable {
    public let value: Value
    public init(_ value: Value) { self.value = value }
}
