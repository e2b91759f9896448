// A request's place in the queue (EmbeddingQueue.reserve), held while the caller reads its upload.

import Foundation

extension EmbeddingQueue {
    /// A place in the queue, taken before the caller reads a (possibly large) upload, so that a full server refuses
    /// at once. Give it back by `embed(…)`-ing with it or by `release()`.
    public final class Reservation: @unchecked Sendable {
        weak var queue: EmbeddingQueue?
        var used = false
        private let lock = NSLock()
        init(queue: EmbeddingQueue) { self.queue = queue }

        /// Returns the place without using it (the upload failed).
        public func release() {
            guard take() else { return }
            queue?.releasePlace()
        }

        /// True the first time only.
        func take() -> Bool {
            lock.lock()
            defer { lock.unlock() }
            if used { return false }
            used = true
            return true
        }

        deinit { release() }
    }
}
