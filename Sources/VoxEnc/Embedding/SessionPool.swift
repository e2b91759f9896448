// Sessions of one loaded model, lent to one caller at a time: an Embedder shared by threads gives each call a session
// of its own (workspace and run state), made on first use, then reused.

import Synchronization
import VoxEncModel

final class SessionPool: Sendable {
    private let model: any EncoderModel
    private let threads: Int
    private let sessions = Mutex<[UncheckedSendable<any EncoderSession>]>([])

    init(model: any EncoderModel, threads: Int) {
        self.model = model
        self.threads = threads
    }

    /// Lends a session that holds at least `capacity` steps.
    func withSession<R>(capacity: Int, _ body: (any EncoderSession) -> R) -> R {
        let session: any EncoderSession = sessions.withLock { pool in
            if let index = pool.firstIndex(where: { $0.value.capacity >= capacity }) {
                return pool.remove(at: index).value
            }
            return model.makeSession(capacity: capacity, threads: threads)
        }
        defer { sessions.withLock { $0.append(UncheckedSendable(session)) } }
        return body(session)
    }
}
